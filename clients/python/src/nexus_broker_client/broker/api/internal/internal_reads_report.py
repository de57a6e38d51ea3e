from http import HTTPStatus
from typing import Any, cast

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.served_reads_report import ServedReadsReport
from ...types import Response


def _get_kwargs(
    *,
    body: ServedReadsReport,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/internal/reads",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json; charset=utf-8"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | Error | None:
    if response.status_code == 204:
        response_204 = cast(Any, None)
        return response_204

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: ServedReadsReport,
) -> Response[Any | Error]:
    """Report reads served from a Gateway's cache

     Each entry counts reads the Gateway served again from its cache under the receipt it got
    with the credential. They are audited and counted as reads here; entries whose receipt
    this Broker did not sign, or signed more than ten minutes ago, are skipped. Reports are
    at least once: a report the Gateway retries after losing the answer may count twice.

    Args:
        body (ServedReadsReport): Reads a split Gateway served from its cache since its last
            report

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Error]
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
    body: ServedReadsReport,
) -> Any | Error | None:
    """Report reads served from a Gateway's cache

     Each entry counts reads the Gateway served again from its cache under the receipt it got
    with the credential. They are audited and counted as reads here; entries whose receipt
    this Broker did not sign, or signed more than ten minutes ago, are skipped. Reports are
    at least once: a report the Gateway retries after losing the answer may count twice.

    Args:
        body (ServedReadsReport): Reads a split Gateway served from its cache since its last
            report

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Error
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: ServedReadsReport,
) -> Response[Any | Error]:
    """Report reads served from a Gateway's cache

     Each entry counts reads the Gateway served again from its cache under the receipt it got
    with the credential. They are audited and counted as reads here; entries whose receipt
    this Broker did not sign, or signed more than ten minutes ago, are skipped. Reports are
    at least once: a report the Gateway retries after losing the answer may count twice.

    Args:
        body (ServedReadsReport): Reads a split Gateway served from its cache since its last
            report

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Error]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: ServedReadsReport,
) -> Any | Error | None:
    """Report reads served from a Gateway's cache

     Each entry counts reads the Gateway served again from its cache under the receipt it got
    with the credential. They are audited and counted as reads here; entries whose receipt
    this Broker did not sign, or signed more than ten minutes ago, are skipped. Reports are
    at least once: a report the Gateway retries after losing the answer may count twice.

    Args:
        body (ServedReadsReport): Reads a split Gateway served from its cache since its last
            report

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Error
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
