"""Applying a credential envelope's strategy to an outgoing ``httpx.Request``, exactly as the
shared vectors in ``clients/testdata/strategies.json`` say. A URL outside the envelope's
``api_origins`` (or the caller's narrowing of them), a missing field or a strategy this SDK does
not know raises ``NexusError`` and the request is not changed."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from .aws import sign_aws
from .errors import NexusError
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
from .origins import origin_allowed, origin_of

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


def check_origin(envelope: CredentialEnvelope, url: httpx.URL, origins: Sequence[str] | None = None) -> None:
    """Raises ``origin_not_allowed`` unless the credential may be sent to ``url``: an origin of
    the envelope's ``api_origins`` and, when the caller gives ``origins``, one of those too."""
    if not origin_allowed(url, envelope.api_origins, origins):
        origin = origin_of(url)
        # The origin is not secret; the rest of the URL (userinfo, a query) may be.
        named = str(origin) if origin is not None else "a URL that names no origin (userinfo, a trailing dot, not http)"
        raise NexusError(
            "origin_not_allowed",
            f"the credential may not be sent to {named}: it is outside the credential's api_origins"
            + ("" if origins is None else " or the origins this caller allowed"),
        )


def without_credential(envelope: CredentialEnvelope, url: httpx.URL) -> httpx.URL:
    """``url`` without the query parameter a ``query_param`` strategy puts the credential in, and
    without the provider's ``api_query`` (which may hold a credential field): a redirect's
    ``Location`` may repeat them, and a hop either gets them afresh or not at all."""
    strategy = envelope.strategy
    names = list(_extras(envelope.api_query))
    if isinstance(strategy, StrategyQueryParamStrategy):
        names.append(strategy.param_name)
    for name in names:
        if name in url.params:
            url = url.copy_remove_param(name)
    return url


def _extras(extras: object) -> dict[str, str]:
    """An envelope's ``api_headers`` or ``api_query`` as a plain dict (absent: empty)."""
    properties = getattr(extras, "additional_properties", None)
    return {str(k): str(v) for k, v in properties.items()} if isinstance(properties, dict) else {}


def inject(
    envelope: CredentialEnvelope,
    request: httpx.Request,
    *,
    now: datetime.datetime | None = None,
    origins: Sequence[str] | None = None,
) -> httpx.Request:
    """A copy of ``request`` carrying the credential the way the envelope's strategy says; a
    signature (AWS Signature Version 4) is made at ``now``. A URL outside the envelope's
    ``api_origins``, or outside ``origins`` when the caller narrows them, is refused with
    ``origin_not_allowed`` before anything else."""
    check_origin(envelope, request.url, origins)
    strategy = envelope.strategy
    headers = httpx.Headers(request.headers)
    url = request.url
    # The provider's own headers and query parameters first: the strategy's header wins a clash,
    # and a signature covers them.
    for name, value in _extras(envelope.api_headers).items():
        headers[name] = value
    for name, value in _extras(envelope.api_query).items():
        url = url.copy_add_param(name, value)
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
