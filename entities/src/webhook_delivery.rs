//! `webhook_deliveries`: the outbox. One event for one endpoint, written in the transaction that
//! changed the connection, then claimed, sent and retried by the Broker processes' workers.

use sea_orm::entity::prelude::*;

#[sea_orm::compact_model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    #[sea_orm(unique)]
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub event_type: String,
    pub connection_id: Uuid,
    /// The exact bytes sent (and signed): a JSON event that never holds a credential.
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// After this instant a failed attempt is the last one.
    pub give_up_at: DateTimeUtc,
    /// Which worker holds the delivery and until when (each attempt made by exactly one).
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTimeUtc>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub delivered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
