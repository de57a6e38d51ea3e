//! Audit events: what happened, to what, by whom. Event data never holds a secret.

use crate::agent_key::Actor;
use crate::ids::{AuditEventId, ConnectionId, ProviderId};
use crate::names::WorkspaceId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditEventType {
    ProviderCreated,
    ProviderUpdated,
    ProviderDeleted,
    ConsentCreated,
    ConnectionActivated,
    ConnectionFailed,
    ConnectionExpired,
    ConnectionAttentionRequired,
    ConnectionRevoked,
    CredentialCaptured,
    TokenRead,
    /// A request forwarded by the proxy with the connection's credential.
    ProxyCall,
    TokenRefreshed,
    TokenRefreshFailed,
    AgentKeyCreated,
    AgentKeyDeleted,
    AuthenticationFailed,
    WebhookCreated,
    WebhookUpdated,
    WebhookDeleted,
    WebhookSecretRotated,
    WebhookRedelivered,
    /// Audit events lost because the database stayed away past the audit buffer's bound:
    /// `events`, `first_at`, `last_at`. Never silent.
    AuditEventsDropped,
}

impl AuditEventType {
    pub const ALL: [Self; 23] = [
        Self::ProviderCreated,
        Self::ProviderUpdated,
        Self::ProviderDeleted,
        Self::ConsentCreated,
        Self::ConnectionActivated,
        Self::ConnectionFailed,
        Self::ConnectionExpired,
        Self::ConnectionAttentionRequired,
        Self::ConnectionRevoked,
        Self::CredentialCaptured,
        Self::TokenRead,
        Self::ProxyCall,
        Self::TokenRefreshed,
        Self::TokenRefreshFailed,
        Self::AgentKeyCreated,
        Self::AgentKeyDeleted,
        Self::AuthenticationFailed,
        Self::WebhookCreated,
        Self::WebhookUpdated,
        Self::WebhookDeleted,
        Self::WebhookSecretRotated,
        Self::WebhookRedelivered,
        Self::AuditEventsDropped,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ProviderCreated => "provider_created",
            Self::ProviderUpdated => "provider_updated",
            Self::ProviderDeleted => "provider_deleted",
            Self::ConsentCreated => "consent_created",
            Self::ConnectionActivated => "connection_activated",
            Self::ConnectionFailed => "connection_failed",
            Self::ConnectionExpired => "connection_expired",
            Self::ConnectionAttentionRequired => "connection_attention_required",
            Self::ConnectionRevoked => "connection_revoked",
            Self::CredentialCaptured => "credential_captured",
            Self::TokenRead => "token_read",
            Self::ProxyCall => "proxy_call",
            Self::TokenRefreshed => "token_refreshed",
            Self::TokenRefreshFailed => "token_refresh_failed",
            Self::AgentKeyCreated => "agent_key_created",
            Self::AgentKeyDeleted => "agent_key_deleted",
            Self::AuthenticationFailed => "authentication_failed",
            Self::WebhookCreated => "webhook_created",
            Self::WebhookUpdated => "webhook_updated",
            Self::WebhookDeleted => "webhook_deleted",
            Self::WebhookSecretRotated => "webhook_secret_rotated",
            Self::WebhookRedelivered => "webhook_redelivered",
            Self::AuditEventsDropped => "audit_events_dropped",
        }
    }
}

impl FromStr for AuditEventType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| format!("unknown audit event type `{s}`"))
    }
}

/// An event to record. Ids are not checked against their tables: an event about an unknown
/// id is still stored (the Go system lost those to a foreign key). Serialized only to the audit
/// spool (events kept on disk while the database is away).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAuditEvent {
    pub event_type: AuditEventType,
    pub actor: Actor,
    pub provider_id: Option<ProviderId>,
    pub connection_id: Option<ConnectionId>,
    pub workspace_id: Option<WorkspaceId>,
    pub data: serde_json::Value,
}

impl NewAuditEvent {
    pub fn new(event_type: AuditEventType, actor: &Actor) -> Self {
        Self {
            event_type,
            actor: actor.clone(),
            provider_id: None,
            connection_id: None,
            workspace_id: None,
            data: serde_json::Value::Object(serde_json::Map::new()),
        }
    }

    pub fn provider(mut self, id: ProviderId) -> Self {
        self.provider_id = Some(id);
        self
    }

    pub fn connection(mut self, id: ConnectionId) -> Self {
        self.connection_id = Some(id);
        self
    }

    pub fn workspace(mut self, id: WorkspaceId) -> Self {
        self.workspace_id = Some(id);
        self
    }

    pub fn data(mut self, data: serde_json::Value) -> Self {
        self.data = data;
        self
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub id: AuditEventId,
    pub occurred_at: DateTime<Utc>,
    pub event_type: AuditEventType,
    /// The stored actor string (`admin:<fingerprint>`, `agent_key:<id>`, `system`, `anonymous`).
    pub actor: String,
    pub provider_id: Option<ProviderId>,
    pub connection_id: Option<ConnectionId>,
    pub workspace_id: Option<String>,
    pub data: serde_json::Value,
}

#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub event_type: Option<AuditEventType>,
    pub connection_id: Option<ConnectionId>,
    pub since: Option<DateTime<Utc>>,
    /// Cursor: only events after this one (ids are time-ordered).
    pub after: Option<AuditEventId>,
    pub limit: u64,
}

/// One page of a list and the cursor of the next, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}
