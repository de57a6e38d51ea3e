//! Provider persistence: live providers by id or name, soft delete with optional cascade.

use crate::connection_reads::PARSED_PROVIDERS;
use crate::convert::{from_json, optional_list, optional_map, parse, parse_template, parse_url, to_json};
use crate::webhook_outbox::{ChangedConnection, enqueue};
use crate::write_txn::begin_write;
use crate::{RepoError, RepoResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_domain::ciphertext::Ciphertext;
use nexus_domain::credential_schema::CredentialSchema;
use nexus_domain::provider::{OAuthSettings, Provider, ProviderRef, ProviderSpec, TokenEndpointAuthMethod};
use nexus_domain::status::{AuthType, ConnectionStatus};
use nexus_domain::token_request::{TokenRequestFormat, TokenResponseShape};
use nexus_domain::url_template::UrlTemplate;
use nexus_domain::webhook::WebhookEventType;
use nexus_domain::{ConnectionId, ProviderId, ProviderName, Scope};
use nexus_entities::{connection, credential, provider};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A provider with its sealed client secret, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderRecord {
    pub provider: Provider,
    pub client_secret: Option<Ciphertext>,
}

/// What a soft delete did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderDeletion {
    pub revoked_connections: Vec<ConnectionId>,
}

/// Connection states that still hold, or may soon hold, credentials.
const LIVE_CONNECTION_STATES: [ConnectionStatus; 3] = [
    ConnectionStatus::Pending,
    ConnectionStatus::Active,
    ConnectionStatus::AttentionRequired,
];

crate::timed::timed_repository! {
    repo = "providers";
    #[async_trait]
    pub trait ProviderRepository: Send + Sync {
        async fn insert(&self, record: &ProviderRecord) -> RepoResult<()>;
        /// A live (not deleted) provider by id or name.
        async fn find(&self, provider: &ProviderRef) -> RepoResult<Option<ProviderRecord>>;
        /// Live providers ordered by name.
        async fn list(&self) -> RepoResult<Vec<ProviderRecord>>;
        /// Replaces a live provider's fields; `false` when it no longer exists.
        async fn update(&self, record: &ProviderRecord) -> RepoResult<bool>;
        /// Soft-deletes a live provider. Without `cascade` it refuses (`Conflict`) while live
        /// connections exist; with it, those connections are revoked and their credentials erased,
        /// all in one transaction. `None` when the provider does not exist.
        async fn soft_delete(
            &self,
            id: ProviderId,
            at: DateTime<Utc>,
            cascade: bool,
        ) -> RepoResult<Option<ProviderDeletion>>;
    }
}

#[derive(Debug, Clone)]
pub struct SqlProviderRepository {
    db: DatabaseConnection,
}

impl SqlProviderRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn live_status_strings() -> Vec<&'static str> {
    LIVE_CONNECTION_STATES.iter().map(|s| s.as_str()).collect()
}

#[async_trait]
impl ProviderRepository for SqlProviderRepository {
    async fn insert(&self, record: &ProviderRecord) -> RepoResult<()> {
        provider::Entity::insert(to_active_model(record))
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    async fn find(&self, provider_ref: &ProviderRef) -> RepoResult<Option<ProviderRecord>> {
        let query = provider::Entity::find().filter(provider::Column::DeletedAt.is_null());
        let query = match provider_ref {
            ProviderRef::Id(id) => query.filter(provider::Column::Id.eq(id.as_uuid())),
            ProviderRef::Name(name) => query.filter(provider::Column::Name.eq(name.as_str())),
        };
        query.one(&self.db).await?.map(from_model).transpose()
    }

    async fn list(&self) -> RepoResult<Vec<ProviderRecord>> {
        provider::Entity::find()
            .filter(provider::Column::DeletedAt.is_null())
            .order_by_asc(provider::Column::Name)
            .all(&self.db)
            .await?
            .into_iter()
            .map(from_model)
            .collect()
    }

    async fn update(&self, record: &ProviderRecord) -> RepoResult<bool> {
        let mut model = to_active_model(record);
        model.created_at = sea_orm::ActiveValue::NotSet;
        let result = provider::Entity::update_many()
            .set(model)
            .filter(provider::Column::Id.eq(record.provider.id.as_uuid()))
            .filter(provider::Column::DeletedAt.is_null())
            .exec(&self.db)
            .await?;
        PARSED_PROVIDERS.forget(record.provider.id.as_uuid());
        Ok(result.rows_affected == 1)
    }

    async fn soft_delete(
        &self,
        id: ProviderId,
        at: DateTime<Utc>,
        cascade: bool,
    ) -> RepoResult<Option<ProviderDeletion>> {
        let txn = begin_write(&self.db).await?;
        let exists = provider::Entity::find_by_id(id.as_uuid())
            .filter(provider::Column::DeletedAt.is_null())
            .one(&txn)
            .await?
            .is_some();
        if !exists {
            return Ok(None);
        }
        let live: Vec<uuid::Uuid> = connection::Entity::find()
            .select_only()
            .column(connection::Column::Id)
            .filter(connection::Column::ProviderId.eq(id.as_uuid()))
            .filter(connection::Column::Status.is_in(live_status_strings()))
            .into_tuple()
            .all(&txn)
            .await?;
        if !live.is_empty() && !cascade {
            return Err(RepoError::Conflict("the provider has live connections"));
        }
        if !live.is_empty() {
            credential::Entity::delete_many()
                .filter(credential::Column::ConnectionId.is_in(live.clone()))
                .exec(&txn)
                .await?;
            let revoked = connection::Entity::update_many()
                .col_expr(
                    connection::Column::Status,
                    Expr::value(ConnectionStatus::Revoked.as_str()),
                )
                .col_expr(
                    connection::Column::PkceVerifierCiphertext,
                    Expr::value(Option::<Vec<u8>>::None),
                )
                .col_expr(
                    connection::Column::PkceVerifierKeyId,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(connection::Column::UpdatedAt, Expr::value(at))
                .filter(connection::Column::Id.is_in(live.clone()))
                .exec_with_returning(&txn)
                .await?;
            let changed: Vec<ChangedConnection> = revoked.iter().map(ChangedConnection::from).collect();
            enqueue(
                &txn,
                WebhookEventType::ConnectionRevoked,
                &changed,
                "provider_deleted",
                at,
            )
            .await?;
        }
        provider::Entity::update_many()
            .col_expr(provider::Column::DeletedAt, Expr::value(Some(at)))
            .col_expr(provider::Column::UpdatedAt, Expr::value(at))
            .filter(provider::Column::Id.eq(id.as_uuid()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        PARSED_PROVIDERS.forget(id.as_uuid());
        Ok(Some(ProviderDeletion {
            revoked_connections: live.into_iter().map(ConnectionId::from_uuid).collect(),
        }))
    }
}

fn to_active_model(record: &ProviderRecord) -> provider::ActiveModel {
    let provider = &record.provider;
    let spec = &provider.spec;
    let oauth = spec.oauth.as_ref();
    let url_text = |url: Option<&url::Url>| url.map(ToString::to_string);
    let template_text = |url: Option<&UrlTemplate>| url.map(ToString::to_string);
    let non_empty = |list: serde_json::Value| list.as_array().is_some_and(|a| !a.is_empty()).then_some(list);
    provider::ActiveModel {
        id: Set(provider.id.as_uuid()),
        name: Set(spec.name.to_string()),
        display_name: Set(spec.display_name.clone()),
        description: Set(spec.description.clone()),
        category: Set(spec.category.clone()),
        auth_type: Set(spec.auth_type.as_str().to_owned()),
        client_id: Set(oauth.map(|o| o.client_id.clone())),
        client_secret_ciphertext: Set(record.client_secret.as_ref().map(|c| c.bytes.clone())),
        client_secret_key_id: Set(record.client_secret.as_ref().map(|c| c.key_id.clone())),
        client_secret_fingerprint: Set(provider.client_secret_fingerprint.clone()),
        authorization_url: Set(template_text(oauth.and_then(|o| o.authorization_url.as_ref()))),
        token_url: Set(template_text(oauth.and_then(|o| o.token_url.as_ref()))),
        issuer: Set(template_text(oauth.and_then(|o| o.issuer.as_ref()))),
        scopes: Set(to_json(&spec.scopes)),
        authorization_params: Set(to_json(
            &oauth.map(|o| o.authorization_params.clone()).unwrap_or_default(),
        )),
        incremental_authorization_params: Set(oauth
            .filter(|o| !o.incremental_authorization_params.is_empty())
            .map(|o| to_json(&o.incremental_authorization_params))),
        token_endpoint_auth_method: Set(oauth.map(|o| o.token_endpoint_auth_method.as_str().to_owned())),
        pkce: Set(oauth.map(|o| o.pkce)),
        scope_separator: Set(oauth
            .filter(|o| o.scope_separator != ' ')
            .map(|o| o.scope_separator.to_string())),
        token_exchange: Set(oauth.and_then(TokenExchangeColumn::of).map(|column| to_json(&column))),
        url_overrides: Set((!spec.url_overrides.is_empty()).then(|| to_json(&spec.url_overrides))),
        api_extras: Set(ApiExtrasColumn::of(spec).map(|column| to_json(&column))),
        revocation_url: Set(template_text(oauth.and_then(|o| o.revocation_url.as_ref()))),
        mcp_server_url: Set(oauth.and_then(|o| o.mcp.as_ref()).map(|m| m.server_url.to_string())),
        mcp_resource_on_refresh: Set(oauth.and_then(|o| o.mcp.as_ref()).map(|m| m.resource_on_refresh)),
        api_base_url: Set(template_text(spec.api_base_url.as_ref())),
        logo_url: Set(url_text(spec.logo_url.as_ref())),
        docs_url: Set(url_text(spec.docs_url.as_ref())),
        credential_schema: Set(spec.credential_schema.as_ref().map(CredentialSchema::to_json)),
        verification: Set(spec.verification.as_ref().map(to_json)),
        strategy: Set(spec.strategy.as_ref().map(to_json)),
        connection_params: Set(non_empty(to_json(&spec.connection_params))),
        allowed_host_suffixes: Set(non_empty(to_json(&spec.allowed_host_suffixes))),
        api_origins: Set(non_empty(to_json(&spec.api_origins))),
        created_at: Set(provider.created_at),
        updated_at: Set(provider.updated_at),
        deleted_at: Set(None),
    }
}

/// The `token_exchange` column: what of the token exchange departs from RFC 6749.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
struct TokenExchangeColumn {
    #[serde(default, skip_serializing_if = "is_default")]
    format: TokenRequestFormat,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_url: Option<UrlTemplate>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    token_params: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    refresh_params: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "is_default")]
    response: TokenResponseShape,
}

/// The `api_extras` column: headers and query parameters sent with the credential.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
struct ApiExtrasColumn {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    query: BTreeMap<String, String>,
}

impl ApiExtrasColumn {
    fn of(spec: &ProviderSpec) -> Option<Self> {
        let column = Self {
            headers: spec.api_headers.clone(),
            query: spec.api_query.clone(),
        };
        (column != Self::default()).then_some(column)
    }
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

impl TokenExchangeColumn {
    /// The column for these settings; `None` (NULL) when everything is RFC 6749's.
    fn of(oauth: &OAuthSettings) -> Option<Self> {
        let column = Self {
            format: oauth.token_request_format,
            refresh_url: oauth.refresh_url.clone(),
            token_params: oauth.token_params.clone(),
            refresh_params: oauth.refresh_params.clone(),
            response: oauth.token_response,
        };
        (column != Self::default()).then_some(column)
    }
}

pub(crate) fn from_model(model: provider::Model) -> RepoResult<ProviderRecord> {
    let auth_type: AuthType = parse("auth_type", &model.auth_type, str::parse)?;
    let exchange: TokenExchangeColumn = model
        .token_exchange
        .map(|value| from_json("token_exchange", value))
        .transpose()?
        .unwrap_or_default();
    let extras: ApiExtrasColumn = model
        .api_extras
        .map(|value| from_json("api_extras", value))
        .transpose()?
        .unwrap_or_default();
    let oauth = if auth_type == AuthType::Oauth2 {
        Some(OAuthSettings {
            client_id: model
                .client_id
                .ok_or_else(|| RepoError::Corrupt("client_id: missing on an oauth2 provider".into()))?,
            authorization_url: parse_template("authorization_url", model.authorization_url)?,
            token_url: parse_template("token_url", model.token_url)?,
            issuer: parse_template("issuer", model.issuer)?,
            authorization_params: from_json("authorization_params", model.authorization_params)?,
            incremental_authorization_params: optional_map(
                "incremental_authorization_params",
                model.incremental_authorization_params,
            )?,
            token_endpoint_auth_method: match model.token_endpoint_auth_method.as_deref() {
                Some(raw) => parse("token_endpoint_auth_method", raw, TokenEndpointAuthMethod::parse)?,
                None => TokenEndpointAuthMethod::default(),
            },
            pkce: model.pkce.unwrap_or(true),
            revocation_url: parse_template("revocation_url", model.revocation_url)?,
            scope_separator: match model.scope_separator.as_deref() {
                None | Some(" ") => ' ',
                Some(",") => ',',
                Some(other) => {
                    return Err(RepoError::Corrupt(format!(
                        "scope_separator: `{other}` is not a separator"
                    )));
                }
            },
            refresh_url: exchange.refresh_url,
            token_request_format: exchange.format,
            token_params: exchange.token_params,
            refresh_params: exchange.refresh_params,
            token_response: exchange.response,
            discovered_within: None,
            mcp: model
                .mcp_server_url
                .map(|raw| {
                    url::Url::parse(&raw)
                        .map(|server_url| nexus_domain::provider::McpSettings {
                            server_url,
                            resource_on_refresh: model.mcp_resource_on_refresh.unwrap_or(true),
                        })
                        .map_err(|_| RepoError::Corrupt("mcp_server_url: not a URL".into()))
                })
                .transpose()?,
        })
    } else {
        None
    };
    let client_secret = match (model.client_secret_ciphertext, model.client_secret_key_id) {
        (Some(bytes), Some(key_id)) => Some(Ciphertext { key_id, bytes }),
        (None, None) => None,
        _ => {
            return Err(RepoError::Corrupt("client secret ciphertext without key id".into()));
        }
    };
    let spec = ProviderSpec {
        name: parse("name", &model.name, ProviderName::parse)?,
        display_name: model.display_name,
        description: model.description,
        category: model.category,
        auth_type,
        scopes: from_json::<Vec<Scope>>("scopes", model.scopes)?,
        oauth,
        credential_schema: model
            .credential_schema
            .map(|raw| CredentialSchema::parse(&raw).map_err(|e| RepoError::Corrupt(format!("credential_schema: {e}"))))
            .transpose()?,
        verification: model.verification.map(|v| from_json("verification", v)).transpose()?,
        strategy: model.strategy.map(|v| from_json("strategy", v)).transpose()?,
        api_base_url: parse_template("api_base_url", model.api_base_url)?,
        connection_params: optional_list("connection_params", model.connection_params)?,
        allowed_host_suffixes: optional_list("allowed_host_suffixes", model.allowed_host_suffixes)?,
        api_origins: optional_list("api_origins", model.api_origins)?,
        url_overrides: optional_map("url_overrides", model.url_overrides)?,
        api_headers: extras.headers,
        api_query: extras.query,
        logo_url: parse_url("logo_url", model.logo_url)?,
        docs_url: parse_url("docs_url", model.docs_url)?,
    };
    Ok(ProviderRecord {
        provider: Provider {
            id: ProviderId::from_uuid(model.id),
            spec,
            has_client_secret: client_secret.is_some(),
            client_secret_fingerprint: model.client_secret_fingerprint,
            created_at: model.created_at,
            updated_at: model.updated_at,
        },
        client_secret,
    })
}
