from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.gateway_credential import GatewayCredential
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    workspace_id: str,
    provider: str,
    x_nexus_agent_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(x_nexus_agent_key, Unset):
        headers["X-Nexus-Agent-Key"] = x_nexus_agent_key

    params: dict[str, Any] = {}

    params["workspace_id"] = workspace_id

    params["provider"] = provider

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/internal/resolve",
        "params": params,
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | GatewayCredential | None:
    if response.status_code == 200:
        response_200 = GatewayCredential.from_dict(response.json())

        return response_200

    if 400 <= response.status_code <= 499:
        response_4xx = Error.from_dict(response.json())

        return response_4xx

    if 500 <= response.status_code <= 599:
        response_5xx = Error.from_dict(response.json())

        return response_5xx

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | GatewayCredential]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    workspace_id: str,
    provider: str,
    x_nexus_agent_key: str | Unset = UNSET,
) -> Response[Error | GatewayCredential]:
    """Resolve a workspace's credential for a provider, for an agent

    Args:
        workspace_id (str):
        provider (str):
        x_nexus_agent_key (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | GatewayCredential]
    """

    kwargs = _get_kwargs(
        workspace_id=workspace_id,
        provider=provider,
        x_nexus_agent_key=x_nexus_agent_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    workspace_id: str,
    provider: str,
    x_nexus_agent_key: str | Unset = UNSET,
) -> Error | GatewayCredential | None:
    """Resolve a workspace's credential for a provider, for an agent

    Args:
        workspace_id (str):
        provider (str):
        x_nexus_agent_key (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | GatewayCredential
    """

    return sync_detailed(
        client=client,
        workspace_id=workspace_id,
        provider=provider,
        x_nexus_agent_key=x_nexus_agent_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    workspace_id: str,
    provider: str,
    x_nexus_agent_key: str | Unset = UNSET,
) -> Response[Error | GatewayCredential]:
    """Resolve a workspace's credential for a provider, for an agent

    Args:
        workspace_id (str):
        provider (str):
        x_nexus_agent_key (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | GatewayCredential]
    """

    kwargs = _get_kwargs(
        workspace_id=workspace_id,
        provider=provider,
        x_nexus_agent_key=x_nexus_agent_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    workspace_id: str,
    provider: str,
    x_nexus_agent_key: str | Unset = UNSET,
) -> Error | GatewayCredential | None:
    """Resolve a workspace's credential for a provider, for an agent

    Args:
        workspace_id (str):
        provider (str):
        x_nexus_agent_key (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | GatewayCredential
    """

    return (
        await asyncio_detailed(
            client=client,
            workspace_id=workspace_id,
            provider=provider,
            x_nexus_agent_key=x_nexus_agent_key,
        )
    ).parsed
