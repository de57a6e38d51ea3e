// Applying a credential envelope's strategy to an outgoing `Request`, exactly as the shared
// vectors in `clients/testdata/strategies.json` say. A missing field or a strategy this SDK does
// not know throws `NexusError` and nothing is sent.

import { AwsV4Signer } from "aws4fetch";
import { NexusError } from "./errors.js";
import type { components } from "./generated/gateway.js";

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
  return new Request(signed.url, { method: signed.method, headers: signed.headers, body: signed.body ?? null, duplex: "half" } as RequestInit);
}

/**
 * A copy of `request` carrying the credential the way the envelope's strategy says; a signature
 * (AWS Signature Version 4) is made at `now`.
 */
export async function inject(envelope: CredentialEnvelope, request: Request, now: Date = new Date()): Promise<Request> {
  const strategy: Strategy = envelope.strategy;
  const headers = new Headers(request.headers);
  const url = new URL(request.url);
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
      return signAws(envelope, strategy.service, strategy.region, request, now);
    default: {
      const unknown: never = strategy;
      throw new NexusError("unsupported_strategy", `strategy ${JSON.stringify(unknown)} is not supported`);
    }
  }
  if (url.href === request.url) {
    // Same URL: a copy of the request with the new headers (the body is passed on, not read).
    return new Request(request, { headers });
  }
  return new Request(url, { method: request.method, headers, body: request.body, duplex: "half" } as RequestInit);
}
