//! Timing decorators: `Timed<R>` wraps any repository and records every method's duration in
//! `nexus_db_operation_duration_seconds{repo, method}`, without the repositories knowing. Every
//! method also goes through the process's [`OutageBreaker`], so a database that is away fails
//! operations at once instead of one acquire timeout each.

use crate::RepoResult;
use crate::agent_keys::{AgentKeyRecord, AgentKeyRepository};
use crate::audit::AuditRepository;
use crate::breaker::OutageBreaker;
use crate::connection_reads::ActiveConnectionRead;
use crate::connections::{
    ClaimedConsent, ConnectionBundle, ConnectionRepository, CredentialRecord, NewCredential, PendingConsent,
};
use crate::providers::{ProviderDeletion, ProviderRecord, ProviderRepository};
use crate::refresh::{Lease, RefreshFailure, RefreshLease, RefreshRepository, RetryAt};
use crate::webhook_outbox::{AttemptOutcome, ClaimedDelivery, WebhookOutboxRepository};
use crate::webhooks::{WebhookRecord, WebhookRepository};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_domain::agent_key::AgentKey;
use nexus_domain::audit::{AuditEvent, AuditQuery, NewAuditEvent};
use nexus_domain::ciphertext::Ciphertext;
use nexus_domain::connection::{Connection, ConnectionQuery};
use nexus_domain::provider::ProviderRef;
use nexus_domain::status::ConnectionStatus;
use nexus_domain::webhook::{DeliveryAttempt, Webhook, WebhookDelivery};
use nexus_domain::{AgentKeyId, AuditEventId, ConnectionId, ProviderId, ProviderName, Scope, WorkspaceId};
use nexus_domain::{DeliveryId, WebhookId};
use prometheus::{HistogramOpts, HistogramVec, Registry};
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

/// The histogram every decorator records into.
#[derive(Debug, Clone)]
pub struct DbMetrics {
    duration: HistogramVec,
    breaker: Arc<OutageBreaker>,
}

impl DbMetrics {
    pub fn new(registry: &Registry) -> Self {
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "nexus_db_operation_duration_seconds",
                "Duration of repository operations",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
            ]),
            &["repo", "method"],
        )
        .unwrap_or_else(|e| panic!("metric nexus_db_operation_duration_seconds is well-formed: {e}"));
        registry
            .register(Box::new(duration.clone()))
            .unwrap_or_else(|e| panic!("metric nexus_db_operation_duration_seconds is registered once: {e}"));
        Self {
            duration,
            breaker: Arc::default(),
        }
    }

    /// The breaker every decorated repository shares (one database, one outage).
    pub fn breaker(&self) -> Arc<OutageBreaker> {
        self.breaker.clone()
    }

    /// The metric family name this registers (for checks of dashboards and alerts).
    pub fn names(&self) -> Vec<String> {
        prometheus::core::Collector::desc(&self.duration)
            .into_iter()
            .map(|desc| desc.fq_name.clone())
            .collect()
    }

    async fn time<T>(
        &self,
        repo: &'static str,
        method: &'static str,
        operation: impl Future<Output = RepoResult<T>>,
    ) -> RepoResult<T> {
        let started = Instant::now();
        let result = self.breaker.guard(operation).await;
        self.duration
            .with_label_values(&[repo, method])
            .observe(started.elapsed().as_secs_f64());
        result
    }
}

/// A repository whose every method is timed.
#[derive(Debug, Clone)]
pub struct Timed<R> {
    inner: R,
    metrics: DbMetrics,
}

impl<R> Timed<R> {
    pub fn new(inner: R, metrics: DbMetrics) -> Self {
        Self { inner, metrics }
    }
}

#[async_trait]
impl<R: ProviderRepository> ProviderRepository for Timed<R> {
    async fn insert(&self, record: &ProviderRecord) -> RepoResult<()> {
        self.metrics
            .time("providers", "insert", self.inner.insert(record))
            .await
    }
    async fn find(&self, provider: &ProviderRef) -> RepoResult<Option<ProviderRecord>> {
        self.metrics.time("providers", "find", self.inner.find(provider)).await
    }
    async fn list(&self) -> RepoResult<Vec<ProviderRecord>> {
        self.metrics.time("providers", "list", self.inner.list()).await
    }
    async fn update(&self, record: &ProviderRecord) -> RepoResult<bool> {
        self.metrics
            .time("providers", "update", self.inner.update(record))
            .await
    }
    async fn soft_delete(
        &self,
        id: ProviderId,
        at: DateTime<Utc>,
        cascade: bool,
    ) -> RepoResult<Option<ProviderDeletion>> {
        self.metrics
            .time("providers", "soft_delete", self.inner.soft_delete(id, at, cascade))
            .await
    }
}

#[async_trait]
impl<R: crate::ClientRegistrationRepository> crate::ClientRegistrationRepository for Timed<R> {
    async fn find_by_issuer(&self, issuer: &str) -> RepoResult<Option<crate::ClientRegistrationRecord>> {
        self.metrics
            .time(
                "oauth_client_registrations",
                "find_by_issuer",
                self.inner.find_by_issuer(issuer),
            )
            .await
    }
    async fn insert(&self, record: &crate::ClientRegistrationRecord) -> RepoResult<()> {
        self.metrics
            .time("oauth_client_registrations", "insert", self.inner.insert(record))
            .await
    }
    async fn replace(&self, previous: uuid::Uuid, record: &crate::ClientRegistrationRecord) -> RepoResult<bool> {
        self.metrics
            .time(
                "oauth_client_registrations",
                "replace",
                self.inner.replace(previous, record),
            )
            .await
    }
    async fn discard(&self, issuer: &str, client_id: &str) -> RepoResult<bool> {
        self.metrics
            .time(
                "oauth_client_registrations",
                "discard",
                self.inner.discard(issuer, client_id),
            )
            .await
    }
}

#[async_trait]
impl<R: AgentKeyRepository> AgentKeyRepository for Timed<R> {
    async fn insert(&self, record: &AgentKeyRecord) -> RepoResult<()> {
        self.metrics
            .time("agent_keys", "insert", self.inner.insert(record))
            .await
    }
    async fn find_live_by_prefix(&self, prefix: &str) -> RepoResult<Option<AgentKeyRecord>> {
        self.metrics
            .time(
                "agent_keys",
                "find_live_by_prefix",
                self.inner.find_live_by_prefix(prefix),
            )
            .await
    }
    async fn list_live(&self) -> RepoResult<Vec<AgentKey>> {
        self.metrics
            .time("agent_keys", "list_live", self.inner.list_live())
            .await
    }
    async fn revoke(&self, id: AgentKeyId, at: DateTime<Utc>) -> RepoResult<bool> {
        self.metrics
            .time("agent_keys", "revoke", self.inner.revoke(id, at))
            .await
    }
}

#[async_trait]
impl<R: AuditRepository> AuditRepository for Timed<R> {
    async fn insert(&self, id: AuditEventId, at: DateTime<Utc>, event: &NewAuditEvent) -> RepoResult<()> {
        self.metrics
            .time("audit_events", "insert", self.inner.insert(id, at, event))
            .await
    }
    async fn insert_many(&self, events: &[(AuditEventId, DateTime<Utc>, NewAuditEvent)]) -> RepoResult<()> {
        self.metrics
            .time("audit_events", "insert_many", self.inner.insert_many(events))
            .await
    }
    async fn list(&self, query: &AuditQuery) -> RepoResult<Vec<AuditEvent>> {
        self.metrics.time("audit_events", "list", self.inner.list(query)).await
    }
    async fn delete_before(&self, cutoff: DateTime<Utc>) -> RepoResult<u64> {
        self.metrics
            .time("audit_events", "delete_before", self.inner.delete_before(cutoff))
            .await
    }
}

#[async_trait]
impl<R: ConnectionRepository> ConnectionRepository for Timed<R> {
    async fn insert_pending(&self, connection: &Connection, consent: &PendingConsent) -> RepoResult<()> {
        self.metrics
            .time(
                "connections",
                "insert_pending",
                self.inner.insert_pending(connection, consent),
            )
            .await
    }
    async fn begin_reconsent(
        &self,
        id: ConnectionId,
        consent: &PendingConsent,
        requested_scopes: &[Scope],
        step_ups: u32,
        at: DateTime<Utc>,
    ) -> RepoResult<bool> {
        let operation = self.inner.begin_reconsent(id, consent, requested_scopes, step_ups, at);
        self.metrics.time("connections", "begin_reconsent", operation).await
    }
    async fn find(&self, id: ConnectionId) -> RepoResult<Option<ConnectionBundle>> {
        self.metrics.time("connections", "find", self.inner.find(id)).await
    }
    async fn find_active_for_read(
        &self,
        workspace: &WorkspaceId,
        provider: &ProviderName,
    ) -> RepoResult<Option<ActiveConnectionRead>> {
        let operation = self.inner.find_active_for_read(workspace, provider);
        self.metrics
            .time("connections", "find_active_for_read", operation)
            .await
    }
    async fn find_newest_waiting(
        &self,
        workspace: &WorkspaceId,
        provider: &ProviderName,
    ) -> RepoResult<Option<Connection>> {
        let operation = self.inner.find_newest_waiting(workspace, provider);
        self.metrics.time("connections", "find_newest_waiting", operation).await
    }
    async fn list(&self, query: &ConnectionQuery) -> RepoResult<Vec<Connection>> {
        self.metrics.time("connections", "list", self.inner.list(query)).await
    }
    async fn consent_open(&self, id: ConnectionId, nonce: &str, now: DateTime<Utc>) -> RepoResult<bool> {
        self.metrics
            .time("connections", "consent_open", self.inner.consent_open(id, nonce, now))
            .await
    }
    async fn count_capture_attempt(
        &self,
        id: ConnectionId,
        nonce: &str,
        now: DateTime<Utc>,
        max: u32,
    ) -> RepoResult<bool> {
        let operation = self.inner.count_capture_attempt(id, nonce, now, max);
        self.metrics
            .time("connections", "count_capture_attempt", operation)
            .await
    }
    async fn claim_consent(
        &self,
        id: ConnectionId,
        nonce: &str,
        now: DateTime<Utc>,
    ) -> RepoResult<Option<ClaimedConsent>> {
        self.metrics
            .time("connections", "claim_consent", self.inner.claim_consent(id, nonce, now))
            .await
    }
    async fn activate(
        &self,
        id: ConnectionId,
        credential: &NewCredential,
        replacing: Option<i64>,
        granted_scopes: Option<&[Scope]>,
        reason: &str,
        at: DateTime<Utc>,
    ) -> RepoResult<()> {
        let operation = self
            .inner
            .activate(id, credential, replacing, granted_scopes, reason, at);
        self.metrics.time("connections", "activate", operation).await
    }
    async fn transition(
        &self,
        id: ConnectionId,
        from: &[ConnectionStatus],
        to: ConnectionStatus,
        error: Option<&str>,
        at: DateTime<Utc>,
    ) -> RepoResult<bool> {
        let operation = self.inner.transition(id, from, to, error, at);
        self.metrics.time("connections", "transition", operation).await
    }
    async fn require_attention(
        &self,
        id: ConnectionId,
        credential_version: i64,
        error: &str,
        at: DateTime<Utc>,
    ) -> RepoResult<bool> {
        let operation = self.inner.require_attention(id, credential_version, error, at);
        self.metrics.time("connections", "require_attention", operation).await
    }
    async fn expire_pending(&self, now: DateTime<Utc>) -> RepoResult<Vec<ConnectionId>> {
        self.metrics
            .time("connections", "expire_pending", self.inner.expire_pending(now))
            .await
    }
    async fn revoke(&self, id: ConnectionId, at: DateTime<Utc>) -> RepoResult<bool> {
        self.metrics
            .time("connections", "revoke", self.inner.revoke(id, at))
            .await
    }
    async fn count_by_status(&self) -> RepoResult<Vec<(ConnectionStatus, u64)>> {
        self.metrics
            .time("connections", "count_by_status", self.inner.count_by_status())
            .await
    }
    async fn credential(&self, id: ConnectionId) -> RepoResult<Option<CredentialRecord>> {
        self.metrics
            .time("connections", "credential", self.inner.credential(id))
            .await
    }
}

#[async_trait]
impl<R: RefreshRepository> RefreshRepository for Timed<R> {
    async fn take_lease(&self, id: ConnectionId, lease: &RefreshLease) -> RepoResult<bool> {
        self.metrics
            .time("refresh", "take_lease", self.inner.take_lease(id, lease))
            .await
    }
    async fn renew_lease(&self, id: ConnectionId, lease: &RefreshLease) -> RepoResult<bool> {
        self.metrics
            .time("refresh", "renew_lease", self.inner.renew_lease(id, lease))
            .await
    }
    async fn release_lease(&self, id: ConnectionId, owner: &str, refreshed: bool) -> RepoResult<()> {
        self.metrics
            .time(
                "refresh",
                "release_lease",
                self.inner.release_lease(id, owner, refreshed),
            )
            .await
    }
    async fn claim_due(
        &self,
        due_before: DateTime<Utc>,
        now: DateTime<Utc>,
        lease: &RefreshLease,
        limit: u64,
    ) -> RepoResult<Vec<ConnectionId>> {
        let operation = self.inner.claim_due(due_before, now, lease, limit);
        self.metrics.time("refresh", "claim_due", operation).await
    }
    async fn count_due(&self, due_before: DateTime<Utc>, now: DateTime<Utc>) -> RepoResult<u64> {
        self.metrics
            .time("refresh", "count_due", self.inner.count_due(due_before, now))
            .await
    }
    async fn store_refreshed(
        &self,
        id: ConnectionId,
        expected_version: i64,
        owner: &str,
        credential: &NewCredential,
        at: DateTime<Utc>,
    ) -> RepoResult<bool> {
        let operation = self.inner.store_refreshed(id, expected_version, owner, credential, at);
        self.metrics.time("refresh", "store_refreshed", operation).await
    }
    async fn record_failure(
        &self,
        id: ConnectionId,
        retry_at: &RetryAt,
        failure: RefreshFailure<'_>,
    ) -> RepoResult<()> {
        self.metrics
            .time(
                "refresh",
                "record_failure",
                self.inner.record_failure(id, retry_at, failure),
            )
            .await
    }
}

#[async_trait]
impl<R: WebhookRepository> WebhookRepository for Timed<R> {
    async fn insert(&self, record: &WebhookRecord) -> RepoResult<()> {
        self.metrics.time("webhooks", "insert", self.inner.insert(record)).await
    }
    async fn list(&self) -> RepoResult<Vec<Webhook>> {
        self.metrics.time("webhooks", "list", self.inner.list()).await
    }
    async fn find(&self, id: WebhookId) -> RepoResult<Option<WebhookRecord>> {
        self.metrics.time("webhooks", "find", self.inner.find(id)).await
    }
    async fn update(&self, webhook: &Webhook) -> RepoResult<bool> {
        self.metrics
            .time("webhooks", "update", self.inner.update(webhook))
            .await
    }
    async fn replace_secrets(
        &self,
        id: WebhookId,
        expected: &Ciphertext,
        secrets: &Ciphertext,
        previous_expires_at: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    ) -> RepoResult<bool> {
        let operation = self
            .inner
            .replace_secrets(id, expected, secrets, previous_expires_at, at);
        self.metrics.time("webhooks", "replace_secrets", operation).await
    }
    async fn delete(&self, id: WebhookId) -> RepoResult<bool> {
        self.metrics.time("webhooks", "delete", self.inner.delete(id)).await
    }
}

#[async_trait]
impl<R: WebhookOutboxRepository> WebhookOutboxRepository for Timed<R> {
    async fn claim_due(&self, now: DateTime<Utc>, lease: &Lease, limit: u64) -> RepoResult<Vec<ClaimedDelivery>> {
        self.metrics
            .time("webhook_outbox", "claim_due", self.inner.claim_due(now, lease, limit))
            .await
    }
    async fn record_attempt(
        &self,
        delivery: &ClaimedDelivery,
        owner: &str,
        attempt: &DeliveryAttempt,
        outcome: AttemptOutcome,
    ) -> RepoResult<bool> {
        let operation = self.inner.record_attempt(delivery, owner, attempt, outcome);
        self.metrics.time("webhook_outbox", "record_attempt", operation).await
    }
    async fn release(&self, delivery: &ClaimedDelivery, owner: &str) -> RepoResult<()> {
        self.metrics
            .time("webhook_outbox", "release", self.inner.release(delivery, owner))
            .await
    }
    async fn list(
        &self,
        webhook: WebhookId,
        before: Option<DeliveryId>,
        limit: u64,
    ) -> RepoResult<Vec<WebhookDelivery>> {
        self.metrics
            .time("webhook_outbox", "list", self.inner.list(webhook, before, limit))
            .await
    }
    async fn redeliver(
        &self,
        webhook: WebhookId,
        delivery: DeliveryId,
        now: DateTime<Utc>,
    ) -> RepoResult<Option<WebhookDelivery>> {
        self.metrics
            .time(
                "webhook_outbox",
                "redeliver",
                self.inner.redeliver(webhook, delivery, now),
            )
            .await
    }
    async fn count_pending(&self) -> RepoResult<u64> {
        self.metrics
            .time("webhook_outbox", "count_pending", self.inner.count_pending())
            .await
    }
    async fn sweep(&self, before: DateTime<Utc>) -> RepoResult<u64> {
        self.metrics
            .time("webhook_outbox", "sweep", self.inner.sweep(before))
            .await
    }
}
