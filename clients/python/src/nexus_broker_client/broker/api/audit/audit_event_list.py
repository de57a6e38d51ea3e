import datetime
from http import HTTPStatus
from typing import Any
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.audit_event_page import AuditEventPage
from ...models.audit_event_type import AuditEventType
from ...models.error import Error
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    event_type: AuditEventType | Unset = UNSET,
    connection_id: UUID | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    cursor: UUID | Unset = UNSET,
    limit: int | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_event_type: str | Unset = UNSET
    if not isinstance(event_type, Unset):
        json_event_type = event_type

    params["event_type"] = json_event_type

    json_connection_id: str | Unset = UNSET
    if not isinstance(connection_id, Unset):
        json_connection_id = str(connection_id)
    params["connection_id"] = json_connection_id

    json_since: str | Unset = UNSET
    if not isinstance(since, Unset):
        json_since = since.isoformat()
    params["since"] = json_since

    json_cursor: str | Unset = UNSET
    if not isinstance(cursor, Unset):
        json_cursor = str(cursor)
    params["cursor"] = json_cursor

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/audit-events",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> AuditEventPage | Error | None:
    if response.status_code == 200:
        response_200 = AuditEventPage.from_dict(response.json())

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
) -> Response[AuditEventPage | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    event_type: AuditEventType | Unset = UNSET,
    connection_id: UUID | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    cursor: UUID | Unset = UNSET,
    limit: int | Unset = UNSET,
) -> Response[AuditEventPage | Error]:
    """List audit events

     Oldest first. Filter by `event_type`, `connection_id` and `since`; page with `cursor`
    (the `next_cursor` of the previous page) and `limit` (default 50, at most 500).

    Args:
        event_type (AuditEventType | Unset): What happened
        connection_id (UUID | Unset):
        since (datetime.datetime | Unset):
        cursor (UUID | Unset):
        limit (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AuditEventPage | Error]
    """

    kwargs = _get_kwargs(
        event_type=event_type,
        connection_id=connection_id,
        since=since,
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
    event_type: AuditEventType | Unset = UNSET,
    connection_id: UUID | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    cursor: UUID | Unset = UNSET,
    limit: int | Unset = UNSET,
) -> AuditEventPage | Error | None:
    """List audit events

     Oldest first. Filter by `event_type`, `connection_id` and `since`; page with `cursor`
    (the `next_cursor` of the previous page) and `limit` (default 50, at most 500).

    Args:
        event_type (AuditEventType | Unset): What happened
        connection_id (UUID | Unset):
        since (datetime.datetime | Unset):
        cursor (UUID | Unset):
        limit (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AuditEventPage | Error
    """

    return sync_detailed(
        client=client,
        event_type=event_type,
        connection_id=connection_id,
        since=since,
        cursor=cursor,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    event_type: AuditEventType | Unset = UNSET,
    connection_id: UUID | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    cursor: UUID | Unset = UNSET,
    limit: int | Unset = UNSET,
) -> Response[AuditEventPage | Error]:
    """List audit events

     Oldest first. Filter by `event_type`, `connection_id` and `since`; page with `cursor`
    (the `next_cursor` of the previous page) and `limit` (default 50, at most 500).

    Args:
        event_type (AuditEventType | Unset): What happened
        connection_id (UUID | Unset):
        since (datetime.datetime | Unset):
        cursor (UUID | Unset):
        limit (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AuditEventPage | Error]
    """

    kwargs = _get_kwargs(
        event_type=event_type,
        connection_id=connection_id,
        since=since,
        cursor=cursor,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    event_type: AuditEventType | Unset = UNSET,
    connection_id: UUID | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    cursor: UUID | Unset = UNSET,
    limit: int | Unset = UNSET,
) -> AuditEventPage | Error | None:
    """List audit events

     Oldest first. Filter by `event_type`, `connection_id` and `since`; page with `cursor`
    (the `next_cursor` of the previous page) and `limit` (default 50, at most 500).

    Args:
        event_type (AuditEventType | Unset): What happened
        connection_id (UUID | Unset):
        since (datetime.datetime | Unset):
        cursor (UUID | Unset):
        limit (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AuditEventPage | Error
    """

    return (
        await asyncio_detailed(
            client=client,
            event_type=event_type,
            connection_id=connection_id,
            since=since,
            cursor=cursor,
            limit=limit,
        )
    ).parsed
