from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.background_task_list import BackgroundTaskList
from ...models.error import Error
from ...types import Response


def _get_kwargs() -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/background-tasks",
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> BackgroundTaskList | Error | None:
    if response.status_code == 200:
        response_200 = BackgroundTaskList.from_dict(response.json())

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
) -> Response[BackgroundTaskList | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
) -> Response[BackgroundTaskList | Error]:
    """List background tasks

     Every periodic or claim-based job of the process that answers (each Broker process runs
    its own): its schedule, its last run (start, duration, outcome, summary) and its next
    activation. The same figures are exported as `nexus_background_task_*` metrics.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BackgroundTaskList | Error]
    """

    kwargs = _get_kwargs()

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
) -> BackgroundTaskList | Error | None:
    """List background tasks

     Every periodic or claim-based job of the process that answers (each Broker process runs
    its own): its schedule, its last run (start, duration, outcome, summary) and its next
    activation. The same figures are exported as `nexus_background_task_*` metrics.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BackgroundTaskList | Error
    """

    return sync_detailed(
        client=client,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
) -> Response[BackgroundTaskList | Error]:
    """List background tasks

     Every periodic or claim-based job of the process that answers (each Broker process runs
    its own): its schedule, its last run (start, duration, outcome, summary) and its next
    activation. The same figures are exported as `nexus_background_task_*` metrics.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BackgroundTaskList | Error]
    """

    kwargs = _get_kwargs()

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
) -> BackgroundTaskList | Error | None:
    """List background tasks

     Every periodic or claim-based job of the process that answers (each Broker process runs
    its own): its schedule, its last run (start, duration, outcome, summary) and its next
    activation. The same figures are exported as `nexus_background_task_*` metrics.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BackgroundTaskList | Error
    """

    return (
        await asyncio_detailed(
            client=client,
        )
    ).parsed
