from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.agent_key_create import AgentKeyCreate
from ...models.agent_key_created import AgentKeyCreated
from ...models.error import Error
from ...types import Response


def _get_kwargs(
    *,
    body: AgentKeyCreate,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/agent-keys",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json; charset=utf-8"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> AgentKeyCreated | Error | None:
    if response.status_code == 201:
        response_201 = AgentKeyCreated.from_dict(response.json())

        return response_201

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
) -> Response[AgentKeyCreated | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: AgentKeyCreate,
) -> Response[AgentKeyCreated | Error]:
    """Create an agent key

     The key is in this answer only; Nexus stores its hash. Restrict it to workspaces with
    `workspace_ids`: outside them the Gateway answers 404, as for a connection that does not exist.

    Args:
        body (AgentKeyCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AgentKeyCreated | Error]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: AgentKeyCreate,
) -> AgentKeyCreated | Error | None:
    """Create an agent key

     The key is in this answer only; Nexus stores its hash. Restrict it to workspaces with
    `workspace_ids`: outside them the Gateway answers 404, as for a connection that does not exist.

    Args:
        body (AgentKeyCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AgentKeyCreated | Error
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: AgentKeyCreate,
) -> Response[AgentKeyCreated | Error]:
    """Create an agent key

     The key is in this answer only; Nexus stores its hash. Restrict it to workspaces with
    `workspace_ids`: outside them the Gateway answers 404, as for a connection that does not exist.

    Args:
        body (AgentKeyCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AgentKeyCreated | Error]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: AgentKeyCreate,
) -> AgentKeyCreated | Error | None:
    """Create an agent key

     The key is in this answer only; Nexus stores its hash. Restrict it to workspaces with
    `workspace_ids`: outside them the Gateway answers 404, as for a connection that does not exist.

    Args:
        body (AgentKeyCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AgentKeyCreated | Error
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
