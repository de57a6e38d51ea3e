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

/// Rows that were lost, as the `audit_events_dropped` event will tell (its id chosen once, so
/// a retried write never records the loss twice).
#[derive(Debug, Clone, Copy)]
struct Dropped {
    id: AuditEventId,
    events: u64,
    first_at: DateTime<Utc>,
    last_at: DateTime<Utc>,
}

/// Rows the spool holds at most, as a multiple of the memory bound.
const SPOOL_BOUND_FACTOR: usize = 10;

#[derive(Debug)]
pub(crate) struct Backlog {
    settings: AuditBacklogSettings,
    rows: VecDeque<Row>,
    dropped: Option<Dropped>,
    /// Rows in the spool file, as far as this process knows; `None` until it was looked at.
    spooled: Option<usize>,
    /// The last write found the database away: the spool waits for a write that succeeds.
    away: bool,
}

impl Backlog {
    pub(crate) fn new(settings: AuditBacklogSettings) -> Self {
        Self {
            settings,
            rows: VecDeque::new(),
            dropped: None,
            spooled: None,
            away: false,
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
            id: AuditEventId::new(),
            events: 0,
            first_at,
            last_at,
        });
        dropped.events = dropped.events.saturating_add(events);
        dropped.first_at = dropped.first_at.min(first_at);
        dropped.last_at = dropped.last_at.max(last_at);
    }

    /// Rows the database did not take: to the spool when there is one (up to its bound), else
    /// to memory, up to the bound.
    async fn keep(&mut self, rows: Vec<Row>) {
        if rows.is_empty() {
            return;
        }
        let rows = match self.settings.spool.clone() {
            Some(path) if self.spooled.unwrap_or(0) + rows.len() <= self.spool_bound() => {
                let count = rows.len();
                let appended = tokio::task::spawn_blocking(move || append(&path, &rows).map_err(|e| (e, rows)))
                    .await
                    .unwrap_or_else(|join| Err((std::io::Error::other(join.to_string()), Vec::new())));
                match appended {
                    Ok(()) => {
                        self.spooled = Some(self.spooled.unwrap_or(0) + count);
                        return;
                    }
                    Err((error, rows)) => {
                        tracing::error!(%error, "audit rows could not be spooled; keeping them in memory");
                        rows
                    }
                }
            }
            _ => rows,
        };
        let room = self.settings.max_events.saturating_sub(self.rows.len());
        let mut rows = rows.into_iter();
        self.rows.extend(rows.by_ref().take(room));
        let lost: Vec<Row> = rows.collect();
        self.count_lost(&lost);
    }

    fn spool_bound(&self) -> usize {
        self.settings.max_events.saturating_mul(SPOOL_BOUND_FACTOR)
    }

    fn count_lost(&mut self, lost: &[Row]) {
        if let (Some(first), Some(last)) = (lost.iter().map(|r| r.1).min(), lost.iter().map(|r| r.1).max()) {
            self.count_dropped(lost.len() as u64, first, last);
        }
    }

    /// Writes what waits and `fresh`; keeps what the database cannot take yet. The spool is
    /// replayed only once the database took this batch (while it is away, nothing reads it).
    pub(crate) async fn write(&mut self, repo: &dyn AuditRepository, fresh: Vec<Row>) {
        let mut batch: Vec<Row> = self.rows.drain(..).collect();
        batch.extend(fresh);
        let written_something = !batch.is_empty();
        let (unwritten, refused) = write_rows(repo, batch).await;
        self.count_lost(&refused);
        if !unwritten.is_empty() {
            self.away = true;
            self.keep(unwritten).await;
            return;
        }
        // Nothing written says nothing about the database: while it was last found away, the
        // spool waits for a write that succeeds.
        if written_something {
            self.away = false;
        }
        if self.away {
            return;
        }
        if self.replay_spool(repo).await {
            self.write_dropped(repo).await;
        } else {
            self.away = true;
        }
    }

    /// Rows left unwritten in memory, for the log line of a shutdown that could not write them.
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
        match repo.insert(dropped.id, dropped.first_at, &event).await {
            Ok(()) => self.dropped = None,
            // Written by an earlier attempt whose answer was lost.
            Err(RepoError::UniqueViolation(_)) => self.dropped = None,
            Err(_) => {}
        }
    }

    /// Writes the spool's rows, in one transaction, and empties it. `false` when the database
    /// is away again (the spool is kept).
    async fn replay_spool(&mut self, repo: &dyn AuditRepository) -> bool {
        let Some(path) = self.settings.spool.clone() else {
            return true;
        };
        if self.spooled == Some(0) {
            return true;
        }
        let read = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || read_spool(&path)).await
        };
        let rows = match read {
            Ok(Ok(rows)) => rows,
            Ok(Err(error)) => {
                tracing::error!(%error, spool = %path.display(), "the audit spool could not be read; left in place");
                return true;
            }
            Err(error) => {
                tracing::error!(%error, "reading the audit spool failed");
                return true;
            }
        };
        if rows.is_empty() {
            self.spooled = Some(0);
            return true;
        }
        let count = rows.len();
        match repo.insert_many(&rows).await {
            Ok(()) => {}
            Err(RepoError::Unavailable(_)) => return false,
            Err(error) => {
                // A row already written (a crash between the commit and the truncation) or one
                // the database refuses: row by row, so the others are still written.
                tracing::warn!(%error, rows = count, "replaying the audit spool in one batch failed; row by row");
                for (id, at, event) in &rows {
                    match repo.insert(*id, *at, event).await {
                        Ok(()) | Err(RepoError::UniqueViolation(_)) => {}
                        Err(RepoError::Unavailable(_)) => return false,
                        Err(error) => {
                            tracing::error!(%error, event_type = event.event_type.as_str(), "a spooled audit event was refused by the database");
                            self.count_dropped(1, *at, *at);
                        }
                    }
                }
            }
        }
        let emptied = tokio::task::spawn_blocking(move || create_private(&path).map(drop)).await;
        match emptied {
            Ok(Ok(())) => tracing::info!(rows = count, "audit rows spooled during a database outage were written"),
            _ => tracing::error!("the audit spool was written but could not be emptied"),
        }
        self.spooled = Some(0);
        true
    }
}

/// Writes `rows` in one batch, or row by row when the batch is refused for another reason than
/// an outage (so one bad row cannot take the others with it). Returns the rows not written
/// because the database is away, and those it refused.
async fn write_rows(repo: &dyn AuditRepository, rows: Vec<Row>) -> (Vec<Row>, Vec<Row>) {
    if rows.is_empty() {
        return (rows, Vec::new());
    }
    match repo.insert_many(&rows).await {
        Ok(()) => (Vec::new(), Vec::new()),
        Err(RepoError::Unavailable(_)) => (rows, Vec::new()),
        Err(error) => {
            tracing::warn!(%error, rows = rows.len(), "batched audit write failed; writing row by row");
            let (mut unwritten, mut refused) = (Vec::new(), Vec::new());
            for row in rows {
                match repo.insert(row.0, row.1, &row.2).await {
                    // Written by an earlier attempt whose answer was lost.
                    Ok(()) | Err(RepoError::UniqueViolation(_)) => {}
                    Err(RepoError::Unavailable(_)) => unwritten.push(row),
                    Err(error) => {
                        tracing::error!(%error, event_type = row.2.event_type.as_str(), "audit event was refused by the database");
                        refused.push(row);
                    }
                }
            }
            (unwritten, refused)
        }
    }
}

/// Opens the spool for writing, readable by this user only (it holds who read what, when).
fn create_private(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
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
    let mut file = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .mode(0o600)
            .open(path)?
    };
    // A line cut short by a crash mid-append is ended first, so it costs only itself.
    if ends_mid_line(&mut file)? {
        file.write_all(b"\n")?;
    }
    file.write_all(&lines)?;
    file.sync_data()
}

fn ends_mid_line(file: &mut std::fs::File) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    if file.metadata()?.len() == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0_u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Row {
        (
            AuditEventId::new(),
            Utc::now(),
            NewAuditEvent::new(AuditEventType::TokenRead, &Actor::System),
        )
    }

    #[test]
    fn the_spool_round_trips_rows_and_a_torn_line_costs_only_itself() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.spool");
        let (first, second) = (row(), row());
        append(&path, std::slice::from_ref(&first)).expect("append");
        // A crash mid-append leaves half a line.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut file| file.write_all(b"{\"id\":\"half"))
            .expect("torn");
        append(&path, std::slice::from_ref(&second)).expect("append");
        let read = read_spool(&path).expect("read");
        assert_eq!(read, vec![first, second], "both whole rows, with their ids and times");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("metadata").permissions().mode();
        assert_eq!(mode & 0o077, 0, "readable by its owner only: {mode:o}");
    }
}
