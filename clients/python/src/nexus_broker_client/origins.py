"""Where a credential may be sent: a URL's origin against the envelope's ``api_origins`` (testdata/origins.json)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import NamedTuple

import httpx

DEFAULT_PORTS = {"http": 80, "https": 443}
WILDCARD = "*."


class Origin(NamedTuple):
    """Scheme, lowercase ASCII host (an IDN in punycode, an IPv6 address without brackets) and port."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if DEFAULT_PORTS.get(self.scheme) == self.port else f":{self.port}"
        return f"{self.scheme}://{host}{port}"


def origin_of(url: str | httpx.URL) -> Origin | None:
    """The URL's origin; ``None`` when it can match no origin: not http(s), no host, userinfo
    (``https://api.example.com@attacker.example`` is a request to attacker.example), or a host
    with a trailing dot (another name than the one without it)."""
    try:
        parsed = httpx.URL(url)
        # raw_host is the IDNA (punycode) form, which is what the envelope's origins are in.
        host = parsed.raw_host.decode("ascii").lower()
    except (httpx.InvalidURL, UnicodeError):
        return None
    port = parsed.port if parsed.port is not None else DEFAULT_PORTS.get(parsed.scheme)
    if parsed.scheme not in DEFAULT_PORTS or port is None or not host or host.endswith(".") or parsed.userinfo:
        return None
    return Origin(parsed.scheme, host, port)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _pattern_origin(pattern: str) -> Origin | None:
    """The origin a pattern (its ``*.`` taken off) names; none when it has a path, a query or a
    fragment: a caller narrowing to ``https://api.example.com/v1`` would get the whole origin."""
    try:
        parsed = httpx.URL(pattern)
    except httpx.InvalidURL:
        return None
    return origin_of(parsed) if parsed.raw_path == b"/" and not parsed.fragment else None


def _matches(pattern: str, url: Origin) -> bool:
    wildcard = f"://{WILDCARD}" in pattern
    origin = _pattern_origin(pattern.replace(f"://{WILDCARD}", "://", 1) if wildcard else pattern)
    if origin is None or "*" in origin.host or (origin.scheme, origin.port) != (url.scheme, url.port):
        return False
    if not wildcard:
        return origin.host == url.host
    # `*.` stands for exactly one label in front of a domain of two labels or more, never an address.
    label, dot, rest = url.host.partition(".")
    return bool(label) and dot == "." and rest == origin.host and "." in origin.host and not _is_address(url.host)


def origin_allowed(url: str | httpx.URL, api_origins: Sequence[str], narrowed_to: Sequence[str] | None = None) -> bool:
    """Whether a credential whose envelope names ``api_origins`` may be sent to ``url``: it must
    match one of them and, when the caller narrowed them (``narrowed_to``, possibly empty), one of
    those too, so a narrowing never widens."""
    origin = origin_of(url)
    if origin is None or not any(_matches(pattern, origin) for pattern in api_origins):
        return False
    return narrowed_to is None or any(_matches(pattern, origin) for pattern in narrowed_to)


def same_origin(a: str | httpx.URL, b: str | httpx.URL) -> bool:
    """Whether two URLs have one origin (a URL that has none has no origin in common with any)."""
    origin = origin_of(a)
    return origin is not None and origin == origin_of(b)


def narrowing(origins: Sequence[str] | None) -> tuple[str, ...] | None:
    """A caller's narrowing, checked once: a lone string would be read as a list of characters."""
    if isinstance(origins, str):
        raise TypeError("origins is a list of origins, such as ['https://api.example.com']")
    return None if origins is None else tuple(origins)
