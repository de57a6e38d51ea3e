//! Reads a split Gateway served from its cache, tallied per receipt and reported to the Broker
//! every second, and once more after the listener has drained on shutdown, so that the Broker's
//! audit trail and metrics count every read. A report the Broker could not take (unreachable,
//! 5xx) is kept for the next one; one it refused (4xx) is dropped with an error. When too many
//! receipts wait, or after the last report, the cache stops serving and reads go to the Broker,
//! which audits them itself.

use chrono::{DateTime, Utc};
use nexus_client::broker::{Client, types};
use std::collections::HashMap;
use std::num::NonZeroU64;
use std::sync::Mutex;
use std::time::Duration;

/// How often tallied reads are reported.
pub(crate) const REPORT_INTERVAL: Duration = Duration::from_secs(1);
/// Receipts waiting at most.
const MAX_PENDING: usize = 10_000;
/// Entries per report: the Broker's schema allows 50 (`ServedReadsReport.reads`, `maxItems`).
const REPORT_CHUNK: usize = 50;

#[derive(Debug, Clone, Copy)]
struct Tally {
    reads: u64,
    first_at: DateTime<Utc>,
    last_at: DateTime<Utc>,
}

#[derive(Debug)]
struct Pending {
    open: bool,
    by_receipt: HashMap<String, Tally>,
}

#[derive(Debug)]
pub struct ReadTally {
    pending: Mutex<Pending>,
}

impl Default for ReadTally {
    fn default() -> Self {
        Self {
            pending: Mutex::new(Pending {
                open: true,
                by_receipt: HashMap::new(),
            }),
        }
    }
}

impl ReadTally {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts one read under `receipt`; `false` (nothing counted) when the tally is closed or
    /// too many receipts are waiting already.
    pub fn count(&self, receipt: &str) -> bool {
        let now = Utc::now();
        let mut pending = self.lock();
        if !pending.open {
            return false;
        }
        let full = pending.by_receipt.len() >= MAX_PENDING;
        match pending.by_receipt.get_mut(receipt) {
            Some(tally) => {
                tally.reads = tally.reads.saturating_add(1);
                tally.last_at = now;
                true
            }
            None if full => false,
            None => {
                pending.by_receipt.insert(
                    receipt.to_owned(),
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

    /// Sends what is tallied, in chunks the Broker accepts.
    pub async fn report(&self, client: &Client) {
        let taken: Vec<(String, Tally)> = std::mem::take(&mut self.lock().by_receipt).into_iter().collect();
        for chunk in taken.chunks(REPORT_CHUNK) {
            let body = types::ServedReadsReport {
                reads: chunk
                    .iter()
                    .filter_map(|(receipt, tally)| entry(receipt, tally))
                    .collect(),
            };
            match client.internal_reads_report().body(body).send().await {
                Ok(_) => {}
                Err(progenitor_client::Error::ErrorResponse(refused)) if refused.status().is_client_error() => {
                    let reads: u64 = chunk.iter().map(|(_, tally)| tally.reads).sum();
                    tracing::error!(
                        status = refused.status().as_u16(),
                        reads,
                        "the Broker refused a report of cached reads; they are not audited"
                    );
                }
                Err(error) => {
                    let error = crate::remote_error(error);
                    tracing::warn!(%error, receipts = chunk.len(), "reporting cached reads to the Broker failed; kept for the next report");
                    self.put_back(chunk);
                }
            }
        }
    }

    fn put_back(&self, tallies: &[(String, Tally)]) {
        let mut pending = self.lock();
        for (receipt, tally) in tallies {
            let merged = pending
                .by_receipt
                .entry(receipt.clone())
                .or_insert(Tally { reads: 0, ..*tally });
            merged.reads = merged.reads.saturating_add(tally.reads);
            merged.first_at = merged.first_at.min(tally.first_at);
            merged.last_at = merged.last_at.max(tally.last_at);
        }
    }

    /// The last report, once no request can be served from the cache any more: later reads
    /// (there should be none) go to the Broker.
    pub async fn close(&self, client: &Client) {
        self.lock().open = false;
        self.report(client).await;
        let left: u64 = self.lock().by_receipt.values().map(|tally| tally.reads).sum();
        if left > 0 {
            tracing::error!(
                reads = left,
                "the Broker did not take the last report of cached reads; they are not audited"
            );
        }
    }
}

fn entry(receipt: &str, tally: &Tally) -> Option<types::ServedReads> {
    Some(types::ServedReads {
        receipt: receipt.parse().ok()?,
        reads: NonZeroU64::new(tally.reads.min(1_000_000))?,
        first_at: tally.first_at,
        last_at: tally.last_at,
    })
}
