"""``NexusRequestsAuth`` applies the credential to a ``requests`` call (against a local Gateway
stand-in serving one envelope, and a local API that records what arrived)."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator

import pytest
import requests

from nexus_broker_client import Credentials, gateway_client
from nexus_broker_client.requests_auth import NexusRequestsAuth

ENVELOPE: dict[str, object] = {
    "connection_id": "0190a5b2-7c4e-7000-8000-000000000000",
    "workspace_id": "ws",
    "provider": "p",
    "strategy": {"type": "query_param", "param_name": "key", "credential_field": "api_key"},
    "credentials": {"api_key": "k v"},
    "scopes": [],
}


def oauth2(token: str) -> dict[str, object]:
    return {**ENVELOPE, "strategy": {"type": "oauth2"}, "credentials": {"access_token": token}}


class Both(http.server.BaseHTTPRequestHandler):
    """A Gateway stand-in (resolve, refresh) and an API, on one port (the envelopes' only origin)."""

    seen: list[str] = []
    envelope: dict[str, object] = ENVELOPE
    origin = ""

    def answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/v1/resolve"):
            return self.answer(200, json.dumps({**Both.envelope, "api_origins": [Both.origin]}).encode())
        Both.seen.append(f"{self.path} {self.headers.get('authorization')}")
        stale = self.headers.get("authorization") == "Bearer t1"
        return self.answer(401 if stale else 200, b"{}")

    def do_POST(self) -> None:  # noqa: N802
        assert self.path == f"/v1/refresh/{ENVELOPE['connection_id']}"
        return self.answer(200, json.dumps({**oauth2("t2"), "api_origins": [Both.origin]}).encode())

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def base() -> Iterator[str]:
    Both.envelope = ENVELOPE
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Both)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Both.origin = f"http://127.0.0.1:{server.server_address[1]}"
    yield Both.origin
    server.shutdown()


def test_requests_gets_the_credential(base: str) -> None:
    auth = NexusRequestsAuth(Credentials(gateway_client(base, "nxa_x")), workspace_id="ws", provider="p")
    answer = requests.get(f"{base}/api/items?page=2", auth=auth, timeout=5)
    assert answer.status_code == 200
    assert Both.seen[-1] == "/api/items?page=2&key=k+v None"


def test_a_refused_token_is_refreshed_once(base: str) -> None:
    Both.envelope = oauth2("t1")
    auth = NexusRequestsAuth(Credentials(gateway_client(base, "nxa_x")), workspace_id="ws", provider="p")
    answer = requests.get(f"{base}/api/items", auth=auth, timeout=5)
    assert answer.status_code == 200
    assert Both.seen[-2:] == ["/api/items Bearer t1", "/api/items Bearer t2"]
    assert [r.status_code for r in answer.history] == [401]


def test_one_credentials_object_serves_several_event_loops(base: str) -> None:
    """Concurrent misses share one lock per target; a second ``asyncio.run`` gets its own."""
    import asyncio

    from nexus_broker_client import Target

    credentials = Credentials(gateway_client(base, "nxa_x"), static_max_age_seconds=0)
    target = Target(workspace_id="ws", provider="p")

    async def twice() -> list[str]:
        envelopes = await asyncio.gather(credentials.aget(target), credentials.aget(target))
        return [str(envelope.connection_id) for envelope in envelopes]

    for _ in range(2):
        assert asyncio.run(twice()) == [str(ENVELOPE["connection_id"])] * 2
