//! Webhook bodies: endpoints (the signing secret appears once, in the answer to a creation or a
//! rotation) and their delivery logs (status codes and errors, never a receiver's body).

use super::text::{Plain, Text};
use chrono::{DateTime, Utc};
use nexus_domain::audit::Page;
use nexus_domain::secret::ExposeSecret;
use nexus_domain::webhook::{
    DeliveryAttempt, DeliveryStatus, IssuedWebhook, NewWebhook, Webhook, WebhookDelivery, WebhookEventType,
    WebhookPatch,
};
use poem_openapi::{Enum, Object};
use uuid::Uuid;

/// A connection event a webhook can receive
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename = "WebhookEventType")]
// The variants spell the wire names (`connection.*`); other families of events may follow.
#[allow(clippy::enum_variant_names)]
pub enum WebhookEventTypeDto {
    /// The user completed a consent or a capture (a first one or a re-consent)
    #[oai(rename = "connection.active")]
    ConnectionActive,
    /// The consent or capture failed (denied, or the code exchange failed)
    #[oai(rename = "connection.failed")]
    ConnectionFailed,
    /// The consent window passed before the user finished
    #[oai(rename = "connection.expired")]
    ConnectionExpired,
    /// The provider revoked the grant: the user must consent again
    #[oai(rename = "connection.attention_required")]
    ConnectionAttentionRequired,
    /// The connection was revoked (by request, or with its provider)
    #[oai(rename = "connection.revoked")]
    ConnectionRevoked,
    /// Refreshing failed several times in a row for an upstream reason; still retried
    #[oai(rename = "connection.refresh_failed")]
    ConnectionRefreshFailed,
}

impl From<WebhookEventTypeDto> for WebhookEventType {
    fn from(dto: WebhookEventTypeDto) -> Self {
        match dto {
            WebhookEventTypeDto::ConnectionActive => Self::ConnectionActive,
            WebhookEventTypeDto::ConnectionFailed => Self::ConnectionFailed,
            WebhookEventTypeDto::ConnectionExpired => Self::ConnectionExpired,
            WebhookEventTypeDto::ConnectionAttentionRequired => Self::ConnectionAttentionRequired,
            WebhookEventTypeDto::ConnectionRevoked => Self::ConnectionRevoked,
            WebhookEventTypeDto::ConnectionRefreshFailed => Self::ConnectionRefreshFailed,
        }
    }
}

impl From<WebhookEventType> for WebhookEventTypeDto {
    fn from(event: WebhookEventType) -> Self {
        match event {
            WebhookEventType::ConnectionActive => Self::ConnectionActive,
            WebhookEventType::ConnectionFailed => Self::ConnectionFailed,
            WebhookEventType::ConnectionExpired => Self::ConnectionExpired,
            WebhookEventType::ConnectionAttentionRequired => Self::ConnectionAttentionRequired,
            WebhookEventType::ConnectionRevoked => Self::ConnectionRevoked,
            WebhookEventType::ConnectionRefreshFailed => Self::ConnectionRefreshFailed,
        }
    }
}

// Event type names in requests are strings with a pattern rather than the enum, so that an
// unknown one is refused naming the field (`event_types`); the test below keeps the pattern
// and the domain's list in agreement.

#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
#[oai(deny_unknown_fields)]
pub struct WebhookCreate {
    /// Where events are posted: http(s), no user name or password; loopback and private
    /// addresses only when `NEXUS_WEBHOOK_ALLOW_PRIVATE` is on
    #[oai(validator(pattern = r"^https?://[^/?#@\s]+([/?][^#\s]*)?$", max_length = 2048))]
    pub url: Text,
    /// The events this endpoint receives: `connection.active`, `connection.failed`,
    /// `connection.expired`, `connection.attention_required`, `connection.revoked`,
    /// `connection.refresh_failed`
    #[oai(validator(
        min_items = 1,
        max_items = 6,
        pattern = r"^connection\.(active|failed|expired|attention_required|revoked|refresh_failed)$"
    ))]
    pub event_types: Vec<Text>,
    /// Only this workspace's events (every workspace's when absent)
    #[oai(validator(pattern = r"^[A-Za-z0-9._:-]+$", max_length = 128))]
    pub workspace_id: Option<Text>,
    /// Whether events are sent (default `true`)
    pub enabled: Option<bool>,
    /// What the endpoint is for
    #[oai(validator(max_length = 200))]
    pub description: Option<Text>,
}

impl From<WebhookCreate> for NewWebhook {
    fn from(dto: WebhookCreate) -> Self {
        Self {
            url: dto.url.0,
            event_types: dto.event_types.plain(),
            workspace_id: dto.workspace_id.plain(),
            enabled: dto.enabled.unwrap_or(true),
            description: dto.description.plain(),
        }
    }
}

/// Changes to an endpoint: absent fields stay as they are
#[derive(Object, Debug, Clone, Default)]
#[oai(skip_serializing_if_is_none)]
#[oai(deny_unknown_fields)]
pub struct WebhookUpdate {
    #[oai(validator(pattern = r"^https?://[^/?#@\s]+([/?][^#\s]*)?$", max_length = 2048))]
    pub url: Option<Text>,
    /// Replaces the events this endpoint receives (names as on creation)
    #[oai(validator(
        min_items = 1,
        max_items = 6,
        pattern = r"^connection\.(active|failed|expired|attention_required|revoked|refresh_failed)$"
    ))]
    pub event_types: Option<Vec<Text>>,
    /// Only this workspace's events from now on
    #[oai(validator(pattern = r"^[A-Za-z0-9._:-]+$", max_length = 128))]
    pub workspace_id: Option<Text>,
    /// `true` removes the workspace filter: every workspace's events
    pub all_workspaces: Option<bool>,
    pub enabled: Option<bool>,
    /// An empty description removes it
    #[oai(validator(max_length = 200))]
    pub description: Option<Text>,
}

impl From<WebhookUpdate> for WebhookPatch {
    fn from(dto: WebhookUpdate) -> Self {
        let workspace_id = match (dto.workspace_id.plain(), dto.all_workspaces) {
            (Some(only), _) => Some(Some(only)),
            (None, Some(true)) => Some(None),
            (None, _) => None,
        };
        Self {
            url: dto.url.plain(),
            event_types: dto.event_types.plain(),
            workspace_id,
            enabled: dto.enabled,
            description: dto.description.plain().map(Some),
        }
    }
}

/// A secret rotation: how long the old secret keeps signing beside the new one
#[derive(Object, Debug, Clone, Default)]
#[oai(skip_serializing_if_is_none)]
#[oai(deny_unknown_fields)]
pub struct WebhookSecretRotate {
    /// Seconds the old secret stays valid (default 86400, one day; at most 604800; 0 ends it now)
    #[oai(validator(minimum(value = "0"), maximum(value = "604800")))]
    pub grace_period_seconds: Option<u32>,
}

#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
#[oai(rename = "Webhook")]
pub struct WebhookView {
    pub id: Uuid,
    pub url: String,
    pub event_types: Vec<WebhookEventTypeDto>,
    /// The only workspace whose events are sent (absent: every workspace)
    pub workspace_id: Option<String>,
    pub enabled: bool,
    pub description: Option<String>,
    /// Until when the secret replaced by the last rotation still signs deliveries
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Webhook> for WebhookView {
    fn from(webhook: Webhook) -> Self {
        Self {
            id: webhook.id.as_uuid(),
            url: webhook.url.to_string(),
            event_types: webhook.event_types.into_iter().map(Into::into).collect(),
            workspace_id: webhook.workspace_id.map(String::from),
            enabled: webhook.enabled,
            description: webhook.description,
            previous_secret_expires_at: webhook.previous_secret_expires_at,
            created_at: webhook.created_at,
            updated_at: webhook.updated_at,
        }
    }
}

/// An endpoint with its signing secret, shown this once (on creation and on rotation)
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct WebhookWithSecret {
    pub webhook: WebhookView,
    /// The Standard Webhooks signing secret (`whsec_...`) receivers verify deliveries with
    pub secret: String,
}

impl std::fmt::Debug for WebhookWithSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookWithSecret")
            .field("webhook", &self.webhook)
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

impl From<IssuedWebhook> for WebhookWithSecret {
    fn from(issued: IssuedWebhook) -> Self {
        Self {
            webhook: issued.webhook.into(),
            secret: issued.secret.expose_secret().to_owned(),
        }
    }
}

#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
pub struct WebhookList {
    pub items: Vec<WebhookView>,
}

/// Where a delivery stands
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename = "WebhookDeliveryStatus", rename_all = "snake_case")]
pub enum DeliveryStatusDto {
    /// Waiting for its first attempt or its next retry (`next_attempt_at`)
    Pending,
    /// The receiver answered 2xx
    Delivered,
    /// No attempt succeeded within the retry period (or the endpoint was disabled)
    Failed,
}

impl From<DeliveryStatus> for DeliveryStatusDto {
    fn from(status: DeliveryStatus) -> Self {
        match status {
            DeliveryStatus::Pending => Self::Pending,
            DeliveryStatus::Delivered => Self::Delivered,
            DeliveryStatus::Failed => Self::Failed,
        }
    }
}

/// One try at a delivery
#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
#[oai(rename = "WebhookAttempt")]
pub struct AttemptView {
    pub attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status, when it answered
    pub status_code: Option<u16>,
    /// Why the attempt failed: `http_status`, `timeout`, `connect`, `refused_address`,
    /// `redirect`, `transport`, `signing_failed`, `endpoint_disabled` or `endpoint_filtered` (the
    /// endpoint no longer wants the event or its workspace)
    pub error: Option<String>,
    pub duration_ms: u64,
}

impl From<DeliveryAttempt> for AttemptView {
    fn from(attempt: DeliveryAttempt) -> Self {
        Self {
            attempted_at: attempt.attempted_at,
            status_code: attempt.status_code,
            error: attempt.error,
            duration_ms: attempt.duration_ms,
        }
    }
}

/// One event for one endpoint; `id` is the `webhook-id` header of every attempt
#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
#[oai(rename = "WebhookDelivery")]
pub struct DeliveryView {
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub event_type: WebhookEventTypeDto,
    pub connection_id: Uuid,
    pub status: DeliveryStatusDto,
    /// When the next attempt is due (pending deliveries only)
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// Every attempt, oldest first
    pub attempts: Vec<AttemptView>,
}

impl From<WebhookDelivery> for DeliveryView {
    fn from(delivery: WebhookDelivery) -> Self {
        Self {
            id: delivery.id.as_uuid(),
            webhook_id: delivery.webhook_id.as_uuid(),
            event_type: delivery.event_type.into(),
            connection_id: delivery.connection_id.as_uuid(),
            status: delivery.status.into(),
            next_attempt_at: delivery.next_attempt_at,
            created_at: delivery.created_at,
            delivered_at: delivery.delivered_at,
            attempts: delivery.attempts.into_iter().map(Into::into).collect(),
        }
    }
}

/// A page of deliveries, newest first
#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
pub struct WebhookDeliveryPage {
    pub items: Vec<DeliveryView>,
    /// Pass as `cursor` for the next (older) page; absent on the last page
    pub next_cursor: Option<String>,
}

impl From<Page<WebhookDelivery>> for WebhookDeliveryPage {
    fn from(page: Page<WebhookDelivery>) -> Self {
        Self {
            items: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_pattern_takes_every_event_type_and_nothing_else() {
        let pattern =
            regex::Regex::new(r"^connection\.(active|failed|expired|attention_required|revoked|refresh_failed)$")
                .expect("pattern");
        for event in WebhookEventType::ALL {
            assert!(pattern.is_match(event.as_str()), "{event}");
            let dto = WebhookEventTypeDto::from(event);
            assert_eq!(WebhookEventType::from(dto), event);
        }
        assert_eq!(
            WebhookEventType::ALL.len(),
            6,
            "a new event type belongs in the pattern too"
        );
        assert!(!pattern.is_match("connection.created"));
    }
}
