"""Every wrapper's ``proxy=True`` (``NexusTransport``, ``AsyncNexusTransport``, ``NexusAuth`` sync
and async, ``NexusRequestsAuth``) against a local server playing the Gateway's proxy: the exact
request each sends (``/v1/proxy``, ``Nexus-Proxy-Url``, the connection's headers, the agent key,
the caller's method, headers and body), a narrowing that refuses before anything is sent, and
which answers are the provider's (``Nexus-Proxied: true``) and which are Nexus's typed errors."""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
import pytest
import requests

from nexus_broker_client import (
    AsyncNexusTransport,
    Credentials,
    InsufficientScopeError,
    NexusAuth,
    NexusError,
    NexusTransport,
    gateway_client,
)
from nexus_broker_client.requests_auth import NexusRequestsAuth

AGENT_KEY = "nxa_proxytest_notarealkeynotarealkeynotarealkey"
API = "https://api.example.com"
CONNECTION_ID = "0190a5b2-7c4e-7000-8000-000000000000"


@dataclass
class Arrival:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


def nexus_error(code: str, status: int, **fields: object) -> tuple[int, dict[str, str], bytes]:
    body = {"code": code, "message": f"{code} here", "request_id": "req-1", **fields}
    return status, {"content-type": "application/json"}, json.dumps(body).encode()


#: What the stand-in answers, by the path of the URL the agent asked for (``Nexus-Proxy-Url``).
ANSWERS: dict[str, tuple[int, dict[str, str], bytes]] = {
    "/v1/items": (201, {"nexus-proxied": "true", "x-provider": "yes"}, b"created"),
    "/missing": (404, {"nexus-proxied": "true", "content-type": "application/json"}, b'{"code":"from_the_api"}'),
    "/moved": (302, {"nexus-proxied": "true", "location": f"{API}/elsewhere"}, b""),
    "/moved-relatively": (302, {"nexus-proxied": "true", "location": "/elsewhere"}, b""),
    "/no-connection": nexus_error("connection_not_found", 404),
    "/revoked-grant": nexus_error("attention_required", 409, connection_id=CONNECTION_ID),
    "/scopes": nexus_error("insufficient_scope", 409, connection_id=CONNECTION_ID, missing_scopes=["read:org"]),
    "/proxy-only": nexus_error("proxy_only_key", 403),
    "/html": (502, {"content-type": "text/html"}, b"<html>502 Bad Gateway</html>"),
}


class FakeProxy(http.server.BaseHTTPRequestHandler):
    """The Gateway's ``/v1/proxy``: records each request whole, answers as ``ANSWERS`` says."""

    protocol_version = "HTTP/1.1"
    arrivals: ClassVar[list[Arrival]] = []

    def body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while (size := int(self.rfile.readline().split(b";")[0], 16)) > 0:
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("content-length", "0")))

    def handle_one(self) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        FakeProxy.arrivals.append(Arrival(self.command, self.path, headers, self.body()))
        asked = httpx.URL(headers.get("nexus-proxy-url", "http://unset.invalid/"))
        status, answer_headers, content = ANSWERS.get(asked.path, ANSWERS["/v1/items"])
        if self.path != "/v1/proxy":
            status, answer_headers, content = 200, {}, b"another route of the Gateway"
        self.send_response(status)
        for name, value in answer_headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = do_PUT = do_DELETE = handle_one  # noqa: N815 - the standard library's names

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep stderr quiet
        pass


@pytest.fixture(scope="module")
def fake_proxy() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeProxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def gateway(fake_proxy: str) -> str:
    """The stand-in's URL, with no request recorded yet."""
    FakeProxy.arrivals.clear()
    return fake_proxy


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


#: Sends (method, url, headers, body) through one wrapper in proxy mode; extra keyword arguments
#: (the target, ``origins``) go to the wrapper.
Sender = Callable[..., Answer]


def via_transport(gateway: str, method: str, url: str, headers: dict[str, str], body: bytes, **kw: object) -> Answer:
    credentials = Credentials(gateway_client(gateway, AGENT_KEY))
    with httpx.Client(transport=NexusTransport(credentials, proxy=True, **kw)) as client:  # type: ignore[arg-type]
        answer = client.request(method, url, headers=headers, content=body or None)
        return Answer(answer.status_code, dict(answer.headers), answer.content)


def via_async_transport(
    gateway: str, method: str, url: str, headers: dict[str, str], body: bytes, **kw: object
) -> Answer:
    async def send() -> Answer:
        credentials = Credentials(gateway_client(gateway, AGENT_KEY))
        transport = AsyncNexusTransport(credentials, proxy=True, **kw)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport) as client:
            answer = await client.request(method, url, headers=headers, content=body or None)
            return Answer(answer.status_code, dict(answer.headers), answer.content)

    return asyncio.run(send())


def via_auth(gateway: str, method: str, url: str, headers: dict[str, str], body: bytes, **kw: object) -> Answer:
    auth = NexusAuth(Credentials(gateway_client(gateway, AGENT_KEY)), proxy=True, **kw)  # type: ignore[arg-type]
    with httpx.Client(auth=auth) as client:
        answer = client.request(method, url, headers=headers, content=body or None)
        return Answer(answer.status_code, dict(answer.headers), answer.content)


def via_async_auth(gateway: str, method: str, url: str, headers: dict[str, str], body: bytes, **kw: object) -> Answer:
    async def send() -> Answer:
        auth = NexusAuth(Credentials(gateway_client(gateway, AGENT_KEY)), proxy=True, **kw)  # type: ignore[arg-type]
        async with httpx.AsyncClient(auth=auth) as client:
            answer = await client.request(method, url, headers=headers, content=body or None)
            return Answer(answer.status_code, dict(answer.headers), answer.content)

    return asyncio.run(send())


def via_requests(gateway: str, method: str, url: str, headers: dict[str, str], body: bytes, **kw: object) -> Answer:
    auth = NexusRequestsAuth(Credentials(gateway_client(gateway, AGENT_KEY)), proxy=True, **kw)  # type: ignore[arg-type]
    answer = requests.request(method, url, headers=headers, data=body or None, auth=auth, allow_redirects=False)
    assert answer.url == url, "the caller sees the URL it asked for"
    assert AGENT_KEY not in json.dumps(dict(answer.request.headers)), "the agent key is not left in the request"
    return Answer(answer.status_code, dict(answer.headers), answer.content)


SENDERS: dict[str, Sender] = {
    "transport": via_transport,
    "async-transport": via_async_transport,
    "auth": via_auth,
    "async-auth": via_async_auth,
    "requests": via_requests,
}
BY_WORKSPACE: dict[str, Any] = {"workspace_id": "ws-1", "provider": "github"}


@pytest.fixture(params=list(SENDERS))
def send(request: pytest.FixtureRequest, gateway: str) -> Callable[..., Answer]:
    sender = SENDERS[request.param]
    return lambda *args, **kw: sender(gateway, *args, **kw)


def test_the_request_goes_to_the_proxy_as_the_caller_made_it(send: Callable[..., Answer]) -> None:
    url = f"{API}/v1/items?page=2&q=a%20b"
    headers = {"X-Custom": "kept", "Content-Type": "text/plain", "Authorization": "Bearer callers-own"}
    answer = send("POST", url, headers, b"the body", **BY_WORKSPACE)
    assert (answer.status, answer.body, answer.headers["x-provider"]) == (201, b"created", "yes")
    (arrival,) = FakeProxy.arrivals
    assert (arrival.method, arrival.path, arrival.body) == ("POST", "/v1/proxy", b"the body")
    assert arrival.headers["nexus-proxy-url"] == url
    assert arrival.headers["nexus-workspace-id"] == "ws-1" and arrival.headers["nexus-provider"] == "github"
    assert "nexus-connection-id" not in arrival.headers
    assert arrival.headers["authorization"] == f"Bearer {AGENT_KEY}", "the agent key, not the caller's own"
    assert arrival.headers["x-custom"] == "kept" and arrival.headers["content-type"] == "text/plain"
    assert arrival.headers["host"].startswith("127.0.0.1:"), "the Gateway's Host, not the API's"


def test_a_connection_is_named_by_its_id(send: Callable[..., Answer]) -> None:
    send("GET", f"{API}/v1/items", {"Nexus-Workspace-Id": "ws-forged"}, b"", connection_id=CONNECTION_ID)
    (arrival,) = FakeProxy.arrivals
    assert arrival.headers["nexus-connection-id"] == CONNECTION_ID
    assert "nexus-workspace-id" not in arrival.headers, "the caller's own Nexus-* headers are not passed on"
    assert (arrival.method, arrival.body) == ("GET", b"")


@pytest.mark.parametrize(
    "url", [f"{API}/v1/items", "https://user:pw@api.example.com/v1/items", "ftp://api.example.com/"]
)
def test_a_narrowing_refuses_before_anything_is_sent(send: Callable[..., Answer], url: str) -> None:
    with pytest.raises(NexusError) as raised:
        send("POST", url, {}, b"secret body", origins=["https://uploads.example.com"], **BY_WORKSPACE)
    assert raised.value.code == "origin_not_allowed"
    assert "pw" not in str(raised.value)
    assert FakeProxy.arrivals == [], "nothing reached the Gateway"


def test_within_the_narrowing_it_is_sent(send: Callable[..., Answer]) -> None:
    assert send("GET", f"{API}/v1/items", {}, b"", origins=[API], **BY_WORKSPACE).status == 201


def test_the_providers_answers_come_back_whatever_their_status(send: Callable[..., Answer]) -> None:
    missing = send("GET", f"{API}/missing", {}, b"", **BY_WORKSPACE)
    assert (missing.status, missing.body) == (404, b'{"code":"from_the_api"}'), "marked: the provider's 404"
    moved = send("GET", f"{API}/moved", {}, b"", **BY_WORKSPACE)
    assert (moved.status, moved.headers["location"]) == (302, f"{API}/elsewhere"), "a redirect comes back as it is"
    assert len(FakeProxy.arrivals) == 2, "and is not followed"


@pytest.mark.parametrize(
    ("path", "code", "status", "connection_id"),
    [
        ("/no-connection", "connection_not_found", 404, None),
        ("/revoked-grant", "attention_required", 409, CONNECTION_ID),
        ("/proxy-only", "proxy_only_key", 403, None),
        ("/html", "unexpected_response", 502, None),
    ],
)
def test_nexus_own_answers_are_typed_errors(
    send: Callable[..., Answer], path: str, code: str, status: int, connection_id: str | None
) -> None:
    with pytest.raises(NexusError) as raised:
        send("GET", f"{API}{path}", {}, b"", **BY_WORKSPACE)
    error = raised.value
    assert (error.code, error.status, error.connection_id) == (code, status, connection_id)
    assert error.request_id == (None if code == "unexpected_response" else "req-1")
    assert AGENT_KEY not in str(error) and AGENT_KEY not in repr(error)


def test_insufficient_scope_is_its_own_type(send: Callable[..., Answer]) -> None:
    with pytest.raises(InsufficientScopeError) as raised:
        send("GET", f"{API}/scopes", {}, b"", **BY_WORKSPACE)
    assert (raised.value.missing_scopes, raised.value.connection_id) == (["read:org"], CONNECTION_ID)


def test_a_streamed_body_is_passed_on_unread(gateway: str) -> None:
    """The transport hands the caller's stream to the Gateway: sent chunked, arrived whole."""
    credentials = Credentials(gateway_client(gateway, AGENT_KEY))
    chunks = iter([b"first ", b"second"])
    with httpx.Client(transport=NexusTransport(credentials, proxy=True, **BY_WORKSPACE)) as client:
        assert client.put(f"{API}/v1/items", content=chunks).status_code == 201
    (arrival,) = FakeProxy.arrivals
    assert (arrival.headers.get("transfer-encoding"), arrival.body) == ("chunked", b"first second")


def test_no_repr_shows_the_agent_key(gateway: str) -> None:
    credentials = Credentials(gateway_client(gateway, AGENT_KEY))
    for wrapper in (
        NexusTransport(credentials, proxy=True, **BY_WORKSPACE),
        AsyncNexusTransport(credentials, proxy=True, **BY_WORKSPACE),
        NexusAuth(credentials, proxy=True, **BY_WORKSPACE),
        NexusRequestsAuth(credentials, proxy=True, **BY_WORKSPACE),
    ):
        assert AGENT_KEY not in repr(wrapper) and "proxy=True" in repr(wrapper)


def test_the_proxy_checks_no_scopes(gateway: str) -> None:
    credentials = Credentials(gateway_client(gateway, AGENT_KEY))
    with pytest.raises(ValueError, match="scopes"):
        NexusAuth(credentials, proxy=True, scopes=["repo"], **BY_WORKSPACE)
    with pytest.raises(ValueError, match="scopes"):
        NexusTransport(credentials, proxy=True, scopes=["repo"], **BY_WORKSPACE)


def test_a_client_that_follows_redirects_is_refused(gateway: str) -> None:
    """httpx sends the next hop itself, with the agent key when the Location stays on the Gateway:
    what it answers is not handed back as the provider's."""
    auth = NexusAuth(Credentials(gateway_client(gateway, AGENT_KEY)), proxy=True, **BY_WORKSPACE)
    with httpx.Client(auth=auth, follow_redirects=True) as client, pytest.raises(NexusError) as raised:
        client.get(f"{API}/moved-relatively")
    assert raised.value.code == "client_follows_redirects"
    assert [arrival.path for arrival in FakeProxy.arrivals] == ["/v1/proxy", "/elsewhere"]
