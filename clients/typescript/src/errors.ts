// The SDK's typed error: what the Gateway answered (its stable `code`, `message`, `request_id`,
// and the `field` or `connection_id` it is about), or why the SDK itself refused (`code` such as
// `missing_credential_field`). `insufficient_scope` is its own type, `InsufficientScopeError`,
// with the scopes the connection lacks. Never holds a key or a token.

export interface NexusErrorDetails {
  status?: number;
  requestId?: string;
  field?: string;
  connectionId?: string;
}

export class NexusError extends Error {
  readonly code: string;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly field: string | undefined;
  readonly connectionId: string | undefined;

  constructor(code: string, message: string, details: NexusErrorDetails = {}) {
    super(`${code}: ${message}`);
    this.name = "NexusError";
    this.code = code;
    this.status = details.status;
    this.requestId = details.requestId;
    this.field = details.field;
    this.connectionId = details.connectionId;
  }
}

/**
 * The connection lacks scopes the read named: `missingScopes`. Start an incremental consent of
 * `connectionId` with `Credentials.requestScopes` (the same connection id; the user grants the
 * union of what it has and what is missing).
 */
export class InsufficientScopeError extends NexusError {
  readonly missingScopes: readonly string[];
  override readonly connectionId: string;

  constructor(message: string, missingScopes: readonly string[], connectionId: string, details: Omit<NexusErrorDetails, "connectionId" | "field"> = {}) {
    super("insufficient_scope", message, { ...details, connectionId });
    this.name = "InsufficientScopeError";
    this.missingScopes = missingScopes;
    this.connectionId = connectionId;
  }
}
