//! Agent keys' `proxy_only`: a key that acts through the proxy and never reads a credential.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AgentKeys {
    Table,
    ProxyOnly,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AgentKeys::Table)
                    .add_column(ColumnDef::new(AgentKeys::ProxyOnly).boolean().not_null().default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AgentKeys::Table)
                    .drop_column(AgentKeys::ProxyOnly)
                    .to_owned(),
            )
            .await
    }
}
