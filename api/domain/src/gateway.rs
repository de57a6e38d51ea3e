//! What the Gateway API serves and reports: a connection's state as an agent polls it, how long
//! a served envelope may be served again, and what a split Gateway reads, serves from its cache
//! and reports back.

use crate::connection::Connection;
use crate::connection::CredentialEnvelope;
use crate::ids::ConnectionId;
use crate::names::{ProviderName, Scope, WorkspaceId};
use crate::status::ConnectionStatus;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// How long a served envelope may be served again without asking the database (one process)
/// or the Broker (a split Gateway). Writes in the same process invalidate it at once; writes
/// anywhere else (another replica, or the Broker behind a split Gateway) are seen within this.
pub const ENVELOPE_CACHE_TTL: Duration = Duration::from_secs(2);

/// A connection as an agent polls it: no configuration, no return URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionState {
    pub id: ConnectionId,
    pub workspace_id: WorkspaceId,
    pub provider: ProviderName,
    pub status: ConnectionStatus,
    /// What the provider granted, or what was requested while it has not said.
    pub scopes: Vec<Scope>,
    /// What the provider granted (the requested scopes when it did not say); empty before the
    /// first grant, and unchanged by an incremental consent the user has not completed.
    pub granted_scopes: Vec<Scope>,
    pub updated_at: DateTime<Utc>,
    pub error: Option<String>,
}

impl From<Connection> for ConnectionState {
    fn from(c: Connection) -> Self {
        Self {
            id: c.id,
            workspace_id: c.workspace_id,
            provider: c.provider_name,
            status: c.status,
            granted_scopes: match (&c.granted_scopes, c.activated_at) {
                (Some(granted), _) => granted.clone(),
                (None, Some(_)) => c.requested_scopes.clone(),
                (None, None) => Vec::new(),
            },
            scopes: c.granted_scopes.unwrap_or(c.requested_scopes),
            updated_at: c.updated_at,
            error: c.error,
        }
    }
}

/// A credential read through the Broker by a split Gateway, with what the Gateway may do with it:
/// serve it again to the same agent key for `cache_for` (never past the refresh skew, never
/// longer than [`ENVELOPE_CACHE_TTL`]), and report those reads with `receipt`, which the Broker
/// signed: it names the agent key, connection, workspace and provider of this read, so a report
/// can only count reads the Broker itself served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayRead {
    pub envelope: CredentialEnvelope,
    pub receipt: String,
    pub cache_for: Duration,
    /// How long from now the Gateway may still serve it when the Broker cannot answer
    /// (stale-if-error, within the Broker's bound and never within the refresh skew).
    pub stale_for: Duration,
}

/// Reads a split Gateway served from its cache under one receipt, reported to the Broker so the
/// audit trail and the metrics count every read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedReads {
    pub receipt: String,
    pub reads: u64,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    /// Served while the Broker could not answer. A receipt's fresh reads and its stale reads are
    /// each reported, and counted, once.
    pub stale: bool,
}
