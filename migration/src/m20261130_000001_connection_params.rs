//! Connection parameters: what a provider declares (name, description, pattern) and the host
//! suffixes a parameter-built host may use, and the values each connection supplied; and the
//! client secret's fingerprint, which lets `nexus providers plan` say "changed" or "unchanged".

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Providers {
    Table,
    ConnectionParams,
    AllowedHostSuffixes,
    ClientSecretFingerprint,
}

#[derive(DeriveIden)]
enum Connections {
    Table,
    ConnectionParams,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE; absent (NULL) means none.
        for column in [Providers::ConnectionParams, Providers::AllowedHostSuffixes] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Providers::Table)
                        .add_column(ColumnDef::new(column).json_binary().null())
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Providers::Table)
                    .add_column(ColumnDef::new(Providers::ClientSecretFingerprint).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Connections::Table)
                    .add_column(ColumnDef::new(Connections::ConnectionParams).json_binary().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Connections::Table)
                    .drop_column(Connections::ConnectionParams)
                    .to_owned(),
            )
            .await?;
        for column in [
            Providers::ClientSecretFingerprint,
            Providers::AllowedHostSuffixes,
            Providers::ConnectionParams,
        ] {
            manager
                .alter_table(Table::alter().table(Providers::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
