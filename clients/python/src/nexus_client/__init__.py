"""Nexus client for Python: the Broker and Gateway clients generated from the committed specs
(``nexus_client.broker``, ``nexus_client.gateway``; by ``cargo xtask clients generate``), and
constructors that attach the key without ever showing it."""

from __future__ import annotations

from .broker.client import AuthenticatedClient as BrokerClient
from .gateway.client import AuthenticatedClient as GatewayClient

__all__ = ["BrokerClient", "GatewayClient", "broker_client", "gateway_client"]


def _redacted(self: object) -> str:
    return f"{type(self).__name__}(base_url={getattr(self, '_base_url', '?')!r}, token=[REDACTED])"


# The generated clients' repr prints the token; these never do.
BrokerClient.__repr__ = _redacted  # type: ignore[method-assign]
GatewayClient.__repr__ = _redacted  # type: ignore[method-assign]


def gateway_client(base_url: str, agent_key: str) -> GatewayClient:
    """A Gateway client authenticated with an agent key."""
    return GatewayClient(base_url=base_url.rstrip("/"), token=agent_key)


def broker_client(base_url: str, admin_key: str) -> BrokerClient:
    """A Broker client authenticated with an admin key."""
    return BrokerClient(base_url=base_url.rstrip("/"), token=admin_key)
