//! Token refresh, exactly once across processes, and never at the cost of a consent.
//!
//! [`Refresher`] owns the whole path: in-process single flight (one task per connection, every
//! caller in this process awaits it), the cross-process lease, the re-read under the lease (a
//! holder refreshes only if the credential is still the version it set out to refresh), the
//! provider call with classified failures and bounded retries, and the fenced write of the
//! answer. The task is detached from whoever asked: a caller that hangs up, a request deadline
//! or a shutdown signal never cancels a provider call whose answer (a rotated refresh token) must
//! be stored. Reads (`tokens.rs`) and the background refresher (`background.rs`) both go
//! through it.

mod attempt;
mod background;
mod backoff;

pub use background::{BackgroundRefresh, BackgroundSettings};
pub(crate) use backoff::jittered;

use crate::cache::CacheEpoch;
use crate::connections::Stored;
use crate::metrics::Metrics;
use crate::oauth::TokenEndpoint;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use nexus_crypto::Keyring;
use nexus_domain::ConnectionId;
use nexus_domain::clock::Clock;
use nexus_domain::ports::AuditService;
use nexus_domain::token_lifetime::TokenLifetime;
use nexus_repositories::{ConnectionBundle, ConnectionRepository, CredentialRecord, RefreshLease, RefreshRepository};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;
use tokio_util::task::TaskTracker;

/// How long a lease holds before it lapses (a crashed holder's lease is free after this). A
/// holder renews it before every provider call and every write, so only a stalled process loses
/// it; the write is fenced on it all the same.
pub const LEASE_DURATION: Duration = Duration::from_secs(60);
/// The lease from a provider call until its answer is stored: long, because once the provider
/// may have rotated the refresh token, no other process must present the old one, even if the
/// database is unreachable for minutes while the write is retried. Only a holder that crashed
/// in that window costs its connection this long.
const PROVIDER_CALL_LEASE: Duration = Duration::from_secs(600);
/// How long a reader waits for another process's refresh before it gives up on it.
const LEASE_WAIT: Duration = Duration::from_secs(10);
/// Provider attempts within one refresh (transient failures only).
const MAX_ATTEMPTS: u32 = 4;

/// How long reads answer `provider_misconfigured` from memory after the provider refused our
/// client, before trying it again.
const MISCONFIGURED_COOLDOWN: Duration = Duration::from_secs(5);

#[derive(Debug)]
struct Cooldown {
    until: Instant,
    error: RefreshError,
    epoch: u64,
}

/// A refresh this caller started, or one in flight it joined.
enum Started {
    New(SharedOutcome),
    Joined(SharedOutcome),
}

/// A credential as the refresh left it: newly refreshed, or newer than the caller's.
#[derive(Debug, Clone)]
pub(crate) struct Fresh {
    pub(crate) stored: Stored,
    pub(crate) lifetime: TokenLifetime,
}

/// Why a refresh produced no newer credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RefreshError {
    /// The provider says the grant is gone; the connection is now `attention_required`.
    GrantRevoked,
    /// The provider refused Nexus's client (`invalid_client`, a bare 401, ...).
    Misconfigured,
    /// The provider could not answer in time; `retry_after` when it said when to come back.
    Transient {
        retry_after: Option<Duration>,
    },
    /// Another process holds the lease and did not finish within the wait.
    Busy,
    /// The provider issued no refresh token for this connection.
    NoRefreshToken,
    /// The credential is gone (the connection was revoked meanwhile).
    Gone,
    Internal(String),
}

impl RefreshError {
    /// A bounded label for metrics.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Self::GrantRevoked => "grant_revoked",
            Self::Misconfigured => "provider_misconfigured",
            Self::Transient { .. } => "upstream_unavailable",
            Self::Busy => "busy",
            Self::NoRefreshToken => "no_refresh_token",
            Self::Gone => "gone",
            Self::Internal(_) => "internal_error",
        }
    }

    fn internal(context: &str, cause: impl std::fmt::Display) -> Self {
        Self::Internal(format!("{context}: {cause}"))
    }
}

pub(crate) type Outcome = Result<Fresh, RefreshError>;
type SharedOutcome = Shared<BoxFuture<'static, Outcome>>;

/// What the refresher is built from.
pub(crate) struct RefresherDeps {
    pub connections: Arc<dyn ConnectionRepository>,
    pub leases: Arc<dyn RefreshRepository>,
    pub keyring: Arc<Keyring>,
    pub parties: Arc<crate::oauth::OAuthParties>,
    pub token_endpoint: TokenEndpoint,
    pub audit: Arc<dyn AuditService>,
    pub clock: Arc<dyn Clock>,
    pub metrics: Metrics,
    pub epoch: Arc<CacheEpoch>,
    /// This process's name, the prefix of its lease owners.
    pub instance_id: String,
}

pub struct Refresher {
    deps: RefresherDeps,
    /// One refresh task per connection in this process; everyone asking meanwhile awaits it.
    inflight: Mutex<HashMap<ConnectionId, (u64, SharedOutcome)>>,
    /// Numbers the tasks, so a task only ever removes its own entry.
    next_task: AtomicU64,
    /// Connections whose provider said "not now": until when, what to answer meanwhile, and
    /// the cache epoch then (a provider update ends a `provider_misconfigured` cool-down).
    cooldowns: Mutex<HashMap<ConnectionId, Cooldown>>,
    /// Every refresh task, so a shutdown can wait for them.
    tasks: TaskTracker,
}

impl std::fmt::Debug for Refresher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Refresher")
            .field("instance_id", &self.deps.instance_id)
            .field("in_flight", &self.tasks.len())
            .finish_non_exhaustive()
    }
}

/// One refresh to run: which connection, from which credential version, under which lease
/// (already claimed by the background refresher, or to be taken), and until when to retry.
struct Job {
    /// This task's number, for its entry in the in-flight map.
    task: u64,
    bundle: ConnectionBundle,
    seen_version: i64,
    claimed: Option<RefreshLease>,
    deadline: Instant,
}

/// Who asks for a refresh: a reader (the lease is still to be taken, and the credential must be
/// read again under it), or the background refresher, which claimed the lease and then read
/// the bundle, so the credential in it is already the one under the lease.
#[derive(Debug, Clone)]
pub(crate) enum Trigger {
    Read,
    Claimed(RefreshLease),
}

impl Refresher {
    pub(crate) fn new(deps: RefresherDeps) -> Arc<Self> {
        Arc::new(Self {
            deps,
            inflight: Mutex::new(HashMap::new()),
            next_task: AtomicU64::new(0),
            cooldowns: Mutex::new(HashMap::new()),
            tasks: TaskTracker::new(),
        })
    }

    /// Refreshes the connection whose credential the caller read at `seen_version`, or returns
    /// the newer credential someone else stored meanwhile. Retries stop at `budget`; the caller
    /// stops waiting at its own request deadline, while the task goes on to store what the
    /// provider answered.
    pub(crate) async fn refresh(
        self: &Arc<Self>,
        bundle: &ConnectionBundle,
        seen_version: i64,
        trigger: Trigger,
        budget: Duration,
    ) -> Outcome {
        let id = bundle.connection.id;
        let claimed = match trigger {
            Trigger::Read => None,
            Trigger::Claimed(lease) => Some(lease),
        };
        let started = match self.start_or_join(bundle, seen_version, claimed.clone(), budget) {
            Ok(started) => started,
            Err(refused) => {
                if let Some(lease) = claimed {
                    self.release(id, &lease.owner, false).await;
                }
                return Err(refused);
            }
        };
        if let (Started::Joined(_), Some(lease)) = (&started, claimed) {
            // A task of this process is already on it and waits for the lease we claimed.
            self.release(id, &lease.owner, false).await;
        }
        let (Started::New(outcome) | Started::Joined(outcome)) = started;
        let wait = nexus_domain::deadline::remaining(budget);
        tokio::time::timeout(wait, outcome)
            .await
            .unwrap_or(Err(RefreshError::Transient {
                retry_after: Some(Duration::from_secs(1)),
            }))
    }

    /// Joins the refresh of this connection in flight in this process, or starts one, unless
    /// the process is stopping or the provider asked us to wait.
    fn start_or_join(
        self: &Arc<Self>,
        bundle: &ConnectionBundle,
        seen_version: i64,
        claimed: Option<RefreshLease>,
        budget: Duration,
    ) -> Result<Started, RefreshError> {
        let id = bundle.connection.id;
        let mut inflight = self.inflight.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, running)) = inflight.get(&id) {
            return Ok(Started::Joined(running.clone()));
        }
        if self.tasks.is_closed() {
            // Stopping: a refresh started now could be cut off with the provider's answer.
            return Err(RefreshError::Busy);
        }
        // Readers respect the provider's "not now"; the background refresher only claims what its
        // persisted backoff allows.
        if claimed.is_none()
            && let Some(refused) = self.cooling_down(id)
        {
            return Err(refused);
        }
        let (answer, receiver) = oneshot::channel();
        let job = Job {
            task: self.next_task.fetch_add(1, Ordering::Relaxed),
            bundle: bundle.clone(),
            seen_version,
            claimed,
            deadline: Instant::now() + budget,
        };
        let task = job.task;
        let this = self.clone();
        // Spawned while the map is locked, so the task's own removal (`forget`) comes after
        // this insert.
        self.tasks.spawn(async move { this.run(job, answer).await });
        let shared = receiver
            .map(|answer| {
                answer.unwrap_or_else(|_| {
                    Err(RefreshError::Internal(
                        "the refresh task ended without an answer".into(),
                    ))
                })
            })
            .boxed()
            .shared();
        inflight.insert(id, (task, shared.clone()));
        Ok(Started::New(shared))
    }

    /// The failure to answer without calling the provider, while it asked us (with
    /// `Retry-After`) to wait, or refused our client moments ago.
    fn cooling_down(&self, id: ConnectionId) -> Option<RefreshError> {
        let mut cooldowns = self.cooldowns.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        let epoch = self.deps.epoch.current();
        cooldowns.retain(|_, c| c.until > now && !(c.error == RefreshError::Misconfigured && c.epoch != epoch));
        cooldowns.get(&id).map(|cooldown| match cooldown.error {
            RefreshError::Transient { .. } => RefreshError::Transient {
                retry_after: Some(cooldown.until.saturating_duration_since(now)),
            },
            ref other => other.clone(),
        })
    }

    /// Remembers a failure that says "not now" so reads in the meantime do not hammer the
    /// provider (the background refresher has its own, persisted backoff).
    fn cool_down(&self, id: ConnectionId, error: &RefreshError) {
        let wait = match error {
            RefreshError::Transient {
                retry_after: Some(retry_after),
            } => *retry_after,
            RefreshError::Misconfigured => MISCONFIGURED_COOLDOWN,
            _ => return,
        };
        let cooldown = Cooldown {
            until: Instant::now() + wait,
            error: error.clone(),
            epoch: self.deps.epoch.current(),
        };
        self.cooldowns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(id, cooldown);
    }

    /// Refreshes running now (each finishes and stores what it got, even when its reader left).
    pub fn in_flight(&self) -> usize {
        self.tasks.len()
    }

    /// Stops taking new work and waits, at most `grace`, for refreshes in flight to finish and
    /// store what they got. `false` when some were still running. Called once the listeners
    /// have stopped, so no request can start another.
    pub async fn drain(&self, grace: Duration) -> bool {
        self.tasks.close();
        let drained = tokio::time::timeout(grace, self.tasks.wait()).await.is_ok();
        if !drained {
            tracing::error!(
                in_flight = self.tasks.len(),
                "refreshes still running at shutdown; a rotated refresh token they hold may be lost"
            );
        }
        drained
    }

    /// The refresh of `id` is over: whoever asks from now on starts a new one (which re-reads
    /// and finds the newer credential, or tries the provider again after a failure).
    fn forget(&self, id: ConnectionId, task: u64) {
        let mut inflight = self.inflight.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if inflight.get(&id).is_some_and(|(running, _)| *running == task) {
            inflight.remove(&id);
        }
    }

    /// A new lease for one attempt (or one claiming batch).
    pub(crate) fn new_lease(&self) -> RefreshLease {
        RefreshLease {
            owner: format!("{}/{}", self.deps.instance_id, uuid::Uuid::new_v4().simple()),
            hold: LEASE_DURATION,
        }
    }

    /// Gives the lease up; `refreshed` (a fresh credential is stored) also clears the backoff.
    async fn release(&self, id: ConnectionId, owner: &str, refreshed: bool) {
        if let Err(error) = self.deps.leases.release_lease(id, owner, refreshed).await {
            tracing::warn!(connection_id = %id, %error, "releasing a refresh lease failed; it lapses by itself");
        }
    }

    fn open(&self, id: ConnectionId, record: &CredentialRecord) -> Outcome {
        Ok(Fresh {
            stored: Stored::open(&self.deps.keyring, id, &record.ciphertext)
                .map_err(|e| RefreshError::internal("opening a stored credential", e))?,
            lifetime: record.lifetime(),
        })
    }
}
