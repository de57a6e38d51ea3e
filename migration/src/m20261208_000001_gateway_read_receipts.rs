//! The read receipts split Gateways have reported, so each counts once: a report that names a
//! receipt again (a replay) is not audited again. A row is kept while its receipt could still
//! be reported (its lifetime), then deleted.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum GatewayReadReceipts {
    Table,
    /// SHA-256 of the receipt and the kind of reads (fresh or stale), hex.
    Digest,
    /// After this, the receipt is refused as expired anyway and the row may go.
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(GatewayReadReceipts::Table)
                    .col(
                        ColumnDef::new(GatewayReadReceipts::Digest)
                            .text()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(GatewayReadReceipts::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_gateway_read_receipts_expires_at")
                    .table(GatewayReadReceipts::Table)
                    .col(GatewayReadReceipts::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(GatewayReadReceipts::Table).to_owned())
            .await
    }
}
