from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.provider import Provider
from ...models.provider_create import ProviderCreate
from ...types import Response


def _get_kwargs(
    *,
    body: ProviderCreate,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/providers",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json; charset=utf-8"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | Provider | None:
    if response.status_code == 201:
        response_201 = Provider.from_dict(response.json())

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | Provider]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: ProviderCreate,
) -> Response[Error | Provider]:
    """Register a provider

     OAuth2 providers need `client_id`, `client_secret`, and either `authorization_url` with
    `token_url` or an `issuer` for OpenID discovery. API-key and basic-auth providers take an
    optional `credential_schema`. The client secret is encrypted and never returned.

    Args:
        body (ProviderCreate): A provider to register. `strategy` overrides the auth type's
            default strategy. With
            `template`, a template of the catalog (`GET /v1/catalog`) fills in every field the body
            leaves
            out (name, auth type, endpoints, scopes, strategy, ...); the body's fields win. `name` and
            `auth_type` are required unless the template gives them

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Provider]
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
    body: ProviderCreate,
) -> Error | Provider | None:
    """Register a provider

     OAuth2 providers need `client_id`, `client_secret`, and either `authorization_url` with
    `token_url` or an `issuer` for OpenID discovery. API-key and basic-auth providers take an
    optional `credential_schema`. The client secret is encrypted and never returned.

    Args:
        body (ProviderCreate): A provider to register. `strategy` overrides the auth type's
            default strategy. With
            `template`, a template of the catalog (`GET /v1/catalog`) fills in every field the body
            leaves
            out (name, auth type, endpoints, scopes, strategy, ...); the body's fields win. `name` and
            `auth_type` are required unless the template gives them

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Provider
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: ProviderCreate,
) -> Response[Error | Provider]:
    """Register a provider

     OAuth2 providers need `client_id`, `client_secret`, and either `authorization_url` with
    `token_url` or an `issuer` for OpenID discovery. API-key and basic-auth providers take an
    optional `credential_schema`. The client secret is encrypted and never returned.

    Args:
        body (ProviderCreate): A provider to register. `strategy` overrides the auth type's
            default strategy. With
            `template`, a template of the catalog (`GET /v1/catalog`) fills in every field the body
            leaves
            out (name, auth type, endpoints, scopes, strategy, ...); the body's fields win. `name` and
            `auth_type` are required unless the template gives them

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Provider]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: ProviderCreate,
) -> Error | Provider | None:
    """Register a provider

     OAuth2 providers need `client_id`, `client_secret`, and either `authorization_url` with
    `token_url` or an `issuer` for OpenID discovery. API-key and basic-auth providers take an
    optional `credential_schema`. The client secret is encrypted and never returned.

    Args:
        body (ProviderCreate): A provider to register. `strategy` overrides the auth type's
            default strategy. With
            `template`, a template of the catalog (`GET /v1/catalog`) fills in every field the body
            leaves
            out (name, auth type, endpoints, scopes, strategy, ...); the body's fields win. `name` and
            `auth_type` are required unless the template gives them

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Provider
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
