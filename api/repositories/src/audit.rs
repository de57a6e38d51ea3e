//! Audit persistence: append, and list with filters and a time-ordered cursor.

use crate::RepoResult;
use crate::convert::parse;
use crate::write_txn::begin_write;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_domain::audit::{AuditEvent, AuditEventType, AuditQuery, NewAuditEvent};
use nexus_domain::{AuditEventId, ConnectionId, ProviderId};
use nexus_entities::audit_event;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// Rows per `INSERT` of a batch: a few fixed sizes, largest first. Each statement stays under
/// PostgreSQL's 65,535 bound parameters (8 per row), and the drivers' per-connection caches of
/// prepared statements hold at most these few: a statement per batch size would leave a new
/// one, of up to 8,000 parameters, in the cache of a connection (and in its server process)
/// every second.
const CHUNK_SIZES: [usize; 6] = [1024, 256, 64, 16, 4, 1];

/// The largest fixed chunk that fits in `remaining` rows.
fn chunk_len(remaining: usize) -> usize {
    CHUNK_SIZES.into_iter().find(|&size| size <= remaining).unwrap_or(1)
}

fn active_model(id: AuditEventId, at: DateTime<Utc>, event: &NewAuditEvent) -> audit_event::ActiveModel {
    audit_event::ActiveModel {
        id: Set(id.as_uuid()),
        occurred_at: Set(at),
        event_type: Set(event.event_type.as_str().to_owned()),
        actor: Set(event.actor.to_audit_string()),
        provider_id: Set(event.provider_id.map(|id| id.as_uuid())),
        connection_id: Set(event.connection_id.map(|id| id.as_uuid())),
        workspace_id: Set(event.workspace_id.as_ref().map(ToString::to_string)),
        data: Set(event.data.clone()),
    }
}

crate::timed::timed_repository! {
    repo = "audit_events";
    #[async_trait]
    pub trait AuditRepository: Send + Sync {
        async fn insert(&self, id: AuditEventId, at: DateTime<Utc>, event: &NewAuditEvent) -> RepoResult<()>;
        /// Appends several events in one statement.
        async fn insert_many(&self, events: &[(AuditEventId, DateTime<Utc>, NewAuditEvent)]) -> RepoResult<()>;
        /// Events matching the query, oldest first, at most `query.limit`.
        async fn list(&self, query: &AuditQuery) -> RepoResult<Vec<AuditEvent>>;
        /// Deletes events that occurred before `cutoff` (retention); returns how many.
        async fn delete_before(&self, cutoff: DateTime<Utc>) -> RepoResult<u64>;
    }
}

#[derive(Debug, Clone)]
pub struct SqlAuditRepository {
    db: DatabaseConnection,
}

impl SqlAuditRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl AuditRepository for SqlAuditRepository {
    async fn insert(&self, id: AuditEventId, at: DateTime<Utc>, event: &NewAuditEvent) -> RepoResult<()> {
        audit_event::Entity::insert(active_model(id, at, event))
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    async fn delete_before(&self, cutoff: DateTime<Utc>) -> RepoResult<u64> {
        Ok(audit_event::Entity::delete_many()
            .filter(audit_event::Column::OccurredAt.lt(cutoff))
            .exec(&self.db)
            .await?
            .rows_affected)
    }

    async fn insert_many(&self, events: &[(AuditEventId, DateTime<Utc>, NewAuditEvent)]) -> RepoResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        // One transaction keeps the whole batch all-or-nothing, so a retry row by row never
        // duplicates a chunk already written.
        let txn = begin_write(&self.db).await?;
        let mut rest = events;
        while !rest.is_empty() {
            let (chunk, after) = rest.split_at(chunk_len(rest.len()));
            audit_event::Entity::insert_many(chunk.iter().map(|(id, at, event)| active_model(*id, *at, event)))
                .exec_without_returning(&txn)
                .await?;
            rest = after;
        }
        txn.commit().await?;
        Ok(())
    }

    async fn list(&self, query: &AuditQuery) -> RepoResult<Vec<AuditEvent>> {
        let mut select = audit_event::Entity::find();
        if let Some(event_type) = query.event_type {
            select = select.filter(audit_event::Column::EventType.eq(event_type.as_str()));
        }
        if let Some(connection_id) = query.connection_id {
            select = select.filter(audit_event::Column::ConnectionId.eq(connection_id.as_uuid()));
        }
        if let Some(since) = query.since {
            select = select.filter(audit_event::Column::OccurredAt.gte(since));
        }
        if let Some(after) = query.after {
            select = select.filter(audit_event::Column::Id.gt(after.as_uuid()));
        }
        select
            .order_by_asc(audit_event::Column::Id)
            .limit(query.limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|model| {
                Ok(AuditEvent {
                    id: AuditEventId::from_uuid(model.id),
                    occurred_at: model.occurred_at,
                    event_type: parse("event_type", &model.event_type, str::parse::<AuditEventType>)?,
                    actor: model.actor,
                    provider_id: model.provider_id.map(ProviderId::from_uuid),
                    connection_id: model.connection_id.map(ConnectionId::from_uuid),
                    workspace_id: model.workspace_id,
                    data: model.data,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_split_into_the_fixed_sizes() {
        let mut sizes = Vec::new();
        let mut remaining = 2_345;
        while remaining > 0 {
            let len = chunk_len(remaining);
            sizes.push(len);
            remaining -= len;
        }
        assert_eq!(sizes, [1024, 1024, 256, 16, 16, 4, 4, 1]);
        assert!(sizes.iter().all(|size| CHUNK_SIZES.contains(size)));
        assert_eq!(chunk_len(0), 1, "never a chunk of zero rows");
    }
}
