// Sending through the Gateway's proxy (`/v1/proxy`), the rules `createFetcher(..., { proxy: true })` follows.
//
// The SDK never reads a credential in this mode: each request goes to `{gateway}/v1/proxy` with
// its absolute URL in `Nexus-Proxy-Url`, the connection in `Nexus-Workspace-Id` and
// `Nexus-Provider` (or `Nexus-Connection-Id`) and the agent key in `Authorization`; Nexus applies
// the credential and forwards the request, only within the provider's `api_origins`. The caller's
// method, headers and body go as they are, except what the Gateway's request needs for itself
// (`Host`, the caller's own `Authorization` and `Nexus-*` headers, which would name another key or
// connection). An answer marked `Nexus-Proxied: true` is the provider's, whatever its status; one
// without it and with a status of 400 or more is Nexus's own error. Redirects come back as they
// are: the Gateway never follows one.

import type { Target } from "./credentials.js";
import { NexusError } from "./errors.js";
import { originAllowed, originOf, originText } from "./origins.js";

export const PROXY_PATH = "/v1/proxy";
export const PROXIED_HEADER = "nexus-proxied";
/** The caller's headers the Gateway's request replaces (its length is set again from the bytes sent). */
const REPLACED_HEADERS: ReadonlySet<string> = new Set(["host", "authorization", "content-length"]);
const NEXUS_HEADER_PREFIXES = ["nexus-", "x-nexus-"];

/**
 * Throws `origin_not_allowed` (nothing is sent) for a URL outside the caller's narrowing, or one
 * that names no origin at all; the Gateway checks the provider's `api_origins` itself.
 */
export function checkNarrowing(url: string, origins: readonly string[] | undefined): void {
  const origin = originOf(url);
  if (origin !== undefined && (origins === undefined || originAllowed(url, origins))) return;
  // The origin is not secret; the rest of the URL (userinfo, a query) may be.
  const named = origin === undefined ? "a URL that names no origin (userinfo, a trailing dot, not http)" : originText(origin);
  throw new NexusError("origin_not_allowed", `the request may not go to ${named}: it is outside the origins this caller allowed`);
}

/** The proxy reads the connection as it is: scopes asked for would silently not be checked. */
export function refuseScopes(target: Target): void {
  if (target.scopes !== undefined && target.scopes.length > 0) {
    throw new TypeError("the proxy checks no scopes: give scopes only without proxy: true");
  }
}

/** The caller's headers as the Gateway's request carries them, with the proxy's own. */
export function proxyHeaders(caller: Headers, target: Target, url: string, agentKey: string): Headers {
  const headers = new Headers();
  for (const [name, value] of caller) {
    if (!REPLACED_HEADERS.has(name) && !NEXUS_HEADER_PREFIXES.some((prefix) => name.startsWith(prefix))) headers.append(name, value);
  }
  headers.set("Authorization", `Bearer ${agentKey}`);
  headers.set("Nexus-Proxy-Url", url);
  if (target.connectionId !== undefined) {
    headers.set("Nexus-Connection-Id", target.connectionId);
  } else {
    headers.set("Nexus-Workspace-Id", target.workspaceId ?? "");
    headers.set("Nexus-Provider", target.provider ?? "");
  }
  return headers;
}

/** Whether an answer is Nexus's own error, not the provider's (which is marked). */
export function isNexusError(response: Response): boolean {
  return response.status >= 400 && !response.headers.has(PROXIED_HEADER);
}
