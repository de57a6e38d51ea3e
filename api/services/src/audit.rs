//! The audit trail. Recording never fails the operation it describes (a failure is logged).
//!
//! Token reads, the hot path, are not written inline: each read increments a tally for its
//! (connection, caller), and a flusher writes the tallies every second as one row each
//! (`reads`, `first_at`, `last_at`). On a clean shutdown the flusher writes what is left and
//! closes the tally under its lock, so any later read is written inline: every read is accounted
//! for, none is lost, and the read path performs no database write.

use crate::paging::{page, page_size};
use crate::repo_errors::internal;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_domain::agent_key::Actor;
use nexus_domain::audit::{AuditEvent, AuditEventType, AuditQuery, NewAuditEvent, Page};
use nexus_domain::clock::Clock;
use nexus_domain::ports::{AuditService, ServiceResult};
use nexus_domain::{AuditEventId, ConnectionId};
use nexus_repositories::AuditRepository;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// How often tallied reads are written.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(1);

/// Reads of one connection by one caller since the last flush.
#[derive(Debug)]
struct Tally {
    first: NewAuditEvent,
    first_at: DateTime<Utc>,
    last_at: DateTime<Utc>,
    reads: u64,
}

#[derive(Debug, Default)]
struct Tallies {
    open: bool,
    by_reader: HashMap<(Option<ConnectionId>, Actor), Tally>,
}

#[derive(Clone)]
pub struct AuditServiceImpl {
    repo: Arc<dyn AuditRepository>,
    clock: Arc<dyn Clock>,
    /// `None`: every event written inline.
    tallies: Option<Arc<Mutex<Tallies>>>,
}

impl std::fmt::Debug for AuditServiceImpl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditServiceImpl")
            .field("buffered", &self.tallies.is_some())
            .finish_non_exhaustive()
    }
}

/// Writes tallied reads every second until shutdown, then writes the rest.
pub struct AuditFlusher {
    repo: Arc<dyn AuditRepository>,
    tallies: Arc<Mutex<Tallies>>,
}

impl std::fmt::Debug for AuditFlusher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditFlusher").finish_non_exhaustive()
    }
}

fn lock(tallies: &Mutex<Tallies>) -> std::sync::MutexGuard<'_, Tallies> {
    tallies.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl AuditFlusher {
    /// Takes the tallies (closing them when `close`), and writes one row per reader.
    async fn flush(&self, close: bool) {
        let taken = {
            let mut tallies = lock(&self.tallies);
            if close {
                tallies.open = false;
            }
            std::mem::take(&mut tallies.by_reader)
        };
        if taken.is_empty() {
            return;
        }
        let rows: Vec<(AuditEventId, DateTime<Utc>, NewAuditEvent)> = taken
            .into_values()
            .map(|tally| {
                let mut event = tally.first;
                let mut data = match std::mem::take(&mut event.data) {
                    serde_json::Value::Object(map) => map,
                    _ => serde_json::Map::new(),
                };
                data.insert("reads".into(), tally.reads.into());
                data.insert("first_at".into(), serde_json::json!(tally.first_at));
                data.insert("last_at".into(), serde_json::json!(tally.last_at));
                event.data = serde_json::Value::Object(data);
                (AuditEventId::new(), tally.first_at, event)
            })
            .collect();
        if let Err(error) = self.repo.insert_many(&rows).await {
            // One retry, row by row, so one bad row cannot take the others with it.
            tracing::warn!(%error, rows = rows.len(), "batched audit write failed; writing row by row");
            for (id, at, event) in &rows {
                if let Err(error) = self.repo.insert(*id, *at, event).await {
                    tracing::error!(%error, event_type = event.event_type.as_str(), "audit event was not recorded");
                }
            }
        }
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut ticker = tokio::time::interval(FLUSH_INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => self.flush(false).await,
                () = stopped(&mut shutdown) => break,
            }
        }
        self.flush(true).await;
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

impl AuditServiceImpl {
    /// Every event written inline.
    pub fn new(repo: Arc<dyn AuditRepository>, clock: Arc<dyn Clock>) -> Self {
        Self {
            repo,
            clock,
            tallies: None,
        }
    }

    /// Token reads tallied and written by the returned flusher, which must run.
    pub fn buffered(repo: Arc<dyn AuditRepository>, clock: Arc<dyn Clock>) -> (Self, AuditFlusher) {
        let tallies = Arc::new(Mutex::new(Tallies {
            open: true,
            by_reader: HashMap::new(),
        }));
        let flusher = AuditFlusher {
            repo: repo.clone(),
            tallies: tallies.clone(),
        };
        (
            Self {
                repo,
                clock,
                tallies: Some(tallies),
            },
            flusher,
        )
    }

    /// Records an event; a failure is logged, never returned, so the operation it describes
    /// (already committed) is not reported as failed.
    pub async fn record_or_log(audit: &dyn AuditService, event: NewAuditEvent) {
        let event_type = event.event_type.as_str();
        if let Err(error) = audit.record(event).await {
            tracing::error!(event_type, %error, detail = error.internal_detail(), "audit event was not recorded");
        }
    }

    /// Adds a read to its tally; gives the event back when tallies are closed (or absent).
    fn tally(&self, event: NewAuditEvent, at: DateTime<Utc>) -> Option<NewAuditEvent> {
        let Some(tallies) = &self.tallies else {
            return Some(event);
        };
        let mut tallies = lock(tallies);
        if !tallies.open {
            return Some(event);
        }
        let key = (event.connection_id, event.actor.clone());
        match tallies.by_reader.get_mut(&key) {
            Some(tally) => {
                tally.reads += 1;
                tally.last_at = tally.last_at.max(at);
            }
            None => {
                tallies.by_reader.insert(
                    key,
                    Tally {
                        first: event,
                        first_at: at,
                        last_at: at,
                        reads: 1,
                    },
                );
            }
        }
        None
    }
}

#[async_trait]
impl AuditService for AuditServiceImpl {
    async fn record(&self, event: NewAuditEvent) -> ServiceResult<()> {
        let at = self.clock.now();
        let event = if event.event_type == AuditEventType::TokenRead {
            match self.tally(event, at) {
                None => return Ok(()),
                Some(event) => event,
            }
        } else {
            event
        };
        self.repo
            .insert(AuditEventId::new(), at, &event)
            .await
            .map_err(internal("recording an audit event"))
    }

    async fn list(&self, mut query: AuditQuery) -> ServiceResult<Page<AuditEvent>> {
        query.limit = page_size(query.limit)?;
        let items = self.repo.list(&query).await.map_err(internal("listing audit events"))?;
        Ok(page(items, query.limit, |event| event.id.to_string()))
    }
}
