//! Webhooks: endpoints that receive connection events, the events themselves (never a
//! credential), and the deliveries made to an endpoint with their attempts.

use crate::ids::{ConnectionId, DeliveryId, WebhookId};
use crate::names::WorkspaceId;
use crate::secret::SecretString;
use crate::status::ConnectionStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use url::Url;

/// What happened to a connection.
// The variants spell the wire names (`connection.*`); other families of events may follow.
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum WebhookEventType {
    #[serde(rename = "connection.active")]
    ConnectionActive,
    #[serde(rename = "connection.failed")]
    ConnectionFailed,
    #[serde(rename = "connection.expired")]
    ConnectionExpired,
    #[serde(rename = "connection.attention_required")]
    ConnectionAttentionRequired,
    #[serde(rename = "connection.revoked")]
    ConnectionRevoked,
    /// Background refresh failed several times in a row for an upstream reason (the provider
    /// is down or rate limiting); the connection stays active and is retried.
    #[serde(rename = "connection.refresh_failed")]
    ConnectionRefreshFailed,
}

impl WebhookEventType {
    pub const ALL: [Self; 6] = [
        Self::ConnectionActive,
        Self::ConnectionFailed,
        Self::ConnectionExpired,
        Self::ConnectionAttentionRequired,
        Self::ConnectionRevoked,
        Self::ConnectionRefreshFailed,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ConnectionActive => "connection.active",
            Self::ConnectionFailed => "connection.failed",
            Self::ConnectionExpired => "connection.expired",
            Self::ConnectionAttentionRequired => "connection.attention_required",
            Self::ConnectionRevoked => "connection.revoked",
            Self::ConnectionRefreshFailed => "connection.refresh_failed",
        }
    }

    /// The event a connection entering `status` raises (`pending` raises none).
    pub const fn entering(status: ConnectionStatus) -> Option<Self> {
        match status {
            ConnectionStatus::Pending => None,
            ConnectionStatus::Active => Some(Self::ConnectionActive),
            ConnectionStatus::Failed => Some(Self::ConnectionFailed),
            ConnectionStatus::Expired => Some(Self::ConnectionExpired),
            ConnectionStatus::AttentionRequired => Some(Self::ConnectionAttentionRequired),
            ConnectionStatus::Revoked => Some(Self::ConnectionRevoked),
        }
    }
}

impl FromStr for WebhookEventType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| {
            let known: Vec<&str> = Self::ALL.iter().map(|t| t.as_str()).collect();
            format!("unknown event type `{s}` (known: {})", known.join(", "))
        })
    }
}

impl fmt::Display for WebhookEventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event about one connection, as its receivers see it in `data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionEvent {
    pub connection_id: ConnectionId,
    pub workspace_id: String,
    /// The provider's name.
    pub provider: String,
    /// The connection's status after the event.
    pub status: ConnectionStatus,
    /// A stable code for why (`consent_completed`, `invalid_grant`, `upstream_unavailable`, ...).
    pub reason: String,
    pub occurred_at: DateTime<Utc>,
}

/// The body every delivery carries, in the Standard Webhooks shape: `type`, `timestamp`, `data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookPayload {
    #[serde(rename = "type")]
    pub event_type: WebhookEventType,
    pub timestamp: DateTime<Utc>,
    pub data: ConnectionEvent,
}

/// A registered endpoint. Its signing secret is never part of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: WebhookId,
    pub url: Url,
    pub event_types: Vec<WebhookEventType>,
    /// Only this workspace's events, or every workspace's.
    pub workspace_id: Option<WorkspaceId>,
    pub enabled: bool,
    pub description: Option<String>,
    /// Until when the signing secret replaced by the last rotation still signs deliveries.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Webhook {
    /// Whether this endpoint wants `event` about a connection in `workspace`.
    pub fn wants(&self, event: WebhookEventType, workspace: &str) -> bool {
        self.enabled
            && self.event_types.contains(&event)
            && self.workspace_id.as_ref().is_none_or(|only| only.as_str() == workspace)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhook {
    pub url: String,
    pub event_types: Vec<String>,
    pub workspace_id: Option<String>,
    pub enabled: bool,
    pub description: Option<String>,
}

/// A change to an endpoint; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    /// `Some(None)` removes the workspace filter.
    pub workspace_id: Option<Option<String>>,
    pub enabled: Option<bool>,
    pub description: Option<Option<String>>,
}

/// An endpoint with its signing secret, shown once: on creation and on rotation.
#[derive(Debug, Clone)]
pub struct IssuedWebhook {
    pub webhook: Webhook,
    pub secret: SecretString,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its first attempt or its next retry.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt within the retry period failed.
    Failed,
}

impl DeliveryStatus {
    pub const ALL: [Self; 3] = [Self::Pending, Self::Delivered, Self::Failed];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }
}

impl FromStr for DeliveryStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown delivery status `{s}`"))
    }
}

/// One try at delivering: what the receiver answered (never its body) or why nothing came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<u16>,
    /// A stable code when no 2xx came back (`http_status`, `timeout`, `connect`, `refused_address`, ...).
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// One event for one endpoint; its id is the `webhook-id` every attempt carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    pub id: DeliveryId,
    pub webhook_id: WebhookId,
    pub event_type: WebhookEventType,
    pub connection_id: ConnectionId,
    pub status: DeliveryStatus,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub attempts: Vec<DeliveryAttempt>,
}

/// What a URL must be to receive webhooks, before any address is looked at: http(s), a host,
/// no credentials in it, no fragment.
pub fn check_webhook_url(raw: &str) -> Result<Url, String> {
    const MAX_LEN: usize = 2048;
    if raw.len() > MAX_LEN {
        return Err(format!("must be at most {MAX_LEN} characters"));
    }
    let url = Url::parse(raw).map_err(|e| format!("is not a URL ({e})"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err("must be an http or https URL".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password".to_owned());
    }
    if url.host().is_none() {
        return Err("must name a host".to_owned());
    }
    if url.fragment().is_some() {
        return Err("must not have a fragment".to_owned());
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_round_trip_and_unknown_ones_are_named() {
        for event in WebhookEventType::ALL {
            assert_eq!(event.as_str().parse::<WebhookEventType>(), Ok(event));
            assert_eq!(
                serde_json::to_value(event).expect("serializes"),
                serde_json::json!(event.as_str())
            );
        }
        let error = "connection.created".parse::<WebhookEventType>().expect_err("unknown");
        assert!(
            error.contains("connection.created") && error.contains("connection.active"),
            "{error}"
        );
    }

    #[test]
    fn webhook_urls_are_http_with_a_host_and_no_credentials() {
        assert!(check_webhook_url("https://hooks.example.com/nexus?x=1").is_ok());
        assert!(check_webhook_url("http://127.0.0.1:8080/in").is_ok());
        for (raw, fragment) in [
            ("ftp://example.com/", "http or https"),
            ("https://user:pw@example.com/", "user name or password"),
            ("https://user@example.com/", "user name or password"),
            ("https://example.com/#x", "fragment"),
            ("not a url", "is not a URL"),
            ("file:///etc/passwd", "http or https"),
        ] {
            let error = check_webhook_url(raw).expect_err(raw);
            assert!(error.contains(fragment), "{raw}: {error}");
        }
    }

    #[test]
    fn an_endpoint_wants_its_types_in_its_workspace_only() {
        let webhook = Webhook {
            id: WebhookId::new(),
            url: Url::parse("https://hooks.example.com").expect("url"),
            event_types: vec![WebhookEventType::ConnectionActive],
            workspace_id: Some(WorkspaceId::parse("ws-1").expect("workspace")),
            enabled: true,
            description: None,
            previous_secret_expires_at: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        assert!(webhook.wants(WebhookEventType::ConnectionActive, "ws-1"));
        assert!(!webhook.wants(WebhookEventType::ConnectionActive, "ws-2"));
        assert!(!webhook.wants(WebhookEventType::ConnectionRevoked, "ws-1"));
        let disabled = Webhook {
            enabled: false,
            ..webhook
        };
        assert!(!disabled.wants(WebhookEventType::ConnectionActive, "ws-1"));
    }
}
