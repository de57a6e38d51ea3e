//! The audit trail. Recording never fails the operation it describes (a failure is logged).
//!
//! Token reads, the hot path, are not written inline: each read increments a tally for its
//! (connection, caller), and a flusher writes the tallies every second as one row each
//! (`reads`, `first_at`, `last_at`). On a clean shutdown the flusher writes what is left and
//! closes the tally under its lock, so any later read is written inline: every read is accounted
//! for, none is lost, and the read path performs no database write.
//!
//! Proxied calls are tallied the same way, by (connection, caller, method, origin, path,
//! status): one row a second per kind of call, with `calls`, the bytes each way summed, and
//! `first_at`/`last_at`, so the proxy's hot path writes nothing either.
//!
//! Failed authentications are tallied too, by (API, credential kind, reason) per minute, with a
//! few sample key prefixes: a flood of bad keys writes a handful of rows a minute, never one
//! per attempt. Old events are deleted after the retention period (`sweep_retention`).
//!
//! While the database is away, rows it cannot take (the flusher's, and events recorded inline)
//! wait in the [`Backlog`](crate::audit_backlog) with their original times, and are written
//! when it returns.

use crate::audit_backlog::{AuditBacklogSettings, Backlog, Row};
use crate::paging::{page, page_size};
use crate::repo_errors::internal;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_domain::agent_key::Actor;
use nexus_domain::audit::{AuditEvent, AuditEventType, AuditQuery, NewAuditEvent, Page};
use nexus_domain::clock::Clock;
use nexus_domain::ports::{AuditService, ServiceResult};
use nexus_domain::{AuditEventId, ConnectionId};
use nexus_repositories::{AuditRepository, RepoError};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

/// Proxied calls of one kind (connection, caller, method, origin, path, status) since the last
/// flush.
#[derive(Debug)]
struct CallTally {
    first: NewAuditEvent,
    first_at: DateTime<Utc>,
    last_at: DateTime<Utc>,
    calls: u64,
    request_bytes: u64,
    response_bytes: u64,
}

/// Failed authentications of one kind within the current minute.
#[derive(Debug)]
struct FailureTally {
    first: NewAuditEvent,
    first_at: DateTime<Utc>,
    last_at: DateTime<Utc>,
    attempts: u64,
    /// A few of the key prefixes presented (attacker-chosen, so only a few).
    prefixes: BTreeSet<String>,
}

/// How long failed authentications are gathered before they are written as one row per kind.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
const SAMPLE_PREFIXES: usize = 10;

#[derive(Debug, Default)]
struct Tallies {
    open: bool,
    by_reader: HashMap<(Option<ConnectionId>, Actor), Tally>,
    calls: HashMap<String, CallTally>,
    failures: HashMap<String, FailureTally>,
    /// When the oldest unwritten failure happened.
    failures_since: Option<DateTime<Utc>>,
    /// Events recorded inline that the database could not take, for the flusher's backlog.
    unwritten: Vec<Row>,
    /// Bound of `unwritten` (the backlog's); past it events are counted in `lost`.
    unwritten_max: usize,
    /// Events past that bound: how many, first and last time.
    lost: Option<(u64, DateTime<Utc>, DateTime<Utc>)>,
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

/// Writes tallied reads every second (and tallied failures every minute) until shutdown, then
/// writes the rest.
pub struct AuditFlusher {
    repo: Arc<dyn AuditRepository>,
    tallies: Arc<Mutex<Tallies>>,
    clock: Arc<dyn Clock>,
    backlog: Backlog,
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
    /// Takes the tallies (closing them when `close`: the last flush, at shutdown), and writes
    /// one row per reader. The background driver's audit flush task calls it every second.
    pub async fn flush(&mut self, close: bool) {
        let now = self.clock.now();
        let taken = {
            let mut tallies = lock(&self.tallies);
            if close {
                tallies.open = false;
            }
            let window_over = tallies
                .failures_since
                .is_some_and(|since| now - since >= chrono::TimeDelta::from_std(FAILURE_WINDOW).unwrap_or_default());
            let failures = if close || window_over {
                tallies.failures_since = None;
                std::mem::take(&mut tallies.failures)
            } else {
                HashMap::new()
            };
            let calls = std::mem::take(&mut tallies.calls);
            if let Some((events, first_at, last_at)) = tallies.lost.take() {
                self.backlog.count_dropped(events, first_at, last_at);
            }
            let unwritten = std::mem::take(&mut tallies.unwritten);
            (std::mem::take(&mut tallies.by_reader), failures, calls, unwritten)
        };
        let (taken, failures, calls, unwritten) = taken;
        let call_rows = calls.into_values().map(|tally| {
            let mut event = tally.first;
            if let Some(data) = event.data.as_object_mut() {
                data.insert("calls".into(), tally.calls.into());
                data.insert("request_bytes".into(), tally.request_bytes.into());
                data.insert("response_bytes".into(), tally.response_bytes.into());
                data.insert("first_at".into(), serde_json::json!(tally.first_at));
                data.insert("last_at".into(), serde_json::json!(tally.last_at));
            }
            (AuditEventId::new(), tally.first_at, event)
        });
        let failure_rows = failures.into_values().map(|tally| {
            let mut event = tally.first;
            let mut data = match std::mem::take(&mut event.data) {
                serde_json::Value::Object(map) => map,
                _ => serde_json::Map::new(),
            };
            data.insert("attempts".into(), tally.attempts.into());
            data.insert("first_at".into(), serde_json::json!(tally.first_at));
            data.insert("last_at".into(), serde_json::json!(tally.last_at));
            data.insert("sample_prefixes".into(), serde_json::json!(tally.prefixes));
            event.data = serde_json::Value::Object(data);
            (AuditEventId::new(), tally.first_at, event)
        });
        let rows: Vec<Row> = taken
            .into_values()
            .map(|tally| {
                let event = tally_row(tally.first, tally.reads, tally.first_at, tally.last_at);
                (AuditEventId::new(), tally.first_at, event)
            })
            .chain(failure_rows)
            .chain(call_rows)
            .chain(unwritten)
            .collect();
        self.backlog.write(self.repo.as_ref(), rows).await;
        if close && self.backlog.waiting_in_memory() > 0 {
            let events = self.backlog.waiting_in_memory();
            tracing::error!(
                events,
                "the database is away at shutdown and these audit events could not be spooled (NEXUS_AUDIT_SPOOL unset, full or unwritable): they are lost"
            );
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
        Self::buffered_with(repo, clock, AuditBacklogSettings::default())
    }

    /// As [`AuditServiceImpl::buffered`], with where rows wait while the database is away.
    pub fn buffered_with(
        repo: Arc<dyn AuditRepository>,
        clock: Arc<dyn Clock>,
        backlog: AuditBacklogSettings,
    ) -> (Self, AuditFlusher) {
        let backlog = Backlog::new(backlog);
        let tallies = Arc::new(Mutex::new(Tallies {
            open: true,
            unwritten_max: backlog.max_events(),
            ..Tallies::default()
        }));
        let flusher = AuditFlusher {
            repo: repo.clone(),
            tallies: tallies.clone(),
            clock: clock.clone(),
            backlog,
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

    /// Adds a failed authentication to the minute's tally of its kind; gives the event back when
    /// tallies are closed (or absent).
    fn tally_failure(&self, mut event: NewAuditEvent, at: DateTime<Utc>) -> Option<NewAuditEvent> {
        let Some(tallies) = &self.tallies else {
            return Some(event);
        };
        let mut tallies = lock(tallies);
        if !tallies.open {
            return Some(event);
        }
        let prefix = event
            .data
            .as_object_mut()
            .and_then(|data| data.remove("prefix"))
            .and_then(|prefix| prefix.as_str().map(str::to_owned));
        // The kind: fixed strings set by Nexus (never what the caller sent).
        let field = |name: &str| {
            event
                .data
                .get(name)
                .and_then(serde_json::Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let kind = format!("{}/{}/{}", field("api"), field("credential"), field("reason"));
        tallies.failures_since.get_or_insert(at);
        let tally = tallies.failures.entry(kind).or_insert_with(|| FailureTally {
            first: event,
            first_at: at,
            last_at: at,
            attempts: 0,
            prefixes: BTreeSet::new(),
        });
        tally.attempts += 1;
        tally.last_at = tally.last_at.max(at);
        if let Some(prefix) = prefix
            && tally.prefixes.len() < SAMPLE_PREFIXES
        {
            tally.prefixes.insert(prefix);
        }
        None
    }

    /// Adds a proxied call to the tally of its kind; gives the event back when tallies are
    /// closed (or absent).
    fn tally_call(&self, mut event: NewAuditEvent, at: DateTime<Utc>) -> Option<NewAuditEvent> {
        let Some(tallies) = &self.tallies else {
            return Some(event);
        };
        let mut tallies = lock(tallies);
        if !tallies.open {
            return Some(event);
        }
        let mut bytes = |name: &str| {
            event
                .data
                .as_object_mut()
                .and_then(|data| data.remove(name))
                .and_then(|value| value.as_u64())
                .unwrap_or(0)
        };
        let (request_bytes, response_bytes) = (bytes("request_bytes"), bytes("response_bytes"));
        // The kind: what Nexus wrote of the call (its path without query values).
        let kind = format!("{:?}|{:?}|{}", event.connection_id, event.actor, event.data);
        let tally = tallies.calls.entry(kind).or_insert_with(|| CallTally {
            first: event,
            first_at: at,
            last_at: at,
            calls: 0,
            request_bytes: 0,
            response_bytes: 0,
        });
        tally.calls += 1;
        tally.last_at = tally.last_at.max(at);
        tally.request_bytes = tally.request_bytes.saturating_add(request_bytes);
        tally.response_bytes = tally.response_bytes.saturating_add(response_bytes);
        None
    }

    /// An event the database could not take now, handed to the flusher's backlog; `Err` when
    /// there is no flusher to take it (unbuffered, or after shutdown).
    fn keep_for_later(&self, row: Row) -> Result<(), ()> {
        let Some(tallies) = &self.tallies else {
            return Err(());
        };
        let mut tallies = lock(tallies);
        if !tallies.open {
            return Err(());
        }
        if tallies.unwritten.len() < tallies.unwritten_max {
            tallies.unwritten.push(row);
        } else {
            let at = row.1;
            let lost = tallies.lost.get_or_insert((0, at, at));
            lost.0 += 1;
            lost.1 = lost.1.min(at);
            lost.2 = lost.2.max(at);
        }
        Ok(())
    }

    /// Deletes events older than `retention` (the background sweep); returns how many.
    pub async fn sweep_retention(&self, retention: Duration) -> ServiceResult<u64> {
        let Some(cutoff) = chrono::TimeDelta::from_std(retention)
            .ok()
            .and_then(|retention| self.clock.now().checked_sub_signed(retention))
        else {
            return Ok(0);
        };
        self.repo
            .delete_before(cutoff)
            .await
            .map_err(internal("deleting old audit events"))
    }

    /// Adds `reads` reads to their tally; gives the event back when tallies are closed (or
    /// absent).
    fn tally(
        &self,
        event: NewAuditEvent,
        reads: u64,
        first_at: DateTime<Utc>,
        last_at: DateTime<Utc>,
    ) -> Option<NewAuditEvent> {
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
                tally.reads = tally.reads.saturating_add(reads);
                tally.first_at = tally.first_at.min(first_at);
                tally.last_at = tally.last_at.max(last_at);
            }
            None => {
                tallies.by_reader.insert(
                    key,
                    Tally {
                        first: event,
                        first_at,
                        last_at,
                        reads,
                    },
                );
            }
        }
        None
    }
}

/// A read tally's row: the event with `reads`, `first_at` and `last_at` in its data.
fn tally_row(mut event: NewAuditEvent, reads: u64, first_at: DateTime<Utc>, last_at: DateTime<Utc>) -> NewAuditEvent {
    let mut data = match std::mem::take(&mut event.data) {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    data.insert("reads".into(), reads.into());
    data.insert("first_at".into(), serde_json::json!(first_at));
    data.insert("last_at".into(), serde_json::json!(last_at));
    event.data = serde_json::Value::Object(data);
    event
}

#[async_trait]
impl AuditService for AuditServiceImpl {
    async fn record(&self, event: NewAuditEvent) -> ServiceResult<()> {
        let at = self.clock.now();
        let untallied = match event.event_type {
            AuditEventType::TokenRead => self.tally(event, 1, at, at),
            AuditEventType::AuthenticationFailed => self.tally_failure(event, at),
            AuditEventType::ProxyCall => self.tally_call(event, at),
            _ => Some(event),
        };
        let Some(event) = untallied else {
            return Ok(());
        };
        let id = AuditEventId::new();
        match self.repo.insert(id, at, &event).await {
            Err(RepoError::Unavailable(error)) => self
                .keep_for_later((id, at, event))
                .map_err(|()| internal("recording an audit event")(RepoError::Unavailable(error))),
            result => result.map_err(internal("recording an audit event")),
        }
    }

    async fn record_reads(
        &self,
        event: NewAuditEvent,
        reads: u64,
        first_at: DateTime<Utc>,
        last_at: DateTime<Utc>,
    ) -> ServiceResult<()> {
        let Some(event) = self.tally(event, reads, first_at, last_at) else {
            return Ok(());
        };
        let (id, row) = (AuditEventId::new(), tally_row(event, reads, first_at, last_at));
        match self.repo.insert(id, first_at, &row).await {
            Err(RepoError::Unavailable(error)) => self
                .keep_for_later((id, first_at, row))
                .map_err(|()| internal("recording reads")(RepoError::Unavailable(error))),
            result => result.map_err(internal("recording reads")),
        }
    }

    async fn list(&self, mut query: AuditQuery) -> ServiceResult<Page<AuditEvent>> {
        query.limit = page_size(query.limit)?;
        let items = self.repo.list(&query).await.map_err(internal("listing audit events"))?;
        Ok(page(items, query.limit, |event| event.id.to_string()))
    }
}
