// Credentials through the Gateway, cached, and `createFetcher`: a `fetch`-compatible function
// that applies them.
//
// `Credentials` resolves `{ workspaceId, provider }` or `{ connectionId }` to an envelope and keeps
// it until it is within `skewSeconds` of `expires_at` (an envelope without expiry, an API key, is
// kept `staticMaxAgeSeconds`, so a revoked connection is noticed). Concurrent misses for one
// target share one Gateway call. `createFetcher` applies the credential to each request and, when
// the provider answers 401 to an OAuth2 token, forces one refresh (`POST /v1/refresh/{id}`) and
// retries once. It sends the credential only to the envelope's `api_origins` (narrowed further
// with `origins`; anything else is `origin_not_allowed`, sending nothing) and follows redirects
// itself (`redirects.ts`), so the credential never crosses to another origin. Errors are
// `NexusError` with the Gateway's code (`attention_required` carries the
// `connectionId` to send the user back to). A target may name the `scopes` its calls need: a
// connection without them throws `InsufficientScopeError` (`missingScopes`), and
// `Credentials.requestScopes` starts the incremental consent that adds them under the same
// connection id. With `{ proxy: true }`, `createFetcher` sends every request through the
// Gateway's proxy instead and never reads a credential (`proxy.ts`). Nothing here writes to
// stdout (it carries MCP JSON-RPC), and no string form shows a key or a token.

import { InsufficientScopeError, NexusError } from "./errors.js";
import { type CredentialEnvelope, checkOrigin, envelopeFromJson } from "./inject.js";
import { PROXY_PATH, checkNarrowing, isNexusError, proxyHeaders, refuseScopes } from "./proxy.js";
import { plainRequest, send } from "./redirects.js";
import { USER_AGENT } from "./version.js";

export interface Target {
  workspaceId?: string;
  provider?: string;
  connectionId?: string;
  /** Scopes the calls made with this credential need (none: whatever the connection has). */
  scopes?: readonly string[];
}

/** Where to send the user for an incremental consent. */
export interface ConnectionRequested {
  auth_url: string;
  connection_id: string;
  expires_at: string;
}

/** A connection to ask the user for (`POST /v1/request-connection`). */
export interface ConnectionRequest {
  workspaceId: string;
  provider: string;
  /** Where the user lands afterwards (allowed by the Broker's `NEXUS_ALLOWED_RETURN_URLS`). */
  returnUrl: string;
  /** A connection of the workspace to consent to again, keeping its id (a new one when absent). */
  connectionId?: string;
  /** The scopes to ask for (with `connectionId`: on top of its grant; default: the provider's). */
  scopes?: readonly string[];
}

export interface ScopeRequest {
  workspaceId: string;
  provider: string;
  /** Where the user lands afterwards (allowed by the Broker's `NEXUS_ALLOWED_RETURN_URLS`). */
  returnUrl: string;
  /** The scopes to add (default: the missing ones). */
  scopes?: readonly string[];
}

export interface CredentialsOptions {
  /** The Gateway's base URL, such as `http://127.0.0.1:8090`. */
  gatewayUrl: string;
  /** The agent key. */
  agentKey: string;
  /** A token is refreshed this long before it expires (default 60). */
  skewSeconds?: number;
  /** How long a credential without expiry is kept (default 60). */
  staticMaxAgeSeconds?: number;
  /** The `fetch` that reaches the Gateway (default: the global one). */
  fetch?: typeof globalThis.fetch;
  /** How long one Gateway call may take, in milliseconds (default `DEFAULT_TIMEOUT_MS`). */
  timeoutMs?: number;
}

/**
 * The default time limit for one Gateway call: longer than the 20 seconds a Broker may spend on
 * a read that waits for a slow provider, so a read is answered (the credential, or a typed
 * error) rather than cut off; never unbounded.
 */
export const DEFAULT_TIMEOUT_MS = 30_000;

interface Entry {
  envelope: CredentialEnvelope;
  freshUntil: number;
}

function keyOf(target: Target): string {
  const scopes = target.scopes === undefined || target.scopes.length === 0 ? "" : ` ${target.scopes.join(",")}`;
  if (target.connectionId !== undefined) return `connection:${target.connectionId}${scopes}`;
  if (target.workspaceId === undefined || target.provider === undefined) {
    throw new TypeError("give workspaceId and provider, or connectionId");
  }
  return `resolve:${target.workspaceId}:${target.provider}${scopes}`;
}

/** The typed error a Nexus answer stands for (one that is not Nexus's error JSON is `unexpected_response`). */
async function nexusError(response: Response): Promise<NexusError> {
  const requestId = response.headers.get("x-request-id") ?? undefined;
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (typeof body !== "object" || body === null || typeof (body as Record<string, unknown>)["code"] !== "string") {
    return new NexusError("unexpected_response", `the Gateway answered HTTP ${response.status} without a Nexus error body`, {
      status: response.status,
      ...(requestId === undefined ? {} : { requestId }),
    });
  }
  const error = body as Record<string, unknown>;
  const text = (name: string): string | undefined => (typeof error[name] === "string" ? (error[name] as string) : undefined);
  const id = text("request_id") ?? requestId;
  const field = text("field");
  const connectionId = text("connection_id");
  const missing = error["missing_scopes"];
  if (text("code") === "insufficient_scope" && connectionId !== undefined) {
    const scopes = Array.isArray(missing) ? missing.filter((scope): scope is string => typeof scope === "string") : [];
    return new InsufficientScopeError(text("message") ?? "", scopes, connectionId, {
      status: response.status,
      ...(id === undefined ? {} : { requestId: id }),
    });
  }
  return new NexusError(text("code") ?? "unexpected_response", text("message") ?? "", {
    status: response.status,
    ...(id === undefined ? {} : { requestId: id }),
    ...(field === undefined ? {} : { field }),
    ...(connectionId === undefined ? {} : { connectionId }),
  });
}

export class Credentials {
  readonly #options: CredentialsOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #inflight = new Map<string, Promise<CredentialEnvelope>>();

  constructor(options: CredentialsOptions) {
    this.#options = options;
  }

  toString(): string {
    return `Credentials(targets=${this.#entries.size})`;
  }

  #fresh(key: string): CredentialEnvelope | undefined {
    const entry = this.#entries.get(key);
    return entry !== undefined && entry.freshUntil > Date.now() ? entry.envelope : undefined;
  }

  #keep(key: string, envelope: CredentialEnvelope): CredentialEnvelope {
    const skew = (this.#options.skewSeconds ?? 60) * 1000;
    const staticAge = (this.#options.staticMaxAgeSeconds ?? 60) * 1000;
    const freshUntil = envelope.expires_at === undefined ? Date.now() + staticAge : Date.parse(envelope.expires_at) - skew;
    this.#entries.set(key, { envelope, freshUntil });
    return envelope;
  }

  async #send(method: "GET" | "POST", path: string, query?: Record<string, string>, body?: unknown): Promise<Response> {
    const url = new URL(`${this.#options.gatewayUrl.replace(/\/+$/, "")}${path}`);
    for (const [name, value] of Object.entries(query ?? {})) url.searchParams.set(name, value);
    const fetchImpl = this.#options.fetch ?? globalThis.fetch;
    const headers: Record<string, string> = { Authorization: `Bearer ${this.#options.agentKey}`, "User-Agent": USER_AGENT };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    try {
      const signal = AbortSignal.timeout(this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      return await fetchImpl(url, {
        method,
        headers,
        signal,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      // The error's text can carry the URL: name the kind only.
      throw new NexusError("gateway_unreachable", `the Gateway could not be reached (${(error as Error).name})`);
    }
  }

  async #call(method: "GET" | "POST", path: string, query?: Record<string, string>): Promise<CredentialEnvelope> {
    const response = await this.#send(method, path, query);
    if (response.status !== 200) throw await nexusError(response);
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw new NexusError("malformed_envelope", "the Gateway's answer is not JSON");
    }
    return envelopeFromJson(body);
  }

  #once(key: string, load: () => Promise<CredentialEnvelope>): Promise<CredentialEnvelope> {
    const pending = this.#inflight.get(key);
    if (pending !== undefined) return pending;
    const started = load()
      .then((envelope) => this.#keep(key, envelope))
      .finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, started);
    return started;
  }

  /** The target's credential, from the cache while it is fresh. */
  get(target: Target): Promise<CredentialEnvelope> {
    const key = keyOf(target);
    const fresh = this.#fresh(key);
    if (fresh !== undefined) return Promise.resolve(fresh);
    const scopes: Record<string, string> = target.scopes === undefined || target.scopes.length === 0 ? {} : { scopes: target.scopes.join(",") };
    return this.#once(key, () =>
      target.connectionId !== undefined
        ? this.#call("GET", `/v1/token/${encodeURIComponent(target.connectionId)}`, scopes)
        : this.#call("GET", "/v1/resolve", { workspace_id: target.workspaceId ?? "", provider: target.provider ?? "", ...scopes }),
    );
  }

  /**
   * Starts the incremental consent `error` calls for: the same connection, asking for `scopes`
   * (default: the missing ones) on top of its grant. Send the user to the answer's `auth_url`;
   * until they finish, the connection keeps serving its old grant.
   */
  requestScopes(error: InsufficientScopeError, request: ScopeRequest): Promise<ConnectionRequested> {
    return this.requestConnection({
      workspaceId: request.workspaceId,
      provider: request.provider,
      returnUrl: request.returnUrl,
      connectionId: error.connectionId,
      scopes: request.scopes ?? error.missingScopes,
    });
  }

  /**
   * Asks Nexus for a link that connects the workspace to the provider (or, with `connectionId`,
   * consents to that connection again): send the user to the answer's `auth_url`.
   */
  async requestConnection(request: ConnectionRequest): Promise<ConnectionRequested> {
    const response = await this.#send("POST", "/v1/request-connection", undefined, {
      workspace_id: request.workspaceId,
      provider: request.provider,
      ...(request.connectionId === undefined ? {} : { connection_id: request.connectionId }),
      ...(request.scopes === undefined ? {} : { scopes: request.scopes }),
      return_url: request.returnUrl,
    });
    if (response.status !== 201) throw await nexusError(response);
    const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (body === undefined || typeof body["auth_url"] !== "string" || typeof body["connection_id"] !== "string" || typeof body["expires_at"] !== "string") {
      throw new NexusError("unexpected_response", "the Gateway's answer is not a connection request");
    }
    return { auth_url: body["auth_url"], connection_id: body["connection_id"], expires_at: body["expires_at"] };
  }

  /**
   * Sends `request` (its method, headers and body, to its absolute URL) through the Gateway's
   * proxy with the target's connection and this client's agent key (`proxy.ts`), by `fetchImpl`
   * (default: this client's). Throws Nexus's own error as `NexusError`; any other answer is the
   * provider's, a redirect included. `timeoutMs` bounds the wait for the answer's headers only,
   * so a long body still streams; the request's own signal aborts it at any time.
   */
  async sendThroughProxy(target: Target, request: Request, fetchImpl?: typeof globalThis.fetch): Promise<Response> {
    const url = `${this.#options.gatewayUrl.replace(/\/+$/, "")}${PROXY_PATH}`;
    const headers = proxyHeaders(request.headers, target, request.url, this.#options.agentKey);
    if (!headers.has("user-agent")) headers.set("User-Agent", USER_AGENT);
    const body = request.body === null ? null : await request.arrayBuffer();
    const controller = new AbortController();
    const abort = (): void => controller.abort(request.signal.reason);
    if (request.signal.aborted) abort();
    request.signal.addEventListener("abort", abort, { once: true });
    const timer = setTimeout(() => controller.abort(), this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    let response: Response;
    try {
      // `manual`: a redirect is the provider's answer, handed back as it is.
      response = await (fetchImpl ?? this.#options.fetch ?? globalThis.fetch)(url, { method: request.method, headers, body, signal: controller.signal, redirect: "manual" });
    } catch (error) {
      if (request.signal.aborted) throw error; // the caller's own abort, as fetch reports it
      // The error's text can carry the URL: name the kind only.
      throw new NexusError("gateway_unreachable", `the Gateway could not be reached (${(error as Error).name})`);
    } finally {
      clearTimeout(timer);
    }
    if (isNexusError(response)) throw await nexusError(response);
    return response;
  }

  /** A forced refresh of `stale` (unless another caller already replaced it). */
  refresh(target: Target, stale: CredentialEnvelope): Promise<CredentialEnvelope> {
    const key = keyOf(target);
    const current = this.#fresh(key);
    if (current !== undefined && current !== stale) return Promise.resolve(current);
    return this.#once(key, () => this.#call("POST", `/v1/refresh/${encodeURIComponent(stale.connection_id)}`));
  }
}

export interface FetcherOptions {
  /**
   * The `fetch` that reaches the API (default: the global one); it is given each hop with
   * `redirect: "manual"`. With `proxy`, the one that reaches the Gateway (default: the
   * `Credentials`' own).
   */
  fetch?: typeof globalThis.fetch;
  /** The origins these requests may go to, among the envelope's `api_origins`: a narrowing, never a widening. */
  origins?: readonly string[];
  /**
   * Send every request through the Gateway's proxy (`proxy.ts`): Nexus applies the credential,
   * which never reaches this process (the only mode a `proxy_only` agent key allows). Redirects
   * come back as they are; the proxy checks no `scopes` (a target with some is a `TypeError`).
   */
  proxy?: boolean;
}

/** `createFetcher`'s proxy mode: the caller's narrowing, then the Gateway's proxy. */
function proxyFetcher(credentials: Credentials, target: Target, options: FetcherOptions): typeof globalThis.fetch {
  refuseScopes(target);
  const origins = options.origins === undefined ? undefined : [...options.origins];
  return async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    // Before a Request is made: WHATWG's Request refuses a URL with userinfo with a bare TypeError.
    checkNarrowing(input instanceof Request ? input.url : String(input), origins);
    const request = new Request(input, init);
    const response = await credentials.sendThroughProxy(target, request, options.fetch);
    if (request.redirect === "error" && response.status >= 300 && response.status < 400 && response.headers.has("location")) {
      await response.arrayBuffer().catch(() => undefined);
      throw new TypeError("the API redirected, and the request's redirect mode is \"error\"");
    }
    return response;
  };
}

/**
 * A `fetch` that sends each request with the target's credential applied, only to the envelope's
 * `api_origins` (and `options.origins`), and follows redirects itself (at most 10): a hop within
 * the request's origin carries the credential again, and no hop after the chain leaves it does.
 * A request's `redirect: "manual"` gets the 3xx back, `"error"` throws on it, as fetch would.
 * With `options.proxy`, each request goes through the Gateway's proxy instead (`proxy.ts`).
 */
export function createFetcher(credentials: Credentials, target: Target, options: FetcherOptions = {}): typeof globalThis.fetch {
  keyOf(target); // fails now on an incomplete target, not at the first request
  if (options.proxy === true) return proxyFetcher(credentials, target, options);
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const origins = options.origins === undefined ? undefined : [...options.origins];
  return async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const envelope = await credentials.get(target);
    // Checked before a Request is made: WHATWG's Request refuses a URL with userinfo with a bare
    // TypeError, and such a URL is `origin_not_allowed` like any other the credential may not go to.
    checkOrigin(envelope, input instanceof Request ? input.url : String(input), origins);
    // The body is read once, as bytes: a 307 or 308, or the retry after a refresh, sends it again.
    const request = await plainRequest(new Request(input, init));
    const sent = await send(fetchImpl, envelope, request, origins);
    // Only a 401 to an OAuth2 token that was sent is a stale token (not one from another origin's hop).
    if (sent.response.status !== 401 || envelope.strategy.type !== "oauth2" || !sent.carriedCredential) return sent.response;
    await sent.response.arrayBuffer().catch(() => undefined);
    const refreshed = await credentials.refresh(target, envelope);
    return (await send(fetchImpl, refreshed, request, origins)).response;
  };
}
