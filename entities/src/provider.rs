//! `providers`: registered OAuth2 and static-credential providers (soft-deleted).

use sea_orm::entity::prelude::*;

#[sea_orm::compact_model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "providers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub display_name: String,
    pub description: Option<String>,
    pub category: Option<String>,
    pub auth_type: String,
    pub client_id: Option<String>,
    /// AES-256-GCM ciphertext of the client secret, bound to this row.
    pub client_secret_ciphertext: Option<Vec<u8>>,
    pub client_secret_key_id: Option<String>,
    /// `nexus_crypto::secret_fingerprint` of the client secret (never the secret).
    pub client_secret_fingerprint: Option<String>,
    pub authorization_url: Option<String>,
    pub token_url: Option<String>,
    pub issuer: Option<String>,
    #[sea_orm(column_type = "JsonBinary")]
    pub scopes: Json,
    #[sea_orm(column_type = "JsonBinary")]
    pub authorization_params: Json,
    /// Sent on top of `authorization_params` by an incremental consent (NULL: none).
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub incremental_authorization_params: Option<Json>,
    pub token_endpoint_auth_method: Option<String>,
    pub pkce: Option<bool>,
    /// How scopes are joined when not with a space (`,`); NULL: a space.
    pub scope_separator: Option<String>,
    /// How the token endpoint departs from RFC 6749: body format, refresh URL, extra token and
    /// refresh parameters, response shape (NULL: it does not).
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub token_exchange: Option<Json>,
    /// URL fields replaced when a connection gives every parameter they hold (NULL: none).
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub url_overrides: Option<Json>,
    /// Headers and query parameters the API wants besides the credential:
    /// `{"headers": {...}, "query": {...}}` (NULL: none).
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub api_extras: Option<Json>,
    pub revocation_url: Option<String>,
    /// A remote MCP server's URL: the provider's endpoints are discovered from it.
    pub mcp_server_url: Option<String>,
    /// Whether refreshes carry `resource` (NULL: yes).
    pub mcp_resource_on_refresh: Option<bool>,
    pub api_base_url: Option<String>,
    pub logo_url: Option<String>,
    pub docs_url: Option<String>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub credential_schema: Option<Json>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub verification: Option<Json>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub strategy: Option<Json>,
    /// Declared connection parameters and allowed host suffixes (NULL: none).
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub connection_params: Option<Json>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub allowed_host_suffixes: Option<Json>,
    /// Origins besides `api_base_url`'s that a credential may be sent to (NULL: none).
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub api_origins: Option<Json>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
