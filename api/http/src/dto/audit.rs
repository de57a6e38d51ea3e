//! Audit-event bodies: event data is a JSON object, never a string, and never holds a secret.

use chrono::{DateTime, Utc};
use nexus_domain::audit::{AuditEvent, Page};
use poem_openapi::Object;
use uuid::Uuid;

#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
#[oai(rename = "AuditEvent")]
pub struct AuditEventView {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub event_type: String,
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
            event_type: event.event_type.as_str().to_owned(),
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
