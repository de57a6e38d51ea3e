//! `credentials`: the encrypted token response or captured credential, one row per connection.

use sea_orm::entity::prelude::*;

#[sea_orm::compact_model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "credentials")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub connection_id: Uuid,
    pub ciphertext: Vec<u8>,
    pub key_id: String,
    pub expires_at: Option<DateTimeUtc>,
    /// The middle of the token's life: neither a read nor the background refresher refreshes it
    /// before then (a forced refresh may). `NULL` for rows written before it was kept.
    pub refresh_not_before: Option<DateTimeUtc>,
    /// Incremented on every write; updates check it (optimistic concurrency).
    pub version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
