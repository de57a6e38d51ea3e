from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.consent_create import ConsentCreate
from ...models.consent_created import ConsentCreated
from ...models.error import Error
from ...types import Response


def _get_kwargs(
    *,
    body: ConsentCreate,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/consents",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json; charset=utf-8"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ConsentCreated | Error | None:
    if response.status_code == 201:
        response_201 = ConsentCreated.from_dict(response.json())

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
) -> Response[ConsentCreated | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: ConsentCreate,
) -> Response[ConsentCreated | Error]:
    """Start a consent

     Creates a pending connection (or, with `connection_id`, re-consents an existing one under
    the same id) and returns where to send the user: the provider's consent page for OAuth2,
    Nexus's hosted form for API keys and basic auth. `return_url` must be allowed by
    `NEXUS_ALLOWED_RETURN_URLS`.

    Args:
        body (ConsentCreate): Start a consent (OAuth2) or a credential capture (API key, basic
            auth)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConsentCreated | Error]
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
    body: ConsentCreate,
) -> ConsentCreated | Error | None:
    """Start a consent

     Creates a pending connection (or, with `connection_id`, re-consents an existing one under
    the same id) and returns where to send the user: the provider's consent page for OAuth2,
    Nexus's hosted form for API keys and basic auth. `return_url` must be allowed by
    `NEXUS_ALLOWED_RETURN_URLS`.

    Args:
        body (ConsentCreate): Start a consent (OAuth2) or a credential capture (API key, basic
            auth)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConsentCreated | Error
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: ConsentCreate,
) -> Response[ConsentCreated | Error]:
    """Start a consent

     Creates a pending connection (or, with `connection_id`, re-consents an existing one under
    the same id) and returns where to send the user: the provider's consent page for OAuth2,
    Nexus's hosted form for API keys and basic auth. `return_url` must be allowed by
    `NEXUS_ALLOWED_RETURN_URLS`.

    Args:
        body (ConsentCreate): Start a consent (OAuth2) or a credential capture (API key, basic
            auth)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConsentCreated | Error]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: ConsentCreate,
) -> ConsentCreated | Error | None:
    """Start a consent

     Creates a pending connection (or, with `connection_id`, re-consents an existing one under
    the same id) and returns where to send the user: the provider's consent page for OAuth2,
    Nexus's hosted form for API keys and basic auth. `return_url` must be allowed by
    `NEXUS_ALLOWED_RETURN_URLS`.

    Args:
        body (ConsentCreate): Start a consent (OAuth2) or a credential capture (API key, basic
            auth)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConsentCreated | Error
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
