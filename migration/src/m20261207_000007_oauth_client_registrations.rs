//! Clients Nexus registered with authorization servers it discovered (remote MCP servers'):
//! one row per issuer, shared by every provider and connection that uses that issuer, the
//! client secret sealed like a provider's.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OauthClientRegistrations {
    Table,
    Id,
    /// The issuer exactly as the protected resource names it.
    Issuer,
    /// How the client came to be: `dynamic` (RFC 7591) or `metadata_document` (a CIMD URL).
    Kind,
    /// The callback URL registered: a change of Nexus's public URL registers again.
    RedirectUri,
    ClientId,
    ClientSecretCiphertext,
    ClientSecretKeyId,
    TokenEndpointAuthMethod,
    /// When the server said the secret expires (`client_secret_expires_at`); NULL: never.
    ClientSecretExpiresAt,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OauthClientRegistrations::Table)
                    .col(
                        ColumnDef::new(OauthClientRegistrations::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(OauthClientRegistrations::Issuer)
                            .text()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(OauthClientRegistrations::Kind).text().not_null())
                    .col(ColumnDef::new(OauthClientRegistrations::RedirectUri).text().not_null())
                    .col(ColumnDef::new(OauthClientRegistrations::ClientId).text().not_null())
                    .col(
                        ColumnDef::new(OauthClientRegistrations::ClientSecretCiphertext)
                            .blob()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(OauthClientRegistrations::ClientSecretKeyId)
                            .text()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(OauthClientRegistrations::TokenEndpointAuthMethod)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OauthClientRegistrations::ClientSecretExpiresAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(OauthClientRegistrations::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OauthClientRegistrations::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OauthClientRegistrations::Table).to_owned())
            .await
    }
}
