from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.credential_envelope import CredentialEnvelope
from ...models.error import Error
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    workspace_id: str,
    provider: str,
    scopes: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["workspace_id"] = workspace_id

    params["provider"] = provider

    params["scopes"] = scopes

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/resolve",
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
    *,
    client: AuthenticatedClient,
    workspace_id: str,
    provider: str,
    scopes: str | Unset = UNSET,
) -> Response[CredentialEnvelope | Error]:
    """Resolve a workspace's credential for a provider

     For stateless MCP servers: the credential of the workspace's newest active connection to
    the provider, and how to inject it, in one call. With no active connection, the
    connection waiting on its user decides: 409 `attention_required` (the user must consent
    again) or `connection_pending` (the consent is in progress), with that `connection_id` in
    the error body, so the agent can send the user to re-consent it; 404
    `connection_not_found` when there is none. Refresh failures are answered as for
    `token_get`.

    Args:
        workspace_id (str):
        provider (str):
        scopes (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CredentialEnvelope | Error]
    """

    kwargs = _get_kwargs(
        workspace_id=workspace_id,
        provider=provider,
        scopes=scopes,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    workspace_id: str,
    provider: str,
    scopes: str | Unset = UNSET,
) -> CredentialEnvelope | Error | None:
    """Resolve a workspace's credential for a provider

     For stateless MCP servers: the credential of the workspace's newest active connection to
    the provider, and how to inject it, in one call. With no active connection, the
    connection waiting on its user decides: 409 `attention_required` (the user must consent
    again) or `connection_pending` (the consent is in progress), with that `connection_id` in
    the error body, so the agent can send the user to re-consent it; 404
    `connection_not_found` when there is none. Refresh failures are answered as for
    `token_get`.

    Args:
        workspace_id (str):
        provider (str):
        scopes (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CredentialEnvelope | Error
    """

    return sync_detailed(
        client=client,
        workspace_id=workspace_id,
        provider=provider,
        scopes=scopes,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    workspace_id: str,
    provider: str,
    scopes: str | Unset = UNSET,
) -> Response[CredentialEnvelope | Error]:
    """Resolve a workspace's credential for a provider

     For stateless MCP servers: the credential of the workspace's newest active connection to
    the provider, and how to inject it, in one call. With no active connection, the
    connection waiting on its user decides: 409 `attention_required` (the user must consent
    again) or `connection_pending` (the consent is in progress), with that `connection_id` in
    the error body, so the agent can send the user to re-consent it; 404
    `connection_not_found` when there is none. Refresh failures are answered as for
    `token_get`.

    Args:
        workspace_id (str):
        provider (str):
        scopes (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CredentialEnvelope | Error]
    """

    kwargs = _get_kwargs(
        workspace_id=workspace_id,
        provider=provider,
        scopes=scopes,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    workspace_id: str,
    provider: str,
    scopes: str | Unset = UNSET,
) -> CredentialEnvelope | Error | None:
    """Resolve a workspace's credential for a provider

     For stateless MCP servers: the credential of the workspace's newest active connection to
    the provider, and how to inject it, in one call. With no active connection, the
    connection waiting on its user decides: 409 `attention_required` (the user must consent
    again) or `connection_pending` (the consent is in progress), with that `connection_id` in
    the error body, so the agent can send the user to re-consent it; 404
    `connection_not_found` when there is none. Refresh failures are answered as for
    `token_get`.

    Args:
        workspace_id (str):
        provider (str):
        scopes (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CredentialEnvelope | Error
    """

    return (
        await asyncio_detailed(
            client=client,
            workspace_id=workspace_id,
            provider=provider,
            scopes=scopes,
        )
    ).parsed
