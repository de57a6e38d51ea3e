"""Against a running Nexus with an API-key provider ``keyed`` (run by ``cargo xtask fuzz``): it
connects workspace ``ws-py`` through the hosted form's JSON variant, then checks that the
generated client parses what the Gateway really answers, ``NexusAuth`` delivers the key to a local API through httpx (sync
and async, concurrent misses collapsed into one Gateway call; the API is declared among the
provider's origins first), and a revoked connection surfaces as ``NexusError``. Then each
wrapper's ``proxy=True`` delivers the key of a ``proxy_only`` key's workspace to the same API
through the real Gateway's proxy, while that key reads no credential (``proxy_only_key``).
Never prints a key."""

from __future__ import annotations

import asyncio
import http.server
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import httpx
import requests

from nexus_broker_client import (
    Credentials,
    InsufficientScopeError,
    NexusAuth,
    NexusError,
    NexusTransport,
    Target,
    gateway_client,
)
from nexus_broker_client.gateway.api.catalog import provider_catalog
from nexus_broker_client.gateway.api.tokens import token_resolve
from nexus_broker_client.gateway.models import CredentialEnvelope, Error, ProviderCatalog
from nexus_broker_client.gateway.types import UNSET
from nexus_broker_client.requests_auth import NexusRequestsAuth


class Echo(http.server.BaseHTTPRequestHandler):
    received: list[dict[str, str]] = []
    paths: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        Echo.received.append({name.lower(): value for name, value in self.headers.items()})
        Echo.paths.append(self.path)
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep stderr quiet
        pass


def allow_origins(broker_url: str, admin_key: str, provider: str, *origins: str) -> None:
    """Adds ``origins`` to those the provider's credentials may be sent to (the SDK refuses any
    other): the local APIs here listen on ports chosen at random. Before the first resolve, so no
    cached envelope predates them."""
    admin = {"Authorization": f"Bearer {admin_key}"}
    current = httpx.get(f"{broker_url}/v1/providers/{provider}", headers=admin).json()["api_origins"]
    patched = httpx.patch(
        f"{broker_url}/v1/providers/{provider}", headers=admin, json={"api_origins": [*current, *origins]}
    )
    assert patched.status_code == 200, patched.status_code


def connect(
    broker_url: str,
    admin_key: str,
    workspace: str = "ws-py",
    api_key: str = "sk-py",
    name: str = "python-sdk",
    proxy_only: bool = False,
) -> str:
    """Connects ``workspace`` to ``keyed`` with ``api_key``; returns an agent key for it alone."""
    admin = {"Authorization": f"Bearer {admin_key}"}
    consent = httpx.post(
        f"{broker_url}/v1/consents",
        headers=admin,
        json={"workspace_id": workspace, "provider": "keyed", "return_url": "http://127.0.0.1:9/done"},
    ).json()
    captured = httpx.post(
        f"{broker_url}/auth/capture", json={"state": consent["state"], "credentials": {"api_key": api_key}}
    )
    assert captured.status_code == 200, captured.status_code
    issued = httpx.post(
        f"{broker_url}/v1/agent-keys",
        headers=admin,
        json={"name": name, "workspace_ids": [workspace], "proxy_only": proxy_only},
    ).json()
    return str(issued["key"])


def proxy_mode(gateway_url: str, broker_url: str, admin_key: str, api: str) -> None:
    """A ``proxy_only`` key of ``ws-py-proxy``: every wrapper's ``proxy=True`` gets its key to the
    API (declared among ``keyed``'s origins) through the Gateway, never holding it itself."""
    agent_key = connect(broker_url, admin_key, "ws-py-proxy", "sk-py-proxy", "python-proxy", proxy_only=True)
    credentials = Credentials(gateway_client(gateway_url, agent_key))
    target = Target(workspace_id="ws-py-proxy", provider="keyed")
    try:
        credentials.get(target)
        raise AssertionError("a proxy_only key must not read the credential")
    except NexusError as error:
        assert (error.code, error.status) == ("proxy_only_key", 403), error
    Echo.received.clear()
    Echo.paths.clear()
    transport = NexusTransport(credentials, proxy=True, workspace_id="ws-py-proxy", provider="keyed")
    with httpx.Client(transport=transport) as session:
        answer = session.get(f"{api}?page=1", headers={"X-Caller": "kept"})
    assert (answer.status_code, answer.headers.get("nexus-proxied"), answer.text) == (200, "true", "ok"), answer
    auth = NexusAuth(credentials, proxy=True, workspace_id="ws-py-proxy", provider="keyed")

    async def through_auth() -> int:
        async with httpx.AsyncClient(auth=auth) as session:
            return (await session.get(api)).status_code

    assert asyncio.run(through_auth()) == 200
    requests_auth = NexusRequestsAuth(credentials, proxy=True, workspace_id="ws-py-proxy", provider="keyed")
    assert requests.get(api, auth=requests_auth).status_code == 200
    assert [headers.get("x-api-key") for headers in Echo.received] == ["sk-py-proxy"] * 3, "Nexus applied the key"
    assert Echo.paths[0] == "/v1/me?page=1" and Echo.received[0].get("x-caller") == "kept", "the request as made"
    assert all(agent_key not in str(headers) and "nexus-provider" not in headers for headers in Echo.received)

    narrowed = NexusTransport(
        credentials, proxy=True, origins=["https://elsewhere.example"], workspace_id="ws-py-proxy", provider="keyed"
    )
    try:
        httpx.Client(transport=narrowed).get(api)
        raise AssertionError("outside the caller's narrowing")
    except NexusError as error:
        assert error.code == "origin_not_allowed", error
    outside = NexusAuth(credentials, proxy=True, workspace_id="ws-1", provider="keyed")
    try:
        httpx.get(api, auth=outside)
        raise AssertionError("a workspace outside the key's")
    except NexusError as error:
        assert (error.code, error.status) == ("connection_not_found", 404), error
        assert agent_key not in str(error)
    assert len(Echo.received) == 3, "neither refusal reached the API"


class RefuseFirst(http.server.BaseHTTPRequestHandler):
    """An API that answers 401 to the first token it sees, as one that revoked it would."""

    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        RefuseFirst.seen.append(self.headers.get("authorization", ""))
        self.send_response(401 if len(RefuseFirst.seen) == 1 else 200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def oauth2(gateway_url: str, broker_url: str, admin_key: str, issuer: str) -> None:
    """``ws-py-oauth`` is connected to the real OpenID provider (by ``cargo xtask fuzz``)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RefuseFirst)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    refusing = f"http://127.0.0.1:{server.server_address[1]}"
    issuer_origin = f"{urlsplit(issuer).scheme}://{urlsplit(issuer).netloc}"
    allow_origins(broker_url, admin_key, "oidc", issuer_origin, refusing)
    issued = httpx.post(
        f"{broker_url}/v1/agent-keys",
        headers={"Authorization": f"Bearer {admin_key}"},
        json={"name": "python-oauth", "workspace_ids": ["ws-py-oauth"]},
    ).json()
    credentials = Credentials(gateway_client(gateway_url, str(issued["key"])))
    auth = NexusAuth(credentials, workspace_id="ws-py-oauth", provider="oidc")
    me = httpx.get(f"{issuer}/me", auth=auth)
    assert me.status_code == 200 and "sub" in me.json(), me.status_code
    answer = httpx.get(f"{refusing}/v1/me", auth=auth)
    server.shutdown()
    assert answer.status_code == 200, answer.status_code
    first, second = RefuseFirst.seen
    assert first.startswith("Bearer ") and second.startswith("Bearer ") and first != second, "refreshed, sent again"
    assert httpx.get(f"{issuer}/me", headers={"Authorization": second}).status_code == 200, "the new token works"

    # A scope the grant lacks: a typed error, then an incremental consent of the same connection.
    wider = NexusAuth(credentials, workspace_id="ws-py-oauth", provider="oidc", scopes=["openid", "profile"])
    try:
        httpx.get(f"{issuer}/me", auth=wider)
        raise AssertionError("a connection without profile must not be used for it")
    except InsufficientScopeError as error:
        assert error.missing_scopes == ["profile"] and error.status == 409, error
        started = credentials.request_scopes(
            error, workspace_id="ws-py-oauth", provider="oidc", return_url="http://127.0.0.1:9/done"
        )
        assert str(started.connection_id) == error.connection_id, "the same connection"
        scope = parse_qs(urlsplit(started.auth_url).query)["scope"][0].split()
        assert "profile" in scope and "email" in scope, f"the union of the grant and profile: {scope}"


def main(gateway_url: str, broker_url: str, admin_key: str) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api = f"http://127.0.0.1:{server.server_address[1]}/v1/me"
    allow_origins(broker_url, admin_key, "keyed", f"http://127.0.0.1:{server.server_address[1]}")
    agent_key = connect(broker_url, admin_key)
    client = gateway_client(gateway_url, agent_key)
    assert agent_key not in repr(client), "the key is hidden from repr"
    envelope = token_resolve.sync(client=client, workspace_id="ws-py", provider="keyed")
    assert isinstance(envelope, CredentialEnvelope), envelope
    assert envelope.credentials.additional_properties == {"api_key": "sk-py"}, "the captured key"
    assert envelope.expires_at is UNSET, "an API key does not expire: the field is absent"
    outside = token_resolve.sync(client=client, workspace_id="ws-1", provider="keyed")
    assert isinstance(outside, Error) and outside.code == "connection_not_found", "outside the key's workspaces"
    catalog = provider_catalog.sync(client=client)
    assert isinstance(catalog, ProviderCatalog) and "keyed" in [p.name for p in catalog.items], catalog

    resolves = 0

    def count(request: httpx.Request) -> None:
        nonlocal resolves
        if request.url.path == "/v1/resolve":
            resolves += 1

    counted = gateway_client(gateway_url, agent_key, httpx_args={"event_hooks": {"request": [count]}})
    credentials = Credentials(counted)
    auth = NexusAuth(credentials, workspace_id="ws-py", provider="keyed")
    with httpx.Client(auth=auth) as session, ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: session.get(api).status_code, range(16)))
    assert statuses == [200] * 16, statuses
    assert resolves == 1, f"16 concurrent requests, one Gateway call ({resolves})"
    assert all(headers.get("x-api-key") == "sk-py" for headers in Echo.received), "the key arrived"

    async def async_calls() -> list[int]:
        fresh = NexusAuth(Credentials(gateway_client(gateway_url, agent_key)), workspace_id="ws-py", provider="keyed")
        async with httpx.AsyncClient(auth=fresh) as session:
            answers = await asyncio.gather(*(session.get(api) for _ in range(8)))
        return [answer.status_code for answer in answers]

    assert asyncio.run(async_calls()) == [200] * 8
    assert Echo.received[-1].get("x-api-key") == "sk-py"

    revoked = httpx.delete(
        f"{broker_url}/v1/connections/{envelope.connection_id}", headers={"Authorization": f"Bearer {admin_key}"}
    )
    assert revoked.status_code == 204, revoked.status_code
    by_id = NexusAuth(Credentials(gateway_client(gateway_url, agent_key)), connection_id=str(envelope.connection_id))
    try:
        httpx.get(api, auth=by_id)
        raise AssertionError("a revoked connection must not be used")
    except NexusError as error:
        assert error.code == "connection_revoked" and error.status == 409, error
        assert "sk-py" not in str(error)
    proxy_mode(gateway_url, broker_url, admin_key, api)
    server.shutdown()
    issuer = os.environ.get("NEXUS_OIDC_ISSUER")
    if issuer is not None:
        oauth2(gateway_url, broker_url, admin_key, issuer)
    print("the Python client, NexusAuth and the proxy modes worked against the Gateway")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
