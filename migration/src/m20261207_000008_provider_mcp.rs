//! Remote MCP servers as providers: the server's URL (its authorization is discovered from it)
//! and whether refreshes carry `resource`. NULL: not an MCP provider (and, for the switch, on).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Providers {
    Table,
    McpServerUrl,
    McpResourceOnRefresh,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Providers::Table)
                    .add_column(ColumnDef::new(Providers::McpServerUrl).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Providers::Table)
                    .add_column(ColumnDef::new(Providers::McpResourceOnRefresh).boolean().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Providers::McpResourceOnRefresh, Providers::McpServerUrl] {
            manager
                .alter_table(Table::alter().table(Providers::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
