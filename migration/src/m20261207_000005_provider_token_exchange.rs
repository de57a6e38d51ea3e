//! Providers' token exchange where it departs from RFC 6749 (a JSON body, a refresh URL of its
//! own, extra token and refresh parameters, Slack's or Salesforce's response shape), and URL
//! overrides chosen by optional connection parameters. Both JSON; NULL: none.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Providers {
    Table,
    TokenExchange,
    UrlOverrides,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for column in [Providers::TokenExchange, Providers::UrlOverrides] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Providers::Table)
                        .add_column(ColumnDef::new(column).json_binary().null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Providers::TokenExchange, Providers::UrlOverrides] {
            manager
                .alter_table(Table::alter().table(Providers::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
