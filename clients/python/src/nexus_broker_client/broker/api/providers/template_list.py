from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.auth_type import AuthType
from ...models.error import Error
from ...models.template_list import TemplateList
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    category: str | Unset = UNSET,
    auth_type: AuthType | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["category"] = category

    json_auth_type: str | Unset = UNSET
    if not isinstance(auth_type, Unset):
        json_auth_type = auth_type

    params["auth_type"] = json_auth_type

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/catalog",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | TemplateList | None:
    if response.status_code == 200:
        response_200 = TemplateList.from_dict(response.json())

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
) -> Response[Error | TemplateList]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    category: str | Unset = UNSET,
    auth_type: AuthType | Unset = UNSET,
) -> Response[Error | TemplateList]:
    """List the provider catalog's templates

     Ready templates (endpoints, scopes, strategy, connection parameters) for hundreds of
    providers, ordered by name; `category` and `auth_type` narrow the list. `unsupported`
    names what a provider created from a template would need that Nexus does not do yet.

    Args:
        category (str | Unset):
        auth_type (AuthType | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | TemplateList]
    """

    kwargs = _get_kwargs(
        category=category,
        auth_type=auth_type,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    category: str | Unset = UNSET,
    auth_type: AuthType | Unset = UNSET,
) -> Error | TemplateList | None:
    """List the provider catalog's templates

     Ready templates (endpoints, scopes, strategy, connection parameters) for hundreds of
    providers, ordered by name; `category` and `auth_type` narrow the list. `unsupported`
    names what a provider created from a template would need that Nexus does not do yet.

    Args:
        category (str | Unset):
        auth_type (AuthType | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | TemplateList
    """

    return sync_detailed(
        client=client,
        category=category,
        auth_type=auth_type,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    category: str | Unset = UNSET,
    auth_type: AuthType | Unset = UNSET,
) -> Response[Error | TemplateList]:
    """List the provider catalog's templates

     Ready templates (endpoints, scopes, strategy, connection parameters) for hundreds of
    providers, ordered by name; `category` and `auth_type` narrow the list. `unsupported`
    names what a provider created from a template would need that Nexus does not do yet.

    Args:
        category (str | Unset):
        auth_type (AuthType | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | TemplateList]
    """

    kwargs = _get_kwargs(
        category=category,
        auth_type=auth_type,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    category: str | Unset = UNSET,
    auth_type: AuthType | Unset = UNSET,
) -> Error | TemplateList | None:
    """List the provider catalog's templates

     Ready templates (endpoints, scopes, strategy, connection parameters) for hundreds of
    providers, ordered by name; `category` and `auth_type` narrow the list. `unsupported`
    names what a provider created from a template would need that Nexus does not do yet.

    Args:
        category (str | Unset):
        auth_type (AuthType | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | TemplateList
    """

    return (
        await asyncio_detailed(
            client=client,
            category=category,
            auth_type=auth_type,
        )
    ).parsed
