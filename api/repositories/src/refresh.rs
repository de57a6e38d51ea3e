//! Refresh coordination across processes: the per-connection lease, claiming due credentials for
//! background refresh, the fenced write of a refreshed credential, and per-connection backoff.
//!
//! A lease is a row-level claim (`refresh_lease_owner`, `refresh_lease_expires_at`) that every
//! process respects; the owner is a token unique to one refresh attempt. Its expiry is written
//! and compared with the database's clock, never a process's. A refreshed credential
//! is written only while its version is the one the holder read *and* the lease is still the
//! holder's, so a holder whose lease lapsed can never overwrite a newer token.

use crate::RepoResult;
use crate::db_clock;
use crate::webhook_outbox::{ChangedConnection, enqueue};
use crate::write_txn::begin_write;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_domain::ConnectionId;
use nexus_domain::status::ConnectionStatus;
use nexus_domain::webhook::WebhookEventType;
use nexus_entities::{connection, credential, provider};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter};
use std::time::Duration;

use crate::connections::{NewCredential, SqlConnectionRepository, credential_at_version, overwrite_credential};

/// A webhook delivery lease: who holds it and until when it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub owner: String,
    pub until: DateTime<Utc>,
}

/// A refresh lease: who holds it (a token unique to one attempt or one claiming batch) and how
/// long each take or renewal holds it, from the database's now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshLease {
    pub owner: String,
    pub hold: Duration,
}

/// Why a refresh failed (a stable code), and after how many failures in a row that is news.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshFailure<'a> {
    pub reason: &'a str,
    pub notify_after: u32,
    pub at: DateTime<Utc>,
    /// The credential version the failed refresh read: a failure is counted only while the
    /// credential is still that version (a newer consent or refresh has nothing to back off).
    pub credential_version: i64,
}

/// When to try again after this many failed refreshes in a row.
pub type RetryAt = dyn Fn(u32) -> DateTime<Utc> + Send + Sync;

crate::timed::timed_repository! {
    repo = "refresh";
    #[async_trait]
    pub trait RefreshRepository: Send + Sync {
        /// Takes the lease on one connection unless another owner holds one that has not lapsed.
        async fn take_lease(&self, id: ConnectionId, lease: &RefreshLease) -> RepoResult<bool>;
        /// Extends a lease this owner still holds by its hold from now; `false` when someone else
        /// took it.
        async fn renew_lease(&self, id: ConnectionId, lease: &RefreshLease) -> RepoResult<bool>;
        /// Gives the lease up, if this owner still holds it; after a refresh that left a fresh
        /// credential, also clears the connection's backoff.
        async fn release_lease(&self, id: ConnectionId, owner: &str, refreshed: bool) -> RepoResult<()>;
        /// Leases up to `limit` active OAuth2 connections whose credential expires before
        /// `due_before` and is past the middle of its life at `now`, that nobody holds and that are
        /// not backing off; returns them. Each is claimed by exactly one caller across processes.
        async fn claim_due(
            &self,
            due_before: DateTime<Utc>,
            now: DateTime<Utc>,
            lease: &RefreshLease,
            limit: u64,
        ) -> RepoResult<Vec<ConnectionId>>;
        /// How many active connections have a credential expiring before `due_before` and past the
        /// middle of its life at `now`.
        async fn count_due(&self, due_before: DateTime<Utc>, now: DateTime<Utc>) -> RepoResult<u64>;
        /// Writes a refreshed credential if its version is still `expected_version` and `owner`
        /// still holds the lease, in one statement. `false` when fenced off.
        async fn store_refreshed(
            &self,
            id: ConnectionId,
            expected_version: i64,
            owner: &str,
            credential: &NewCredential,
            at: DateTime<Utc>,
        ) -> RepoResult<bool>;
        /// Counts a failed refresh and sets when the background refresher may try again:
        /// `retry_at(failures in a row, this one included)`. The failure that makes it
        /// `failure.notify_after` in a row of an active connection raises `connection.refresh_failed`.
        async fn record_failure(&self, id: ConnectionId, retry_at: &RetryAt, failure: RefreshFailure<'_>)
        -> RepoResult<()>;
    }
}

/// Nobody holds the lease, or its holder's time has run out by the database's clock.
fn lease_lapsed(backend: DatabaseBackend) -> Condition {
    Condition::any()
        .add(Expr::col((connection::Entity, connection::Column::RefreshLeaseExpiresAt)).is_null())
        .add(Expr::col((connection::Entity, connection::Column::RefreshLeaseExpiresAt)).lt(db_clock::now(backend)))
}

/// A lease `owner` may take: lapsed, or `owner`'s already.
fn lease_free(owner: &str, backend: DatabaseBackend) -> Condition {
    lease_lapsed(backend).add(connection::Column::RefreshLeaseOwner.eq(owner))
}

fn set_lease(lease: &RefreshLease, backend: DatabaseBackend) -> sea_orm::UpdateMany<connection::Entity> {
    connection::Entity::update_many()
        .col_expr(
            connection::Column::RefreshLeaseOwner,
            Expr::value(Some(lease.owner.clone())),
        )
        .col_expr(
            connection::Column::RefreshLeaseExpiresAt,
            db_clock::now_plus(backend, lease.hold),
        )
}

/// The credential is past the middle of its life at `now` (or that is not known).
fn past_half_life(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(Expr::col((credential::Entity, credential::Column::RefreshNotBefore)).is_null())
        .add(Expr::col((credential::Entity, credential::Column::RefreshNotBefore)).lte(now))
}

#[async_trait]
impl RefreshRepository for SqlConnectionRepository {
    async fn take_lease(&self, id: ConnectionId, lease: &RefreshLease) -> RepoResult<bool> {
        let backend = self.db().get_database_backend();
        let result = set_lease(lease, backend)
            .filter(connection::Column::Id.eq(id.as_uuid()))
            .filter(lease_free(&lease.owner, backend))
            .exec(self.db())
            .await?;
        Ok(result.rows_affected == 1)
    }

    async fn renew_lease(&self, id: ConnectionId, lease: &RefreshLease) -> RepoResult<bool> {
        let result = set_lease(lease, self.db().get_database_backend())
            .filter(connection::Column::Id.eq(id.as_uuid()))
            .filter(connection::Column::RefreshLeaseOwner.eq(lease.owner.as_str()))
            .exec(self.db())
            .await?;
        Ok(result.rows_affected == 1)
    }

    async fn release_lease(&self, id: ConnectionId, owner: &str, refreshed: bool) -> RepoResult<()> {
        let mut release = connection::Entity::update_many()
            .col_expr(
                connection::Column::RefreshLeaseOwner,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                connection::Column::RefreshLeaseExpiresAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            );
        if refreshed {
            release = release
                .col_expr(connection::Column::RefreshFailures, Expr::value(0))
                .col_expr(
                    connection::Column::RefreshRetryAt,
                    Expr::value(Option::<DateTime<Utc>>::None),
                );
        }
        release
            .filter(connection::Column::Id.eq(id.as_uuid()))
            .filter(connection::Column::RefreshLeaseOwner.eq(owner))
            .exec(self.db())
            .await?;
        Ok(())
    }

    async fn claim_due(
        &self,
        due_before: DateTime<Utc>,
        now: DateTime<Utc>,
        lease: &RefreshLease,
        limit: u64,
    ) -> RepoResult<Vec<ConnectionId>> {
        let backend = self.db().get_database_backend();
        // The candidates come from the credentials' expiry index, soonest first; on PostgreSQL
        // rows another claimer is looking at are skipped, not waited for. The outer filter
        // re-checks the lease on the row being updated, so two claimers never both win.
        let mut candidates = Query::select();
        candidates
            .column((connection::Entity, connection::Column::Id))
            .from(credential::Entity)
            .inner_join(
                connection::Entity,
                Expr::col((connection::Entity, connection::Column::Id))
                    .equals((credential::Entity, credential::Column::ConnectionId)),
            )
            .inner_join(
                provider::Entity,
                Expr::col((provider::Entity, provider::Column::Id))
                    .equals((connection::Entity, connection::Column::ProviderId)),
            )
            .and_where(Expr::col((credential::Entity, credential::Column::ExpiresAt)).lt(due_before))
            .cond_where(past_half_life(now))
            .and_where(
                Expr::col((connection::Entity, connection::Column::Status)).eq(ConnectionStatus::Active.as_str()),
            )
            .and_where(Expr::col((provider::Entity, provider::Column::AuthType)).eq("oauth2"))
            .and_where(
                Expr::col((connection::Entity, connection::Column::RefreshRetryAt))
                    .is_null()
                    .or(Expr::col((connection::Entity, connection::Column::RefreshRetryAt)).lte(now)),
            )
            .cond_where(lease_lapsed(backend))
            .order_by((credential::Entity, credential::Column::ExpiresAt), sea_orm::Order::Asc)
            .limit(limit);
        if backend == DatabaseBackend::Postgres {
            candidates.lock_with_tables_behavior(LockType::Update, [connection::Entity], LockBehavior::SkipLocked);
        }
        let claimed = set_lease(lease, backend)
            .filter(connection::Column::Id.in_subquery(candidates))
            .filter(lease_lapsed(backend))
            .exec_with_returning(self.db())
            .await?;
        Ok(claimed
            .into_iter()
            .map(|model| ConnectionId::from_uuid(model.id))
            .collect())
    }

    async fn count_due(&self, due_before: DateTime<Utc>, now: DateTime<Utc>) -> RepoResult<u64> {
        let mut due = Query::select();
        due.expr_as(
            Expr::col((credential::Entity, credential::Column::ConnectionId)).count(),
            "due",
        )
        .from(credential::Entity)
        .inner_join(
            connection::Entity,
            Expr::col((connection::Entity, connection::Column::Id))
                .equals((credential::Entity, credential::Column::ConnectionId)),
        )
        .and_where(Expr::col((credential::Entity, credential::Column::ExpiresAt)).lt(due_before))
        .cond_where(past_half_life(now))
        .and_where(Expr::col((connection::Entity, connection::Column::Status)).eq(ConnectionStatus::Active.as_str()));
        let backend = self.db().get_database_backend();
        let row = self.db().query_one_raw(backend.build(&due)).await?;
        let count: i64 = match row {
            Some(row) => row.try_get("", "due")?,
            None => 0,
        };
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn store_refreshed(
        &self,
        id: ConnectionId,
        expected_version: i64,
        owner: &str,
        credential: &NewCredential,
        at: DateTime<Utc>,
    ) -> RepoResult<bool> {
        let mut lease_held = Query::select();
        lease_held
            .expr(Expr::val(1))
            .from(connection::Entity)
            .and_where(Expr::col((connection::Entity, connection::Column::Id)).eq(id.as_uuid()))
            .and_where(Expr::col((connection::Entity, connection::Column::RefreshLeaseOwner)).eq(owner));
        if self.db().get_database_backend() == DatabaseBackend::Postgres {
            // Lock the lease row: a concurrent take-over either commits first (and the write is
            // fenced off) or waits for this write. SQLite serializes writers anyway.
            lease_held.lock(LockType::Share);
        }
        let written = overwrite_credential(credential, at)
            .col_expr(credential::Column::Version, Expr::value(expected_version + 1))
            .filter(credential::Column::ConnectionId.eq(id.as_uuid()))
            .filter(credential::Column::Version.eq(expected_version))
            .filter(Expr::exists(lease_held))
            .exec(self.db())
            .await?;
        Ok(written.rows_affected == 1)
    }

    async fn record_failure(
        &self,
        id: ConnectionId,
        retry_at: &RetryAt,
        failure: RefreshFailure<'_>,
    ) -> RepoResult<()> {
        let txn = begin_write(self.db()).await?;
        // One statement counts the failure and returns the row as it now is (locked until the
        // commit on PostgreSQL): the count is exact under concurrency, and the event below
        // reports the status the row has, not one read before a revoke committed.
        let counted = connection::Entity::update_many()
            .col_expr(
                connection::Column::RefreshFailures,
                Expr::col(connection::Column::RefreshFailures).add(1),
            )
            .filter(connection::Column::Id.eq(id.as_uuid()))
            .filter(credential_at_version(id, failure.credential_version))
            .exec_with_returning(&txn)
            .await?;
        let Some(row) = counted.into_iter().next() else {
            return Ok(());
        };
        let failures = u32::try_from(row.refresh_failures).unwrap_or(u32::MAX);
        connection::Entity::update_many()
            .col_expr(
                connection::Column::RefreshRetryAt,
                Expr::value(Some(retry_at(failures))),
            )
            .filter(connection::Column::Id.eq(id.as_uuid()))
            .exec(&txn)
            .await?;
        if failures == failure.notify_after && row.status == ConnectionStatus::Active.as_str() {
            enqueue(
                &txn,
                WebhookEventType::ConnectionRefreshFailed,
                &[ChangedConnection::from(&row)],
                failure.reason,
                failure.at,
            )
            .await?;
        }
        txn.commit().await?;
        Ok(())
    }
}
