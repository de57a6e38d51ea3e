"""What the SDK raises when the Gateway is not a Gateway: a proxy's HTML error page, or nothing
listening. Always ``NexusError`` with a stable code; never the key."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator

import pytest

from nexus_broker_client import Credentials, InsufficientScopeError, NexusError, Target, gateway_client

KEY = "nxa_testtest_notarealkeynotarealkeynotarealkey"


class HtmlProxy(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        body = b"<html><body>502 Bad Gateway</body></html>"
        self.send_response(502)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def proxy() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HtmlProxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_an_html_error_page_is_a_typed_error(proxy: str) -> None:
    credentials = Credentials(gateway_client(proxy, KEY))
    with pytest.raises(NexusError) as raised:
        credentials.get(Target(workspace_id="ws", provider="p"))
    assert raised.value.code == "unexpected_response"
    assert raised.value.status == 502
    assert KEY not in str(raised.value)


def test_an_unreachable_gateway_is_a_typed_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    credentials = Credentials(gateway_client(f"http://127.0.0.1:{port}", KEY))
    with pytest.raises(NexusError) as raised:
        credentials.get(Target(workspace_id="ws", provider="p"))
    assert raised.value.code == "gateway_unreachable"
    assert KEY not in str(raised.value) and str(port) not in str(raised.value)


def test_a_gateway_that_never_answers_is_a_bounded_wait() -> None:
    # Accepts the connection and never answers: the default timeout is bounded (and longer than
    # the Broker's 20 s read budget); a caller may shorten it.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        from nexus_broker_client import DEFAULT_TIMEOUT_SECONDS

        assert 20.0 < DEFAULT_TIMEOUT_SECONDS < 120.0
        default = gateway_client(f"http://127.0.0.1:{port}", KEY)
        assert default.get_httpx_client().timeout.read == DEFAULT_TIMEOUT_SECONDS
        credentials = Credentials(gateway_client(f"http://127.0.0.1:{port}", KEY, timeout_seconds=0.3))
        with pytest.raises(NexusError) as raised:
            credentials.get(Target(workspace_id="ws", provider="p"))
        assert raised.value.code == "gateway_unreachable"


class ScopeGateway(http.server.BaseHTTPRequestHandler):
    """A Gateway stand-in: a resolve naming scopes the connection lacks, then the incremental
    consent it calls for."""

    requested: list[dict[str, object]] = []

    def answer(self, status: int, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        assert "scopes=repo%2Cread%3Aorg" in self.path, self.path
        self.answer(
            409,
            {
                "code": "insufficient_scope",
                "message": "the connection lacks read:org",
                "request_id": "r-1",
                "connection_id": CONNECTION,
                "missing_scopes": ["read:org"],
            },
        )

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("content-length", "0"))
        ScopeGateway.requested.append(json.loads(self.rfile.read(length)))
        self.answer(
            201,
            {"auth_url": "https://idp.example/authorize?x=1", "connection_id": CONNECTION, "expires_at": "2026-11-30T00:00:00Z"},
        )

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


CONNECTION = "0190a5b2-7c4e-7000-8000-000000000000"


def test_insufficient_scope_is_typed_and_starts_an_incremental_consent() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ScopeGateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    credentials = Credentials(gateway_client(f"http://127.0.0.1:{server.server_address[1]}", KEY))
    with pytest.raises(InsufficientScopeError) as raised:
        credentials.get(Target(workspace_id="ws", provider="github", scopes=("repo", "read:org")))
    error = raised.value
    assert isinstance(error, NexusError) and error.code == "insufficient_scope" and error.status == 409
    assert error.missing_scopes == ["read:org"] and error.connection_id == CONNECTION
    started = credentials.request_scopes(
        error, workspace_id="ws", provider="github", return_url="http://localhost:3000/done"
    )
    assert started.auth_url.startswith("https://idp.example/") and str(started.connection_id) == CONNECTION
    assert ScopeGateway.requested == [
        {
            "workspace_id": "ws",
            "provider": "github",
            "connection_id": CONNECTION,
            "scopes": ["read:org"],
            "return_url": "http://localhost:3000/done",
        }
    ]
    server.shutdown()
