//! The webhook outbox: deliveries written in the transaction of the state change that raised
//! them, claimed by exactly one worker across processes (a lease, as for background refresh),
//! recorded attempt by attempt under that lease, and listed per endpoint.
//!
//! Order per connection: a delivery is claimed only when no earlier delivery of the same
//! connection to the same endpoint is still pending, so a receiver sees `connection.active`
//! before the `connection.revoked` that followed it, retries included.

use crate::RepoResult;
use crate::convert::parse;
use crate::refresh::Lease;
use crate::webhooks::enabled_webhooks;
use crate::write_txn::begin_write;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_domain::status::ConnectionStatus;
use nexus_domain::webhook::{
    ConnectionEvent, DeliveryAttempt, DeliveryStatus, WebhookDelivery, WebhookEventType, WebhookPayload,
};
use nexus_domain::{ConnectionId, DeliveryId, WebhookId};
use nexus_entities::{provider, webhook_attempt, webhook_delivery};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, LockBehavior, LockType, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;
use uuid::Uuid;

/// How long after its event a delivery may still be attempted.
pub const DELIVERY_PERIOD: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// A connection whose state just changed, as the statement that changed it returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChangedConnection {
    pub id: Uuid,
    pub workspace_id: String,
    pub provider_id: Uuid,
    pub status: ConnectionStatus,
}

impl From<&nexus_entities::connection::Model> for ChangedConnection {
    fn from(model: &nexus_entities::connection::Model) -> Self {
        Self {
            id: model.id,
            workspace_id: model.workspace_id.clone(),
            provider_id: model.provider_id,
            // A row this crate wrote holds a status it wrote; an unknown one (never seen) is
            // reported as pending rather than failing the state change.
            status: model.status.parse().unwrap_or(ConnectionStatus::Pending),
        }
    }
}

/// Writes one delivery per enabled endpoint that wants `event` for each changed connection,
/// inside the caller's transaction: the event exists exactly when the state change does.
pub(crate) async fn enqueue<C: ConnectionTrait>(
    txn: &C,
    event: WebhookEventType,
    changed: &[ChangedConnection],
    reason: &str,
    at: DateTime<Utc>,
) -> RepoResult<()> {
    if changed.is_empty() {
        return Ok(());
    }
    let webhooks = enabled_webhooks(txn).await?;
    if !webhooks
        .iter()
        .any(|hook| hook.enabled && hook.event_types.contains(&event))
    {
        return Ok(());
    }
    let mut provider_ids: Vec<Uuid> = changed.iter().map(|c| c.provider_id).collect();
    provider_ids.sort_unstable();
    provider_ids.dedup();
    let names: HashMap<Uuid, String> = provider::Entity::find()
        .select_only()
        .columns([provider::Column::Id, provider::Column::Name])
        .filter(provider::Column::Id.is_in(provider_ids))
        .into_tuple::<(Uuid, String)>()
        .all(txn)
        .await?
        .into_iter()
        .collect();
    let mut rows = Vec::new();
    for connection in changed {
        let targets: Vec<WebhookId> = webhooks
            .iter()
            .filter(|hook| hook.wants(event, &connection.workspace_id))
            .map(|hook| hook.id)
            .collect();
        if targets.is_empty() {
            continue;
        }
        let payload = WebhookPayload {
            event_type: event,
            timestamp: at,
            data: ConnectionEvent {
                connection_id: ConnectionId::from_uuid(connection.id),
                workspace_id: connection.workspace_id.clone(),
                provider: names.get(&connection.provider_id).cloned().unwrap_or_default(),
                status: connection.status,
                reason: reason.to_owned(),
                occurred_at: at,
            },
        };
        let body = serde_json::to_string(&payload).unwrap_or_else(|_| unreachable!("events serialize to JSON"));
        rows.extend(targets.into_iter().map(|webhook_id| webhook_delivery::ActiveModel {
            id: Set(DeliveryId::new().as_uuid()),
            webhook_id: Set(webhook_id.as_uuid()),
            event_type: Set(event.as_str().to_owned()),
            connection_id: Set(connection.id),
            payload: Set(body.clone()),
            status: Set(DeliveryStatus::Pending.as_str().to_owned()),
            attempts: Set(0),
            next_attempt_at: Set(at),
            give_up_at: Set(at + DELIVERY_PERIOD),
            created_at: Set(at),
            ..Default::default()
        }));
    }
    // Bounded statements: an expiry sweep may change thousands of connections at once.
    for chunk in rows.chunks(500) {
        webhook_delivery::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// A delivery a worker holds: everything it needs to sign and send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedDelivery {
    pub seq: i64,
    pub id: DeliveryId,
    pub webhook_id: WebhookId,
    pub event_type: String,
    pub payload: String,
    /// Attempts made before this one.
    pub attempts: u32,
    pub give_up_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// What became of an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered,
    RetryAt(DateTime<Utc>),
    /// The last attempt within the delivery period failed.
    GaveUp,
}

crate::timed::timed_repository! {
    repo = "webhook_outbox";
    #[async_trait]
    pub trait WebhookOutboxRepository: Send + Sync {
        /// Leases up to `limit` due deliveries that nobody holds and that no earlier pending
        /// delivery of the same connection to the same endpoint precedes. Each is claimed by
        /// exactly one caller across processes.
        async fn claim_due(&self, now: DateTime<Utc>, lease: &Lease, limit: u64) -> RepoResult<Vec<ClaimedDelivery>>;
        /// Records an attempt and its outcome if `owner` still holds the delivery; `false` when the
        /// lease was lost (another worker or a redelivery took it).
        async fn record_attempt(
            &self,
            delivery: &ClaimedDelivery,
            owner: &str,
            attempt: &DeliveryAttempt,
            outcome: AttemptOutcome,
        ) -> RepoResult<bool>;
        /// Gives a delivery back without an attempt (its endpoint could not be read).
        async fn release(&self, delivery: &ClaimedDelivery, owner: &str) -> RepoResult<()>;
        /// The endpoint's deliveries with their attempts, newest first, older than `before`.
        async fn list(
            &self,
            webhook: WebhookId,
            before: Option<DeliveryId>,
            limit: u64,
        ) -> RepoResult<Vec<WebhookDelivery>>;
        /// Makes a delivery of this endpoint pending again, due now, with a new delivery period;
        /// one a worker is sending right now is left to finish (and returned as it is).
        async fn redeliver(
            &self,
            webhook: WebhookId,
            delivery: DeliveryId,
            now: DateTime<Utc>,
        ) -> RepoResult<Option<WebhookDelivery>>;
        /// Deliveries waiting to be sent (the outbox depth).
        async fn count_pending(&self) -> RepoResult<u64>;
        /// Deletes delivered and failed deliveries created before `before`; returns how many.
        async fn sweep(&self, before: DateTime<Utc>) -> RepoResult<u64>;
    }
}

#[derive(Debug, Clone)]
pub struct SqlWebhookOutboxRepository {
    db: DatabaseConnection,
}

impl SqlWebhookOutboxRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn lease_lapsed(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(Expr::col((webhook_delivery::Entity, webhook_delivery::Column::LeaseExpiresAt)).is_null())
        .add(Expr::col((webhook_delivery::Entity, webhook_delivery::Column::LeaseExpiresAt)).lt(now))
}

fn claimed_from(model: webhook_delivery::Model) -> ClaimedDelivery {
    ClaimedDelivery {
        seq: model.seq,
        id: DeliveryId::from_uuid(model.id),
        webhook_id: WebhookId::from_uuid(model.webhook_id),
        event_type: model.event_type,
        payload: model.payload,
        attempts: u32::try_from(model.attempts).unwrap_or(0),
        give_up_at: model.give_up_at,
        created_at: model.created_at,
    }
}

fn attempt_from(model: webhook_attempt::Model) -> DeliveryAttempt {
    DeliveryAttempt {
        attempted_at: model.attempted_at,
        status_code: model.status_code.and_then(|code| u16::try_from(code).ok()),
        error: model.error,
        duration_ms: u64::try_from(model.duration_ms).unwrap_or(0),
    }
}

fn delivery_from(model: webhook_delivery::Model, attempts: Vec<DeliveryAttempt>) -> RepoResult<WebhookDelivery> {
    let status: DeliveryStatus = parse("status", &model.status, str::parse)?;
    Ok(WebhookDelivery {
        id: DeliveryId::from_uuid(model.id),
        webhook_id: WebhookId::from_uuid(model.webhook_id),
        event_type: parse("event_type", &model.event_type, str::parse)?,
        connection_id: ConnectionId::from_uuid(model.connection_id),
        next_attempt_at: (status == DeliveryStatus::Pending).then_some(model.next_attempt_at),
        status,
        created_at: model.created_at,
        delivered_at: model.delivered_at,
        attempts,
    })
}

/// The deliveries with their attempts, in the order given.
async fn with_attempts<C: ConnectionTrait>(
    db: &C,
    models: Vec<webhook_delivery::Model>,
) -> RepoResult<Vec<WebhookDelivery>> {
    let ids: Vec<Uuid> = models.iter().map(|m| m.id).collect();
    let mut attempts: HashMap<Uuid, Vec<DeliveryAttempt>> = HashMap::new();
    for model in webhook_attempt::Entity::find()
        .filter(webhook_attempt::Column::DeliveryId.is_in(ids))
        .order_by_asc(webhook_attempt::Column::Number)
        .all(db)
        .await?
    {
        attempts.entry(model.delivery_id).or_default().push(attempt_from(model));
    }
    models
        .into_iter()
        .map(|model| {
            let tried = attempts.remove(&model.id).unwrap_or_default();
            delivery_from(model, tried)
        })
        .collect()
}

#[async_trait]
impl WebhookOutboxRepository for SqlWebhookOutboxRepository {
    async fn claim_due(&self, now: DateTime<Utc>, lease: &Lease, limit: u64) -> RepoResult<Vec<ClaimedDelivery>> {
        let earlier = Alias::new("earlier");
        let mut earlier_pending = Query::select();
        earlier_pending
            .expr(Expr::val(1))
            .from_as(webhook_delivery::Entity, earlier.clone())
            .and_where(
                Expr::col((earlier.clone(), webhook_delivery::Column::WebhookId))
                    .equals((webhook_delivery::Entity, webhook_delivery::Column::WebhookId)),
            )
            .and_where(
                Expr::col((earlier.clone(), webhook_delivery::Column::ConnectionId))
                    .equals((webhook_delivery::Entity, webhook_delivery::Column::ConnectionId)),
            )
            .and_where(
                Expr::col((earlier.clone(), webhook_delivery::Column::Seq))
                    .lt(Expr::col((webhook_delivery::Entity, webhook_delivery::Column::Seq))),
            )
            .and_where(Expr::col((earlier, webhook_delivery::Column::Status)).eq(DeliveryStatus::Pending.as_str()));
        let mut candidates = Query::select();
        candidates
            .column((webhook_delivery::Entity, webhook_delivery::Column::Seq))
            .from(webhook_delivery::Entity)
            .and_where(
                Expr::col((webhook_delivery::Entity, webhook_delivery::Column::Status))
                    .eq(DeliveryStatus::Pending.as_str()),
            )
            .and_where(Expr::col((webhook_delivery::Entity, webhook_delivery::Column::NextAttemptAt)).lte(now))
            .cond_where(lease_lapsed(now))
            .and_where(Expr::exists(earlier_pending).not())
            .order_by(
                (webhook_delivery::Entity, webhook_delivery::Column::Seq),
                sea_orm::Order::Asc,
            )
            .limit(limit);
        if self.db.get_database_backend() == DatabaseBackend::Postgres {
            // Rows another worker is claiming are skipped, not waited for.
            candidates.lock_with_tables_behavior(
                LockType::Update,
                [webhook_delivery::Entity],
                LockBehavior::SkipLocked,
            );
        }
        // The outer filters re-check the row being updated, so two claimers never both win.
        let claimed = webhook_delivery::Entity::update_many()
            .col_expr(
                webhook_delivery::Column::LeaseOwner,
                Expr::value(Some(lease.owner.clone())),
            )
            .col_expr(webhook_delivery::Column::LeaseExpiresAt, Expr::value(Some(lease.until)))
            .filter(webhook_delivery::Column::Seq.in_subquery(candidates))
            .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending.as_str()))
            .filter(lease_lapsed(now))
            .exec_with_returning(&self.db)
            .await?;
        let mut claimed: Vec<ClaimedDelivery> = claimed.into_iter().map(claimed_from).collect();
        claimed.sort_by_key(|delivery| delivery.seq);
        Ok(claimed)
    }

    async fn record_attempt(
        &self,
        delivery: &ClaimedDelivery,
        owner: &str,
        attempt: &DeliveryAttempt,
        outcome: AttemptOutcome,
    ) -> RepoResult<bool> {
        let txn = begin_write(&self.db).await?;
        let number = i32::try_from(delivery.attempts.saturating_add(1)).unwrap_or(i32::MAX);
        let (status, next_attempt_at, delivered_at) = match outcome {
            AttemptOutcome::Delivered => (
                DeliveryStatus::Delivered,
                attempt.attempted_at,
                Some(attempt.attempted_at),
            ),
            AttemptOutcome::RetryAt(at) => (DeliveryStatus::Pending, at, None),
            AttemptOutcome::GaveUp => (DeliveryStatus::Failed, attempt.attempted_at, None),
        };
        let updated = webhook_delivery::Entity::update_many()
            .col_expr(webhook_delivery::Column::Status, Expr::value(status.as_str()))
            .col_expr(webhook_delivery::Column::Attempts, Expr::value(number))
            .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(next_attempt_at))
            .col_expr(webhook_delivery::Column::DeliveredAt, Expr::value(delivered_at))
            .col_expr(
                webhook_delivery::Column::LastStatusCode,
                Expr::value(attempt.status_code.map(i32::from)),
            )
            .col_expr(webhook_delivery::Column::LastError, Expr::value(attempt.error.clone()))
            .col_expr(
                webhook_delivery::Column::LeaseOwner,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                webhook_delivery::Column::LeaseExpiresAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(webhook_delivery::Column::Seq.eq(delivery.seq))
            .filter(webhook_delivery::Column::LeaseOwner.eq(owner))
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
            return Ok(false);
        }
        webhook_attempt::Entity::insert(webhook_attempt::ActiveModel {
            delivery_id: Set(delivery.id.as_uuid()),
            number: Set(number),
            attempted_at: Set(attempt.attempted_at),
            status_code: Set(attempt.status_code.map(i32::from)),
            error: Set(attempt.error.clone()),
            duration_ms: Set(i64::try_from(attempt.duration_ms).unwrap_or(i64::MAX)),
        })
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        Ok(true)
    }

    async fn release(&self, delivery: &ClaimedDelivery, owner: &str) -> RepoResult<()> {
        webhook_delivery::Entity::update_many()
            .col_expr(
                webhook_delivery::Column::LeaseOwner,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                webhook_delivery::Column::LeaseExpiresAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(webhook_delivery::Column::Seq.eq(delivery.seq))
            .filter(webhook_delivery::Column::LeaseOwner.eq(owner))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    async fn list(
        &self,
        webhook: WebhookId,
        before: Option<DeliveryId>,
        limit: u64,
    ) -> RepoResult<Vec<WebhookDelivery>> {
        let mut select =
            webhook_delivery::Entity::find().filter(webhook_delivery::Column::WebhookId.eq(webhook.as_uuid()));
        if let Some(before) = before {
            let cursor: Option<i64> = webhook_delivery::Entity::find()
                .select_only()
                .column(webhook_delivery::Column::Seq)
                .filter(webhook_delivery::Column::Id.eq(before.as_uuid()))
                .filter(webhook_delivery::Column::WebhookId.eq(webhook.as_uuid()))
                .into_tuple()
                .one(&self.db)
                .await?;
            // A cursor that names no delivery of this endpoint starts nowhere: an empty page.
            select = select.filter(webhook_delivery::Column::Seq.lt(cursor.unwrap_or(i64::MIN)));
        }
        let models = select
            .order_by_desc(webhook_delivery::Column::Seq)
            .limit(limit)
            .all(&self.db)
            .await?;
        with_attempts(&self.db, models).await
    }

    async fn redeliver(
        &self,
        webhook: WebhookId,
        delivery: DeliveryId,
        now: DateTime<Utc>,
    ) -> RepoResult<Option<WebhookDelivery>> {
        let txn = begin_write(&self.db).await?;
        let updated = webhook_delivery::Entity::update_many()
            .col_expr(
                webhook_delivery::Column::Status,
                Expr::value(DeliveryStatus::Pending.as_str()),
            )
            .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(now))
            .col_expr(webhook_delivery::Column::GiveUpAt, Expr::value(now + DELIVERY_PERIOD))
            .col_expr(
                webhook_delivery::Column::DeliveredAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(webhook_delivery::Column::Id.eq(delivery.as_uuid()))
            .filter(webhook_delivery::Column::WebhookId.eq(webhook.as_uuid()))
            // Never under a worker that is sending it: its attempt is recorded as usual.
            .filter(lease_lapsed(now))
            .exec_with_returning(&txn)
            .await?;
        let models = if updated.is_empty() {
            webhook_delivery::Entity::find()
                .filter(webhook_delivery::Column::Id.eq(delivery.as_uuid()))
                .filter(webhook_delivery::Column::WebhookId.eq(webhook.as_uuid()))
                .all(&txn)
                .await?
        } else {
            updated
        };
        let found = with_attempts(&txn, models).await?.into_iter().next();
        txn.commit().await?;
        Ok(found)
    }

    async fn count_pending(&self) -> RepoResult<u64> {
        let count = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending.as_str()))
            .count(&self.db)
            .await?;
        Ok(count)
    }

    async fn sweep(&self, before: DateTime<Utc>) -> RepoResult<u64> {
        let txn = begin_write(&self.db).await?;
        let finished = Query::select()
            .column(webhook_delivery::Column::Id)
            .from(webhook_delivery::Entity)
            .and_where(webhook_delivery::Column::Status.ne(DeliveryStatus::Pending.as_str()))
            .and_where(webhook_delivery::Column::CreatedAt.lt(before))
            .to_owned();
        webhook_attempt::Entity::delete_many()
            .filter(webhook_attempt::Column::DeliveryId.in_subquery(finished))
            .exec(&txn)
            .await?;
        let deleted = webhook_delivery::Entity::delete_many()
            .filter(webhook_delivery::Column::Status.ne(DeliveryStatus::Pending.as_str()))
            .filter(webhook_delivery::Column::CreatedAt.lt(before))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(deleted.rows_affected)
    }
}
