//! Webhooks: the endpoints, the outbox of deliveries (one row per event and endpoint, written in
//! the transaction that changed the connection) and each delivery's attempts.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Webhooks {
    Table,
    Id,
    Url,
    EventTypes,
    WorkspaceId,
    Enabled,
    Description,
    /// The sealed signing secrets: the current one and, after a rotation, the previous one.
    SecretCiphertext,
    SecretKeyId,
    PreviousSecretExpiresAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    /// Commit order per connection: a later state change of a connection always gets a larger
    /// sequence (its transaction waited for the earlier one's row lock).
    Seq,
    Id,
    WebhookId,
    EventType,
    ConnectionId,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    GiveUpAt,
    LeaseOwner,
    LeaseExpiresAt,
    LastStatusCode,
    LastError,
    CreatedAt,
    DeliveredAt,
}

#[derive(DeriveIden)]
enum WebhookAttempts {
    Table,
    DeliveryId,
    Number,
    AttemptedAt,
    StatusCode,
    Error,
    DurationMs,
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
fn timestamp(def: &mut ColumnDef) -> &mut ColumnDef {
    def.timestamp_with_time_zone()
}
fn uuid(def: &mut ColumnDef) -> &mut ColumnDef {
    def.uuid()
}
fn integer(def: &mut ColumnDef) -> &mut ColumnDef {
    def.integer()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Webhooks::Table)
                    .col(ColumnDef::new(Webhooks::Id).uuid().not_null().primary_key())
                    .col(required(Webhooks::Url, text))
                    .col(required(Webhooks::EventTypes, |d| d.json_binary()))
                    .col(optional(Webhooks::WorkspaceId, text))
                    .col(required(Webhooks::Enabled, |d| d.boolean()))
                    .col(optional(Webhooks::Description, text))
                    .col(required(Webhooks::SecretCiphertext, |d| d.blob()))
                    .col(required(Webhooks::SecretKeyId, text))
                    .col(optional(Webhooks::PreviousSecretExpiresAt, timestamp))
                    .col(required(Webhooks::CreatedAt, timestamp))
                    .col(required(Webhooks::UpdatedAt, timestamp))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(
                        ColumnDef::new(WebhookDeliveries::Seq)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(required(WebhookDeliveries::Id, uuid).unique_key().take())
                    .col(required(WebhookDeliveries::WebhookId, uuid))
                    .col(required(WebhookDeliveries::EventType, text))
                    .col(required(WebhookDeliveries::ConnectionId, uuid))
                    .col(required(WebhookDeliveries::Payload, text))
                    .col(required(WebhookDeliveries::Status, text))
                    .col(required(WebhookDeliveries::Attempts, integer))
                    .col(required(WebhookDeliveries::NextAttemptAt, timestamp))
                    .col(required(WebhookDeliveries::GiveUpAt, timestamp))
                    .col(optional(WebhookDeliveries::LeaseOwner, text))
                    .col(optional(WebhookDeliveries::LeaseExpiresAt, timestamp))
                    .col(optional(WebhookDeliveries::LastStatusCode, integer))
                    .col(optional(WebhookDeliveries::LastError, text))
                    .col(required(WebhookDeliveries::CreatedAt, timestamp))
                    .col(optional(WebhookDeliveries::DeliveredAt, timestamp))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_deliveries_webhook")
                            .from(WebhookDeliveries::Table, WebhookDeliveries::WebhookId)
                            .to(Webhooks::Table, Webhooks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The workers' scan: pending deliveries by when they are due.
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_deliveries_status_next")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::Status)
                    .col(WebhookDeliveries::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        // Order per connection: is an earlier delivery of this connection to this endpoint pending?
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_deliveries_webhook_connection")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::WebhookId)
                    .col(WebhookDeliveries::ConnectionId)
                    .col(WebhookDeliveries::Seq)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookAttempts::Table)
                    .col(required(WebhookAttempts::DeliveryId, uuid))
                    .col(required(WebhookAttempts::Number, integer))
                    .col(required(WebhookAttempts::AttemptedAt, timestamp))
                    .col(optional(WebhookAttempts::StatusCode, integer))
                    .col(optional(WebhookAttempts::Error, text))
                    .col(required(WebhookAttempts::DurationMs, |d| d.big_integer()))
                    .primary_key(
                        Index::create()
                            .col(WebhookAttempts::DeliveryId)
                            .col(WebhookAttempts::Number),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_attempts_delivery")
                            .from(WebhookAttempts::Table, WebhookAttempts::DeliveryId)
                            .to(WebhookDeliveries::Table, WebhookDeliveries::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WebhookAttempts::Table.into_iden(),
            WebhookDeliveries::Table.into_iden(),
            Webhooks::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
