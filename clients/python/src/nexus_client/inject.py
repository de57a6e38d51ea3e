"""Applying a credential envelope's strategy to an outgoing ``httpx.Request``, exactly as the
shared vectors in ``clients/testdata/strategies.json`` say. A missing field or a strategy this
SDK does not know raises ``NexusError`` and the request is not changed."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Mapping
from typing import Any

import httpx

from .errors import NexusError
from .aws import sign_aws
from .gateway.models import (
    CredentialEnvelope,
    StrategyApiKeyStrategy,
    StrategyAwsSigv4Strategy,
    StrategyBasicAuthStrategy,
    StrategyHeaderStrategy,
    StrategyOauth2Strategy,
    StrategyQueryParamStrategy,
)
from .gateway.types import Unset

DEFAULT_API_KEY_HEADER = "X-API-Key"
DEFAULT_CREDENTIAL_FIELD = "api_key"


def envelope_from_json(data: Mapping[str, Any]) -> CredentialEnvelope:
    """Reads an envelope; a strategy this SDK does not know is ``unsupported_strategy``."""
    known = {"oauth2", "header", "query_param", "basic_auth", "api_key", "aws_sigv4"}
    strategy = data.get("strategy")
    if not isinstance(strategy, Mapping) or strategy.get("type") not in known:
        kind = strategy.get("type") if isinstance(strategy, Mapping) else None
        raise NexusError("unsupported_strategy", f"strategy {kind!r} is not supported by this SDK; upgrade it")
    try:
        return CredentialEnvelope.from_dict(data)
    except (KeyError, TypeError, ValueError) as error:
        raise NexusError("malformed_envelope", f"the credential envelope is malformed ({type(error).__name__})") from None


def _or(value: str | Unset, default: str) -> str:
    return value if isinstance(value, str) else default


def _field(envelope: CredentialEnvelope, name: str) -> str:
    values = envelope.credentials.additional_properties
    if name not in values:
        raise NexusError("missing_credential_field", f"the credential has no `{name}` field")
    return values[name]


def inject(
    envelope: CredentialEnvelope, request: httpx.Request, *, now: datetime.datetime | None = None
) -> httpx.Request:
    """A copy of ``request`` carrying the credential the way the envelope's strategy says; a
    signature (AWS Signature Version 4) is made at ``now``."""
    strategy = envelope.strategy
    headers = httpx.Headers(request.headers)
    url = request.url
    if isinstance(strategy, StrategyOauth2Strategy):
        headers["Authorization"] = f"Bearer {_field(envelope, 'access_token')}"
    elif isinstance(strategy, StrategyHeaderStrategy):
        field = _or(strategy.credential_field, DEFAULT_CREDENTIAL_FIELD)
        prefix = _or(strategy.value_prefix, "")
        headers[strategy.header_name] = f"{prefix}{_field(envelope, field)}"
    elif isinstance(strategy, StrategyQueryParamStrategy):
        field = _or(strategy.credential_field, DEFAULT_CREDENTIAL_FIELD)
        url = url.copy_add_param(strategy.param_name, _field(envelope, field))
    elif isinstance(strategy, StrategyBasicAuthStrategy):
        username_field = _or(strategy.username_field, "username")
        password_field = _or(strategy.password_field, "password")
        pair = f"{_field(envelope, username_field)}:{_field(envelope, password_field)}".encode()
        headers["Authorization"] = f"Basic {base64.b64encode(pair).decode('ascii')}"
    elif isinstance(strategy, StrategyApiKeyStrategy):
        name = _or(strategy.header_name, DEFAULT_API_KEY_HEADER)
        headers[name] = _field(envelope, DEFAULT_CREDENTIAL_FIELD)
    elif isinstance(strategy, StrategyAwsSigv4Strategy):
        values = envelope.credentials.additional_properties
        signed = sign_aws(
            method=request.method,
            url=str(url),
            headers=dict(headers),
            body=request.content,
            access_key_id=_field(envelope, "access_key_id"),
            secret_access_key=_field(envelope, "secret_access_key"),
            session_token=values.get("session_token"),
            service=strategy.service,
            region=strategy.region,
            now=now or datetime.datetime.now(datetime.UTC),
        )
        headers.update(signed)
    else:  # pragma: no cover - the union is closed; kept so a new variant cannot pass silently
        raise NexusError("unsupported_strategy", f"strategy {type(strategy).__name__} is not supported")
    # The body is passed on as it is (the stream, not a copy), so nothing is read or buffered here.
    return httpx.Request(request.method, url, headers=headers, stream=request.stream, extensions=request.extensions)
