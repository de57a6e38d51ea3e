//! What the Gateway API serves and reports: a connection's state as an agent polls it, how long
//! a served envelope may be served again, and reads a split Gateway served from its cache.

use crate::connection::Connection;
use crate::ids::{AgentKeyId, ConnectionId};
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
            scopes: c.granted_scopes.unwrap_or(c.requested_scopes),
            updated_at: c.updated_at,
            error: c.error,
        }
    }
}

/// Reads of one connection by one agent key that a split Gateway served from its cache, reported
/// to the Broker so the audit trail and the metrics count every read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedReads {
    pub agent_key_id: AgentKeyId,
    pub connection_id: ConnectionId,
    pub reads: u64,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
}
