//! Read receipts split Gateways reported: each is claimed once, across every Broker process (the
//! primary key decides), so a replayed report counts nothing. Claims past their expiry are
//! deleted as new ones arrive.

use crate::RepoResult;
use crate::db_clock;
use crate::write_txn::begin_write;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_entities::gateway_read_receipt;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, TryInsertResult};

/// One receipt to claim: its digest (never the receipt itself) and until when it must stay
/// claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptClaim {
    pub digest: String,
    pub expires_at: DateTime<Utc>,
}

crate::timed::timed_repository! {
    repo = "gateway_read_receipts";
    /// Claims of reported read receipts.
    #[async_trait]
    pub trait ReadReceiptRepository: Send + Sync {
        /// Claims every receipt in one transaction: `true` for each claimed now, `false` for each
        /// claimed before (by any process). Nothing is claimed when it fails.
        async fn claim(&self, claims: &[ReceiptClaim]) -> RepoResult<Vec<bool>>;
    }
}

#[derive(Debug, Clone)]
pub struct SqlReadReceiptRepository {
    db: DatabaseConnection,
}

impl SqlReadReceiptRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl ReadReceiptRepository for SqlReadReceiptRepository {
    async fn claim(&self, claims: &[ReceiptClaim]) -> RepoResult<Vec<bool>> {
        let txn = begin_write(&self.db).await?;
        // Expired claims cannot be replayed (their receipts are refused as expired first).
        gateway_read_receipt::Entity::delete_many()
            .filter(
                sea_orm::sea_query::Expr::col(gateway_read_receipt::Column::ExpiresAt)
                    .lt(db_clock::now(txn.get_database_backend())),
            )
            .exec(&txn)
            .await?;
        let mut claimed = Vec::with_capacity(claims.len());
        for claim in claims {
            let inserted = gateway_read_receipt::Entity::insert(gateway_read_receipt::ActiveModel {
                digest: Set(claim.digest.clone()),
                expires_at: Set(claim.expires_at),
            })
            .on_conflict_do_nothing()
            .exec_without_returning(&txn)
            .await?;
            claimed.push(matches!(inserted, TryInsertResult::Inserted(rows) if rows > 0));
        }
        txn.commit().await?;
        Ok(claimed)
    }
}
