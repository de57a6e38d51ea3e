//! `connections`: one workspace's authorization with one provider, and its state.

use sea_orm::entity::prelude::*;

#[sea_orm::compact_model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "connections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: String,
    pub provider_id: Uuid,
    pub status: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub requested_scopes: Json,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub granted_scopes: Option<Json>,
    pub return_url: Option<String>,
    /// The values filling the provider's `{param}` placeholders, fixed at creation (NULL: none).
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub connection_params: Option<Json>,
    /// The PKCE verifier of a pending consent, encrypted and bound to this row.
    pub pkce_verifier_ciphertext: Option<Vec<u8>>,
    pub pkce_verifier_key_id: Option<String>,
    pub nonce: Option<String>,
    /// A pending connection expires after this instant.
    pub pending_expires_at: Option<DateTimeUtc>,
    pub error_code: Option<String>,
    /// Who holds the refresh lease and until when (refresh exactly once across replicas).
    pub refresh_lease_owner: Option<String>,
    pub refresh_lease_expires_at: Option<DateTimeUtc>,
    /// Refreshes that failed in a row, and when the background refresher may try again.
    pub refresh_failures: i32,
    pub refresh_retry_at: Option<DateTimeUtc>,
    /// Submissions made with the current capture link.
    pub capture_attempts: i32,
    /// Consents in a row that asked for the same scopes without the grant holding them.
    pub scope_step_ups: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub activated_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::provider::Entity",
        from = "Column::ProviderId",
        to = "super::provider::Column::Id"
    )]
    Provider,
}

impl Related<super::provider::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Provider.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
