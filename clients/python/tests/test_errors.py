"""What the SDK raises when the Gateway is not a Gateway: a proxy's HTML error page, or nothing
listening. Always ``NexusError`` with a stable code; never the key."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator

import pytest

from nexus_client import Credentials, NexusError, Target, gateway_client

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
