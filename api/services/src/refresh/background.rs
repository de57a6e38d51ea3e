//! Background refresh: every Broker process claims credentials that expire within the lead time
//! (each claimed by exactly one process, through the same lease as reads) and refreshes them
//! before anyone asks, with bounded concurrency per process and per provider. A claimed
//! connection whose provider has no free permit is not held while it waits for one: its lease
//! is given back at once and taken again with the permit.

use super::{Refresher, Trigger};
use crate::background::{BackgroundTask, ClaimLoop, ClaimedWork, Schedule};
use async_trait::async_trait;
use nexus_domain::background::Activation;
use nexus_domain::status::ConnectionStatus;
use nexus_domain::{ConnectionId, ProviderId};
use nexus_repositories::{ConnectionBundle, RefreshLease};
use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// How long one background refresh may keep retrying a provider.
const BACKGROUND_BUDGET: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct BackgroundSettings {
    /// Credentials expiring within this are refreshed ahead of time; zero turns it off.
    pub lead: Duration,
    /// Pause between scans when there was nothing (more) to claim.
    pub interval: Duration,
    /// Refreshes in flight at once in this process.
    pub concurrency: usize,
    /// Refreshes in flight at once in this process against one provider.
    pub per_provider: usize,
}

impl Default for BackgroundSettings {
    fn default() -> Self {
        Self {
            lead: Duration::from_secs(300),
            interval: Duration::from_secs(5),
            concurrency: 32,
            per_provider: 16,
        }
    }
}

/// The background refresh task: its claims go through the shared claim loop.
#[derive(Debug)]
pub struct BackgroundRefresh {
    claims: ClaimLoop<DueCredentials>,
    due: Arc<DueCredentials>,
    settings: BackgroundSettings,
}

/// Credentials due for refresh, claimed under a refresh lease.
#[derive(Debug)]
pub struct DueCredentials {
    refresher: Arc<Refresher>,
    settings: BackgroundSettings,
    /// When the due gauge was last counted: once per interval is enough, while a backlog makes
    /// scans follow each other many times a second.
    counted_at: Mutex<Option<std::time::Instant>>,
    per_provider: Mutex<HashMap<ProviderId, Arc<Semaphore>>>,
    /// Shutdown began: a claimed job that has not started its refresh gives the lease back.
    stopping: AtomicBool,
}

impl BackgroundRefresh {
    pub fn new(refresher: Arc<Refresher>, settings: BackgroundSettings) -> Arc<Self> {
        let due = Arc::new(DueCredentials {
            refresher,
            stopping: AtomicBool::new(false),
            settings: settings.clone(),
            per_provider: Mutex::new(HashMap::new()),
            counted_at: Mutex::new(None),
        });
        Arc::new(Self {
            claims: ClaimLoop::new(due.clone(), settings.concurrency),
            due,
            settings,
        })
    }

    /// Whether it runs at all (a zero lead turns background refresh off).
    pub fn enabled(&self) -> bool {
        !self.settings.lead.is_zero()
    }

    /// When the driver runs it, and how long one run may take.
    pub fn schedule(&self) -> Schedule {
        Schedule {
            period: self.settings.interval,
            jitter: true,
            timeout: None,
        }
    }

    /// One claim: as many due credentials as there are free permits, each refreshed under its
    /// permit. Returns how many it claimed, of how many it asked.
    pub async fn scan(&self) -> (usize, usize) {
        match self.claims.claim_batch().await {
            Ok(batch) => (batch.claimed, batch.asked),
            Err(error) => {
                tracing::warn!(%error, "claiming credentials due for refresh failed");
                (0, 0)
            }
        }
    }

    /// Claimed refreshes not finished yet.
    pub fn in_flight(&self) -> usize {
        self.claims.in_flight()
    }
}

#[async_trait]
impl BackgroundTask for BackgroundRefresh {
    /// A run only claims; what it claimed goes on under `stop`'s drain.
    fn interruptible(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "background_refresh"
    }

    fn description(&self) -> &'static str {
        "Refreshes credentials before they expire (each claimed by one process under a lease)"
    }

    async fn activate(&self, _activation: Activation) -> Result<String, String> {
        let claimed = self.claims.claim_until_caught_up().await?;
        Ok(format!("claimed {claimed} credentials due for refresh"))
    }

    /// No claimed refresh starts after shutdown: a job still waiting for its provider's permit
    /// gives its lease back instead of calling the provider (readers still in flight may refresh
    /// until the listeners have stopped). Refreshes already running are the refresher's, and its
    /// drain (after the listeners and this driver have stopped) waits for them to store what
    /// they got.
    async fn stop(&self) {
        self.due.stopping.store(true, std::sync::atomic::Ordering::SeqCst);
        if !self.claims.drain(Duration::from_secs(2)).await {
            tracing::debug!("claimed refreshes still waiting at shutdown; the refresher's drain waits for them");
        }
    }
}

#[async_trait]
impl ClaimedWork for DueCredentials {
    type Item = (ConnectionId, RefreshLease);

    async fn claim(&self, limit: usize) -> Result<Vec<Self::Item>, String> {
        let deps = &self.refresher.deps;
        let now = deps.clock.now();
        let due_before = now + chrono::TimeDelta::from_std(self.settings.lead).unwrap_or(chrono::TimeDelta::zero());
        if self.gauge_is_stale() {
            match deps.leases.count_due(due_before, now).await {
                Ok(due) => deps.metrics.refresh_due.set(i64::try_from(due).unwrap_or(i64::MAX)),
                Err(error) => tracing::warn!(%error, "counting credentials due for refresh failed"),
            }
        }
        let lease = self.refresher.new_lease();
        // A database that is briefly unreachable delays refreshes; the next run retries.
        let claimed = deps
            .leases
            .claim_due(due_before, now, &lease, u64::try_from(limit).unwrap_or(1))
            .await
            .map_err(|error| format!("claiming credentials due for refresh failed: {error}"))?;
        Ok(claimed.into_iter().map(|id| (id, lease.clone())).collect())
    }

    async fn work(self: Arc<Self>, (id, lease): Self::Item) {
        self.refresh_one(id, lease).await;
    }
}

impl DueCredentials {
    async fn refresh_one(&self, id: ConnectionId, lease: RefreshLease) {
        let deps = &self.refresher.deps;
        let Some((bundle, version)) = self.due_under(id, &lease).await else {
            return;
        };
        let permits = self.provider_permits(bundle.connection.provider_id);
        let (_provider_permit, lease, bundle, version) = match permits.clone().try_acquire_owned() {
            Ok(permit) => (permit, lease, bundle, version),
            Err(_) => {
                // The provider's permits are all taken: wait for one without holding the lease,
                // so a reader of this connection (in this process or another) refreshes it
                // itself instead of waiting on a claim nobody is working on.
                self.refresher.release(id, &lease.owner, false).await;
                let Ok(permit) = permits.acquire_owned().await else {
                    return;
                };
                let lease = self.refresher.new_lease();
                if !matches!(deps.leases.take_lease(id, &lease).await, Ok(true)) {
                    // Someone is refreshing it now.
                    return;
                }
                let Some((bundle, version)) = self.due_under(id, &lease).await else {
                    return;
                };
                (permit, lease, bundle, version)
            }
        };
        if self.stopping.load(std::sync::atomic::Ordering::SeqCst) {
            self.refresher.release(id, &lease.owner, false).await;
            return;
        }
        let provider = bundle.provider.provider.spec.name.to_string();
        let outcome = self
            .refresher
            .refresh(&bundle, version, Trigger::Claimed(lease), BACKGROUND_BUDGET)
            .await;
        let status = match &outcome {
            Ok(_) => "success",
            Err(error) => error.label(),
        };
        deps.metrics
            .background_refreshes
            .with_label_values(&[provider.as_str(), status])
            .inc();
    }

    /// The connection as it is under `lease`, with the credential version to refresh from, if
    /// it is still active and due; otherwise the lease is given back.
    async fn due_under(&self, id: ConnectionId, lease: &RefreshLease) -> Option<(ConnectionBundle, i64)> {
        let deps = &self.refresher.deps;
        let bundle = match deps.connections.find(id).await {
            Ok(bundle) => bundle,
            Err(error) => {
                tracing::warn!(connection_id = %id, %error, "reading a claimed connection failed");
                None
            }
        };
        // The claim may have seen the credential as it was before another process refreshed it
        // (PostgreSQL re-checks a locked row, not the rows joined to it): what is due is decided
        // on the credential read now.
        let lead = chrono::TimeDelta::from_std(self.settings.lead).unwrap_or_default();
        let due = bundle.and_then(|bundle| match (bundle.connection.status, &bundle.credential) {
            (ConnectionStatus::Active, Some(credential)) if credential.lifetime().due(deps.clock.now(), lead) => {
                let version = credential.version;
                Some((bundle, version))
            }
            _ => None,
        });
        if due.is_none() {
            self.refresher.release(id, &lease.owner, false).await;
        }
        due
    }

    /// Whether the due gauge is older than one scan interval (and, if so, claims the next count).
    fn gauge_is_stale(&self) -> bool {
        let mut counted_at = self
            .counted_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let stale = counted_at.is_none_or(|at| at.elapsed() >= self.settings.interval);
        if stale {
            *counted_at = Some(std::time::Instant::now());
        }
        stale
    }

    fn provider_permits(&self, provider: ProviderId) -> Arc<Semaphore> {
        self.per_provider
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(provider)
            .or_insert_with(|| Arc::new(Semaphore::new(self.settings.per_provider.max(1))))
            .clone()
    }
}
