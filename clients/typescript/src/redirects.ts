// Sending with a credential and following redirects here, not in fetch, so the credential stays in its origin.
//
// A hop within the first request's origin carries the credential again (injected afresh, its
// origin checked again); once a hop leaves that origin, neither it nor any later hop carries it,
// in any place a strategy puts it, nor the caller's own `Authorization`, `Cookie` or
// `Proxy-Authorization`. 301 and 302 turn a POST into a GET without a body, 303 any method but
// HEAD; 307 and 308 keep both. At most `MAX_REDIRECTS`; one more is `too_many_redirects`.

import { NexusError } from "./errors.js";
import { type CredentialEnvelope, inject, withoutCredential } from "./inject.js";
import { sameOrigin } from "./origins.js";

export const MAX_REDIRECTS = 10;
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
/** The caller's own credentials, dropped with the strategy's once a chain leaves its origin. */
const CALLER_CREDENTIAL_HEADERS = ["authorization", "cookie", "proxy-authorization"];
/** What describes a body, dropped with it when a redirect turns a request into a GET. */
const BODY_HEADERS = ["content-length", "content-type", "content-encoding", "transfer-encoding"];

/** A hop as the caller would send it, without the credential; the body in bytes, as a 307 or 308 sends it again. */
export interface PlainRequest {
  url: URL;
  method: string;
  headers: Headers;
  body: ArrayBuffer | null;
  signal: AbortSignal;
  /** The caller's redirect mode: `follow` (here, not in fetch), `manual` (the 3xx is the answer) or `error`. */
  redirect: RequestRedirect;
}

/** The answer, and whether the request that got it carried the credential (a 401 without it says nothing about it). */
export interface Sent {
  response: Response;
  carriedCredential: boolean;
}

/** The caller's request with its body read (the signal and the redirect mode kept). */
export async function plainRequest(request: Request): Promise<PlainRequest> {
  return {
    url: new URL(request.url),
    method: request.method,
    headers: new Headers(request.headers),
    body: request.body === null ? null : await request.arrayBuffer(),
    signal: request.signal,
    redirect: request.redirect,
  };
}

function toRequest(plain: PlainRequest): Request {
  // `manual`: fetch hands every redirect back to `send` instead of following it with the credential.
  return new Request(plain.url, { method: plain.method, headers: plain.headers, body: plain.body, signal: plain.signal, redirect: "manual" });
}

/** The method a redirect's next hop uses (a changed method sends no body). */
export function redirectedMethod(status: number, method: string): string {
  return (status === 303 && method !== "HEAD") || ((status === 301 || status === 302) && method === "POST") ? "GET" : method;
}

/** Where a redirect answer points, resolved against the URL that got it (an unreadable `Location` is no redirect). */
function redirectTarget(sent: Request, response: Response): URL | undefined {
  const location = response.headers.get("location");
  if (!REDIRECT_STATUSES.has(response.status) || location === null) return undefined;
  try {
    return new URL(location, sent.url);
  } catch {
    return undefined;
  }
}

function nextHop(plain: PlainRequest, status: number, url: URL, carriesCredential: boolean): PlainRequest {
  const method = redirectedMethod(status, plain.method);
  const keepsBody = method === plain.method;
  const headers = new Headers(plain.headers);
  for (const name of [...(keepsBody ? [] : BODY_HEADERS), ...(carriesCredential ? [] : CALLER_CREDENTIAL_HEADERS)]) {
    headers.delete(name);
  }
  return { ...plain, url, method, headers, body: keepsBody ? plain.body : null };
}

async function drain(response: Response): Promise<void> {
  // Read to the end, so the connection is reused; a redirect's body is short.
  await response.arrayBuffer().catch(() => undefined);
}

/**
 * Sends `request` with `envelope`'s credential through `fetchImpl`, following redirects as the
 * caller's mode says; `origins`, when given, narrows where the credential may go.
 */
export async function send(
  fetchImpl: typeof globalThis.fetch,
  envelope: CredentialEnvelope,
  request: PlainRequest,
  origins?: readonly string[],
): Promise<Sent> {
  const options = origins === undefined ? {} : { origins };
  let plain = request;
  let carriesCredential = true;
  let hop = await inject(envelope, toRequest(plain), options);
  for (let redirects = 0; ; redirects += 1) {
    const response = await fetchImpl(hop);
    const target = request.redirect === "manual" ? undefined : redirectTarget(hop, response);
    if (target === undefined) return { response, carriedCredential: carriesCredential };
    await drain(response);
    if (request.redirect === "error") throw new TypeError("the API redirected, and the request's redirect mode is \"error\"");
    if (redirects === MAX_REDIRECTS) throw new NexusError("too_many_redirects", `the API redirected more than ${MAX_REDIRECTS} times`);
    const url = withoutCredential(envelope, target);
    carriesCredential &&= sameOrigin(request.url, url);
    plain = nextHop(plain, response.status, url, carriesCredential);
    hop = carriesCredential ? await inject(envelope, toRequest(plain), options) : toRequest(plain);
  }
}
