//! The database outage breaker: once an operation found the database away (refused, reset,
//! terminated, pool timed out), further operations fail at once with `Unavailable` instead of
//! each waiting out the pool's acquire timeout, and one operation every [`PROBE_INTERVAL`]
//! goes through (bounded by [`PROBE_TIMEOUT`]) to find out whether it is back. The first
//! success closes the breaker. So an outage costs a reader microseconds, not seconds: a stale
//! answer from memory, or a prompt 503, instead of a hang.

use crate::{RepoError, RepoResult};
use sea_orm::{ConnAcquireErr, DbErr};
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often, while the database is away, one operation tries it again.
pub const PROBE_INTERVAL: Duration = Duration::from_millis(500);
/// How long that operation may take before it counts as another failure. Short: while the
/// breaker is open nothing else uses the pool, so a database that is back answers at once.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub struct OutageBreaker {
    /// Whether `state` holds anything (open, or soft failures counted): while it does not, an
    /// operation on a healthy database costs one atomic read and takes no lock.
    troubled: AtomicBool,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Set while the database is away: when the next probe may go.
    next_probe: Option<Instant>,
    /// Soft failures (a pool timeout, a busy SQLite file) since the last answer: a burst of
    /// load or one long write lock is not an outage, so only several in a row open the breaker.
    soft_in_a_row: u32,
}

/// Soft failures in a row that open the breaker.
const SOFT_FAILURES_TO_OPEN: u32 = 3;

enum Pass {
    /// The database answered last time: run as usual.
    Closed,
    /// Away: this operation is the probe.
    Probe,
    /// Away, and another operation probes: fail at once.
    Refuse,
}

impl OutageBreaker {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the database was found away and has not answered since.
    pub fn is_open(&self) -> bool {
        self.lock().next_probe.is_some()
    }

    fn pass(&self) -> Pass {
        if !self.troubled.load(Ordering::Acquire) {
            return Pass::Closed;
        }
        let mut state = self.lock();
        match state.next_probe {
            None => Pass::Closed,
            Some(at) if Instant::now() >= at => {
                state.next_probe = Some(Instant::now() + PROBE_INTERVAL);
                Pass::Probe
            }
            Some(_) => Pass::Refuse,
        }
    }

    fn settle<T>(&self, result: &RepoResult<T>) {
        match result {
            Err(error @ RepoError::Unavailable(_)) => {
                let mut state = self.lock();
                self.troubled.store(true, Ordering::Release);
                if state.next_probe.is_none() {
                    if error.is_soft_unavailable() {
                        state.soft_in_a_row += 1;
                        if state.soft_in_a_row < SOFT_FAILURES_TO_OPEN {
                            return;
                        }
                    }
                    tracing::warn!(%error, "the database is unavailable; operations fail fast until a probe succeeds");
                }
                // Counted from this failure, so that one request never pays for two probes.
                state.next_probe = Some(Instant::now() + PROBE_INTERVAL);
            }
            // Any answer, even a refusal of the statement, means the database is there.
            _ => {
                if !self.troubled.load(Ordering::Acquire) {
                    return;
                }
                let mut state = self.lock();
                state.soft_in_a_row = 0;
                if state.next_probe.take().is_some() {
                    tracing::info!("the database answers again");
                }
                self.troubled.store(false, Ordering::Release);
            }
        }
    }

    /// Runs `operation` unless the database is known to be away.
    pub async fn guard<T>(&self, operation: impl Future<Output = RepoResult<T>>) -> RepoResult<T> {
        let result = match self.pass() {
            Pass::Closed => operation.await,
            Pass::Probe => tokio::time::timeout(PROBE_TIMEOUT, operation)
                .await
                .unwrap_or_else(|_| Err(away())),
            Pass::Refuse => return Err(away()),
        };
        self.settle(&result);
        result
    }
}

/// The error of an operation not attempted (or abandoned) because the database is away.
fn away() -> RepoError {
    RepoError::Unavailable(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A pool timeout: soft.
    fn unavailable() -> RepoResult<()> {
        Err(away())
    }

    fn hard() -> RepoError {
        RepoError::Unavailable(DbErr::Conn(sea_orm::RuntimeErr::Internal("connection reset".into())))
    }

    #[tokio::test]
    async fn after_a_failure_only_a_probe_reaches_the_database_until_it_answers() {
        let breaker = OutageBreaker::default();
        breaker.settle::<()>(&Err(hard()));
        let attempts = AtomicUsize::new(0);
        let attempt = |ok: bool| {
            let attempts = &attempts;
            async move {
                attempts.fetch_add(1, Ordering::SeqCst);
                if ok { Ok(()) } else { unavailable() }
            }
        };
        assert!(breaker.is_open());
        assert!(breaker.guard(attempt(false)).await.is_err());
        for _ in 0..5 {
            let refused = breaker.guard(attempt(true)).await;
            assert!(matches!(refused, Err(RepoError::Unavailable(_))));
        }
        assert_eq!(
            attempts.load(Ordering::SeqCst),
            0,
            "refused operations never reach the database"
        );
        tokio::time::sleep(PROBE_INTERVAL).await;
        assert!(breaker.guard(async { Ok(()) }).await.is_ok(), "the probe goes through");
        assert!(!breaker.is_open(), "and its success closes the breaker");
        assert!(breaker.guard(async { Ok(()) }).await.is_ok());
    }

    #[tokio::test]
    async fn a_pool_timeout_alone_is_not_an_outage() {
        let breaker = OutageBreaker::default();
        for _ in 0..SOFT_FAILURES_TO_OPEN - 1 {
            let _ = breaker.guard(async { unavailable() }).await;
            assert!(!breaker.is_open(), "a burst of load is not an outage");
        }
        assert!(breaker.guard(async { Ok(()) }).await.is_ok());
        for _ in 0..SOFT_FAILURES_TO_OPEN - 1 {
            let _ = breaker.guard(async { unavailable() }).await;
        }
        assert!(!breaker.is_open(), "an answer in between starts the count again");
        let _ = breaker.guard(async { unavailable() }).await;
        assert!(breaker.is_open(), "several in a row are");
    }

    #[test]
    fn a_refused_connection_opens_at_once() {
        let breaker = OutageBreaker::default();
        let refused = RepoError::Unavailable(DbErr::Conn(sea_orm::RuntimeErr::Internal("refused".into())));
        assert!(!refused.is_soft_unavailable());
        breaker.settle::<()>(&Err(refused));
        assert!(breaker.is_open());
    }

    #[tokio::test]
    async fn a_probe_that_hangs_is_abandoned() {
        let breaker = OutageBreaker::default();
        for _ in 0..SOFT_FAILURES_TO_OPEN {
            let _ = breaker.guard(async { unavailable() }).await;
        }
        tokio::time::sleep(PROBE_INTERVAL).await;
        let started = Instant::now();
        let probe = breaker
            .guard(async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok(())
            })
            .await;
        assert!(matches!(probe, Err(RepoError::Unavailable(_))));
        assert!(started.elapsed() < PROBE_TIMEOUT + Duration::from_secs(1));
        assert!(breaker.is_open());
    }
}
