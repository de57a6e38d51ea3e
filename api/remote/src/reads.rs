//! Reads a split Gateway served from its cache, tallied per receipt and reported to the Broker,
//! so that the Broker's audit trail and metrics count every read. The Broker counts each
//! receipt's fresh reads once and its stale reads once (a replay counts nothing), so each is
//! reported once: fresh reads when the receipt can no longer be served fresh, stale reads at the
//! next report that the Broker takes, after which the receipt is not served any more. Reports go
//! every second, and once more after the listener has drained on shutdown (then everything
//! tallied). A report the Broker could not take (unreachable, 5xx) is kept for the next one; one
//! it refused (4xx) is dropped with an error. When too many receipts wait, or after the last
//! report, the cache stops serving and reads go to the Broker, which audits them itself.

use chrono::{DateTime, Utc};
use nexus_client::broker::{Client, types};
use std::collections::{HashMap, HashSet};
use std::num::NonZeroU64;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often tallied reads are reported.
pub(crate) const REPORT_INTERVAL: Duration = Duration::from_secs(1);
/// Receipts waiting at most.
const MAX_PENDING: usize = 10_000;
/// Entries per report: the Broker's schema allows 50 (`ServedReadsReport.reads`, `maxItems`).
const REPORT_CHUNK: usize = 50;
/// Fresh reads are reported this long after their receipt stopped being fresh, so a read that
/// was looked up just before is tallied first.
const FRESH_SETTLE: Duration = Duration::from_millis(500);

/// Which reads of a receipt: the Broker counts each kind once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct TallyKey {
    receipt: String,
    stale: bool,
}

#[derive(Debug, Clone, Copy)]
struct Tally {
    reads: u64,
    first_at: DateTime<Utc>,
    last_at: DateTime<Utc>,
    /// When it may be reported: fresh reads once their receipt is no longer fresh; stale reads
    /// at once.
    due: Instant,
}

#[derive(Debug)]
struct Pending {
    open: bool,
    tallies: HashMap<TallyKey, Tally>,
    /// Receipts whose stale reads are being reported: not served stale again meanwhile (a read
    /// counted after the report would be a second report of them, which the Broker refuses).
    retiring: HashSet<String>,
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
                tallies: HashMap::new(),
                retiring: HashSet::new(),
            }),
        }
    }
}

/// How a report went: the receipts whose stale reads the Broker took (they are not served again).
#[derive(Debug, Default)]
pub struct Reported {
    pub retired: Vec<String>,
}

impl ReadTally {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts one read served fresh under `receipt`, which stays fresh until `fresh_until`;
    /// `false` (nothing counted) when the tally is closed or too many receipts are waiting.
    pub fn count_fresh(&self, receipt: &str, fresh_until: Instant) -> bool {
        self.count(receipt, false, fresh_until + FRESH_SETTLE)
    }

    /// Counts one read served stale (the Broker could not answer) under `receipt`.
    pub fn count_stale(&self, receipt: &str) -> bool {
        self.count(receipt, true, Instant::now())
    }

    fn count(&self, receipt: &str, stale: bool, due: Instant) -> bool {
        let now = Utc::now();
        let mut pending = self.lock();
        if !pending.open || (stale && pending.retiring.contains(receipt)) {
            return false;
        }
        let full = pending.tallies.len() >= MAX_PENDING;
        let key = TallyKey {
            receipt: receipt.to_owned(),
            stale,
        };
        match pending.tallies.get_mut(&key) {
            Some(tally) => {
                tally.reads = tally.reads.saturating_add(1);
                tally.last_at = now;
                tally.due = tally.due.max(due);
                true
            }
            None if full => false,
            None => {
                pending.tallies.insert(
                    key,
                    Tally {
                        reads: 1,
                        first_at: now,
                        last_at: now,
                        due,
                    },
                );
                true
            }
        }
    }

    /// Sends what is due (everything once closed), in chunks the Broker accepts.
    pub async fn report(&self, client: &Client) -> Reported {
        let now = Instant::now();
        let taken: Vec<(TallyKey, Tally)> = {
            let mut pending = self.lock();
            let everything = !pending.open;
            let due: Vec<TallyKey> = pending
                .tallies
                .iter()
                .filter(|(_, tally)| everything || tally.due <= now)
                .map(|(key, _)| key.clone())
                .collect();
            let taken: Vec<(TallyKey, Tally)> = due
                .into_iter()
                .filter_map(|key| pending.tallies.remove_entry(&key))
                .collect();
            for (key, _) in taken.iter().filter(|(key, _)| key.stale) {
                pending.retiring.insert(key.receipt.clone());
            }
            taken
        };
        let mut reported = Reported::default();
        for chunk in taken.chunks(REPORT_CHUNK) {
            let body = types::ServedReadsReport {
                reads: chunk.iter().filter_map(|(key, tally)| entry(key, tally)).collect(),
            };
            match client.internal_reads_report().body(body).send().await {
                Ok(_) => reported.retired.extend(
                    chunk
                        .iter()
                        .filter(|(key, _)| key.stale)
                        .map(|(key, _)| key.receipt.clone()),
                ),
                Err(progenitor_client::Error::ErrorResponse(refused)) if refused.status().is_client_error() => {
                    self.stop_retiring(chunk);
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
                    self.stop_retiring(chunk);
                    self.put_back(chunk);
                }
            }
        }
        reported
    }

    /// The cache has stopped serving these receipts: nothing more can be counted under them.
    pub fn retired(&self, receipts: &[String]) {
        let mut pending = self.lock();
        for receipt in receipts {
            pending.retiring.remove(receipt);
        }
    }

    /// A report of these stale reads did not go through: their receipts may be served again.
    fn stop_retiring(&self, tallies: &[(TallyKey, Tally)]) {
        let mut pending = self.lock();
        for (key, _) in tallies.iter().filter(|(key, _)| key.stale) {
            pending.retiring.remove(&key.receipt);
        }
    }

    fn put_back(&self, tallies: &[(TallyKey, Tally)]) {
        let mut pending = self.lock();
        for (key, tally) in tallies {
            let merged = pending
                .tallies
                .entry(key.clone())
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
        let left: u64 = self.lock().tallies.values().map(|tally| tally.reads).sum();
        if left > 0 {
            tracing::error!(
                reads = left,
                "the Broker did not take the last report of cached reads; they are not audited"
            );
        }
    }
}

fn entry(key: &TallyKey, tally: &Tally) -> Option<types::ServedReads> {
    Some(types::ServedReads {
        receipt: key.receipt.parse().ok()?,
        reads: NonZeroU64::new(tally.reads.min(1_000_000))?,
        first_at: tally.first_at,
        last_at: tally.last_at,
        stale: key.stale,
    })
}
