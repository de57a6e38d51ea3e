"""``NexusRequestsAuth``: the same as ``NexusAuth`` for code that uses ``requests`` (import this
module only where ``requests`` is installed; the SDK itself does not depend on it). The
credential is applied to each prepared request whose URL is within the envelope's
``api_origins`` (narrowed with ``origins=``; anything else is ``origin_not_allowed``, sending
nothing). Redirects are followed in a response hook, by the rules of ``redirects.py`` (the
credential only within the request's origin, at most 10), so ``requests`` itself only ever sees
the final answer; a provider's 401 to an OAuth2 token makes one refresh through the Gateway and
one more send.

With ``proxy=True`` each request goes to the Gateway's proxy instead (``proxy.py``) and the
credential never reaches this process (the only mode a ``proxy_only`` agent key allows): the
caller's narrowing still refuses a URL outside it, Nexus's own errors are raised as
``NexusError``, and the provider's answer comes back with the caller's URL and request restored
(never the agent key in ``response.request``). A redirect is the answer: ``requests`` follows one
unless ``allow_redirects=False``, and then straight to its ``Location``, without Nexus and so
without any credential; pass ``allow_redirects=False`` to handle it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
import requests
from requests.auth import AuthBase
from requests.structures import CaseInsensitiveDict
from requests.utils import rewind_body

from .credentials import Credentials, Target, error_from_answer
from .gateway.models import CredentialEnvelope, StrategyOauth2Strategy
from .inject import inject, without_credential
from .origins import narrowing, same_origin
from .proxy import check_narrowing, is_nexus_error
from .redirects import (
    BODY_HEADERS,
    CALLER_CREDENTIAL_HEADERS,
    MAX_REDIRECTS,
    REDIRECT_STATUSES,
    redirected_method,
    too_many_redirects,
)


def _apply(
    envelope: CredentialEnvelope, prepared: requests.PreparedRequest, origins: Sequence[str] | None
) -> requests.PreparedRequest:
    method = prepared.method or "GET"
    url = prepared.url or ""
    applied = inject(envelope, httpx.Request(method, url, headers=dict(prepared.headers)), origins=origins)
    prepared.prepare_url(str(applied.url), None)
    for name, value in applied.headers.items():
        if name.lower() != "host":
            prepared.headers[name] = value
    return prepared


def _location(response: requests.Response) -> str | None:
    if response.status_code not in REDIRECT_STATUSES or "location" not in response.headers:
        return None
    location = response.headers["location"]
    try:  # http.client reads headers as Latin-1: a UTF-8 Location back to what was sent (as requests does)
        return location.encode("latin1").decode("utf8")
    except UnicodeError:
        return location


def _rewound(prepared: requests.PreparedRequest) -> requests.PreparedRequest:
    """``prepared``, its body read from the start again when it is a file an earlier send read."""
    if prepared.body is not None and getattr(prepared, "_body_position", None) is not None:
        rewind_body(prepared)
    return prepared


class _Hops:
    """``redirects.RedirectChain`` for ``requests``' prepared requests."""

    def __init__(
        self, envelope: CredentialEnvelope, request: requests.PreparedRequest, origins: Sequence[str] | None
    ) -> None:
        self._envelope = envelope
        self._origins = origins
        self._start = request.url or ""
        self._plain = request.copy()  # the current hop without the credential
        self._redirects = 0
        self.carries_credential = True

    def follow(self, response: requests.Response) -> requests.PreparedRequest | None:
        location = _location(response)
        if location is None:
            return None
        if self._redirects == MAX_REDIRECTS:
            raise too_many_redirects()
        self._redirects += 1
        url = without_credential(self._envelope, httpx.URL(response.url).join(location))
        if not same_origin(self._start, url):
            self.carries_credential = False
        hop = self._plain.copy()
        hop.prepare_url(str(url), None)
        hop.method = redirected_method(response.status_code, hop.method or "GET")
        dropped = (() if hop.method == self._plain.method else BODY_HEADERS) + (
            () if self.carries_credential else CALLER_CREDENTIAL_HEADERS
        )
        for name in dropped:
            hop.headers.pop(name, None)
        if hop.method != self._plain.method:
            hop.body = None
        self._plain = _rewound(hop)
        return _apply(self._envelope, hop.copy(), self._origins) if self.carries_credential else hop


class NexusRequestsAuth(AuthBase):
    def __init__(
        self,
        credentials: Credentials,
        *,
        workspace_id: str | None = None,
        provider: str | None = None,
        connection_id: str | None = None,
        origins: Sequence[str] | None = None,
        proxy: bool = False,
    ) -> None:
        self._credentials = credentials
        self._target = Target(workspace_id=workspace_id, provider=provider, connection_id=connection_id)
        self._target.request()  # fails now on an incomplete target
        self._origins = narrowing(origins)
        self._proxy = proxy

    def __repr__(self) -> str:
        return f"NexusRequestsAuth({self._target!r}{', proxy=True' if self._proxy else ''})"

    def _through_proxy(self, prepared: requests.PreparedRequest) -> requests.PreparedRequest:
        asked = prepared.url or ""
        check_narrowing(asked, self._origins)  # origin_not_allowed here: nothing is sent
        plain_headers = prepared.headers.copy()
        method = prepared.method or "GET"
        proxied = self._credentials.proxy_request(
            self._target, httpx.Request(method, asked, headers=dict(plain_headers), stream=httpx.ByteStream(b""))
        )
        prepared.prepare_url(str(proxied.url), None)
        # requests sets Host itself; the body (and its length) stays as it was prepared.
        prepared.headers = CaseInsensitiveDict(
            (name, value) for name, value in proxied.headers.items() if name != "host"
        )

        def restore(response: requests.Response, **kwargs: Any) -> requests.Response:
            if response.request is not prepared:
                return response  # a later hop (a redirect requests followed): not through the proxy
            # The caller sees the URL it asked for and its own request, never the agent key.
            prepared.url, prepared.headers, response.url = asked, plain_headers, asked
            if is_nexus_error(response.status_code, response.headers):
                raise error_from_answer(response.status_code, response.content, response.headers.get("x-request-id"))
            return response

        prepared.hooks.setdefault("response", []).append(restore)
        return prepared

    def __call__(self, prepared: requests.PreparedRequest) -> requests.PreparedRequest:
        if self._proxy:
            return self._through_proxy(prepared)
        first = self._credentials.get(self._target)
        original = prepared.copy()
        _apply(first, prepared, self._origins)  # origin_not_allowed here: nothing is sent

        def follow(response: requests.Response, **kwargs: Any) -> requests.Response:
            envelope, hops = first, _Hops(first, original, self._origins)
            history: list[requests.Response] = []
            refreshed = False
            while True:
                hop = hops.follow(response)
                oauth2 = isinstance(envelope.strategy, StrategyOauth2Strategy)
                if hop is None and not refreshed and oauth2 and response.status_code == 401 and hops.carries_credential:
                    refreshed = True
                    envelope = self._credentials.refresh(self._target, envelope)
                    hops = _Hops(envelope, original, self._origins)
                    hop = _apply(envelope, _rewound(original.copy()), self._origins)
                if hop is None:
                    response.history = history
                    return response
                response.content  # noqa: B018 - drain the answer so its connection is reused
                history.append(response)
                response = response.connection.send(hop, **kwargs)

        prepared.hooks.setdefault("response", []).append(follow)
        return prepared
