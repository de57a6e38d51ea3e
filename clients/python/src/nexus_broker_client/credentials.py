"""Credentials through the Gateway, cached, and an ``httpx.Auth`` that applies them.

``Credentials`` resolves ``(workspace_id, provider)`` or a ``connection_id`` to an envelope and
keeps it until it is within ``skew_seconds`` of ``expires_at`` (an envelope without expiry, an
API key, is kept ``static_max_age_seconds``, so a revoked connection is noticed). Concurrent
misses for one target make one Gateway call (a lock per target, in threads and in asyncio).

``NexusAuth`` is an ``httpx.Auth`` for ``httpx.Client`` and ``httpx.AsyncClient``: it applies the
credential to each request and, when the provider answers 401 to an OAuth2 token, forces one
refresh through ``POST /v1/refresh/{id}`` and retries once. It sends the credential only to the
envelope's ``api_origins`` (narrowed further with ``origins=``; anything else is
``origin_not_allowed``, sending nothing) and follows redirects itself, so the credential never
crosses to another origin (``redirects.py``); the client must not follow them (httpx's default),
or use ``NexusTransport``, which is safe either way. Errors are ``NexusError`` with the
Gateway's code (``attention_required`` carries the ``connection_id`` to send the user back to).
A target may name the ``scopes`` its calls need: a connection without them raises
``InsufficientScopeError`` (``missing_scopes``), and ``Credentials.request_scopes`` starts the
incremental consent that adds them under the same connection id. With ``proxy=True``,
``NexusAuth`` sends every request through the Gateway's proxy instead and never reads a
credential (``proxy.py``). Nothing here logs, and no ``repr`` shows a key or a token."""

from __future__ import annotations

import asyncio
import datetime
import json
import threading
from collections.abc import AsyncGenerator, Generator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from .errors import InsufficientScopeError, NexusError
from .gateway.client import AuthenticatedClient
from .gateway.models import ConnectionRequested, CredentialEnvelope, StrategyOauth2Strategy
from .gateway.types import Unset
from .inject import envelope_from_json
from .origins import narrowing
from .proxy import PROXY_PATH, check_narrowing, forwarded_headers, is_nexus_error, refuse_scopes
from .redirects import RedirectChain


@dataclass(frozen=True)
class Target:
    """What to resolve: a workspace's connection to a provider, or one connection, and the
    scopes the calls made with it need (none: whatever the connection has)."""

    workspace_id: str | None = None
    provider: str | None = None
    connection_id: str | None = None
    scopes: tuple[str, ...] = ()

    def request(self) -> tuple[str, dict[str, str]]:
        scopes = {"scopes": ",".join(self.scopes)} if self.scopes else {}
        if self.connection_id is not None:
            return f"/v1/token/{self.connection_id}", scopes
        if self.workspace_id is None or self.provider is None:
            raise ValueError("give workspace_id and provider, or connection_id")
        return "/v1/resolve", {"workspace_id": self.workspace_id, "provider": self.provider, **scopes}


@dataclass
class _Entry:
    envelope: CredentialEnvelope
    fresh_until: datetime.datetime


def _error(response: httpx.Response) -> NexusError:
    return error_from_answer(response.status_code, response.content, response.headers.get("x-request-id"))


def error_from_answer(status: int, content: bytes, request_id: str | None) -> NexusError:
    """The typed error a Nexus answer of ``status`` with body ``content`` stands for (a body that is
    not Nexus's error JSON, an HTML page from a proxy in between, is ``unexpected_response``)."""
    try:
        body: Any = json.loads(content)
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("code"), str):
        return NexusError(
            "unexpected_response",
            f"the Gateway answered HTTP {status} without a Nexus error body",
            status=status,
            request_id=request_id,
        )
    missing = body.get("missing_scopes")
    if body["code"] == "insufficient_scope" and isinstance(body.get("connection_id"), str):
        return InsufficientScopeError(
            str(body.get("message", "")),
            missing_scopes=[str(scope) for scope in missing] if isinstance(missing, list) else [],
            connection_id=body["connection_id"],
            status=status,
            request_id=str(body.get("request_id", request_id or "")) or None,
        )
    return NexusError(
        body["code"],
        str(body.get("message", "")),
        status=status,
        request_id=str(body.get("request_id", request_id or "")) or None,
        field=body.get("field"),
        connection_id=body.get("connection_id"),
    )


def _envelope(response: httpx.Response) -> CredentialEnvelope:
    if response.status_code != 200:
        raise _error(response)
    try:
        data = response.json()
    except ValueError:
        raise NexusError("malformed_envelope", "the Gateway's answer is not JSON") from None
    if not isinstance(data, dict):
        raise NexusError("malformed_envelope", "the Gateway's answer is not an object")
    return envelope_from_json(data)


def _unreachable(error: httpx.HTTPError) -> NexusError:
    # The exception's text can carry the URL with its query: name the kind only.
    return NexusError("gateway_unreachable", f"the Gateway could not be reached ({type(error).__name__})")


def _incremental_consent(
    error: InsufficientScopeError, workspace_id: str, provider: str, return_url: str, scopes: list[str] | None
) -> dict[str, Any]:
    return {
        "workspace_id": workspace_id,
        "provider": provider,
        "connection_id": error.connection_id,
        "scopes": scopes if scopes is not None else error.missing_scopes,
        "return_url": return_url,
    }


def _requested(response: httpx.Response) -> ConnectionRequested:
    if response.status_code != 201:
        raise _error(response)
    try:
        return ConnectionRequested.from_dict(response.json())
    except (ValueError, KeyError, TypeError):
        raise NexusError("unexpected_response", "the Gateway's answer is not a connection request") from None


class Credentials:
    """Resolves and caches credential envelopes through the Gateway."""

    def __init__(
        self,
        gateway: AuthenticatedClient,
        *,
        skew_seconds: float = 60.0,
        static_max_age_seconds: float = 60.0,
    ) -> None:
        self._gateway = gateway
        self._skew = datetime.timedelta(seconds=skew_seconds)
        self._static_max_age = datetime.timedelta(seconds=static_max_age_seconds)
        self._entries: dict[Target, _Entry] = {}
        self._guard = threading.Lock()
        self._thread_locks: dict[Target, threading.Lock] = {}
        # An asyncio lock belongs to one event loop: one set per loop (`asyncio.run` twice, say).
        self._async_locks: dict[tuple[int, Target], asyncio.Lock] = {}

    def __repr__(self) -> str:
        return f"Credentials(targets={len(self._entries)})"

    def _fresh(self, target: Target) -> CredentialEnvelope | None:
        entry = self._entries.get(target)
        now = datetime.datetime.now(datetime.UTC)
        return entry.envelope if entry is not None and entry.fresh_until > now else None

    def _keep(self, target: Target, envelope: CredentialEnvelope) -> CredentialEnvelope:
        now = datetime.datetime.now(datetime.UTC)
        expires_at = envelope.expires_at
        fresh_until = now + self._static_max_age if isinstance(expires_at, Unset) else expires_at - self._skew
        self._entries[target] = _Entry(envelope, fresh_until)
        return envelope

    def forget(self, target: Target) -> None:
        self._entries.pop(target, None)

    def _thread_lock(self, target: Target) -> threading.Lock:
        with self._guard:
            return self._thread_locks.setdefault(target, threading.Lock())

    def _async_lock(self, target: Target) -> asyncio.Lock:
        loop = id(asyncio.get_running_loop())
        with self._guard:
            return self._async_locks.setdefault((loop, target), asyncio.Lock())

    def get(self, target: Target) -> CredentialEnvelope:
        if (envelope := self._fresh(target)) is not None:
            return envelope
        with self._thread_lock(target):
            if (envelope := self._fresh(target)) is not None:
                return envelope
            path, params = target.request()
            try:
                response = self._gateway.get_httpx_client().get(path, params=params)
            except httpx.HTTPError as error:
                raise _unreachable(error) from None
            return self._keep(target, _envelope(response))

    async def aget(self, target: Target) -> CredentialEnvelope:
        if (envelope := self._fresh(target)) is not None:
            return envelope
        async with self._async_lock(target):
            if (envelope := self._fresh(target)) is not None:
                return envelope
            path, params = target.request()
            try:
                response = await self._gateway.get_async_httpx_client().get(path, params=params)
            except httpx.HTTPError as error:
                raise _unreachable(error) from None
            return self._keep(target, _envelope(response))

    def refresh(self, target: Target, stale: CredentialEnvelope) -> CredentialEnvelope:
        with self._thread_lock(target):
            current = self._fresh(target)
            if current is not None and current != stale:
                return current  # another caller refreshed it meanwhile
            try:
                response = self._gateway.get_httpx_client().post(f"/v1/refresh/{stale.connection_id}")
            except httpx.HTTPError as error:
                raise _unreachable(error) from None
            return self._keep(target, _envelope(response))

    def request_scopes(
        self,
        error: InsufficientScopeError,
        *,
        workspace_id: str,
        provider: str,
        return_url: str,
        scopes: list[str] | None = None,
    ) -> ConnectionRequested:
        """Starts the incremental consent ``error`` calls for: the same connection, asking for
        ``scopes`` (default: the missing ones) on top of its grant. Send the user to the answer's
        ``auth_url``; until they finish, the connection keeps serving its old grant."""
        body = _incremental_consent(error, workspace_id, provider, return_url, scopes)
        try:
            response = self._gateway.get_httpx_client().post("/v1/request-connection", json=body)
        except httpx.HTTPError as failure:
            raise _unreachable(failure) from None
        return _requested(response)

    async def arequest_scopes(
        self,
        error: InsufficientScopeError,
        *,
        workspace_id: str,
        provider: str,
        return_url: str,
        scopes: list[str] | None = None,
    ) -> ConnectionRequested:
        """``request_scopes`` for asyncio."""
        body = _incremental_consent(error, workspace_id, provider, return_url, scopes)
        try:
            response = await self._gateway.get_async_httpx_client().post("/v1/request-connection", json=body)
        except httpx.HTTPError as failure:
            raise _unreachable(failure) from None
        return _requested(response)

    def proxy_request(self, target: Target, request: httpx.Request) -> httpx.Request:
        """``request`` as the Gateway's proxy takes it (``proxy.py``): to ``{gateway}/v1/proxy``
        with this client's agent key, its URL in ``Nexus-Proxy-Url``, the target's connection in
        ``Nexus-*`` headers, and the caller's method, other headers, body (its stream, not read)
        and extensions (the caller's timeouts)."""
        gateway = self._gateway
        url = httpx.URL(f"{str(gateway._base_url).rstrip('/')}{PROXY_PATH}")
        key = f"{gateway.prefix} {gateway.token}" if gateway.prefix else gateway.token
        caller = request.headers.multi_items()
        headers = forwarded_headers(caller, target, str(request.url), (gateway.auth_header_name, key))
        # Set here: httpx adds Host itself only to a request it encodes the body of.
        headers.insert(0, ("Host", url.netloc.decode("ascii")))
        return httpx.Request(request.method, url, headers=headers, stream=request.stream, extensions=request.extensions)

    async def arefresh(self, target: Target, stale: CredentialEnvelope) -> CredentialEnvelope:
        async with self._async_lock(target):
            current = self._fresh(target)
            if current is not None and current != stale:
                return current
            try:
                response = await self._gateway.get_async_httpx_client().post(f"/v1/refresh/{stale.connection_id}")
            except httpx.HTTPError as error:
                raise _unreachable(error) from None
            return self._keep(target, _envelope(response))


def _not_followed_by_client(response: httpx.Response, answered: int) -> int:
    """The count of answers the flow has had, this one included. An answer with more history than
    that comes from a client that followed a redirect itself, with the credential on it."""
    if len(response.history) > answered:
        raise NexusError(
            "client_follows_redirects",
            "the httpx client followed a redirect itself: use NexusAuth with follow_redirects=False "
            "(httpx's default), or NexusTransport, which follows redirects safely",
        )
    return answered + 1


def _refresh_due(envelope: CredentialEnvelope, chain: RedirectChain, response: httpx.Response) -> bool:
    """A 401 to an OAuth2 token that was sent (not one from a hop outside the origin)."""
    oauth2 = isinstance(envelope.strategy, StrategyOauth2Strategy)
    return response.status_code == 401 and oauth2 and chain.carries_credential


class NexusAuth(httpx.Auth):
    """Applies a workspace's (or a connection's) credential to every request of an httpx client.

    Sends only to the envelope's ``api_origins`` (and to ``origins``, when given: a narrowing,
    never a widening), and follows redirects itself (at most 10), re-applying the credential on a
    hop within the request's origin and on no hop after the chain leaves it. That needs a client
    that does not follow redirects, httpx's default (``follow_redirects=False``): on a client
    that does, httpx would carry the credential's headers to the next hop before this sees the
    answer, and this raises ``client_follows_redirects`` (use ``NexusTransport`` there).

    With ``proxy=True`` the credential never reaches this process: each request goes to the
    Gateway's proxy instead (``proxy.py``; the only mode a ``proxy_only`` agent key allows), its
    body streamed, not read. ``origins`` still refuses a URL outside them before anything is
    sent; a redirect is the answer (the client must not follow it, as above); Nexus's own error
    is raised as ``NexusError``; the proxy checks no ``scopes`` (giving some is a ``ValueError``)."""

    requires_request_body = True  # a redirect (307, 308) or a retry after a refresh sends the body again

    def __init__(
        self,
        credentials: Credentials,
        *,
        workspace_id: str | None = None,
        provider: str | None = None,
        connection_id: str | None = None,
        scopes: tuple[str, ...] | list[str] = (),
        origins: Sequence[str] | None = None,
        proxy: bool = False,
    ) -> None:
        self._credentials = credentials
        self._target = Target(
            workspace_id=workspace_id, provider=provider, connection_id=connection_id, scopes=tuple(scopes)
        )
        self._target.request()  # fails now on an incomplete target, not at the first request
        self._origins = narrowing(origins)
        self._proxy = proxy
        if proxy:
            refuse_scopes(self._target.scopes)

    def __repr__(self) -> str:
        return f"NexusAuth({self._target!r}{', proxy=True' if self._proxy else ''})"

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._proxy:
            check_narrowing(request.url, self._origins)  # origin_not_allowed: nothing is sent
            response = yield self._credentials.proxy_request(self._target, request)
            _not_followed_by_client(response, 0)
            if is_nexus_error(response.status_code, response.headers):
                response.read()
                raise _error(response)
            return
        request.read()  # httpx reads it only for an auth_flow; this flow replaces that
        envelope = self._credentials.get(self._target)
        chain = RedirectChain(envelope, request, origins=self._origins)
        hop: httpx.Request | None = chain.first
        answered, refreshed = 0, False
        while hop is not None:
            response = yield hop
            answered = _not_followed_by_client(response, answered)
            hop = chain.follow(hop, response)
            if hop is None and not refreshed and _refresh_due(envelope, chain, response):
                refreshed = True
                envelope = self._credentials.refresh(self._target, envelope)
                chain = RedirectChain(envelope, request, origins=self._origins)
                hop = chain.first

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self._proxy:
            check_narrowing(request.url, self._origins)
            response = yield self._credentials.proxy_request(self._target, request)
            _not_followed_by_client(response, 0)
            if is_nexus_error(response.status_code, response.headers):
                await response.aread()
                raise _error(response)
            return
        await request.aread()
        envelope = await self._credentials.aget(self._target)
        chain = RedirectChain(envelope, request, origins=self._origins)
        hop: httpx.Request | None = chain.first
        answered, refreshed = 0, False
        while hop is not None:
            response = yield hop
            answered = _not_followed_by_client(response, answered)
            hop = chain.follow(hop, response)
            if hop is None and not refreshed and _refresh_due(envelope, chain, response):
                refreshed = True
                envelope = await self._credentials.arefresh(self._target, envelope)
                chain = RedirectChain(envelope, request, origins=self._origins)
                hop = chain.first
