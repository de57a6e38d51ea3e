from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.credential_envelope import CredentialEnvelope
from ...models.error import Error
from ...types import UNSET, Response, Unset


def _get_kwargs(
    connection_id: str,
    *,
    scopes: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["scopes"] = scopes

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/token/{connection_id}".format(
            connection_id=quote(str(connection_id), safe=""),
        ),
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
    connection_id: str,
    *,
    client: AuthenticatedClient,
    scopes: str | Unset = UNSET,
) -> Response[CredentialEnvelope | Error]:
    """Get a connection's credential

     The current credential and the strategy to inject it; refreshed first when it expires
    within the skew. When that refresh fails upstream a token still valid is served; an
    expired one is 502 `upstream_unavailable` with `Retry-After`, or 502
    `provider_misconfigured` when the provider refused Nexus's client (the connection stays
    active). Only a provider's `invalid_grant` makes it 409 `attention_required`.

    Args:
        connection_id (str):
        scopes (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CredentialEnvelope | Error]
    """

    kwargs = _get_kwargs(
        connection_id=connection_id,
        scopes=scopes,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    connection_id: str,
    *,
    client: AuthenticatedClient,
    scopes: str | Unset = UNSET,
) -> CredentialEnvelope | Error | None:
    """Get a connection's credential

     The current credential and the strategy to inject it; refreshed first when it expires
    within the skew. When that refresh fails upstream a token still valid is served; an
    expired one is 502 `upstream_unavailable` with `Retry-After`, or 502
    `provider_misconfigured` when the provider refused Nexus's client (the connection stays
    active). Only a provider's `invalid_grant` makes it 409 `attention_required`.

    Args:
        connection_id (str):
        scopes (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CredentialEnvelope | Error
    """

    return sync_detailed(
        connection_id=connection_id,
        client=client,
        scopes=scopes,
    ).parsed


async def asyncio_detailed(
    connection_id: str,
    *,
    client: AuthenticatedClient,
    scopes: str | Unset = UNSET,
) -> Response[CredentialEnvelope | Error]:
    """Get a connection's credential

     The current credential and the strategy to inject it; refreshed first when it expires
    within the skew. When that refresh fails upstream a token still valid is served; an
    expired one is 502 `upstream_unavailable` with `Retry-After`, or 502
    `provider_misconfigured` when the provider refused Nexus's client (the connection stays
    active). Only a provider's `invalid_grant` makes it 409 `attention_required`.

    Args:
        connection_id (str):
        scopes (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CredentialEnvelope | Error]
    """

    kwargs = _get_kwargs(
        connection_id=connection_id,
        scopes=scopes,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    connection_id: str,
    *,
    client: AuthenticatedClient,
    scopes: str | Unset = UNSET,
) -> CredentialEnvelope | Error | None:
    """Get a connection's credential

     The current credential and the strategy to inject it; refreshed first when it expires
    within the skew. When that refresh fails upstream a token still valid is served; an
    expired one is 502 `upstream_unavailable` with `Retry-After`, or 502
    `provider_misconfigured` when the provider refused Nexus's client (the connection stays
    active). Only a provider's `invalid_grant` makes it 409 `attention_required`.

    Args:
        connection_id (str):
        scopes (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CredentialEnvelope | Error
    """

    return (
        await asyncio_detailed(
            connection_id=connection_id,
            client=client,
            scopes=scopes,
        )
    ).parsed
