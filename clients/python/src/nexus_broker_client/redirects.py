"""Following redirects in the SDK, so a credential stays in its origin: the rules every sending wrapper shares.

A hop within the first request's origin carries the credential again (injected afresh, its
origin checked again); once a hop leaves that origin, neither it nor any later hop carries it, in
any place a strategy puts it, nor the caller's own ``Authorization``, ``Cookie`` or
``Proxy-Authorization``. 301 and 302 turn a POST into a GET without a body, 303 any method but
HEAD; 307 and 308 keep both. At most ``MAX_REDIRECTS``; one more is ``too_many_redirects``."""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from .errors import NexusError
from .gateway.models import CredentialEnvelope
from .inject import inject, without_credential
from .origins import same_origin

MAX_REDIRECTS = 10
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: The caller's own credentials, dropped with the strategy's once a chain leaves its origin.
CALLER_CREDENTIAL_HEADERS = ("authorization", "cookie", "proxy-authorization")
#: What describes a body, dropped with it when a redirect turns a request into a GET.
BODY_HEADERS = ("content-length", "content-type", "content-encoding", "transfer-encoding")


def redirected_method(status: int, method: str) -> str:
    """The method a redirect's next hop uses (a changed method sends no body)."""
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        return "GET"
    return method


def too_many_redirects() -> NexusError:
    return NexusError("too_many_redirects", f"the API redirected more than {MAX_REDIRECTS} times")


class RedirectChain:
    """One request's hops over httpx: the first one, then the next one each answer asks for.

    ``request``'s body must be read (``request.read()``): a 307 or 308 sends it again."""

    def __init__(
        self, envelope: CredentialEnvelope, request: httpx.Request, *, origins: Sequence[str] | None = None
    ) -> None:
        self._envelope = envelope
        self._origins = origins
        self._start = request.url
        self._redirects = 0
        #: Whether the last hop carried the credential (a 401 without it says nothing about it).
        self.carries_credential = True
        self._plain = request  # the current hop as the caller would send it, without the credential
        self.first = inject(envelope, request, origins=origins)  # origin_not_allowed: nothing is sent

    def follow(self, sent: httpx.Request, response: httpx.Response) -> httpx.Request | None:
        """The hop ``response`` (the answer to ``sent``) redirects to, or ``None`` when it is final."""
        location = response.headers.get("location")
        if response.status_code not in REDIRECT_STATUSES or location is None:
            return None
        if self._redirects == MAX_REDIRECTS:
            raise too_many_redirects()
        self._redirects += 1
        url = without_credential(self._envelope, sent.url.join(location))
        if not same_origin(self._start, url):
            self.carries_credential = False
        method = redirected_method(response.status_code, self._plain.method)
        keeps_body = method == self._plain.method
        # httpx sets Host and the body's length again for the new URL and body.
        dropped = {"host", "content-length", "transfer-encoding"}
        dropped.update(() if keeps_body else BODY_HEADERS)
        dropped.update(() if self.carries_credential else CALLER_CREDENTIAL_HEADERS)
        headers = [(name, value) for name, value in self._plain.headers.multi_items() if name.lower() not in dropped]
        content = self._plain.content if keeps_body else None
        self._plain = httpx.Request(method, url, headers=headers, content=content, extensions=self._plain.extensions)
        if not self.carries_credential:
            return self._plain
        return inject(self._envelope, self._plain, origins=self._origins)
