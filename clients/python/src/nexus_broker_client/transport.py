"""httpx transports that send with a credential and follow redirects themselves (``NexusTransport``, async too).

They wrap an inner transport (default ``httpx.HTTPTransport()`` / ``httpx.AsyncHTTPTransport()``)
and do what ``NexusAuth`` does (the credential only to the envelope's ``api_origins``, narrowed
with ``origins=``; one refresh and retry on a 401 to an OAuth2 token), following redirects (at
most 10) with the credential only within the request's origin. What the client gets is the final
answer, so they are safe whatever the client's ``follow_redirects`` says, and the redirects they
follow are not in its ``history``. The request body is read into memory (a 307 or 308 sends it
again)::

    transport = NexusTransport(credentials, workspace_id="acme", provider="github")
    with httpx.Client(transport=transport) as http:
        repos = http.get("https://api.github.com/user/repos").json()

With ``proxy=True`` they send each request to the Gateway's proxy instead (``proxy.py``), through
the inner transport, and never hold the credential: the only mode a ``proxy_only`` agent key
allows. Nothing is buffered then, and nothing is followed: a redirect is the answer (a client
that follows it sends the next hop through the proxy too, where Nexus applies the credential only
within the provider's origins). Nexus's own errors are raised as ``NexusError``::

    transport = NexusTransport(credentials, workspace_id="acme", provider="github", proxy=True)
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from .credentials import Credentials, NexusAuth


class NexusTransport(httpx.BaseTransport):
    """Sends each request through ``transport`` with a target's credential, following redirects."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        workspace_id: str | None = None,
        provider: str | None = None,
        connection_id: str | None = None,
        scopes: tuple[str, ...] | list[str] = (),
        origins: Sequence[str] | None = None,
        transport: httpx.BaseTransport | None = None,
        proxy: bool = False,
    ) -> None:
        # NexusAuth's flow decides every hop; this sends them, so no client can follow one itself.
        self._auth = NexusAuth(
            credentials,
            workspace_id=workspace_id,
            provider=provider,
            connection_id=connection_id,
            scopes=scopes,
            origins=origins,
            proxy=proxy,
        )
        self._inner = transport if transport is not None else httpx.HTTPTransport()

    def __repr__(self) -> str:
        return f"NexusTransport({self._auth!r})"

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        flow = self._auth.sync_auth_flow(request)
        hop = next(flow)
        while True:
            response = self._inner.handle_request(hop)
            try:
                hop = flow.send(response)
            except StopIteration:
                return response
            except BaseException:
                response.close()
                raise
            response.read()  # an answer that led to another hop: drained, so its connection is reused
            response.close()

    def close(self) -> None:
        self._inner.close()


class AsyncNexusTransport(httpx.AsyncBaseTransport):
    """``NexusTransport`` for ``httpx.AsyncClient``."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        workspace_id: str | None = None,
        provider: str | None = None,
        connection_id: str | None = None,
        scopes: tuple[str, ...] | list[str] = (),
        origins: Sequence[str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        proxy: bool = False,
    ) -> None:
        self._auth = NexusAuth(
            credentials,
            workspace_id=workspace_id,
            provider=provider,
            connection_id=connection_id,
            scopes=scopes,
            origins=origins,
            proxy=proxy,
        )
        self._inner = transport if transport is not None else httpx.AsyncHTTPTransport()

    def __repr__(self) -> str:
        return f"AsyncNexusTransport({self._auth!r})"

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        flow = self._auth.async_auth_flow(request)
        hop = await flow.__anext__()
        while True:
            response = await self._inner.handle_async_request(hop)
            try:
                hop = await flow.asend(response)
            except StopAsyncIteration:
                return response
            except BaseException:
                await response.aclose()
                raise
            await response.aread()
            await response.aclose()

    async def aclose(self) -> None:
        await self._inner.aclose()
