//! Background refresh: every Broker process claims credentials that expire within the lead time
//! (each claimed by exactly one process, through the same lease as reads) and refreshes them
//! before anyone asks, with bounded concurrency per process and per provider. A claimed
//! connection whose provider has no free permit is not held while it waits for one: its lease
//! is given back at once and taken again with the permit.

use super::backoff::jittered;
use super::{Refresher, Trigger};
use nexus_domain::status::ConnectionStatus;
use nexus_domain::{ConnectionId, ProviderId};
use nexus_repositories::{ConnectionBundle, RefreshLease};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, watch};

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

#[derive(Debug)]
pub struct BackgroundRefresh {
    refresher: Arc<Refresher>,
    settings: BackgroundSettings,
    permits: Arc<Semaphore>,
    /// When the due gauge was last counted: once per interval is enough, while a backlog makes
    /// scans follow each other many times a second.
    counted_at: Mutex<Option<std::time::Instant>>,
    per_provider: Mutex<HashMap<ProviderId, Arc<Semaphore>>>,
}

impl BackgroundRefresh {
    pub fn new(refresher: Arc<Refresher>, settings: BackgroundSettings) -> Arc<Self> {
        Arc::new(Self {
            permits: Arc::new(Semaphore::new(settings.concurrency.max(1))),
            refresher,
            settings,
            per_provider: Mutex::new(HashMap::new()),
            counted_at: Mutex::new(None),
        })
    }

    /// Claimed refreshes not finished yet (each holds a permit until it is done).
    pub fn in_flight(&self) -> usize {
        self.settings
            .concurrency
            .max(1)
            .saturating_sub(self.permits.available_permits())
    }

    /// Scans and refreshes until `shutdown`; refreshes already started finish on their own
    /// (the refresher's drain waits for them).
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        if self.settings.lead.is_zero() {
            return;
        }
        let half = u32::try_from(self.settings.concurrency.div_ceil(2)).unwrap_or(1);
        loop {
            let (claimed, asked) = self.scan().await;
            if asked > 0 && claimed == asked {
                // A full batch: more may be due. Scan again as soon as half the permits are
                // free, so claims stay batched and the process stays busy.
                tokio::select! {
                    _ = self.permits.acquire_many(half) => {}
                    _ = shutdown.wait_for(|stop| *stop) => return,
                }
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(jittered(self.settings.interval)) => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
        }
    }

    /// One scan: updates the due gauge, claims as many due credentials as there are free
    /// permits, and starts a refresh for each. Returns how many it claimed, of how many it asked.
    pub async fn scan(self: &Arc<Self>) -> (usize, usize) {
        let deps = &self.refresher.deps;
        let now = deps.clock.now();
        let due_before = now + chrono::TimeDelta::from_std(self.settings.lead).unwrap_or(chrono::TimeDelta::zero());
        if self.gauge_is_stale() {
            match deps.leases.count_due(due_before, now).await {
                Ok(due) => deps.metrics.refresh_due.set(i64::try_from(due).unwrap_or(i64::MAX)),
                Err(error) => tracing::warn!(%error, "counting credentials due for refresh failed"),
            }
        }
        let available = self.permits.available_permits();
        if available == 0 {
            return (0, 0);
        }
        let lease = self.refresher.new_lease();
        let claimed = match deps
            .leases
            .claim_due(due_before, now, &lease, u64::try_from(available).unwrap_or(1))
            .await
        {
            Ok(claimed) => claimed,
            Err(error) => {
                // A database that is briefly unreachable delays refreshes; the next scan retries.
                tracing::warn!(%error, "claiming credentials due for refresh failed");
                return (0, available);
            }
        };
        for &id in &claimed {
            let Ok(permit) = self.permits.clone().acquire_owned().await else {
                break;
            };
            let this = self.clone();
            let lease = lease.clone();
            tokio::spawn(async move {
                this.refresh_one(id, lease).await;
                drop(permit);
            });
        }
        (claimed.len(), available)
    }

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
