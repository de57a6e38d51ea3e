//! `oauth_client_registrations`: the client Nexus registered with a discovered authorization
//! server, one per issuer, its secret sealed.

use sea_orm::entity::prelude::*;

#[sea_orm::compact_model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_client_registrations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub issuer: String,
    pub kind: String,
    pub redirect_uri: String,
    pub client_id: String,
    pub client_secret_ciphertext: Option<Vec<u8>>,
    pub client_secret_key_id: Option<String>,
    pub token_endpoint_auth_method: String,
    pub client_secret_expires_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
