//! The audit trail. Recording never fails the operation it describes (a failure is logged).
//! Token reads, the hot path, are not written inline: they go through a bounded channel to a
//! flusher that writes them in batches, and that drains the channel on a clean shutdown. When the
//! channel is full or closed, the event is written inline instead: slower, never lost.
//! Within a batch, reads of the same connection by the same caller become one row that counts
//! them (`reads`, `first_at`, `last_at`): every read is accounted for, without one row per read.

use crate::repo_errors::internal;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_domain::ConnectionId;
use nexus_domain::audit::{AuditEvent, AuditEventType, AuditQuery, NewAuditEvent, Page};
use nexus_domain::clock::Clock;
use nexus_domain::ports::{AuditService, ServiceResult};
use nexus_domain::{AuditEventId, ServiceError};
use nexus_repositories::AuditRepository;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

pub const DEFAULT_PAGE_SIZE: u64 = 50;
pub const MAX_PAGE_SIZE: u64 = 500;
/// Events waiting to be written, at most.
const BUFFER_CAPACITY: usize = 10_000;
/// Events written in one statement, at most.
const BATCH_SIZE: usize = 500;

type Pending = (AuditEventId, DateTime<Utc>, NewAuditEvent);

#[derive(Clone)]
pub struct AuditServiceImpl {
    repo: Arc<dyn AuditRepository>,
    clock: Arc<dyn Clock>,
    buffer: Option<mpsc::Sender<Pending>>,
}

impl std::fmt::Debug for AuditServiceImpl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditServiceImpl")
            .field("buffered", &self.buffer.is_some())
            .finish_non_exhaustive()
    }
}

/// Writes buffered events until shutdown, then drains what is left.
pub struct AuditFlusher {
    repo: Arc<dyn AuditRepository>,
    receiver: mpsc::Receiver<Pending>,
}

impl std::fmt::Debug for AuditFlusher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditFlusher").finish_non_exhaustive()
    }
}

impl AuditFlusher {
    async fn write(&self, batch: &mut Vec<Pending>) {
        if batch.is_empty() {
            return;
        }
        let mut batch_rows = coalesce_reads(std::mem::take(batch));
        let batch = &mut batch_rows;
        if let Err(error) = self.repo.insert_many(batch).await {
            // One retry, event by event, so one bad row cannot take the batch with it.
            tracing::warn!(%error, events = batch.len(), "batched audit write failed; writing one by one");
            for (id, at, event) in batch.iter() {
                if let Err(error) = self.repo.insert(*id, *at, event).await {
                    tracing::error!(%error, event_type = event.event_type.as_str(), "audit event was not recorded");
                }
            }
        }
        batch.clear();
    }

    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let mut batch = Vec::with_capacity(BATCH_SIZE);
        loop {
            tokio::select! {
                received = self.receiver.recv_many(&mut batch, BATCH_SIZE) => {
                    if received == 0 {
                        return;
                    }
                    self.write(&mut batch).await;
                }
                () = stopped(&mut shutdown) => break,
            }
        }
        // Shutdown: refuse new events (they are written inline from now on) and drain the rest.
        self.receiver.close();
        while self.receiver.recv_many(&mut batch, BATCH_SIZE).await > 0 {
            self.write(&mut batch).await;
        }
    }

    /// Writes whatever is buffered now (for tests and benchmarks that read the trail back).
    pub async fn flush_now(&mut self) {
        let mut batch = Vec::new();
        while let Ok(event) = self.receiver.try_recv() {
            batch.push(event);
        }
        self.write(&mut batch).await;
    }
}

/// Folds the token reads of a batch into one event per (connection, workspace, caller), counting
/// them; other events pass through in order.
fn coalesce_reads(batch: Vec<Pending>) -> Vec<Pending> {
    let mut out: Vec<Pending> = Vec::with_capacity(batch.len());
    let mut reads: HashMap<(Option<ConnectionId>, Option<String>, String), (usize, u64, DateTime<Utc>)> =
        HashMap::new();
    for (id, at, event) in batch {
        if event.event_type != AuditEventType::TokenRead {
            out.push((id, at, event));
            continue;
        }
        let key = (
            event.connection_id,
            event.workspace_id.as_ref().map(ToString::to_string),
            event.actor.to_audit_string(),
        );
        match reads.get_mut(&key) {
            Some((_, count, last_at)) => {
                *count += 1;
                *last_at = (*last_at).max(at);
            }
            None => {
                reads.insert(key, (out.len(), 1, at));
                out.push((id, at, event));
            }
        }
    }
    for (index, count, last_at) in reads.into_values() {
        let (_, first_at, event) = &mut out[index];
        let mut data = match std::mem::take(&mut event.data) {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        data.insert("reads".into(), count.into());
        data.insert("first_at".into(), serde_json::json!(first_at));
        data.insert("last_at".into(), serde_json::json!(last_at));
        event.data = serde_json::Value::Object(data);
    }
    out
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
            buffer: None,
        }
    }

    /// Token reads buffered and written in batches by the returned flusher, which must run.
    pub fn buffered(repo: Arc<dyn AuditRepository>, clock: Arc<dyn Clock>) -> (Self, AuditFlusher) {
        let (sender, receiver) = mpsc::channel(BUFFER_CAPACITY);
        let flusher = AuditFlusher {
            repo: repo.clone(),
            receiver,
        };
        (
            Self {
                repo,
                clock,
                buffer: Some(sender),
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
}

#[async_trait]
impl AuditService for AuditServiceImpl {
    async fn record(&self, event: NewAuditEvent) -> ServiceResult<()> {
        let (id, at) = (AuditEventId::new(), self.clock.now());
        let event = match (&self.buffer, event.event_type) {
            (Some(buffer), AuditEventType::TokenRead) => match buffer.try_send((id, at, event)) {
                Ok(()) => return Ok(()),
                Err(
                    mpsc::error::TrySendError::Full((_, _, event)) | mpsc::error::TrySendError::Closed((_, _, event)),
                ) => event,
            },
            _ => event,
        };
        self.repo
            .insert(id, at, &event)
            .await
            .map_err(internal("recording an audit event"))
    }

    async fn list(&self, mut query: AuditQuery) -> ServiceResult<Page<AuditEvent>> {
        query.limit = match query.limit {
            0 => DEFAULT_PAGE_SIZE,
            limit if limit > MAX_PAGE_SIZE => {
                return Err(ServiceError::invalid(
                    "limit",
                    format!("must be at most {MAX_PAGE_SIZE}"),
                ));
            }
            limit => limit,
        };
        let items = self.repo.list(&query).await.map_err(internal("listing audit events"))?;
        let next_cursor = (items.len() as u64 == query.limit)
            .then(|| items.last().map(|event| event.id.to_string()))
            .flatten();
        Ok(Page { items, next_cursor })
    }
}
