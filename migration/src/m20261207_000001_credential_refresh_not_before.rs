//! Credentials remember from when they may be refreshed: the middle of the token's life, so a
//! token whose whole life is shorter than the refresh windows is refreshed once per half-life,
//! not on every scan or read. Rows written before this are `NULL` (no limit) until their next
//! refresh fills it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Credentials {
    Table,
    RefreshNotBefore,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Credentials::Table)
                    .add_column(
                        ColumnDef::new(Credentials::RefreshNotBefore)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Credentials::Table)
                    .drop_column(Credentials::RefreshNotBefore)
                    .to_owned(),
            )
            .await
    }
}
