from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.connection_check import ConnectionCheck
from ...models.error import Error
from ...types import UNSET, Response, Unset


def _get_kwargs(
    connection_id: str,
    *,
    x_nexus_agent_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(x_nexus_agent_key, Unset):
        headers["X-Nexus-Agent-Key"] = x_nexus_agent_key

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/internal/connections/{connection_id}".format(
            connection_id=quote(str(connection_id), safe=""),
        ),
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ConnectionCheck | Error | None:
    if response.status_code == 200:
        response_200 = ConnectionCheck.from_dict(response.json())

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
) -> Response[ConnectionCheck | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    connection_id: str,
    *,
    client: AuthenticatedClient,
    x_nexus_agent_key: str | Unset = UNSET,
) -> Response[ConnectionCheck | Error]:
    """Check a connection, for an agent

    Args:
        connection_id (str):
        x_nexus_agent_key (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConnectionCheck | Error]
    """

    kwargs = _get_kwargs(
        connection_id=connection_id,
        x_nexus_agent_key=x_nexus_agent_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    connection_id: str,
    *,
    client: AuthenticatedClient,
    x_nexus_agent_key: str | Unset = UNSET,
) -> ConnectionCheck | Error | None:
    """Check a connection, for an agent

    Args:
        connection_id (str):
        x_nexus_agent_key (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConnectionCheck | Error
    """

    return sync_detailed(
        connection_id=connection_id,
        client=client,
        x_nexus_agent_key=x_nexus_agent_key,
    ).parsed


async def asyncio_detailed(
    connection_id: str,
    *,
    client: AuthenticatedClient,
    x_nexus_agent_key: str | Unset = UNSET,
) -> Response[ConnectionCheck | Error]:
    """Check a connection, for an agent

    Args:
        connection_id (str):
        x_nexus_agent_key (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConnectionCheck | Error]
    """

    kwargs = _get_kwargs(
        connection_id=connection_id,
        x_nexus_agent_key=x_nexus_agent_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    connection_id: str,
    *,
    client: AuthenticatedClient,
    x_nexus_agent_key: str | Unset = UNSET,
) -> ConnectionCheck | Error | None:
    """Check a connection, for an agent

    Args:
        connection_id (str):
        x_nexus_agent_key (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConnectionCheck | Error
    """

    return (
        await asyncio_detailed(
            connection_id=connection_id,
            client=client,
            x_nexus_agent_key=x_nexus_agent_key,
        )
    ).parsed
