//! Webhook delivery workers: every Broker process claims due deliveries from the outbox (each
//! claimed by exactly one process, through a lease), signs and posts them, and records each
//! attempt under its lease. A process that dies mid-delivery leaves the lease to lapse and the
//! delivery to another process: at least once, never lost.

use super::secrets::SigningSecrets;
use super::target::TargetPolicy;
use crate::background::{BackgroundTask, ClaimLoop, ClaimedWork, Schedule};
use crate::refresh::jittered;
use crate::resolver::refused_inside;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_crypto::Keyring;
use nexus_domain::background::Activation;
use nexus_domain::clock::Clock;
use nexus_domain::webhook::DeliveryAttempt;
use nexus_repositories::{AttemptOutcome, ClaimedDelivery, Lease, WebhookOutboxRepository, WebhookRepository};
use prometheus::{Histogram, HistogramOpts, IntCounterVec, IntGauge, Opts, Registry};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Most of a receiver's answer that is read (then dropped: it is never stored).
const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// Finished deliveries are kept this long for the delivery log.
const KEEP_FINISHED: chrono::TimeDelta = chrono::TimeDelta::days(30);
const SWEEP_EVERY: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Whether webhooks may reach loopback and private addresses (on in development).
    pub allow_private: bool,
    /// Deliveries in flight at once in this process; zero turns delivery off here.
    pub concurrency: usize,
    /// Pause between scans when there was nothing (more) to claim.
    pub poll_interval: Duration,
    /// The whole attempt (connect, send, answer) must finish within this.
    pub timeout: Duration,
    /// The wait after the first failed attempt; it doubles per failure up to `max_retry_wait`.
    pub first_retry_wait: Duration,
    pub max_retry_wait: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private: false,
            concurrency: 16,
            poll_interval: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            first_retry_wait: Duration::from_secs(5),
            max_retry_wait: Duration::from_secs(2 * 3600),
        }
    }
}

impl WebhookSettings {
    /// How long a claim holds: the attempt's deadline, and ample time to read the endpoint and
    /// record the attempt (a busy database included). A lease that lapses while its holder is
    /// still at work only costs a duplicate (at least once), never a loss.
    fn lease(&self) -> Duration {
        self.timeout + Duration::from_secs(15)
    }

    /// The doubling wait after `failures` failed attempts, before jitter.
    pub fn backoff(&self, failures: u32) -> Duration {
        self.first_retry_wait
            .saturating_mul(2u32.saturating_pow(failures.saturating_sub(1).min(30)))
            .min(self.max_retry_wait)
    }

    /// The wait before the next attempt: the backoff with jitter, but never less than the
    /// receiver asked for with Retry-After (both capped at `max_retry_wait`).
    pub fn retry_wait(&self, failures: u32, retry_after: Option<Duration>) -> Duration {
        jittered(self.backoff(failures))
            .max(retry_after.unwrap_or_default())
            .min(self.max_retry_wait)
    }
}

/// `nexus_webhook_*`: deliveries by outcome, the outbox depth, how long events take to arrive.
#[derive(Debug, Clone)]
pub struct WebhookMetrics {
    deliveries: IntCounterVec,
    outbox_depth: IntGauge,
    latency: Histogram,
    attempt_duration: Histogram,
}

impl WebhookMetrics {
    pub fn new(registry: &Registry) -> Self {
        let deliveries = IntCounterVec::new(
            Opts::new(
                "nexus_webhook_deliveries_total",
                "Webhook delivery attempts by outcome: delivered, retrying (failed, will retry) or failed (gave up)",
            ),
            &["status"],
        )
        .unwrap_or_else(|e| panic!("metric nexus_webhook_deliveries_total is well-formed: {e}"));
        let outbox_depth = IntGauge::new(
            "nexus_webhook_outbox_depth",
            "Webhook deliveries waiting to be sent, across every process",
        )
        .unwrap_or_else(|e| panic!("metric nexus_webhook_outbox_depth is well-formed: {e}"));
        let latency = Histogram::with_opts(
            HistogramOpts::new(
                "nexus_webhook_delivery_latency_seconds",
                "From the event to its successful delivery, retries included",
            )
            .buckets(vec![
                0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0, 1800.0, 7200.0, 86400.0,
            ]),
        )
        .unwrap_or_else(|e| panic!("metric nexus_webhook_delivery_latency_seconds is well-formed: {e}"));
        let attempt_duration = Histogram::with_opts(
            HistogramOpts::new(
                "nexus_webhook_attempt_duration_seconds",
                "Duration of one delivery attempt (connect, send, answer)",
            )
            .buckets(vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
        )
        .unwrap_or_else(|e| panic!("metric nexus_webhook_attempt_duration_seconds is well-formed: {e}"));
        for collector in [
            Box::new(deliveries.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(outbox_depth.clone()),
            Box::new(latency.clone()),
            Box::new(attempt_duration.clone()),
        ] {
            registry
                .register(collector)
                .unwrap_or_else(|e| panic!("webhook metrics are registered once: {e}"));
        }
        for status in ["delivered", "retrying", "failed"] {
            deliveries.with_label_values(&[status]);
        }
        Self {
            deliveries,
            outbox_depth,
            latency,
            attempt_duration,
        }
    }
}

impl WebhookMetrics {
    /// The metric family names this registers (for checks of dashboards and alerts).
    pub fn names(&self) -> Vec<String> {
        [
            Box::new(self.deliveries.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(self.outbox_depth.clone()),
            Box::new(self.latency.clone()),
            Box::new(self.attempt_duration.clone()),
        ]
        .iter()
        .flat_map(|collector| collector.desc().into_iter().map(|desc| desc.fq_name.clone()))
        .collect()
    }
}

/// What one attempt came to.
struct Attempted {
    record: DeliveryAttempt,
    delivered: bool,
    retry_after: Option<Duration>,
}

pub struct DeliveryWorker {
    outbox: Arc<dyn WebhookOutboxRepository>,
    webhooks: Arc<dyn WebhookRepository>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
    metrics: WebhookMetrics,
    client: reqwest::Client,
    policy: TargetPolicy,
    settings: WebhookSettings,
    instance_id: String,
    /// When the depth gauge was last counted and finished deliveries last swept.
    counted_at: Mutex<Option<Instant>>,
    swept_at: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for DeliveryWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryWorker")
            .field("instance_id", &self.instance_id)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The parts a delivery worker works with.
pub struct DeliveryDeps {
    pub outbox: Arc<dyn WebhookOutboxRepository>,
    pub webhooks: Arc<dyn WebhookRepository>,
    pub keyring: Arc<Keyring>,
    pub clock: Arc<dyn Clock>,
    pub metrics: WebhookMetrics,
    pub instance_id: String,
}

impl std::fmt::Debug for DeliveryDeps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryDeps")
            .field("instance_id", &self.instance_id)
            .finish_non_exhaustive()
    }
}

impl DeliveryWorker {
    pub fn new(deps: DeliveryDeps, settings: WebhookSettings) -> Result<Arc<Self>, reqwest::Error> {
        let policy = TargetPolicy {
            allow_private: settings.allow_private,
        };
        Ok(Arc::new(Self {
            client: policy.client(settings.timeout)?,
            policy,
            outbox: deps.outbox,
            webhooks: deps.webhooks,
            keyring: deps.keyring,
            clock: deps.clock,
            metrics: deps.metrics,
            instance_id: deps.instance_id,
            settings,
            counted_at: Mutex::new(None),
            swept_at: Mutex::new(None),
        }))
    }

    /// Counts the outbox once per poll interval and sweeps finished deliveries hourly.
    async fn housekeeping(&self) {
        if due(&self.counted_at, self.settings.poll_interval) {
            match self.outbox.count_pending().await {
                Ok(depth) => self.metrics.outbox_depth.set(i64::try_from(depth).unwrap_or(i64::MAX)),
                Err(error) => tracing::warn!(%error, "counting pending webhook deliveries failed"),
            }
        }
        if due(&self.swept_at, SWEEP_EVERY) {
            match self.outbox.sweep(self.clock.now() - KEEP_FINISHED).await {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, "deleted finished webhook deliveries past their retention"),
                Err(error) => tracing::warn!(%error, "sweeping finished webhook deliveries failed"),
            }
        }
    }

    async fn deliver(&self, delivery: ClaimedDelivery, owner: &str) {
        let record = match self.webhooks.find(delivery.webhook_id).await {
            Ok(Some(record)) => record,
            // Deleted meanwhile: its deliveries went with it.
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(delivery_id = %delivery.id, %error, "reading a webhook endpoint failed");
                return self.release(&delivery, owner).await;
            }
        };
        // The endpoint as it is now: disabled, or no longer wanting this event (its types or
        // workspace changed), it receives nothing more of it.
        let wanted = wanted_now(&record.webhook, &delivery);
        let attempted = if let Some(refusal) = wanted.err() {
            self.refused(&delivery, refusal)
        } else {
            match SigningSecrets::open(&self.keyring, record.webhook.id, &record.secrets) {
                Ok(secrets) => self.attempt(&delivery, &record.webhook.url, &secrets).await,
                Err(error) => {
                    tracing::error!(webhook_id = %record.webhook.id, %error, "a webhook's signing secrets do not open");
                    self.refused(&delivery, "signing_failed")
                }
            }
        };
        let outcome = self.outcome(&delivery, &attempted, wanted.is_ok());
        match self
            .outbox
            .record_attempt(&delivery, owner, &attempted.record, outcome)
            .await
        {
            Ok(true) => {
                let status = match outcome {
                    AttemptOutcome::Delivered => {
                        let waited = (attempted.record.attempted_at - delivery.created_at)
                            .to_std()
                            .unwrap_or_default();
                        self.metrics.latency.observe(waited.as_secs_f64());
                        "delivered"
                    }
                    AttemptOutcome::RetryAt(_) => "retrying",
                    AttemptOutcome::GaveUp => "failed",
                };
                self.metrics.deliveries.with_label_values(&[status]).inc();
            }
            Ok(false) => {
                tracing::info!(delivery_id = %delivery.id, "a webhook delivery's lease was taken over; its attempt is not recorded")
            }
            Err(error) => {
                // The lease lapses and the delivery is attempted again: at least once.
                tracing::warn!(delivery_id = %delivery.id, %error, "recording a webhook attempt failed")
            }
        }
    }

    fn outcome(&self, delivery: &ClaimedDelivery, attempted: &Attempted, wanted: bool) -> AttemptOutcome {
        if attempted.delivered {
            return AttemptOutcome::Delivered;
        }
        if !wanted {
            return AttemptOutcome::GaveUp;
        }
        let failures = delivery.attempts.saturating_add(1);
        let wait = self.settings.retry_wait(failures, attempted.retry_after);
        let next: DateTime<Utc> =
            attempted.record.attempted_at + chrono::TimeDelta::from_std(wait).unwrap_or(chrono::TimeDelta::hours(1));
        if next > delivery.give_up_at {
            AttemptOutcome::GaveUp
        } else {
            AttemptOutcome::RetryAt(next)
        }
    }

    fn refused(&self, _delivery: &ClaimedDelivery, code: &str) -> Attempted {
        Attempted {
            record: DeliveryAttempt {
                attempted_at: self.clock.now(),
                status_code: None,
                error: Some(code.to_owned()),
                duration_ms: 0,
            },
            delivered: false,
            retry_after: None,
        }
    }

    /// Signs and posts the delivery; reads at most `MAX_ANSWER_BYTES` of the answer, within the
    /// deadline, and keeps only its status.
    async fn attempt(&self, delivery: &ClaimedDelivery, url: &url::Url, secrets: &SigningSecrets) -> Attempted {
        if self.policy.check_literal(url).is_err() {
            return self.refused(delivery, "refused_address");
        }
        let attempted_at = self.clock.now();
        let message_id = delivery.id.to_string();
        let timestamp = attempted_at.timestamp();
        let signature =
            match secrets.signature_header(&message_id, timestamp, delivery.payload.as_bytes(), attempted_at) {
                Ok(signature) => signature,
                Err(error) => {
                    tracing::error!(delivery_id = %delivery.id, %error, "signing a webhook failed");
                    return self.refused(delivery, "signing_failed");
                }
            };
        let started = Instant::now();
        let request = self
            .client
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(standardwebhooks::HEADER_WEBHOOK_ID, &message_id)
            .header(standardwebhooks::HEADER_WEBHOOK_TIMESTAMP, timestamp.to_string())
            .header(standardwebhooks::HEADER_WEBHOOK_SIGNATURE, signature)
            .body(delivery.payload.clone());
        let call = async {
            let mut response = request.send().await?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            // Read a little so the connection can be reused; a huge answer is cut off here.
            let mut read = 0usize;
            while read < MAX_ANSWER_BYTES {
                match response.chunk().await {
                    Ok(Some(chunk)) => read += chunk.len(),
                    Ok(None) | Err(_) => break,
                }
            }
            Ok::<_, reqwest::Error>((status, retry_after))
        };
        let result = tokio::time::timeout(self.settings.timeout, call).await;
        let duration = started.elapsed();
        self.metrics.attempt_duration.observe(duration.as_secs_f64());
        let duration_ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        let (status_code, error, retry_after) = match result {
            Ok(Ok((status, _))) if status.is_success() => (Some(status.as_u16()), None, None),
            Ok(Ok((status, retry_after))) => (Some(status.as_u16()), Some("http_status"), retry_after),
            Ok(Err(error)) => (None, Some(transport_error_code(&error)), None),
            Err(_) => (None, Some("timeout"), None),
        };
        Attempted {
            delivered: error.is_none(),
            record: DeliveryAttempt {
                attempted_at,
                status_code,
                error: error.map(str::to_owned),
                duration_ms,
            },
            retry_after,
        }
    }

    async fn release(&self, delivery: &ClaimedDelivery, owner: &str) {
        if let Err(error) = self.outbox.release(delivery, owner).await {
            tracing::warn!(delivery_id = %delivery.id, %error, "giving a webhook delivery back failed");
        }
    }
}

/// Whether the endpoint, as it is now, still wants the delivery: `Err` names why not.
fn wanted_now(webhook: &nexus_domain::webhook::Webhook, delivery: &ClaimedDelivery) -> Result<(), &'static str> {
    if !webhook.enabled {
        return Err("endpoint_disabled");
    }
    let payload: Option<nexus_domain::webhook::WebhookPayload> = serde_json::from_str(&delivery.payload).ok();
    match payload {
        Some(payload) if webhook.wants(payload.event_type, &payload.data.workspace_id) => Ok(()),
        // A payload this version cannot read is sent as it was written.
        None => Ok(()),
        Some(_) => Err("endpoint_filtered"),
    }
}

/// A stable code for a delivery that got no answer (never the URL or the error's text).
fn transport_error_code(error: &reqwest::Error) -> &'static str {
    if refused_inside(error) {
        "refused_address"
    } else if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_redirect() {
        "redirect"
    } else {
        "transport"
    }
}

/// Whether `every` has passed since the instant in `last` (and, if so, claims the next turn).
fn due(last: &Mutex<Option<Instant>>, every: Duration) -> bool {
    let mut last = last.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let due = last.is_none_or(|at| at.elapsed() >= every);
    if due {
        *last = Some(Instant::now());
    }
    due
}

#[async_trait]
impl ClaimedWork for DeliveryWorker {
    /// A claimed delivery and the lease owner that holds it.
    type Item = (ClaimedDelivery, String);

    async fn claim(&self, limit: usize) -> Result<Vec<Self::Item>, String> {
        self.housekeeping().await;
        let now = self.clock.now();
        let lease = Lease {
            owner: format!("{}-{}", self.instance_id, uuid::Uuid::new_v4()),
            until: now + self.settings.lease(),
        };
        let claimed = self
            .outbox
            .claim_due(now, &lease, u64::try_from(limit).unwrap_or(1))
            .await
            .map_err(|error| format!("claiming webhook deliveries failed: {error}"))?;
        Ok(claimed
            .into_iter()
            .map(|delivery| (delivery, lease.owner.clone()))
            .collect())
    }

    async fn work(self: Arc<Self>, (delivery, owner): Self::Item) {
        self.deliver(delivery, &owner).await;
    }
}

/// The webhook delivery task: due deliveries from the outbox, through the shared claim loop.
#[derive(Debug)]
pub struct DeliveryTask {
    claims: ClaimLoop<DeliveryWorker>,
    settings: WebhookSettings,
}

impl DeliveryTask {
    pub fn new(worker: Arc<DeliveryWorker>) -> Arc<Self> {
        let settings = worker.settings.clone();
        Arc::new(Self {
            claims: ClaimLoop::new(worker, settings.concurrency),
            settings,
        })
    }

    /// Whether it runs at all (a concurrency of zero turns delivery off in this process).
    pub fn enabled(&self) -> bool {
        self.settings.concurrency > 0
    }

    pub fn schedule(&self) -> Schedule {
        Schedule {
            period: self.settings.poll_interval,
            jitter: true,
            // A run claims while batches come back full; shutdown ends it.
            timeout: None,
        }
    }
}

#[async_trait]
impl BackgroundTask for DeliveryTask {
    /// A run only claims; what it claimed goes on under `stop`'s drain.
    fn interruptible(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "webhook_delivery"
    }

    fn description(&self) -> &'static str {
        "Sends due webhook deliveries from the outbox (each claimed by one process under a lease)"
    }

    async fn activate(&self, _activation: Activation) -> Result<String, String> {
        let claimed = self.claims.claim_until_caught_up().await?;
        Ok(format!("claimed {claimed} webhook deliveries"))
    }

    /// Attempts in flight get their deadline to finish; what is left, another process sends
    /// once its lease lapses.
    async fn stop(&self) {
        if !self.claims.drain(self.settings.timeout + Duration::from_secs(2)).await {
            tracing::warn!("webhook deliveries still in flight at shutdown are left to other processes");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nexus_domain::webhook::{ConnectionEvent, Webhook, WebhookEventType, WebhookPayload};
    use nexus_domain::{ConnectionId, DeliveryId, WebhookId, WorkspaceId};

    fn delivery(event: WebhookEventType, workspace: &str) -> ClaimedDelivery {
        let payload = WebhookPayload {
            event_type: event,
            timestamp: chrono::Utc::now(),
            data: ConnectionEvent {
                connection_id: ConnectionId::new(),
                workspace_id: workspace.to_owned(),
                provider: "github".to_owned(),
                status: nexus_domain::status::ConnectionStatus::Active,
                reason: "consent_completed".to_owned(),
                occurred_at: chrono::Utc::now(),
            },
        };
        ClaimedDelivery {
            seq: 1,
            id: DeliveryId::new(),
            webhook_id: WebhookId::new(),
            event_type: event.as_str().to_owned(),
            payload: serde_json::to_string(&payload).expect("JSON"),
            attempts: 0,
            give_up_at: chrono::Utc::now(),
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn a_changed_endpoint_no_longer_receives_what_it_stopped_wanting() {
        let mut webhook = Webhook {
            id: WebhookId::new(),
            url: url::Url::parse("https://hooks.example.com").expect("url"),
            event_types: vec![WebhookEventType::ConnectionActive],
            workspace_id: None,
            enabled: true,
            description: None,
            previous_secret_expires_at: None,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        };
        let active = delivery(WebhookEventType::ConnectionActive, "ws-1");
        assert_eq!(wanted_now(&webhook, &active), Ok(()));
        assert_eq!(
            wanted_now(&webhook, &delivery(WebhookEventType::ConnectionRevoked, "ws-1")),
            Err("endpoint_filtered")
        );
        webhook.workspace_id = Some(WorkspaceId::parse("ws-2").expect("workspace"));
        assert_eq!(wanted_now(&webhook, &active), Err("endpoint_filtered"));
        webhook.enabled = false;
        assert_eq!(wanted_now(&webhook, &active), Err("endpoint_disabled"));
    }

    #[test]
    fn retry_waits_double_from_the_first_up_to_the_cap_and_honour_retry_after() {
        let settings = WebhookSettings::default();
        let waits: Vec<u64> = (1..=12).map(|n| settings.backoff(n).as_secs()).collect();
        assert_eq!(&waits[..5], &[5, 10, 20, 40, 80]);
        assert_eq!(waits[11], 7200, "capped at two hours");
        assert_eq!(settings.backoff(200).as_secs(), 7200, "no overflow");
        for _ in 0..50 {
            let jittered = settings.retry_wait(3, None);
            assert!(jittered <= Duration::from_secs(20), "{jittered:?}");
            assert!(
                settings.retry_wait(1, Some(Duration::from_secs(90))) >= Duration::from_secs(90),
                "never sooner than Retry-After, jitter included"
            );
        }
        assert_eq!(
            settings.retry_wait(1, Some(Duration::from_secs(86_400))).as_secs(),
            7200,
            "a Retry-After beyond the cap is capped"
        );
    }
}
