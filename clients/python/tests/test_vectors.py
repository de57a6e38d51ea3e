"""The shared strategy vectors (``clients/testdata/strategies.json``), applied by ``inject``."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from nexus_broker_client.errors import NexusError
from nexus_broker_client.inject import envelope_from_json, inject

VECTORS = Path(__file__).resolve().parents[2] / "testdata" / "strategies.json"
CASES: list[dict[str, Any]] = json.loads(VECTORS.read_text(encoding="utf-8"))["cases"]


def envelope(case: dict[str, Any]) -> dict[str, Any]:
    extras: dict[str, Any] = {key: case[key] for key in ("api_headers", "api_query") if key in case}
    return {
        **extras,
        "connection_id": "0190a5b2-7c4e-7000-8000-000000000000",
        "workspace_id": "ws-1",
        "provider": "example",
        "strategy": case["strategy"],
        "credentials": case["credentials"],
        "scopes": [],
        "api_origins": case["api_origins"],
    }


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_vector(case: dict[str, Any]) -> None:
    request = httpx.Request(case["request"]["method"], case["request"]["url"])
    if "error" in case:
        with pytest.raises(NexusError) as raised:
            inject(envelope_from_json(envelope(case)), request)
        assert raised.value.code == case["error"]
        assert not any(str(v) in str(raised.value) for v in case["credentials"].values()), "no secret in errors"
        return
    clock = datetime.datetime.fromisoformat(case["clock"]) if "clock" in case else None
    sent = inject(envelope_from_json(envelope(case)), request, now=clock)
    expected = case["expected"]
    assert sent.method == expected["method"]
    assert str(sent.url) == expected["url"]
    added = {name: value for name, value in sent.headers.items() if name not in request.headers and name != "host"}
    assert added == expected["headers"]


def test_a_malformed_envelope_is_a_typed_error() -> None:
    with pytest.raises(NexusError) as raised:
        envelope_from_json({"strategy": {"type": "oauth2"}})
    assert raised.value.code == "malformed_envelope"
