//! A provider's logo and documentation link, shown on the hosted capture form.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Providers {
    Table,
    LogoUrl,
    DocsUrl,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for column in [Providers::LogoUrl, Providers::DocsUrl] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Providers::Table)
                        .add_column(ColumnDef::new(column).text().null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Providers::DocsUrl, Providers::LogoUrl] {
            manager
                .alter_table(Table::alter().table(Providers::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
