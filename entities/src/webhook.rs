//! `webhooks`: endpoints that receive connection events, with their sealed signing secrets.

use sea_orm::entity::prelude::*;

#[sea_orm::compact_model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhooks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub url: String,
    /// A JSON array of event type names.
    #[sea_orm(column_type = "JsonBinary")]
    pub event_types: Json,
    /// `null`: every workspace's events.
    pub workspace_id: Option<String>,
    pub enabled: bool,
    pub description: Option<String>,
    /// The current signing secret and, within its grace period, the previous one, sealed together.
    pub secret_ciphertext: Vec<u8>,
    pub secret_key_id: String,
    pub previous_secret_expires_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
