"""Sending through the Gateway's proxy (``/v1/proxy``), the rules every wrapper's ``proxy=True`` shares.

The SDK never reads a credential in this mode: each request goes to ``{gateway}/v1/proxy`` with
its absolute URL in ``Nexus-Proxy-Url``, the connection in ``Nexus-Workspace-Id`` and
``Nexus-Provider`` (or ``Nexus-Connection-Id``) and the agent key in ``Authorization``; Nexus
applies the credential and forwards it, only within the provider's ``api_origins``. The caller's
method, headers and body go as they are, except what the Gateway's request needs for itself
(``Host``, the caller's own ``Authorization`` and ``Nexus-*`` headers, which would name another
key or connection). An answer marked ``Nexus-Proxied: true`` is the provider's, whatever its
status; one without it and with a status of 400 or more is Nexus's own error, raised as
``NexusError``. Redirects come back as they are: the Gateway never follows one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import httpx

from .errors import NexusError
from .origins import origin_allowed, origin_of

if TYPE_CHECKING:
    from .credentials import Target

PROXY_PATH = "/v1/proxy"
PROXIED_HEADER = "nexus-proxied"
PROXY_URL_HEADER = "Nexus-Proxy-Url"
#: The caller's headers the Gateway's request replaces: it goes to another host, with the agent
#: key, for the connection this wrapper names.
REPLACED_HEADERS = ("host", "authorization")
NEXUS_HEADER_PREFIXES = ("nexus-", "x-nexus-")


def refuse_scopes(scopes: Sequence[str]) -> None:
    """The proxy reads the connection as it is: scopes asked for would silently not be checked."""
    if scopes:
        raise ValueError("the proxy checks no scopes: give scopes only without proxy=True")


def check_narrowing(url: str | httpx.URL, origins: Sequence[str] | None) -> None:
    """Raises ``origin_not_allowed`` (nothing is sent) for a URL outside the caller's narrowing, or
    one that names no origin at all; the Gateway checks the provider's ``api_origins`` itself."""
    if origin_of(url) is not None and (origins is None or origin_allowed(url, origins)):
        return
    origin = origin_of(url)
    named = str(origin) if origin is not None else "a URL that names no origin (userinfo, a trailing dot, not http)"
    raise NexusError(
        "origin_not_allowed", f"the request may not go to {named}: it is outside the origins this caller allowed"
    )


def target_headers(target: Target) -> dict[str, str]:
    """The headers that name the connection (the target is complete: checked when it was made)."""
    if target.connection_id is not None:
        return {"Nexus-Connection-Id": target.connection_id}
    return {"Nexus-Workspace-Id": target.workspace_id or "", "Nexus-Provider": target.provider or ""}


def forwarded_headers(
    caller: Iterable[tuple[str, str]], target: Target, url: str, agent_key_header: tuple[str, str]
) -> list[tuple[str, str]]:
    """The caller's headers as the Gateway's request carries them, then the proxy's own: the agent
    key (``agent_key_header``, name and value), the destination and the connection."""
    replaced = {*REPLACED_HEADERS, agent_key_header[0].lower()}
    kept = [
        (name, value)
        for name, value in caller
        if name.lower() not in replaced and not name.lower().startswith(NEXUS_HEADER_PREFIXES)
    ]
    return [*kept, agent_key_header, (PROXY_URL_HEADER, url), *target_headers(target).items()]


def is_nexus_error(status: int, headers: Mapping[str, str]) -> bool:
    """Whether an answer is Nexus's own error, not the provider's (which is marked)."""
    return status >= 400 and PROXIED_HEADER not in {name.lower() for name in headers}
