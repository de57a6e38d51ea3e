//! The initial schema: providers, connections, credentials, agent keys, audit events.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Providers {
    Table,
    Id,
    Name,
    DisplayName,
    Description,
    Category,
    AuthType,
    ClientId,
    ClientSecretCiphertext,
    ClientSecretKeyId,
    AuthorizationUrl,
    TokenUrl,
    Issuer,
    Scopes,
    AuthorizationParams,
    TokenEndpointAuthMethod,
    Pkce,
    RevocationUrl,
    ApiBaseUrl,
    CredentialSchema,
    Verification,
    Strategy,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum Connections {
    Table,
    Id,
    WorkspaceId,
    ProviderId,
    Status,
    RequestedScopes,
    GrantedScopes,
    ReturnUrl,
    PkceVerifierCiphertext,
    PkceVerifierKeyId,
    Nonce,
    PendingExpiresAt,
    ErrorCode,
    RefreshLeaseOwner,
    RefreshLeaseExpiresAt,
    CreatedAt,
    UpdatedAt,
    ActivatedAt,
}

#[derive(DeriveIden)]
enum Credentials {
    Table,
    ConnectionId,
    Ciphertext,
    KeyId,
    ExpiresAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AgentKeys {
    Table,
    Id,
    Name,
    Prefix,
    KeyHash,
    WorkspaceIds,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    OccurredAt,
    EventType,
    Actor,
    ProviderId,
    ConnectionId,
    WorkspaceId,
    Data,
}

fn uuid_pk(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).uuid().not_null().primary_key().take()
}

fn required(column: impl IntoIden, configure: fn(&mut ColumnDef) -> &mut ColumnDef) -> ColumnDef {
    let mut def = ColumnDef::new(column);
    configure(&mut def).not_null().take()
}

fn optional(column: impl IntoIden, configure: fn(&mut ColumnDef) -> &mut ColumnDef) -> ColumnDef {
    let mut def = ColumnDef::new(column);
    configure(&mut def).null().take()
}

fn text(def: &mut ColumnDef) -> &mut ColumnDef {
    def.text()
}
fn json(def: &mut ColumnDef) -> &mut ColumnDef {
    def.json_binary()
}
fn bytes(def: &mut ColumnDef) -> &mut ColumnDef {
    def.blob()
}
fn timestamp(def: &mut ColumnDef) -> &mut ColumnDef {
    def.timestamp_with_time_zone()
}
fn uuid(def: &mut ColumnDef) -> &mut ColumnDef {
    def.uuid()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Providers::Table)
                    .col(uuid_pk(Providers::Id))
                    .col(required(Providers::Name, text))
                    .col(required(Providers::DisplayName, text))
                    .col(optional(Providers::Description, text))
                    .col(optional(Providers::Category, text))
                    .col(required(Providers::AuthType, text))
                    .col(optional(Providers::ClientId, text))
                    .col(optional(Providers::ClientSecretCiphertext, bytes))
                    .col(optional(Providers::ClientSecretKeyId, text))
                    .col(optional(Providers::AuthorizationUrl, text))
                    .col(optional(Providers::TokenUrl, text))
                    .col(optional(Providers::Issuer, text))
                    .col(required(Providers::Scopes, json))
                    .col(required(Providers::AuthorizationParams, json))
                    .col(optional(Providers::TokenEndpointAuthMethod, text))
                    .col(optional(Providers::Pkce, |d| d.boolean()))
                    .col(optional(Providers::RevocationUrl, text))
                    .col(optional(Providers::ApiBaseUrl, text))
                    .col(optional(Providers::CredentialSchema, json))
                    .col(optional(Providers::Verification, json))
                    .col(optional(Providers::Strategy, json))
                    .col(required(Providers::CreatedAt, timestamp))
                    .col(required(Providers::UpdatedAt, timestamp))
                    .col(optional(Providers::DeletedAt, timestamp))
                    .to_owned(),
            )
            .await?;
        // Names are unique among live providers only: a deleted provider's name can be reused.
        // Partial indexes are supported identically by SQLite and PostgreSQL.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_providers_live_name ON providers (name) WHERE deleted_at IS NULL",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Connections::Table)
                    .col(uuid_pk(Connections::Id))
                    .col(required(Connections::WorkspaceId, text))
                    .col(required(Connections::ProviderId, uuid))
                    .col(required(Connections::Status, text))
                    .col(required(Connections::RequestedScopes, json))
                    .col(optional(Connections::GrantedScopes, json))
                    .col(optional(Connections::ReturnUrl, text))
                    .col(optional(Connections::PkceVerifierCiphertext, bytes))
                    .col(optional(Connections::PkceVerifierKeyId, text))
                    .col(optional(Connections::Nonce, text))
                    .col(optional(Connections::PendingExpiresAt, timestamp))
                    .col(optional(Connections::ErrorCode, text))
                    .col(optional(Connections::RefreshLeaseOwner, text))
                    .col(optional(Connections::RefreshLeaseExpiresAt, timestamp))
                    .col(required(Connections::CreatedAt, timestamp))
                    .col(required(Connections::UpdatedAt, timestamp))
                    .col(optional(Connections::ActivatedAt, timestamp))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_connections_provider")
                            .from(Connections::Table, Connections::ProviderId)
                            .to(Providers::Table, Providers::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_connections_workspace_provider_status")
                    .table(Connections::Table)
                    .col(Connections::WorkspaceId)
                    .col(Connections::ProviderId)
                    .col(Connections::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_connections_status_pending_expires")
                    .table(Connections::Table)
                    .col(Connections::Status)
                    .col(Connections::PendingExpiresAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Credentials::Table)
                    .col(uuid_pk(Credentials::ConnectionId))
                    .col(required(Credentials::Ciphertext, bytes))
                    .col(required(Credentials::KeyId, text))
                    .col(optional(Credentials::ExpiresAt, timestamp))
                    .col(required(Credentials::Version, |d| d.big_integer()))
                    .col(required(Credentials::CreatedAt, timestamp))
                    .col(required(Credentials::UpdatedAt, timestamp))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_credentials_connection")
                            .from(Credentials::Table, Credentials::ConnectionId)
                            .to(Connections::Table, Connections::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_credentials_expires_at")
                    .table(Credentials::Table)
                    .col(Credentials::ExpiresAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AgentKeys::Table)
                    .col(uuid_pk(AgentKeys::Id))
                    .col(required(AgentKeys::Name, text))
                    .col(required(AgentKeys::Prefix, text))
                    .col(required(AgentKeys::KeyHash, text))
                    .col(optional(AgentKeys::WorkspaceIds, json))
                    .col(required(AgentKeys::CreatedAt, timestamp))
                    .col(optional(AgentKeys::RevokedAt, timestamp))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_agent_keys_prefix")
                    .table(AgentKeys::Table)
                    .col(AgentKeys::Prefix)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(uuid_pk(AuditEvents::Id))
                    .col(required(AuditEvents::OccurredAt, timestamp))
                    .col(required(AuditEvents::EventType, text))
                    .col(required(AuditEvents::Actor, text))
                    .col(optional(AuditEvents::ProviderId, uuid))
                    .col(optional(AuditEvents::ConnectionId, uuid))
                    .col(optional(AuditEvents::WorkspaceId, text))
                    .col(required(AuditEvents::Data, json))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_events_connection")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::ConnectionId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_events_type")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::EventType)
                    .col(AuditEvents::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditEvents::Table.into_iden(),
            AgentKeys::Table.into_iden(),
            Credentials::Table.into_iden(),
            Connections::Table.into_iden(),
            Providers::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
