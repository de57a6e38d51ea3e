from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.provider import Provider
from ...models.provider_update import ProviderUpdate
from ...types import Response


def _get_kwargs(
    provider: str,
    *,
    body: ProviderUpdate,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/v1/providers/{provider}".format(
            provider=quote(str(provider), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json; charset=utf-8"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | Provider | None:
    if response.status_code == 200:
        response_200 = Provider.from_dict(response.json())

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | Provider]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    provider: str,
    *,
    client: AuthenticatedClient,
    body: ProviderUpdate,
) -> Response[Error | Provider]:
    """Update a provider

     Absent fields are left as they are; `null` clears an optional field. The result is
    validated like a new provider. The auth type cannot change.

    Args:
        provider (str):
        body (ProviderUpdate): Changes to a provider: absent fields stay as they are; fields named
            in `clear` are reset
            (an explicit list rather than `null`, which generated clients cannot always send)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Provider]
    """

    kwargs = _get_kwargs(
        provider=provider,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    provider: str,
    *,
    client: AuthenticatedClient,
    body: ProviderUpdate,
) -> Error | Provider | None:
    """Update a provider

     Absent fields are left as they are; `null` clears an optional field. The result is
    validated like a new provider. The auth type cannot change.

    Args:
        provider (str):
        body (ProviderUpdate): Changes to a provider: absent fields stay as they are; fields named
            in `clear` are reset
            (an explicit list rather than `null`, which generated clients cannot always send)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Provider
    """

    return sync_detailed(
        provider=provider,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    provider: str,
    *,
    client: AuthenticatedClient,
    body: ProviderUpdate,
) -> Response[Error | Provider]:
    """Update a provider

     Absent fields are left as they are; `null` clears an optional field. The result is
    validated like a new provider. The auth type cannot change.

    Args:
        provider (str):
        body (ProviderUpdate): Changes to a provider: absent fields stay as they are; fields named
            in `clear` are reset
            (an explicit list rather than `null`, which generated clients cannot always send)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Provider]
    """

    kwargs = _get_kwargs(
        provider=provider,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    provider: str,
    *,
    client: AuthenticatedClient,
    body: ProviderUpdate,
) -> Error | Provider | None:
    """Update a provider

     Absent fields are left as they are; `null` clears an optional field. The result is
    validated like a new provider. The auth type cannot change.

    Args:
        provider (str):
        body (ProviderUpdate): Changes to a provider: absent fields stay as they are; fields named
            in `clear` are reset
            (an explicit list rather than `null`, which generated clients cannot always send)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Provider
    """

    return (
        await asyncio_detailed(
            provider=provider,
            client=client,
            body=body,
        )
    ).parsed
