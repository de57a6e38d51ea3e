"""The shared origin vectors (``clients/testdata/origins.json``): every ``requests`` case through
``origin_allowed`` and ``inject`` (with the caller's narrowing), and every ``redirects`` case
through each wrapper that sends (``NexusTransport``, ``AsyncNexusTransport``, ``NexusAuth`` sync
and async, ``NexusRequestsAuth``) against two local servers: the envelope's only origin, and a
foreign one; each records what every hop received."""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import requests

from nexus_broker_client import AsyncNexusTransport, Credentials, NexusAuth, NexusError, NexusTransport, gateway_client
from nexus_broker_client.inject import envelope_from_json, inject
from nexus_broker_client.origins import origin_allowed
from nexus_broker_client.requests_auth import NexusRequestsAuth

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "testdata" / "origins.json").read_text(encoding="utf-8")
)
REQUESTS: list[dict[str, Any]] = VECTORS["requests"]
REDIRECTS: list[dict[str, Any]] = VECTORS["redirects"]


def envelope_json(strategy: dict[str, Any], credentials: dict[str, str], api_origins: list[str]) -> dict[str, Any]:
    return {
        "connection_id": "0190a5b2-7c4e-7000-8000-000000000000",
        "workspace_id": "ws-1",
        "provider": "example",
        "strategy": strategy,
        "credentials": credentials,
        "scopes": [],
        "api_origins": api_origins,
    }


@pytest.mark.parametrize("case", REQUESTS, ids=[case["name"] for case in REQUESTS])
def test_origin_vector(case: dict[str, Any]) -> None:
    narrowed = case.get("narrowed_to")
    assert origin_allowed(case["url"], case["api_origins"], narrowed) is case["allowed"]
    envelope = envelope_from_json(
        envelope_json({"type": "oauth2"}, {"access_token": "tok-origin"}, case["api_origins"])
    )
    request = httpx.Request("GET", case["url"])
    if case["allowed"]:
        assert inject(envelope, request, origins=narrowed).headers["authorization"] == "Bearer tok-origin"
        return
    with pytest.raises(NexusError) as raised:
        inject(envelope, request, origins=narrowed)
    assert raised.value.code == "origin_not_allowed"
    assert "tok-origin" not in str(raised.value) and "pass" not in str(raised.value), "no secret, no userinfo"
    assert "authorization" not in request.headers, "the request is not changed"


@dataclass
class Arrival:
    at: str
    path: str
    method: str
    body: str
    headers: dict[str, str]


class Hops(http.server.BaseHTTPRequestHandler):
    """Hop i of the running case, at ``/hop/<i>`` on the server its ``at`` names: answers its
    status with a ``Location`` at the next hop (the last redirect points at itself again)."""

    hops: ClassVar[list[dict[str, Any]]] = []
    arrivals: ClassVar[list[Arrival]] = []
    base: ClassVar[dict[str, str]] = {}
    echo_query = False  # the Location keeps the request's query, as path-preserving redirects do
    stale: str | None = None  # an Authorization answered 401, as an API that revoked the token would

    def handle_any(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length).decode()
        at = "allowed" if Hops.base["allowed"].endswith(f":{self.headers['host'].rsplit(':', 1)[1]}") else "foreign"
        headers = {name.lower(): value for name, value in self.headers.items()}
        Hops.arrivals.append(Arrival(at, self.path, self.command, body, headers))
        index = int(urlsplit(self.path).path.rsplit("/", 1)[1])
        status = (
            401 if Hops.stale is not None and headers.get("authorization") == Hops.stale else Hops.hops[index]["status"]
        )
        self.send_response(status)
        if 300 <= status < 400:
            following = min(index + 1, len(Hops.hops) - 1)
            query = f"?{urlsplit(self.path).query}" if Hops.echo_query and urlsplit(self.path).query else ""
            self.send_header("location", f"{Hops.base[Hops.hops[following]['at']]}/hop/{following}{query}")
        answer = f"answer {index}".encode()
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer)

    do_GET = do_POST = do_PUT = do_HEAD = handle_any  # noqa: N815 - the standard library's names

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module", autouse=True)
def servers() -> Iterator[None]:
    started = []
    for at in ("allowed", "foreign"):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hops)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        Hops.base[at] = f"http://127.0.0.1:{server.server_address[1]}"
        started.append(server)
    yield
    for server in started:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def fresh_case() -> None:
    Hops.arrivals = []
    Hops.echo_query = False
    Hops.stale = None


def credentials_serving(envelope: dict[str, Any], refreshed: dict[str, Any] | None = None) -> Credentials:
    """Credentials whose Gateway (an httpx mock transport) serves one envelope, and ``refreshed``
    on a refresh (counted in ``REFRESHES``)."""

    def gateway(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            REFRESHES.append(request.url.path)
            return httpx.Response(200, json=refreshed)
        return httpx.Response(200, json=envelope)

    transport = httpx.MockTransport(gateway)
    return Credentials(gateway_client("http://gateway.invalid", "nxa_test", httpx_args={"transport": transport}))


REFRESHES: list[str] = []


@dataclass
class Call:
    method: str
    url: str
    body: str | None = None
    headers: dict[str, str] | None = None
    origins: list[str] | None = None


TARGET: dict[str, Any] = {"workspace_id": "ws-1", "provider": "example"}


def with_transport(credentials: Credentials, call: Call) -> int:
    # The client is told to follow redirects: the transport hands it only final answers anyway.
    transport = NexusTransport(credentials, origins=call.origins, **TARGET)
    with httpx.Client(transport=transport, follow_redirects=True) as client:
        return client.request(call.method, call.url, content=call.body, headers=call.headers).status_code


def with_async_transport(credentials: Credentials, call: Call) -> int:
    async def send() -> int:
        transport = AsyncNexusTransport(credentials, origins=call.origins, **TARGET)
        async with httpx.AsyncClient(transport=transport) as client:
            return (await client.request(call.method, call.url, content=call.body, headers=call.headers)).status_code

    return asyncio.run(send())


def with_auth(credentials: Credentials, call: Call) -> int:
    with httpx.Client(auth=NexusAuth(credentials, origins=call.origins, **TARGET)) as client:
        return client.request(call.method, call.url, content=call.body, headers=call.headers).status_code


def with_async_auth(credentials: Credentials, call: Call) -> int:
    async def send() -> int:
        async with httpx.AsyncClient(auth=NexusAuth(credentials, origins=call.origins, **TARGET)) as client:
            return (await client.request(call.method, call.url, content=call.body, headers=call.headers)).status_code

    return asyncio.run(send())


def with_requests(credentials: Credentials, call: Call) -> int:
    auth = NexusRequestsAuth(credentials, origins=call.origins, **TARGET)
    return requests.request(
        call.method, call.url, data=call.body, headers=call.headers, auth=auth, timeout=5
    ).status_code


WRAPPERS: dict[str, Callable[[Credentials, Call], int]] = {
    "NexusTransport": with_transport,
    "AsyncNexusTransport": with_async_transport,
    "NexusAuth": with_auth,
    "NexusAuth async": with_async_auth,
    "NexusRequestsAuth": with_requests,
}


def credential_arrived(strategy: dict[str, Any], arrival: Arrival) -> bool:
    """Whether a hop received the credential, in the place the strategy puts it."""
    if strategy["type"] == "query_param":
        return strategy["param_name"] in parse_qs(urlsplit(arrival.path).query)
    if strategy["type"] in ("header", "api_key"):
        return strategy.get("header_name", "X-API-Key").lower() in arrival.headers
    return "authorization" in arrival.headers


@pytest.mark.parametrize("wrapper", WRAPPERS)
@pytest.mark.parametrize("case", REDIRECTS, ids=[case["name"] for case in REDIRECTS])
def test_redirect_vector(case: dict[str, Any], wrapper: str) -> None:
    Hops.hops = case["hops"]
    credentials = credentials_serving(envelope_json(case["strategy"], case["credentials"], [Hops.base["allowed"]]))
    status = WRAPPERS[wrapper](credentials, Call(case["method"], f"{Hops.base['allowed']}/hop/0", case.get("body")))
    assert status == case["hops"][-1]["status"]
    assert [(arrival.at, urlsplit(arrival.path).path) for arrival in Hops.arrivals] == [
        (hop["at"], f"/hop/{index}") for index, hop in enumerate(case["hops"])
    ]
    for index, (hop, arrival) in enumerate(zip(case["hops"], Hops.arrivals, strict=True)):
        assert credential_arrived(case["strategy"], arrival) is hop["credential"], f"hop {index}: credential"
        assert arrival.method == hop.get("method", arrival.method), f"hop {index}: method"
        assert arrival.body == hop.get("body", arrival.body), f"hop {index}: body"
        if not hop["credential"]:
            assert not any(secret in repr(arrival) for secret in case["credentials"].values()), f"hop {index}: a secret"


@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_a_foreign_origin_is_refused_before_anything_is_sent(wrapper: str) -> None:
    Hops.hops = [{"at": "foreign", "status": 200}]
    allowed, foreign = Hops.base["allowed"], Hops.base["foreign"]
    credentials = credentials_serving(envelope_json({"type": "oauth2"}, {"access_token": "tok-x"}, [allowed]))
    for call in (Call("GET", f"{foreign}/hop/0"), Call("GET", f"{allowed}/hop/0", origins=[foreign])):
        with pytest.raises(NexusError) as raised:
            WRAPPERS[wrapper](credentials, call)
        assert raised.value.code == "origin_not_allowed"
    assert Hops.arrivals == []


@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_more_than_ten_redirects_is_an_error(wrapper: str) -> None:
    Hops.hops = [{"at": "allowed", "status": 302}]  # redirects to itself, again and again
    credentials = credentials_serving(
        envelope_json({"type": "oauth2"}, {"access_token": "tok-x"}, [Hops.base["allowed"]])
    )
    with pytest.raises(NexusError) as raised:
        WRAPPERS[wrapper](credentials, Call("GET", f"{Hops.base['allowed']}/hop/0"))
    assert raised.value.code == "too_many_redirects"
    assert len(Hops.arrivals) == 11


@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_the_callers_own_credentials_stop_at_the_origin_too(wrapper: str) -> None:
    Hops.hops = [{"at": "allowed", "status": 302}, {"at": "foreign", "status": 200}]
    envelope = envelope_json({"type": "query_param", "param_name": "key"}, {"api_key": "k-1"}, [Hops.base["allowed"]])
    mine = {
        "authorization": "Bearer caller",
        "cookie": "session=caller",
        "proxy-authorization": "Basic eA==",
        "x-trace": "t",
    }
    WRAPPERS[wrapper](credentials_serving(envelope), Call("GET", f"{Hops.base['allowed']}/hop/0", headers=mine))
    first, second = Hops.arrivals
    assert {name: first.headers.get(name) for name in mine} == mine
    assert {name: second.headers.get(name) for name in mine} == {**dict.fromkeys(mine), "x-trace": "t"}


@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_a_query_parameter_a_location_repeats_is_not_carried_out(wrapper: str) -> None:
    Hops.hops = [{"at": "allowed", "status": 301}, {"at": "foreign", "status": 200}]
    Hops.echo_query = True
    envelope = envelope_json(
        {"type": "query_param", "param_name": "api_key"}, {"api_key": "k-echo"}, [Hops.base["allowed"]]
    )
    WRAPPERS[wrapper](credentials_serving(envelope), Call("GET", f"{Hops.base['allowed']}/hop/0?page=2"))
    assert [arrival.path for arrival in Hops.arrivals] == ["/hop/0?page=2&api_key=k-echo", "/hop/1?page=2"]


@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_the_providers_query_parameters_a_location_repeats_are_not_carried_out(wrapper: str) -> None:
    Hops.hops = [{"at": "allowed", "status": 301}, {"at": "foreign", "status": 200}]
    Hops.echo_query = True
    envelope = {
        **envelope_json({"type": "oauth2"}, {"access_token": "tok-q"}, [Hops.base["allowed"]]),
        "api_query": {"account": "acct-secret"},
        "api_headers": {"x-api-version": "2"},
    }
    WRAPPERS[wrapper](credentials_serving(envelope), Call("GET", f"{Hops.base['allowed']}/hop/0?page=2"))
    assert [arrival.path for arrival in Hops.arrivals] == ["/hop/0?page=2&account=acct-secret", "/hop/1?page=2"]
    first, second = Hops.arrivals
    assert first.headers.get("x-api-version") == "2"
    assert "x-api-version" not in second.headers, "the provider's headers stay in its origins"


def test_nexus_auth_refuses_a_client_that_follows_redirects() -> None:
    Hops.hops = [{"at": "allowed", "status": 302}, {"at": "foreign", "status": 200}]
    credentials = credentials_serving(
        envelope_json({"type": "oauth2"}, {"access_token": "tok-x"}, [Hops.base["allowed"]])
    )
    client = httpx.Client(auth=NexusAuth(credentials, **TARGET), follow_redirects=True)
    with client, pytest.raises(NexusError) as raised:
        client.get(f"{Hops.base['allowed']}/hop/0")
    assert raised.value.code == "client_follows_redirects"
    assert "NexusTransport" in str(raised.value)


def test_a_lone_string_is_not_a_list_of_origins() -> None:
    credentials = credentials_serving(envelope_json({"type": "oauth2"}, {"access_token": "tok-x"}, []))
    with pytest.raises(TypeError):
        NexusAuth(credentials, origins="https://api.example.com", **TARGET)


@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_a_refused_token_is_refreshed_once_and_the_chain_sent_again(wrapper: str) -> None:
    Hops.hops = [{"at": "allowed", "status": 302}, {"at": "allowed", "status": 200}]
    Hops.stale = "Bearer t1"
    REFRESHES.clear()
    origins = [Hops.base["allowed"]]
    credentials = credentials_serving(
        envelope_json({"type": "oauth2"}, {"access_token": "t1"}, origins),
        refreshed=envelope_json({"type": "oauth2"}, {"access_token": "t2"}, origins),
    )
    assert WRAPPERS[wrapper](credentials, Call("POST", f"{Hops.base['allowed']}/hop/0", body="payload")) == 200
    assert [(a.path, a.method, a.body, a.headers.get("authorization")) for a in Hops.arrivals] == [
        ("/hop/0", "POST", "payload", "Bearer t1"),
        ("/hop/0", "POST", "payload", "Bearer t2"),
        ("/hop/1", "GET", "", "Bearer t2"),
    ]
    assert len(REFRESHES) == 1


@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_a_401_from_a_hop_without_the_token_refreshes_nothing(wrapper: str) -> None:
    Hops.hops = [{"at": "allowed", "status": 302}, {"at": "foreign", "status": 401}]
    REFRESHES.clear()
    credentials = credentials_serving(envelope_json({"type": "oauth2"}, {"access_token": "t1"}, [Hops.base["allowed"]]))
    assert WRAPPERS[wrapper](credentials, Call("GET", f"{Hops.base['allowed']}/hop/0")) == 401
    assert len(Hops.arrivals) == 2 and REFRESHES == []
