from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.webhook_secret_rotate import WebhookSecretRotate
from ...models.webhook_with_secret import WebhookWithSecret
from ...types import Response


def _get_kwargs(
    webhook_id: str,
    *,
    body: WebhookSecretRotate,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/webhooks/{webhook_id}/rotate-secret".format(
            webhook_id=quote(str(webhook_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json; charset=utf-8"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | WebhookWithSecret | None:
    if response.status_code == 200:
        response_200 = WebhookWithSecret.from_dict(response.json())

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
) -> Response[Error | WebhookWithSecret]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    webhook_id: str,
    *,
    client: AuthenticatedClient,
    body: WebhookSecretRotate,
) -> Response[Error | WebhookWithSecret]:
    """Rotate a webhook's signing secret

     Returns the new secret, shown this once. For `grace_period_seconds` (default one day)
    every delivery carries signatures by both the old and the new secret, so receivers can
    switch without missing one.

    Args:
        webhook_id (str):
        body (WebhookSecretRotate): A secret rotation: how long the old secret keeps signing
            beside the new one

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | WebhookWithSecret]
    """

    kwargs = _get_kwargs(
        webhook_id=webhook_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    webhook_id: str,
    *,
    client: AuthenticatedClient,
    body: WebhookSecretRotate,
) -> Error | WebhookWithSecret | None:
    """Rotate a webhook's signing secret

     Returns the new secret, shown this once. For `grace_period_seconds` (default one day)
    every delivery carries signatures by both the old and the new secret, so receivers can
    switch without missing one.

    Args:
        webhook_id (str):
        body (WebhookSecretRotate): A secret rotation: how long the old secret keeps signing
            beside the new one

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | WebhookWithSecret
    """

    return sync_detailed(
        webhook_id=webhook_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    webhook_id: str,
    *,
    client: AuthenticatedClient,
    body: WebhookSecretRotate,
) -> Response[Error | WebhookWithSecret]:
    """Rotate a webhook's signing secret

     Returns the new secret, shown this once. For `grace_period_seconds` (default one day)
    every delivery carries signatures by both the old and the new secret, so receivers can
    switch without missing one.

    Args:
        webhook_id (str):
        body (WebhookSecretRotate): A secret rotation: how long the old secret keeps signing
            beside the new one

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | WebhookWithSecret]
    """

    kwargs = _get_kwargs(
        webhook_id=webhook_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    webhook_id: str,
    *,
    client: AuthenticatedClient,
    body: WebhookSecretRotate,
) -> Error | WebhookWithSecret | None:
    """Rotate a webhook's signing secret

     Returns the new secret, shown this once. For `grace_period_seconds` (default one day)
    every delivery carries signatures by both the old and the new secret, so receivers can
    switch without missing one.

    Args:
        webhook_id (str):
        body (WebhookSecretRotate): A secret rotation: how long the old secret keeps signing
            beside the new one

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | WebhookWithSecret
    """

    return (
        await asyncio_detailed(
            webhook_id=webhook_id,
            client=client,
            body=body,
        )
    ).parsed
