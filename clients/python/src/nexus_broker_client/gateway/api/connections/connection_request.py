from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.connection_request import ConnectionRequest
from ...models.connection_requested import ConnectionRequested
from ...models.error import Error
from ...types import Response


def _get_kwargs(
    *,
    body: ConnectionRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/request-connection",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json; charset=utf-8"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ConnectionRequested | Error | None:
    if response.status_code == 201:
        response_201 = ConnectionRequested.from_dict(response.json())

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
) -> Response[ConnectionRequested | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: ConnectionRequest,
) -> Response[ConnectionRequested | Error]:
    """Request a connection

     Starts connecting a workspace to a provider and returns where to send the user: the
    provider's consent page (OAuth2) or Nexus's hosted form (API keys, basic auth). Poll
    `check-connection` until it is `active`.

    Args:
        body (ConnectionRequest): An agent asks to connect a workspace to a provider

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConnectionRequested | Error]
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
    body: ConnectionRequest,
) -> ConnectionRequested | Error | None:
    """Request a connection

     Starts connecting a workspace to a provider and returns where to send the user: the
    provider's consent page (OAuth2) or Nexus's hosted form (API keys, basic auth). Poll
    `check-connection` until it is `active`.

    Args:
        body (ConnectionRequest): An agent asks to connect a workspace to a provider

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConnectionRequested | Error
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: ConnectionRequest,
) -> Response[ConnectionRequested | Error]:
    """Request a connection

     Starts connecting a workspace to a provider and returns where to send the user: the
    provider's consent page (OAuth2) or Nexus's hosted form (API keys, basic auth). Poll
    `check-connection` until it is `active`.

    Args:
        body (ConnectionRequest): An agent asks to connect a workspace to a provider

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConnectionRequested | Error]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: ConnectionRequest,
) -> ConnectionRequested | Error | None:
    """Request a connection

     Starts connecting a workspace to a provider and returns where to send the user: the
    provider's consent page (OAuth2) or Nexus's hosted form (API keys, basic auth). Poll
    `check-connection` until it is `active`.

    Args:
        body (ConnectionRequest): An agent asks to connect a workspace to a provider

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConnectionRequested | Error
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
