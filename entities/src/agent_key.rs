//! `agent_keys`: Gateway keys, stored as a lookup prefix and a hash.

use sea_orm::entity::prelude::*;

#[sea_orm::compact_model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "agent_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    /// `null`: every workspace; otherwise a JSON array of workspace ids.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub workspace_ids: Option<Json>,
    /// The key may use the proxy but never read a credential.
    pub proxy_only: bool,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
