//! Reads a split Gateway served from its cache, tallied per (agent key, connection) and reported
//! to the Broker every second, and once more on shutdown, so that the Broker's audit trail and
//! metrics count every read. A report the Broker did not take is kept for the next one; when
//! too many distinct readers wait, the cache stops serving and reads go to the Broker.

use chrono::{DateTime, Utc};
use nexus_client::broker::{Client, types};
use nexus_domain::{AgentKeyId, ConnectionId};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::watch;

/// How often tallied reads are reported.
pub const REPORT_INTERVAL: Duration = Duration::from_secs(1);
/// Distinct (agent key, connection) pairs waiting at most; also the largest report.
const MAX_PENDING: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Tally {
    reads: u64,
    first_at: DateTime<Utc>,
    last_at: DateTime<Utc>,
}

#[derive(Debug, Default)]
pub struct ReadTally {
    pending: Mutex<HashMap<(AgentKeyId, ConnectionId), Tally>>,
}

impl ReadTally {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(AgentKeyId, ConnectionId), Tally>> {
        self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts one read; `false` (nothing counted) when too many readers are waiting already.
    pub fn count(&self, agent_key_id: AgentKeyId, connection_id: ConnectionId) -> bool {
        let now = Utc::now();
        let mut pending = self.lock();
        let full = pending.len() >= MAX_PENDING;
        match pending.get_mut(&(agent_key_id, connection_id)) {
            Some(tally) => {
                tally.reads += 1;
                tally.last_at = now;
                true
            }
            None if full => false,
            None => {
                pending.insert(
                    (agent_key_id, connection_id),
                    Tally {
                        reads: 1,
                        first_at: now,
                        last_at: now,
                    },
                );
                true
            }
        }
    }

    /// Sends what is tallied; what the Broker did not take is put back, merged with what came
    /// in meanwhile.
    pub async fn report(&self, client: &Client) {
        let taken: Vec<_> = std::mem::take(&mut *self.lock()).into_iter().collect();
        for chunk in taken.chunks(MAX_PENDING) {
            let body = types::ServedReadsReport {
                reads: chunk
                    .iter()
                    .filter_map(|((agent_key_id, connection_id), tally)| {
                        Some(types::ServedReads {
                            agent_key_id: agent_key_id.as_uuid(),
                            connection_id: connection_id.as_uuid(),
                            reads: std::num::NonZeroU64::new(tally.reads)?,
                            first_at: tally.first_at,
                            last_at: tally.last_at,
                        })
                    })
                    .collect(),
            };
            if let Err(error) = client.internal_reads_report().body(body).send().await {
                let error = crate::remote_error(error);
                tracing::warn!(%error, readers = chunk.len(), "reporting cached reads to the Broker failed; kept for the next report");
                self.put_back(chunk);
            }
        }
    }

    fn put_back(&self, readers: &[((AgentKeyId, ConnectionId), Tally)]) {
        let mut pending = self.lock();
        for (reader, tally) in readers {
            let merged = pending.entry(*reader).or_insert(Tally { reads: 0, ..*tally });
            merged.reads += tally.reads;
            merged.first_at = merged.first_at.min(tally.first_at);
            merged.last_at = merged.last_at.max(tally.last_at);
        }
    }

    /// Reports every [`REPORT_INTERVAL`] until shutdown, then reports what is left.
    pub async fn run(&self, client: &Client, mut shutdown: watch::Receiver<bool>) {
        let mut ticker = tokio::time::interval(REPORT_INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => self.report(client).await,
                () = stopped(&mut shutdown) => break,
            }
        }
        self.report(client).await;
        let left: u64 = self.lock().values().map(|tally| tally.reads).sum();
        if left > 0 {
            tracing::error!(reads = left, "the Broker did not take the last report of cached reads");
        }
    }
}

/// Resolves once `shutdown` is true (or its sender is gone). Holds no guard across an await.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow_and_update() {
            return;
        }
        if shutdown.changed().await.is_err() {
            return;
        }
    }
}
