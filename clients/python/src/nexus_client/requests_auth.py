"""``NexusRequestsAuth``: the same as ``NexusAuth`` for code that uses ``requests`` (import this
module only where ``requests`` is installed; the SDK itself does not depend on it). The
credential is applied to each prepared request; a provider's 401 to an OAuth2 token makes one
refresh through the Gateway and one more send."""

from __future__ import annotations

from typing import Any

import httpx
import requests
from requests.auth import AuthBase

from .credentials import Credentials, Target
from .gateway.models import CredentialEnvelope, StrategyOauth2Strategy
from .inject import inject


def _apply(envelope: CredentialEnvelope, prepared: requests.PreparedRequest) -> requests.PreparedRequest:
    method = prepared.method or "GET"
    url = prepared.url or ""
    applied = inject(envelope, httpx.Request(method, url, headers=dict(prepared.headers)))
    prepared.prepare_url(str(applied.url), None)
    for name, value in applied.headers.items():
        if name.lower() != "host":
            prepared.headers[name] = value
    return prepared


class NexusRequestsAuth(AuthBase):
    def __init__(
        self,
        credentials: Credentials,
        *,
        workspace_id: str | None = None,
        provider: str | None = None,
        connection_id: str | None = None,
    ) -> None:
        self._credentials = credentials
        self._target = Target(workspace_id=workspace_id, provider=provider, connection_id=connection_id)
        self._target.request()  # fails now on an incomplete target

    def __repr__(self) -> str:
        return f"NexusRequestsAuth({self._target!r})"

    def __call__(self, prepared: requests.PreparedRequest) -> requests.PreparedRequest:
        envelope = self._credentials.get(self._target)
        original = prepared.copy()
        _apply(envelope, prepared)
        if isinstance(envelope.strategy, StrategyOauth2Strategy):

            def retry_once(response: requests.Response, **kwargs: Any) -> requests.Response:
                if response.status_code != 401:
                    return response
                refreshed = self._credentials.refresh(self._target, envelope)
                again = _apply(refreshed, original.copy())
                response.content  # noqa: B018 - drain the first answer so its connection is reused
                sent = response.connection.send(again, **kwargs)
                sent.history.append(response)
                return sent

            prepared.hooks.setdefault("response", []).append(retry_once)
        return prepared
