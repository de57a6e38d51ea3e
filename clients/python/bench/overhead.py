"""Per-request overhead of ``NexusAuth`` with a cached credential against a bare httpx request
to the same URL (``cargo xtask bench sdk`` runs it): alternating rounds, medians, as JSON.
Usage: overhead.py GATEWAY_URL AGENT_KEY WORKSPACE PROVIDER TARGET_URL REQUESTS ROUNDS"""

from __future__ import annotations

import json
import statistics
import sys
import time

import httpx

from nexus_broker_client import Credentials, NexusAuth, gateway_client


def main(gateway: str, key: str, workspace: str, provider: str, target: str, requests: int, rounds: int) -> None:
    auth = NexusAuth(Credentials(gateway_client(gateway, key)), workspace_id=workspace, provider=provider)
    with httpx.Client() as bare_client, httpx.Client(auth=auth) as sdk_client:
        for _ in range(100):
            bare_client.get(target)
            sdk_client.get(target)
        bare: list[float] = []
        sdk: list[float] = []
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(requests):
                bare_client.get(target)
            bare.append((time.perf_counter() - started) * 1e6 / requests)
            started = time.perf_counter()
            for _ in range(requests):
                sdk_client.get(target)
            sdk.append((time.perf_counter() - started) * 1e6 / requests)
    print(json.dumps({"bare_us": round(statistics.median(bare), 2), "sdk_us": round(statistics.median(sdk), 2)}))


if __name__ == "__main__":
    gateway, key, workspace, provider, target, requests, rounds = sys.argv[1:8]
    main(gateway, key, workspace, provider, target, int(requests), int(rounds))
