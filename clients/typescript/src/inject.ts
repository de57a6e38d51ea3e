// Applying a credential envelope's strategy to an outgoing `Request`, exactly as the shared
// vectors in `clients/testdata/strategies.json` say. A missing field or a strategy this SDK does
// not know throws `NexusError` and nothing is sent.

import { NexusError } from "./errors.js";
import type { components } from "./generated/gateway.js";

export type CredentialEnvelope = components["schemas"]["CredentialEnvelope"];
type Strategy = CredentialEnvelope["strategy"];

const DEFAULT_API_KEY_HEADER = "X-API-Key";
const DEFAULT_CREDENTIAL_FIELD = "api_key";
const KNOWN: ReadonlySet<string> = new Set(["oauth2", "header", "query_param", "basic_auth", "api_key"]);

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

/** A copy of `request` carrying the credential the way the envelope's strategy says. */
export function inject(envelope: CredentialEnvelope, request: Request): Request {
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
