"""Nexus client for Python: the Broker and Gateway clients generated from the committed specs
(``nexus_broker_client.broker``, ``nexus_broker_client.gateway``; by ``cargo xtask clients generate``),
constructors that attach the key without ever showing it, and the wrappers that send with a
credential (``NexusAuth``, ``NexusTransport``, ``AsyncNexusTransport``): only to the origins the
credential may go to, following redirects themselves so it never crosses to another origin; or,
with ``proxy=True``, through the Gateway's proxy, so the credential never reaches the caller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import httpx

from .broker import models as _broker_models
from .broker import redaction as _broker_redaction
from .broker.client import AuthenticatedClient as BrokerClient
from .credentials import Credentials, NexusAuth, Target
from .errors import InsufficientScopeError, NexusError
from .gateway import models as _gateway_models
from .gateway import redaction as _gateway_redaction
from .gateway.client import AuthenticatedClient as GatewayClient
from .inject import envelope_from_json, inject
from .transport import AsyncNexusTransport, NexusTransport
from .version import USER_AGENT, __version__

__all__ = [
    "AsyncNexusTransport",
    "DEFAULT_TIMEOUT_SECONDS",
    "BrokerClient",
    "Credentials",
    "GatewayClient",
    "InsufficientScopeError",
    "NexusAuth",
    "NexusError",
    "NexusTransport",
    "Target",
    "USER_AGENT",
    "__version__",
    "broker_client",
    "envelope_from_json",
    "gateway_client",
    "inject",
]


def _redacted(self: object) -> str:
    return f"{type(self).__name__}(base_url={getattr(self, '_base_url', '?')!r}, token=[REDACTED])"


# The generated clients' repr prints the token; these never do.
BrokerClient.__repr__ = _redacted  # type: ignore[method-assign]
GatewayClient.__repr__ = _redacted  # type: ignore[method-assign]


def _redacting_repr(*secret_fields: str) -> Callable[[attrs.AttrsInstance], str]:
    """A repr for a generated model that shows every field but the secret ones."""

    def __repr__(self: attrs.AttrsInstance) -> str:
        shown = ", ".join(
            f"{field.name}=[REDACTED]" if field.name in secret_fields else f"{field.name}={getattr(self, field.name)!r}"
            for field in attrs.fields(type(self))
        )
        return f"{type(self).__name__}({shown})"

    return __repr__


# The generated models' repr would print credentials, keys and secrets in logs and tracebacks;
# these show that there is one, never what it is. The list is generated with the subpackages
# (``redaction.py``, from the same list as every other client's), and generation fails on any
# field named like a secret that is not on it. A name that is not a field of its model fails the
# import, so a renamed field cannot silently stop being redacted.
for _models, _secret_fields in ((_broker_models, _broker_redaction.SECRET_FIELDS), (_gateway_models, _gateway_redaction.SECRET_FIELDS)):
    for _name, _fields in _secret_fields.items():
        _model = getattr(_models, _name)
        _missing = set(_fields) - {field.name for field in attrs.fields(_model)}
        if _missing:
            raise RuntimeError(f"{_name} has no field {sorted(_missing)} to redact")
        _model.__repr__ = _redacting_repr(*_fields)


def _credentials_repr(self: object) -> str:
    return f"{type(self).__name__}([REDACTED])"


# The maps a credential envelope carries (their values are the secrets, or may hold them).
for _models in (_broker_models, _gateway_models):
    for _map in (
        _models.CredentialEnvelopeCredentials,
        _models.CredentialEnvelopeApiHeaders,
        _models.CredentialEnvelopeApiQuery,
    ):
        _map.__repr__ = _credentials_repr


# Longer than the 20 seconds a Broker may spend on a read that waits for a slow provider, so a
# read is answered (the credential, or a typed error) rather than cut off; never unbounded.
DEFAULT_TIMEOUT_SECONDS = 30.0


def gateway_client(
    base_url: str,
    agent_key: str,
    *,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    httpx_args: dict[str, Any] | None = None,
) -> GatewayClient:
    """A Gateway client authenticated with an agent key (``httpx_args`` go to its httpx clients)."""
    return GatewayClient(
        base_url=base_url.rstrip("/"),
        token=agent_key,
        headers={"User-Agent": USER_AGENT},
        timeout=httpx.Timeout(timeout_seconds),
        httpx_args=httpx_args or {},
    )


def broker_client(
    base_url: str,
    admin_key: str,
    *,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    httpx_args: dict[str, Any] | None = None,
) -> BrokerClient:
    """A Broker client authenticated with an admin key (``httpx_args`` go to its httpx clients)."""
    return BrokerClient(
        base_url=base_url.rstrip("/"),
        token=admin_key,
        headers={"User-Agent": USER_AGENT},
        timeout=httpx.Timeout(timeout_seconds),
        httpx_args=httpx_args or {},
    )
