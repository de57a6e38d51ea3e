//! The claim, lease and permit loop, once, for every job that takes its work from a shared table
//! (credentials due for refresh, webhook deliveries due): claim as many items as there are free
//! permits (the claim leases them to this process, so replicas never take the same one), work on
//! each under its permit, and claim again as soon as half the permits are free while batches come
//! back full. The driver activates it each period; shutdown waits for the work in flight.

use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

/// Work claimed from a shared table.
#[async_trait]
pub trait ClaimedWork: Send + Sync + 'static {
    type Item: Send + 'static;
    /// Claims (leases) at most `limit` items for this process, or says why it could not.
    async fn claim(&self, limit: usize) -> Result<Vec<Self::Item>, String>;
    /// Works on one claimed item; its permit is held until this returns.
    async fn work(self: Arc<Self>, item: Self::Item);
}

/// How one claim went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Batch {
    pub claimed: usize,
    /// How many were asked for (the free permits).
    pub asked: usize,
}

impl Batch {
    /// A full batch: more may be waiting.
    pub fn full(self) -> bool {
        self.asked > 0 && self.claimed == self.asked
    }
}

pub struct ClaimLoop<W: ClaimedWork> {
    work: Arc<W>,
    concurrency: usize,
    permits: Arc<Semaphore>,
    tasks: TaskTracker,
}

impl<W: ClaimedWork> std::fmt::Debug for ClaimLoop<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimLoop")
            .field("concurrency", &self.concurrency)
            .field("in_flight", &self.in_flight())
            .finish_non_exhaustive()
    }
}

impl<W: ClaimedWork> ClaimLoop<W> {
    pub fn new(work: Arc<W>, concurrency: usize) -> Self {
        let concurrency = concurrency.max(1);
        Self {
            work,
            concurrency,
            permits: Arc::new(Semaphore::new(concurrency)),
            tasks: TaskTracker::new(),
        }
    }

    /// Items claimed and not finished yet.
    pub fn in_flight(&self) -> usize {
        self.concurrency.saturating_sub(self.permits.available_permits())
    }

    /// One claim: as many items as there are free permits, each started under its permit.
    pub async fn claim_batch(&self) -> Result<Batch, String> {
        let asked = self.permits.available_permits();
        if asked == 0 || self.tasks.is_closed() {
            return Ok(Batch::default());
        }
        let items = self.work.claim(asked).await?;
        let claimed = items.len();
        for item in items {
            // Never fails: the claim asked for no more than the free permits, and only this loop
            // takes them.
            let Ok(permit) = self.permits.clone().acquire_owned().await else {
                break;
            };
            let work = self.work.clone();
            self.tasks.spawn(async move {
                work.work(item).await;
                drop(permit);
            });
        }
        Ok(Batch { claimed, asked })
    }

    /// Claims until a batch comes back short: after a full one, again as soon as half the
    /// permits are free, so claims stay batched and the process stays busy. Returns how many
    /// it claimed in all.
    pub async fn claim_until_caught_up(&self) -> Result<usize, String> {
        let half = u32::try_from(self.concurrency.div_ceil(2)).unwrap_or(1);
        let mut total = 0;
        loop {
            let batch = self.claim_batch().await?;
            total += batch.claimed;
            if !batch.full() {
                return Ok(total);
            }
            // Waits for half the permits and gives them straight back: only the wait matters.
            drop(self.permits.acquire_many(half).await.map_err(|e| e.to_string())?);
        }
    }

    /// Takes no more work and waits, at most `grace`, for the items in flight; `false` when
    /// some were still running (their leases lapse and another process takes them).
    pub async fn drain(&self, grace: Duration) -> bool {
        self.tasks.close();
        tokio::time::timeout(grace, self.tasks.wait()).await.is_ok()
    }
}
