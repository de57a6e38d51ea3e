// Nexus client for TypeScript: typed Broker and Gateway clients over openapi-fetch, with the
// types generated from the committed specs (`src/generated`, by `cargo xtask clients generate`).
// The key is sent as a bearer token and never appears in a client's string form. `createFetcher`
// sends with a credential: only to the origins it may go to, following redirects itself; or, with
// `{ proxy: true }`, through the Gateway's proxy, so the credential never reaches the caller.

import createClient, { type Client } from "openapi-fetch";
import type { paths as BrokerPaths, components as BrokerComponents } from "./generated/broker.js";
import type { paths as GatewayPaths, components as GatewayComponents } from "./generated/gateway.js";
import { USER_AGENT } from "./version.js";

export type { BrokerPaths, GatewayPaths };
export { InsufficientScopeError, NexusError } from "./errors.js";
export { envelopeFromJson, inject, type CredentialEnvelope, type InjectOptions } from "./inject.js";
export { originAllowed } from "./origins.js";
export { USER_AGENT, VERSION } from "./version.js";
export {
  Credentials,
  DEFAULT_TIMEOUT_MS,
  createFetcher,
  type ConnectionRequest,
  type ConnectionRequested,
  type FetcherOptions,
  type CredentialsOptions,
  type ScopeRequest,
  type Target,
} from "./credentials.js";
export type BrokerSchemas = BrokerComponents["schemas"];
export type GatewaySchemas = GatewayComponents["schemas"];
/** The body of every non-2xx answer. */
export type NexusErrorBody = GatewaySchemas["Error"];

export interface ClientOptions {
  /** The API's base URL, such as `http://127.0.0.1:8090` (a trailing slash is ignored). */
  baseUrl: string;
  /** An agent key (Gateway), or an admin key (Broker). */
  key: string;
  /** A `fetch` to use instead of the global one. */
  fetch?: typeof globalThis.fetch;
}

function create<Paths extends {}>(options: ClientOptions): Client<Paths> {
  const client = createClient<Paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    headers: { Authorization: `Bearer ${options.key}`, "User-Agent": USER_AGENT },
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  });
  // Never print the key: the client's string form names the API, not its headers.
  Object.defineProperty(client, "toString", { value: () => "NexusClient([REDACTED])" });
  return client;
}

/** A Gateway client (agent key): catalog, request-connection, check-connection, token, resolve, refresh. */
export function createGatewayClient(options: ClientOptions): Client<GatewayPaths> {
  return create<GatewayPaths>(options);
}

/** A Broker client (admin key): providers, consents, connections, agent keys, audit. */
export function createBrokerClient(options: ClientOptions): Client<BrokerPaths> {
  return create<BrokerPaths>(options);
}
