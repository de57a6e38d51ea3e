from http import HTTPStatus
from typing import Any
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.connection_page import ConnectionPage
from ...models.connection_status import ConnectionStatus
from ...models.error import Error
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    workspace_id: str | Unset = UNSET,
    provider: str | Unset = UNSET,
    status: ConnectionStatus | Unset = UNSET,
    cursor: UUID | Unset = UNSET,
    limit: int | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["workspace_id"] = workspace_id

    params["provider"] = provider

    json_status: str | Unset = UNSET
    if not isinstance(status, Unset):
        json_status = status

    params["status"] = json_status

    json_cursor: str | Unset = UNSET
    if not isinstance(cursor, Unset):
        json_cursor = str(cursor)
    params["cursor"] = json_cursor

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/connections",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ConnectionPage | Error | None:
    if response.status_code == 200:
        response_200 = ConnectionPage.from_dict(response.json())

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
) -> Response[ConnectionPage | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    workspace_id: str | Unset = UNSET,
    provider: str | Unset = UNSET,
    status: ConnectionStatus | Unset = UNSET,
    cursor: UUID | Unset = UNSET,
    limit: int | Unset = UNSET,
) -> Response[ConnectionPage | Error]:
    """List connections

     Oldest first; filter by `workspace_id`, `provider` and `status`; page with `cursor` and
    `limit` (default 50, at most 500).

    Args:
        workspace_id (str | Unset):
        provider (str | Unset):
        status (ConnectionStatus | Unset):
        cursor (UUID | Unset):
        limit (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConnectionPage | Error]
    """

    kwargs = _get_kwargs(
        workspace_id=workspace_id,
        provider=provider,
        status=status,
        cursor=cursor,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    workspace_id: str | Unset = UNSET,
    provider: str | Unset = UNSET,
    status: ConnectionStatus | Unset = UNSET,
    cursor: UUID | Unset = UNSET,
    limit: int | Unset = UNSET,
) -> ConnectionPage | Error | None:
    """List connections

     Oldest first; filter by `workspace_id`, `provider` and `status`; page with `cursor` and
    `limit` (default 50, at most 500).

    Args:
        workspace_id (str | Unset):
        provider (str | Unset):
        status (ConnectionStatus | Unset):
        cursor (UUID | Unset):
        limit (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConnectionPage | Error
    """

    return sync_detailed(
        client=client,
        workspace_id=workspace_id,
        provider=provider,
        status=status,
        cursor=cursor,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    workspace_id: str | Unset = UNSET,
    provider: str | Unset = UNSET,
    status: ConnectionStatus | Unset = UNSET,
    cursor: UUID | Unset = UNSET,
    limit: int | Unset = UNSET,
) -> Response[ConnectionPage | Error]:
    """List connections

     Oldest first; filter by `workspace_id`, `provider` and `status`; page with `cursor` and
    `limit` (default 50, at most 500).

    Args:
        workspace_id (str | Unset):
        provider (str | Unset):
        status (ConnectionStatus | Unset):
        cursor (UUID | Unset):
        limit (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConnectionPage | Error]
    """

    kwargs = _get_kwargs(
        workspace_id=workspace_id,
        provider=provider,
        status=status,
        cursor=cursor,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    workspace_id: str | Unset = UNSET,
    provider: str | Unset = UNSET,
    status: ConnectionStatus | Unset = UNSET,
    cursor: UUID | Unset = UNSET,
    limit: int | Unset = UNSET,
) -> ConnectionPage | Error | None:
    """List connections

     Oldest first; filter by `workspace_id`, `provider` and `status`; page with `cursor` and
    `limit` (default 50, at most 500).

    Args:
        workspace_id (str | Unset):
        provider (str | Unset):
        status (ConnectionStatus | Unset):
        cursor (UUID | Unset):
        limit (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConnectionPage | Error
    """

    return (
        await asyncio_detailed(
            client=client,
            workspace_id=workspace_id,
            provider=provider,
            status=status,
            cursor=cursor,
            limit=limit,
        )
    ).parsed
