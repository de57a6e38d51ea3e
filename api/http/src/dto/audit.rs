//! Audit-event bodies: event data is a JSON object, never a string, and never holds a secret.

use chrono::{DateTime, Utc};
use nexus_domain::audit::{AuditEvent, AuditEventType, Page};
use poem_openapi::{Enum, Object};
use uuid::Uuid;

/// What happened
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename = "AuditEventType", rename_all = "snake_case")]
pub enum AuditEventTypeDto {
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
    /// A request the proxy forwarded with the connection's credential
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
    AuditEventsDropped,
}

impl From<AuditEventType> for AuditEventTypeDto {
    fn from(event_type: AuditEventType) -> Self {
        match event_type {
            AuditEventType::ProviderCreated => Self::ProviderCreated,
            AuditEventType::ProviderUpdated => Self::ProviderUpdated,
            AuditEventType::ProviderDeleted => Self::ProviderDeleted,
            AuditEventType::ConsentCreated => Self::ConsentCreated,
            AuditEventType::ConnectionActivated => Self::ConnectionActivated,
            AuditEventType::ConnectionFailed => Self::ConnectionFailed,
            AuditEventType::ConnectionExpired => Self::ConnectionExpired,
            AuditEventType::ConnectionAttentionRequired => Self::ConnectionAttentionRequired,
            AuditEventType::ConnectionRevoked => Self::ConnectionRevoked,
            AuditEventType::CredentialCaptured => Self::CredentialCaptured,
            AuditEventType::TokenRead => Self::TokenRead,
            AuditEventType::ProxyCall => Self::ProxyCall,
            AuditEventType::TokenRefreshed => Self::TokenRefreshed,
            AuditEventType::TokenRefreshFailed => Self::TokenRefreshFailed,
            AuditEventType::AgentKeyCreated => Self::AgentKeyCreated,
            AuditEventType::AgentKeyDeleted => Self::AgentKeyDeleted,
            AuditEventType::AuthenticationFailed => Self::AuthenticationFailed,
            AuditEventType::WebhookCreated => Self::WebhookCreated,
            AuditEventType::WebhookUpdated => Self::WebhookUpdated,
            AuditEventType::WebhookDeleted => Self::WebhookDeleted,
            AuditEventType::WebhookSecretRotated => Self::WebhookSecretRotated,
            AuditEventType::WebhookRedelivered => Self::WebhookRedelivered,
            AuditEventType::AuditEventsDropped => Self::AuditEventsDropped,
        }
    }
}

impl From<AuditEventTypeDto> for AuditEventType {
    fn from(event_type: AuditEventTypeDto) -> Self {
        match event_type {
            AuditEventTypeDto::ProviderCreated => Self::ProviderCreated,
            AuditEventTypeDto::ProviderUpdated => Self::ProviderUpdated,
            AuditEventTypeDto::ProviderDeleted => Self::ProviderDeleted,
            AuditEventTypeDto::ConsentCreated => Self::ConsentCreated,
            AuditEventTypeDto::ConnectionActivated => Self::ConnectionActivated,
            AuditEventTypeDto::ConnectionFailed => Self::ConnectionFailed,
            AuditEventTypeDto::ConnectionExpired => Self::ConnectionExpired,
            AuditEventTypeDto::ConnectionAttentionRequired => Self::ConnectionAttentionRequired,
            AuditEventTypeDto::ConnectionRevoked => Self::ConnectionRevoked,
            AuditEventTypeDto::CredentialCaptured => Self::CredentialCaptured,
            AuditEventTypeDto::TokenRead => Self::TokenRead,
            AuditEventTypeDto::ProxyCall => Self::ProxyCall,
            AuditEventTypeDto::TokenRefreshed => Self::TokenRefreshed,
            AuditEventTypeDto::TokenRefreshFailed => Self::TokenRefreshFailed,
            AuditEventTypeDto::AgentKeyCreated => Self::AgentKeyCreated,
            AuditEventTypeDto::AgentKeyDeleted => Self::AgentKeyDeleted,
            AuditEventTypeDto::AuthenticationFailed => Self::AuthenticationFailed,
            AuditEventTypeDto::WebhookCreated => Self::WebhookCreated,
            AuditEventTypeDto::WebhookUpdated => Self::WebhookUpdated,
            AuditEventTypeDto::WebhookDeleted => Self::WebhookDeleted,
            AuditEventTypeDto::WebhookSecretRotated => Self::WebhookSecretRotated,
            AuditEventTypeDto::WebhookRedelivered => Self::WebhookRedelivered,
            AuditEventTypeDto::AuditEventsDropped => Self::AuditEventsDropped,
        }
    }
}

#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
#[oai(rename = "AuditEvent")]
pub struct AuditEventView {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub event_type: AuditEventTypeDto,
    /// `admin:<key fingerprint>`, `agent_key:<id>`, `system` or `anonymous`
    pub actor: String,
    pub provider_id: Option<Uuid>,
    pub connection_id: Option<Uuid>,
    pub workspace_id: Option<String>,
    pub data: serde_json::Value,
}

impl From<AuditEvent> for AuditEventView {
    fn from(event: AuditEvent) -> Self {
        Self {
            id: event.id.as_uuid(),
            occurred_at: event.occurred_at,
            event_type: event.event_type.into(),
            actor: event.actor,
            provider_id: event.provider_id.map(|id| id.as_uuid()),
            connection_id: event.connection_id.map(|id| id.as_uuid()),
            workspace_id: event.workspace_id,
            data: event.data,
        }
    }
}

#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
pub struct AuditEventPage {
    pub items: Vec<AuditEventView>,
    /// Pass as `cursor` to get the next page; absent on the last page
    pub next_cursor: Option<String>,
}

impl From<Page<AuditEvent>> for AuditEventPage {
    fn from(page: Page<AuditEvent>) -> Self {
        Self {
            items: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        }
    }
}
