//! Write transactions that several processes can run at once on either database.
//!
//! SQLite's default (deferred) transaction reads first and upgrades to a write lock later; when
//! another process committed in between, the upgrade fails at once with "database is locked",
//! whatever the busy timeout. `BEGIN IMMEDIATE` takes the write lock up front (waiting for it
//! within the busy timeout), so a read-then-write transaction never fails that way. PostgreSQL
//! ignores the option.

use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

pub(crate) async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}
