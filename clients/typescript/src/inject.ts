// Applying a credential envelope's strategy to an outgoing `Request`, exactly as the shared
// vectors in `clients/testdata/strategies.json` say. A URL outside the envelope's `api_origins`
// (or the caller's narrowing of them), a missing field or a strategy this SDK does not know
// throws `NexusError` and nothing is sent.

import { AwsV4Signer } from "aws4fetch";
import { NexusError } from "./errors.js";
import type { components } from "./generated/gateway.js";
import { originAllowed, originOf, originText } from "./origins.js";

export type CredentialEnvelope = components["schemas"]["CredentialEnvelope"];
type Strategy = CredentialEnvelope["strategy"];

const DEFAULT_API_KEY_HEADER = "X-API-Key";
const DEFAULT_CREDENTIAL_FIELD = "api_key";
const KNOWN: ReadonlySet<string> = new Set(["oauth2", "header", "query_param", "basic_auth", "api_key", "aws_sigv4"]);

/** Reads an envelope from JSON; a strategy from a newer server is `unsupported_strategy`. */
export function envelopeFromJson(data: unknown): CredentialEnvelope {
  if (typeof data !== "object" || data === null) {
    throw new NexusError("malformed_envelope", "the credential envelope is not an object");
  }
  const record = data as Record<string, unknown>;
  const strategy = record["strategy"];
  const kind = typeof strategy === "object" && strategy !== null ? (strategy as Record<string, unknown>)["type"] : undefined;
  if (typeof kind !== "string" || !KNOWN.has(kind)) {
    throw new NexusError("unsupported_strategy", `strategy ${String(kind)} is not supported by this SDK; upgrade it`);
  }
  const credentials = record["credentials"];
  if (typeof credentials !== "object" || credentials === null || typeof record["connection_id"] !== "string") {
    throw new NexusError("malformed_envelope", "the credential envelope is malformed");
  }
  const origins = record["api_origins"];
  if (!Array.isArray(origins) || !origins.every((origin) => typeof origin === "string")) {
    // Without them nothing says where the credential may go: nothing is sent.
    throw new NexusError("malformed_envelope", "the credential envelope has no api_origins list");
  }
  return data as CredentialEnvelope;
}

function field(envelope: CredentialEnvelope, name: string): string {
  const value = envelope.credentials[name];
  if (value === undefined) {
    throw new NexusError("missing_credential_field", `the credential has no \`${name}\` field`);
  }
  return value;
}

function basic(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`, "utf8").toString("base64");
}

/** What a rebuilt request keeps of the caller's: its redirect mode (`manual` while a chain is followed) and signal. */
function kept(request: Request): RequestInit {
  return { redirect: request.redirect, signal: request.signal, duplex: "half" } as RequestInit;
}

/** `20150830T123600Z`: the form AWS Signature Version 4 dates a request with. */
function amzDate(at: Date): string {
  return at.toISOString().replace(/[:-]|\.\d{3}/g, "");
}

/** Signs with AWS Signature Version 4 (aws4fetch), at `now`. */
async function signAws(envelope: CredentialEnvelope, service: string, region: string, request: Request, now: Date): Promise<Request> {
  const sessionToken = envelope.credentials["session_token"];
  const signer = new AwsV4Signer({
    url: request.url,
    method: request.method,
    headers: request.headers,
    body: request.body === null ? null : await request.clone().arrayBuffer(),
    accessKeyId: field(envelope, "access_key_id"),
    secretAccessKey: field(envelope, "secret_access_key"),
    ...(sessionToken === undefined ? {} : { sessionToken }),
    service,
    region,
    datetime: amzDate(now),
  });
  const signed = await signer.sign();
  return new Request(signed.url, { ...kept(request), method: signed.method, headers: signed.headers, body: signed.body ?? null });
}

export interface InjectOptions {
  /** The instant an AWS Signature Version 4 is made at (default: now). */
  now?: Date;
  /** The origins this caller allows, among the envelope's `api_origins`: a narrowing, never a widening. */
  origins?: readonly string[];
}

/**
 * Throws `origin_not_allowed` unless the credential may be sent to `url`: an origin of the
 * envelope's `api_origins` and, when the caller gives `origins`, one of those too.
 */
export function checkOrigin(envelope: CredentialEnvelope, url: string | URL, origins?: readonly string[]): void {
  if (originAllowed(url, envelope.api_origins, origins)) return;
  const origin = originOf(url);
  // The origin is not secret; the rest of the URL (userinfo, a query) may be.
  const named = origin === undefined ? "a URL that names no origin (userinfo, a trailing dot, not http)" : originText(origin);
  const narrowed = origins === undefined ? "" : " or the origins this caller allowed";
  throw new NexusError("origin_not_allowed", `the credential may not be sent to ${named}: it is outside the credential's api_origins${narrowed}`);
}

/**
 * `url` without the query parameter a `query_param` strategy puts the credential in, and without
 * the provider's `api_query` (which may hold a credential field): a
 * redirect's `Location` may repeat them, and a hop either gets them afresh or not at all.
 */
export function withoutCredential(envelope: CredentialEnvelope, url: URL): URL {
  const strategy = envelope.strategy;
  const names = Object.keys(envelope.api_query ?? {});
  if (strategy.type === "query_param") names.push(strategy.param_name);
  if (!names.some((name) => url.searchParams.has(name))) return url;
  const stripped = new URL(url);
  for (const name of names) stripped.searchParams.delete(name);
  return stripped;
}

/**
 * A copy of `request` carrying the credential the way the envelope's strategy says; a signature
 * (AWS Signature Version 4) is made at `options.now` (a `Date` in its place is that instant). A
 * URL outside the envelope's `api_origins`, or outside `options.origins` when the caller narrows
 * them, is refused with `origin_not_allowed` before anything else.
 */
export async function inject(envelope: CredentialEnvelope, request: Request, options: InjectOptions | Date = {}): Promise<Request> {
  const given: InjectOptions = options instanceof Date ? { now: options } : options;
  checkOrigin(envelope, request.url, given.origins);
  const now = given.now ?? new Date();
  const strategy: Strategy = envelope.strategy;
  const headers = new Headers(request.headers);
  const url = new URL(request.url);
  // The provider's own headers and query parameters first: the strategy's header wins a clash,
  // and a signature covers them.
  for (const [name, value] of Object.entries(envelope.api_headers ?? {})) headers.set(name, value);
  for (const [name, value] of Object.entries(envelope.api_query ?? {})) url.searchParams.append(name, value);
  const rebuilt = (): Request =>
    url.href === request.url
      ? // Same URL: a copy of the request with the new headers (the body is passed on, not read).
        new Request(request, { headers })
      : new Request(url, { ...kept(request), method: request.method, headers, body: request.body });
  switch (strategy.type) {
    case "oauth2":
      headers.set("Authorization", `Bearer ${field(envelope, "access_token")}`);
      break;
    case "header":
      headers.set(
        strategy.header_name,
        `${strategy.value_prefix ?? ""}${field(envelope, strategy.credential_field ?? DEFAULT_CREDENTIAL_FIELD)}`,
      );
      break;
    case "query_param":
      url.searchParams.append(strategy.param_name, field(envelope, strategy.credential_field ?? DEFAULT_CREDENTIAL_FIELD));
      break;
    case "basic_auth":
      headers.set(
        "Authorization",
        `Basic ${basic(field(envelope, strategy.username_field ?? "username"), field(envelope, strategy.password_field ?? "password"))}`,
      );
      break;
    case "api_key":
      headers.set(strategy.header_name ?? DEFAULT_API_KEY_HEADER, field(envelope, DEFAULT_CREDENTIAL_FIELD));
      break;
    case "aws_sigv4":
      return signAws(envelope, strategy.service, strategy.region, rebuilt(), now);
    default: {
      const unknown: never = strategy;
      throw new NexusError("unsupported_strategy", `strategy ${JSON.stringify(unknown)} is not supported`);
    }
  }
  return rebuilt();
}
