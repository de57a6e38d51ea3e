//! Webhooks: operators register endpoints (their signing secret shown once, sealed like every
//! other secret), rotate secrets with a grace period, read delivery logs and redeliver. The
//! events themselves are written by the repositories inside each state change's transaction;
//! [`delivery`] sends them.

mod delivery;
mod secrets;
mod target;

pub use delivery::{DeliveryDeps, DeliveryTask, DeliveryWorker, WebhookMetrics, WebhookSettings};
pub use secrets::{SigningSecrets, generate_secret, secrets_aad};
pub use target::TargetPolicy;

use crate::audit::AuditServiceImpl;
use crate::paging::{page, page_size};
use crate::repo_errors::internal;
use async_trait::async_trait;
use nexus_crypto::Keyring;
use nexus_domain::agent_key::Actor;
use nexus_domain::audit::{AuditEventType, NewAuditEvent, Page};
use nexus_domain::clock::Clock;
use nexus_domain::ports::{AuditService, ServiceResult, WebhookService};
use nexus_domain::webhook::{
    IssuedWebhook, NewWebhook, Webhook, WebhookDelivery, WebhookEventType, WebhookPatch, check_webhook_url,
};
use nexus_domain::{DeliveryId, ResourceKind, ServiceError, WebhookId, WorkspaceId};
use nexus_repositories::{WebhookOutboxRepository, WebhookRecord, WebhookRepository};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

const MAX_DESCRIPTION_LEN: usize = 200;
/// The longest grace period a rotation may give the old secret.
pub const MAX_ROTATION_GRACE: Duration = Duration::from_secs(7 * 86_400);

pub struct WebhookServiceImpl {
    repo: Arc<dyn WebhookRepository>,
    outbox: Arc<dyn WebhookOutboxRepository>,
    keyring: Arc<Keyring>,
    audit: Arc<dyn AuditService>,
    clock: Arc<dyn Clock>,
    targets: TargetPolicy,
}

impl std::fmt::Debug for WebhookServiceImpl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookServiceImpl")
            .field("targets", &self.targets)
            .finish_non_exhaustive()
    }
}

impl WebhookServiceImpl {
    pub fn new(
        repo: Arc<dyn WebhookRepository>,
        outbox: Arc<dyn WebhookOutboxRepository>,
        keyring: Arc<Keyring>,
        audit: Arc<dyn AuditService>,
        clock: Arc<dyn Clock>,
        targets: TargetPolicy,
    ) -> Self {
        Self {
            repo,
            outbox,
            keyring,
            audit,
            clock,
            targets,
        }
    }

    async fn checked_url(&self, raw: &str) -> ServiceResult<Url> {
        let url = check_webhook_url(raw).map_err(|message| ServiceError::invalid("url", message))?;
        self.targets
            .check(&url)
            .await
            .map_err(|error| ServiceError::invalid("url", error.to_string()))?;
        Ok(url)
    }

    async fn record(&self, event: AuditEventType, actor: &Actor, data: serde_json::Value) {
        AuditServiceImpl::record_or_log(self.audit.as_ref(), NewAuditEvent::new(event, actor).data(data)).await;
    }

    async fn existing(&self, id: WebhookId) -> ServiceResult<WebhookRecord> {
        self.repo
            .find(id)
            .await
            .map_err(internal("reading a webhook"))?
            .ok_or_else(|| ServiceError::not_found(ResourceKind::Webhook, id))
    }
}

fn event_types(raw: &[String]) -> ServiceResult<Vec<WebhookEventType>> {
    if raw.is_empty() {
        return Err(ServiceError::invalid(
            "event_types",
            "must name at least one event type",
        ));
    }
    let mut types = raw
        .iter()
        .map(|name| {
            name.parse()
                .map_err(|message| ServiceError::invalid("event_types", message))
        })
        .collect::<ServiceResult<Vec<WebhookEventType>>>()?;
    types.sort();
    types.dedup();
    Ok(types)
}

fn workspace(raw: Option<&str>) -> ServiceResult<Option<WorkspaceId>> {
    raw.map(|raw| WorkspaceId::parse(raw).map_err(|message| ServiceError::invalid("workspace_id", message)))
        .transpose()
}

fn description(raw: Option<String>) -> ServiceResult<Option<String>> {
    let Some(text) = raw.map(|text| text.trim().to_owned()).filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_DESCRIPTION_LEN || text.chars().any(char::is_control) {
        return Err(ServiceError::invalid(
            "description",
            format!("must be at most {MAX_DESCRIPTION_LEN} printable characters"),
        ));
    }
    Ok(Some(text))
}

fn audit_data(webhook: &Webhook) -> serde_json::Value {
    serde_json::json!({
        "webhook_id": webhook.id,
        // Only where it goes: receivers take tokens in the path (Slack) or the query.
        "url": webhook.url.origin().ascii_serialization(),
        "event_types": webhook.event_types,
        "workspace_id": webhook.workspace_id.as_ref().map(WorkspaceId::as_str),
        "enabled": webhook.enabled,
    })
}

#[async_trait]
impl WebhookService for WebhookServiceImpl {
    async fn create(&self, actor: &Actor, input: NewWebhook) -> ServiceResult<IssuedWebhook> {
        let url = self.checked_url(&input.url).await?;
        let now = self.clock.now();
        let webhook = Webhook {
            id: WebhookId::new(),
            url,
            event_types: event_types(&input.event_types)?,
            workspace_id: workspace(input.workspace_id.as_deref())?,
            enabled: input.enabled,
            description: description(input.description)?,
            previous_secret_expires_at: None,
            created_at: now,
            updated_at: now,
        };
        let secret = generate_secret();
        let secrets = SigningSecrets::new(secret.clone()).seal(&self.keyring, webhook.id);
        self.repo
            .insert(&WebhookRecord {
                webhook: webhook.clone(),
                secrets,
            })
            .await
            .map_err(internal("storing a webhook"))?;
        self.record(AuditEventType::WebhookCreated, actor, audit_data(&webhook))
            .await;
        Ok(IssuedWebhook { webhook, secret })
    }

    async fn list(&self) -> ServiceResult<Vec<Webhook>> {
        self.repo.list().await.map_err(internal("listing webhooks"))
    }

    async fn get(&self, id: WebhookId) -> ServiceResult<Webhook> {
        Ok(self.existing(id).await?.webhook)
    }

    async fn update(&self, actor: &Actor, id: WebhookId, patch: WebhookPatch) -> ServiceResult<Webhook> {
        let mut webhook = self.existing(id).await?.webhook;
        if let Some(url) = patch.url {
            webhook.url = self.checked_url(&url).await?;
        }
        if let Some(types) = patch.event_types {
            webhook.event_types = event_types(&types)?;
        }
        if let Some(only) = patch.workspace_id {
            webhook.workspace_id = workspace(only.as_deref())?;
        }
        if let Some(enabled) = patch.enabled {
            webhook.enabled = enabled;
        }
        if let Some(text) = patch.description {
            webhook.description = description(text)?;
        }
        webhook.updated_at = self.clock.now();
        if !self
            .repo
            .update(&webhook)
            .await
            .map_err(internal("updating a webhook"))?
        {
            return Err(ServiceError::not_found(ResourceKind::Webhook, id));
        }
        self.record(AuditEventType::WebhookUpdated, actor, audit_data(&webhook))
            .await;
        Ok(webhook)
    }

    async fn delete(&self, actor: &Actor, id: WebhookId) -> ServiceResult<()> {
        if !self.repo.delete(id).await.map_err(internal("deleting a webhook"))? {
            return Err(ServiceError::not_found(ResourceKind::Webhook, id));
        }
        self.record(
            AuditEventType::WebhookDeleted,
            actor,
            serde_json::json!({"webhook_id": id}),
        )
        .await;
        Ok(())
    }

    async fn rotate_secret(&self, actor: &Actor, id: WebhookId, grace: Duration) -> ServiceResult<IssuedWebhook> {
        if grace > MAX_ROTATION_GRACE {
            return Err(ServiceError::invalid(
                "grace_period_seconds",
                format!("must be at most {} (7 days)", MAX_ROTATION_GRACE.as_secs()),
            ));
        }
        // Compare and swap: a rotation running at the same time makes this one read again, so
        // each caller's secret is stored (the later one current, the earlier one in its grace).
        let now = self.clock.now();
        let grace_until =
            (!grace.is_zero()).then(|| now + chrono::TimeDelta::from_std(grace).unwrap_or(chrono::TimeDelta::days(7)));
        let secret = generate_secret();
        let mut tries = 0;
        let record = loop {
            tries += 1;
            let record = self.existing(id).await?;
            let current = SigningSecrets::open(&self.keyring, id, &record.secrets)
                .map_err(|error| ServiceError::internal("opening a webhook's signing secrets", error))?;
            let rotated = current.rotated(secret.clone(), grace_until);
            let replaced = self
                .repo
                .replace_secrets(id, &record.secrets, &rotated.seal(&self.keyring, id), grace_until, now)
                .await
                .map_err(internal("storing a rotated webhook secret"))?;
            if replaced {
                break record;
            }
            if tries == 5 {
                return Err(ServiceError::internal(
                    "rotating a webhook secret",
                    "the secrets kept changing under concurrent rotations",
                ));
            }
        };
        self.record(
            AuditEventType::WebhookSecretRotated,
            actor,
            serde_json::json!({"webhook_id": id, "previous_secret_expires_at": grace_until}),
        )
        .await;
        let webhook = Webhook {
            previous_secret_expires_at: grace_until,
            updated_at: now,
            ..record.webhook
        };
        Ok(IssuedWebhook { webhook, secret })
    }

    async fn deliveries(
        &self,
        id: WebhookId,
        before: Option<DeliveryId>,
        limit: u32,
    ) -> ServiceResult<Page<WebhookDelivery>> {
        let limit = page_size(u64::from(limit))?;
        self.existing(id).await?;
        let items = self
            .outbox
            .list(id, before, limit)
            .await
            .map_err(internal("listing webhook deliveries"))?;
        Ok(page(items, limit, |delivery| delivery.id.to_string()))
    }

    async fn redeliver(&self, actor: &Actor, id: WebhookId, delivery: DeliveryId) -> ServiceResult<WebhookDelivery> {
        let redelivered = self
            .outbox
            .redeliver(id, delivery, self.clock.now())
            .await
            .map_err(internal("redelivering a webhook delivery"))?
            .ok_or_else(|| ServiceError::not_found(ResourceKind::WebhookDelivery, delivery))?;
        self.record(
            AuditEventType::WebhookRedelivered,
            actor,
            serde_json::json!({"webhook_id": id, "delivery_id": delivery}),
        )
        .await;
        Ok(redelivered)
    }
}
