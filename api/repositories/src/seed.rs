//! Bulk seeding of active connections for `cargo xtask bench resolve --uncached` (built with the
//! `bench` feature only): rows go in as the repository's own `insert_pending` + `activate` would
//! leave them, hundreds per statement, so 100,000 connections take seconds rather than minutes.

use crate::RepoResult;
use crate::connections::NewCredential;
use crate::connections::new_row;
use crate::write_txn::begin_write;
use nexus_domain::connection::Connection;
use nexus_entities::{connection, credential};
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};

/// Rows per `INSERT`: the connection row's 22 columns stay far below SQLite's and PostgreSQL's
/// bound-parameter limits.
const ROWS_PER_STATEMENT: usize = 500;

/// Inserts active connections with their credentials, one transaction per call. Each
/// connection must be `active`, with `activated_at` set, and name an existing provider.
pub async fn insert_active_connections(
    db: &DatabaseConnection,
    rows: &[(Connection, NewCredential)],
) -> RepoResult<()> {
    let txn = begin_write(db).await?;
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let connections = chunk.iter().map(|(connection, _)| new_row(connection));
        connection::Entity::insert_many(connections)
            .exec_without_returning(&txn)
            .await?;
        let credentials = chunk.iter().map(|(connection, credential)| credential::ActiveModel {
            connection_id: Set(connection.id.as_uuid()),
            ciphertext: Set(credential.ciphertext.bytes.clone()),
            key_id: Set(credential.ciphertext.key_id.clone()),
            expires_at: Set(credential.expires_at),
            refresh_not_before: Set(credential.refresh_not_before),
            version: Set(1),
            created_at: Set(connection.created_at),
            updated_at: Set(connection.updated_at),
        });
        credential::Entity::insert_many(credentials)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}
