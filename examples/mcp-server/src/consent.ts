// When only the user can help (the workspace has no usable connection, the provider wants their
// consent again, or the connection lacks scopes), a consent link from Nexus, handed to the MCP
// client as a URL elicitation (MCP 2025-11-25, JSON-RPC error -32042): the client shows it to the
// user, not to the model, so no model can pass the link to someone else to connect their account.

import { randomUUID } from "node:crypto";
import { UrlElicitationRequiredError } from "@modelcontextprotocol/sdk/types.js";
import { type Credentials, InsufficientScopeError, type NexusError } from "nexus-broker-client";

/** Nexus's answers after which a new connection is what the user must make. */
const NEW_CONNECTION: ReadonlySet<string> = new Set(["connection_not_found", "connection_revoked", "connection_failed", "connection_expired"]);
/** Those after which the user consents again to the same connection (its id is kept). */
const SAME_CONNECTION: ReadonlySet<string> = new Set(["attention_required", "insufficient_scope"]);

export interface ConsentTarget {
  workspaceId: string;
  provider: string;
  returnUrl: string;
}

/** Whether the error is one only the user can resolve, by following a consent link. */
export function needsTheUser(error: NexusError): boolean {
  return NEW_CONNECTION.has(error.code) || SAME_CONNECTION.has(error.code);
}

/** Asks Nexus for the consent link `error` calls for, as the MCP SDK's URL elicitation error. */
export async function consentElicitation(credentials: Credentials, error: NexusError, target: ConsentTarget): Promise<UrlElicitationRequiredError> {
  const again = SAME_CONNECTION.has(error.code) && error.connectionId !== undefined;
  const requested = await credentials.requestConnection({
    ...target,
    ...(again && error.connectionId !== undefined ? { connectionId: error.connectionId } : {}),
    // An incremental consent: the grant the connection has, and what it lacks.
    ...(error instanceof InsufficientScopeError ? { scopes: error.missingScopes } : {}),
  });
  const message = again
    ? `${target.provider} needs your approval again before this tool can use your account. Open the link, then try again.`
    : `Connect your ${target.provider} account so this tool can use it. Open the link, then try again.`;
  return new UrlElicitationRequiredError([{ mode: "url", message, url: requested.auth_url, elicitationId: randomUUID() }], message);
}
