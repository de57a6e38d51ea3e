//! Audit rows the database could not take, kept until it can: in memory up to a bound, or, when
//! a spool file is configured, appended to it (one JSON row per line, flushed to disk), so they
//! also survive a restart. Every row keeps its id and original time, so a row written late
//! still sorts where it happened, and the spool, replayed in one transaction and then emptied,
//! never writes a row twice. Rows that fit nowhere are counted, and the count is written as an
//! `audit_events_dropped` event once the database answers again: a loss is never silent.

use chrono::{DateTime, Utc};
use nexus_domain::AuditEventId;
use nexus_domain::agent_key::Actor;
use nexus_domain::audit::{AuditEventType, NewAuditEvent};
use nexus_repositories::{AuditRepository, RepoError};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::io::Write;
use std::path::PathBuf;

/// One audit row: its id, when it happened, what happened.
pub(crate) type Row = (AuditEventId, DateTime<Utc>, NewAuditEvent);

/// `NEXUS_AUDIT_BUFFER_EVENTS`' default: about 100 MiB of rows at most.
pub const DEFAULT_AUDIT_BUFFER_EVENTS: usize = 100_000;

/// Where audit rows wait while the database is away.
#[derive(Debug, Clone)]
pub struct AuditBacklogSettings {
    /// Rows kept in memory at most (without a spool).
    pub max_events: usize,
    /// A file the rows are appended to instead (`NEXUS_AUDIT_SPOOL`).
    pub spool: Option<PathBuf>,
    /// `nexus_audit_events_dropped_total`.
    pub dropped_metric: Option<prometheus::IntCounter>,
}

impl Default for AuditBacklogSettings {
    fn default() -> Self {
        Self {
            max_events: DEFAULT_AUDIT_BUFFER_EVENTS,
            spool: None,
            dropped_metric: None,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct SpooledRow {
    id: AuditEventId,
    at: DateTime<Utc>,
    event: NewAuditEvent,
}

/// Rows that were lost, as the `audit_events_dropped` event will tell.
#[derive(Debug, Clone, Copy)]
struct Dropped {
    events: u64,
    first_at: DateTime<Utc>,
    last_at: DateTime<Utc>,
}

#[derive(Debug)]
pub(crate) struct Backlog {
    settings: AuditBacklogSettings,
    rows: VecDeque<Row>,
    dropped: Option<Dropped>,
}

impl Backlog {
    pub(crate) fn new(settings: AuditBacklogSettings) -> Self {
        Self {
            settings,
            rows: VecDeque::new(),
            dropped: None,
        }
    }

    pub(crate) fn max_events(&self) -> usize {
        self.settings.max_events
    }

    /// Counts rows lost (by the caller's bound or here), for the `audit_events_dropped` event.
    pub(crate) fn count_dropped(&mut self, events: u64, first_at: DateTime<Utc>, last_at: DateTime<Utc>) {
        if events == 0 {
            return;
        }
        if let Some(metric) = &self.settings.dropped_metric {
            metric.inc_by(events);
        }
        tracing::error!(
            events,
            "the database stayed away past the audit buffer's bound; audit events were dropped"
        );
        let dropped = self.dropped.get_or_insert(Dropped {
            events: 0,
            first_at,
            last_at,
        });
        dropped.events = dropped.events.saturating_add(events);
        dropped.first_at = dropped.first_at.min(first_at);
        dropped.last_at = dropped.last_at.max(last_at);
    }

    /// Rows the database did not take: to the spool when there is one, else to memory, up to
    /// the bound.
    fn keep(&mut self, rows: Vec<Row>) {
        if rows.is_empty() {
            return;
        }
        if let Some(path) = &self.settings.spool {
            match append(path, &rows) {
                Ok(()) => return,
                Err(error) => {
                    tracing::error!(%error, spool = %path.display(), "audit rows could not be spooled; keeping them in memory");
                }
            }
        }
        let room = self.settings.max_events.saturating_sub(self.rows.len());
        let mut rows = rows.into_iter();
        self.rows.extend(rows.by_ref().take(room));
        let lost: Vec<Row> = rows.collect();
        if let (Some(first), Some(last)) = (lost.iter().map(|r| r.1).min(), lost.iter().map(|r| r.1).max()) {
            self.count_dropped(lost.len() as u64, first, last);
        }
    }

    /// Writes what waits and `fresh`; keeps what the database cannot take yet.
    pub(crate) async fn write(&mut self, repo: &dyn AuditRepository, fresh: Vec<Row>) {
        if !self.replay_spool(repo).await {
            // Still away: no point trying the rest now.
            let mut waiting: Vec<Row> = self.rows.drain(..).collect();
            waiting.extend(fresh);
            self.keep(waiting);
            return;
        }
        let mut batch: Vec<Row> = self.rows.drain(..).collect();
        batch.extend(fresh);
        let unwritten = write_rows(repo, batch).await;
        let away = !unwritten.is_empty();
        self.keep(unwritten);
        if !away {
            self.write_dropped(repo).await;
        }
    }

    /// Rows left unwritten, for the log line of a shutdown that could not write them.
    pub(crate) fn waiting_in_memory(&self) -> usize {
        self.rows.len()
    }

    async fn write_dropped(&mut self, repo: &dyn AuditRepository) {
        let Some(dropped) = self.dropped else {
            return;
        };
        let event = NewAuditEvent::new(AuditEventType::AuditEventsDropped, &Actor::System).data(serde_json::json!({
            "events": dropped.events,
            "first_at": dropped.first_at,
            "last_at": dropped.last_at,
        }));
        if repo.insert(AuditEventId::new(), dropped.first_at, &event).await.is_ok() {
            self.dropped = None;
        }
    }

    /// Writes the spool's rows, in one transaction, and empties it. `false` when the database
    /// is still away (the spool is kept).
    async fn replay_spool(&mut self, repo: &dyn AuditRepository) -> bool {
        let Some(path) = self.settings.spool.clone() else {
            return true;
        };
        let rows = match read_spool(&path) {
            Ok(rows) if rows.is_empty() => return true,
            Ok(rows) => rows,
            Err(error) => {
                tracing::error!(%error, spool = %path.display(), "the audit spool could not be read; left in place");
                return true;
            }
        };
        let count = rows.len();
        match repo.insert_many(&rows).await {
            Ok(()) => {}
            Err(RepoError::Unavailable(_)) => return false,
            Err(error) => {
                // A row already written (a crash between the commit and the truncation) or one
                // the database refuses: row by row, so the others are still written.
                tracing::warn!(%error, rows = count, "replaying the audit spool in one batch failed; row by row");
                for (id, at, event) in &rows {
                    if let Err(RepoError::Unavailable(_)) = repo.insert(*id, *at, event).await {
                        return false;
                    }
                }
            }
        }
        if let Err(error) = std::fs::File::create(&path) {
            tracing::error!(%error, spool = %path.display(), "the audit spool was written but could not be emptied");
        } else {
            tracing::info!(rows = count, "audit rows spooled during a database outage were written");
        }
        true
    }
}

/// Writes `rows` in one batch, or row by row when the batch is refused for another reason than
/// an outage (so one bad row cannot take the others with it). Returns the rows not written
/// because the database is away.
async fn write_rows(repo: &dyn AuditRepository, rows: Vec<Row>) -> Vec<Row> {
    if rows.is_empty() {
        return rows;
    }
    match repo.insert_many(&rows).await {
        Ok(()) => Vec::new(),
        Err(RepoError::Unavailable(_)) => rows,
        Err(error) => {
            tracing::warn!(%error, rows = rows.len(), "batched audit write failed; writing row by row");
            let mut unwritten = Vec::new();
            for row in rows {
                match repo.insert(row.0, row.1, &row.2).await {
                    Ok(()) => {}
                    Err(RepoError::Unavailable(_)) => unwritten.push(row),
                    Err(error) => {
                        tracing::error!(%error, event_type = row.2.event_type.as_str(), "audit event was refused by the database");
                    }
                }
            }
            unwritten
        }
    }
}

fn append(path: &std::path::Path, rows: &[Row]) -> std::io::Result<()> {
    let mut lines = Vec::new();
    for (id, at, event) in rows {
        serde_json::to_writer(
            &mut lines,
            &SpooledRow {
                id: *id,
                at: *at,
                event: event.clone(),
            },
        )?;
        lines.push(b'\n');
    }
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(&lines)?;
    file.sync_data()
}

fn read_spool(path: &std::path::Path) -> std::io::Result<Vec<Row>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    // A line cut short by a crash mid-append is skipped (and said), never fatal.
    let mut rows = Vec::new();
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        match serde_json::from_str::<SpooledRow>(line) {
            Ok(row) => rows.push((row.id, row.at, row.event)),
            Err(error) => tracing::error!(%error, "an unreadable line of the audit spool was skipped"),
        }
    }
    Ok(rows)
}
