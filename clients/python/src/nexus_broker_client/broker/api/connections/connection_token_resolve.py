from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.credential_envelope import CredentialEnvelope
from ...models.error import Error
from ...types import UNSET, Response


def _get_kwargs(
    *,
    workspace_id: str,
    provider: str,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["workspace_id"] = workspace_id

    params["provider"] = provider

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/token",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> CredentialEnvelope | Error | None:
    if response.status_code == 200:
        response_200 = CredentialEnvelope.from_dict(response.json())

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
) -> Response[CredentialEnvelope | Error]:
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
) -> Response[CredentialEnvelope | Error]:
    """Resolve a workspace's token for a provider

     The envelope of the workspace's newest active connection to the provider. With none, 409
    `attention_required` or `connection_pending` names the connection waiting on its user
    (`connection_id` in the error body); 404 when there is none.

    Args:
        workspace_id (str):
        provider (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CredentialEnvelope | Error]
    """

    kwargs = _get_kwargs(
        workspace_id=workspace_id,
        provider=provider,
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
) -> CredentialEnvelope | Error | None:
    """Resolve a workspace's token for a provider

     The envelope of the workspace's newest active connection to the provider. With none, 409
    `attention_required` or `connection_pending` names the connection waiting on its user
    (`connection_id` in the error body); 404 when there is none.

    Args:
        workspace_id (str):
        provider (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CredentialEnvelope | Error
    """

    return sync_detailed(
        client=client,
        workspace_id=workspace_id,
        provider=provider,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    workspace_id: str,
    provider: str,
) -> Response[CredentialEnvelope | Error]:
    """Resolve a workspace's token for a provider

     The envelope of the workspace's newest active connection to the provider. With none, 409
    `attention_required` or `connection_pending` names the connection waiting on its user
    (`connection_id` in the error body); 404 when there is none.

    Args:
        workspace_id (str):
        provider (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CredentialEnvelope | Error]
    """

    kwargs = _get_kwargs(
        workspace_id=workspace_id,
        provider=provider,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    workspace_id: str,
    provider: str,
) -> CredentialEnvelope | Error | None:
    """Resolve a workspace's token for a provider

     The envelope of the workspace's newest active connection to the provider. With none, 409
    `attention_required` or `connection_pending` names the connection waiting on its user
    (`connection_id` in the error body); 404 when there is none.

    Args:
        workspace_id (str):
        provider (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CredentialEnvelope | Error
    """

    return (
        await asyncio_detailed(
            client=client,
            workspace_id=workspace_id,
            provider=provider,
        )
    ).parsed
