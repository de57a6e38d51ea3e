//! Provider bodies: create, update (PATCH with null to clear), the operator view, the agent catalog.

use super::strategy::StrategyDto;
use super::text::{Plain, Text};
use chrono::{DateTime, Utc};
use nexus_domain::provider::{
    NewProvider, Provider, ProviderDraft, ProviderPatch, ProviderSummary, TokenEndpointAuthMethod, Verification,
    VerificationMethod,
};
use nexus_domain::secret::SecretString;
use nexus_domain::status::AuthType;
use nexus_domain::token_request::{TokenRequestFormat, TokenResponseShape};
use nexus_domain::url_template::{ConnectionParam, UrlTemplate};
use poem_openapi::{Enum, Object};
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename = "AuthType", rename_all = "snake_case")]
pub enum AuthTypeDto {
    Oauth2,
    ApiKey,
    BasicAuth,
    AwsSigv4,
}

impl From<AuthTypeDto> for AuthType {
    fn from(dto: AuthTypeDto) -> Self {
        match dto {
            AuthTypeDto::Oauth2 => Self::Oauth2,
            AuthTypeDto::ApiKey => Self::ApiKey,
            AuthTypeDto::BasicAuth => Self::BasicAuth,
            AuthTypeDto::AwsSigv4 => Self::AwsSigv4,
        }
    }
}

impl From<AuthType> for AuthTypeDto {
    fn from(auth_type: AuthType) -> Self {
        match auth_type {
            AuthType::Oauth2 => Self::Oauth2,
            AuthType::ApiKey => Self::ApiKey,
            AuthType::BasicAuth => Self::BasicAuth,
            AuthType::AwsSigv4 => Self::AwsSigv4,
        }
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename = "TokenEndpointAuthMethod", rename_all = "snake_case")]
pub enum TokenEndpointAuthMethodDto {
    ClientSecretPost,
    ClientSecretBasic,
}

impl From<TokenEndpointAuthMethodDto> for TokenEndpointAuthMethod {
    fn from(dto: TokenEndpointAuthMethodDto) -> Self {
        match dto {
            TokenEndpointAuthMethodDto::ClientSecretPost => Self::ClientSecretPost,
            TokenEndpointAuthMethodDto::ClientSecretBasic => Self::ClientSecretBasic,
        }
    }
}

impl From<TokenEndpointAuthMethod> for TokenEndpointAuthMethodDto {
    fn from(method: TokenEndpointAuthMethod) -> Self {
        match method {
            TokenEndpointAuthMethod::ClientSecretPost => Self::ClientSecretPost,
            TokenEndpointAuthMethod::ClientSecretBasic => Self::ClientSecretBasic,
        }
    }
}

/// The token request's body: `form` (RFC 6749) or `json` (Notion)
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename = "TokenRequestFormat", rename_all = "snake_case")]
pub enum TokenRequestFormatDto {
    Form,
    Json,
}

impl From<TokenRequestFormatDto> for TokenRequestFormat {
    fn from(dto: TokenRequestFormatDto) -> Self {
        match dto {
            TokenRequestFormatDto::Form => Self::Form,
            TokenRequestFormatDto::Json => Self::Json,
        }
    }
}

impl From<TokenRequestFormat> for TokenRequestFormatDto {
    fn from(format: TokenRequestFormat) -> Self {
        match format {
            TokenRequestFormat::Form => Self::Form,
            TokenRequestFormat::Json => Self::Json,
        }
    }
}

/// Where the token response keeps the token: `standard` (RFC 6749), `slack_bot` or `slack_user`
/// (Slack's `oauth.v2.access`: the bot token at the top level, or the user token under
/// `authed_user`; `ok: false` is an error), `salesforce` (`instance_url` becomes the
/// connection's API base URL when it is one of the provider's API origins)
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename = "TokenResponseShape", rename_all = "snake_case")]
pub enum TokenResponseShapeDto {
    Standard,
    SlackBot,
    SlackUser,
    Salesforce,
}

impl From<TokenResponseShapeDto> for TokenResponseShape {
    fn from(dto: TokenResponseShapeDto) -> Self {
        match dto {
            TokenResponseShapeDto::Standard => Self::Standard,
            TokenResponseShapeDto::SlackBot => Self::SlackBot,
            TokenResponseShapeDto::SlackUser => Self::SlackUser,
            TokenResponseShapeDto::Salesforce => Self::Salesforce,
        }
    }
}

impl From<TokenResponseShape> for TokenResponseShapeDto {
    fn from(shape: TokenResponseShape) -> Self {
        match shape {
            TokenResponseShape::Standard => Self::Standard,
            TokenResponseShape::SlackBot => Self::SlackBot,
            TokenResponseShape::SlackUser => Self::SlackUser,
            TokenResponseShape::Salesforce => Self::Salesforce,
        }
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename = "VerificationMethod", rename_all = "UPPERCASE")]
pub enum VerificationMethodDto {
    Get,
    Head,
    Post,
}

/// A live check of captured credentials: the strategy is applied to a request to `url` (with
/// `method`, `GET` when absent); any 2xx accepts them
#[derive(Object, Debug, Clone, PartialEq, Eq)]
#[oai(skip_serializing_if_is_none)]
#[oai(rename = "Verification", deny_unknown_fields)]
pub struct VerificationDto {
    #[oai(validator(pattern = r"^https?://", max_length = 2048))]
    pub url: Text,
    pub method: Option<VerificationMethodDto>,
}

fn method_to_domain(dto: VerificationMethodDto) -> VerificationMethod {
    match dto {
        VerificationMethodDto::Get => VerificationMethod::Get,
        VerificationMethodDto::Head => VerificationMethod::Head,
        VerificationMethodDto::Post => VerificationMethod::Post,
    }
}

fn method_to_dto(method: VerificationMethod) -> VerificationMethodDto {
    match method {
        VerificationMethod::Get => VerificationMethodDto::Get,
        VerificationMethod::Head => VerificationMethodDto::Head,
        VerificationMethod::Post => VerificationMethodDto::Post,
    }
}

impl From<Verification> for VerificationDto {
    fn from(v: Verification) -> Self {
        Self {
            url: Text(v.url.to_string()),
            method: Some(method_to_dto(v.method)),
        }
    }
}

/// A value each connection supplies to fill `{name}` placeholders in the provider's URLs (a
/// Zendesk subdomain, a Salesforce instance). Values may only hold letters, digits, `-`, `_`,
/// `~` and inner dots, and must match `pattern`
#[derive(Object, Debug, Clone, PartialEq, Eq)]
#[oai(rename = "ConnectionParam", skip_serializing_if_is_none, deny_unknown_fields)]
pub struct ConnectionParamDto {
    /// Snake case; `{name}` in the URLs
    #[oai(validator(pattern = r"^[a-z][a-z0-9_]*$", max_length = 64))]
    pub name: String,
    /// Shown to whoever supplies the value
    #[oai(validator(max_length = 500))]
    pub description: String,
    /// A fully anchored pattern (`^...$`, the Rust `regex` crate's syntax) every value matches
    #[oai(validator(max_length = 500))]
    pub pattern: String,
    /// The only values allowed, when there is a fixed list (regions, say)
    #[oai(validator(max_items = 100))]
    pub choices: Option<Vec<String>>,
    /// Used when a connection gives no value
    pub default: Option<String>,
    /// A connection may leave it out: only `url_overrides` may use it (the override then
    /// applies only to connections that give it)
    pub optional: Option<bool>,
}

impl From<ConnectionParamDto> for ConnectionParam {
    fn from(dto: ConnectionParamDto) -> Self {
        Self {
            name: dto.name,
            description: dto.description,
            pattern: dto.pattern,
            choices: dto.choices.unwrap_or_default(),
            default: dto.default,
            optional: dto.optional.unwrap_or(false),
        }
    }
}

impl From<ConnectionParam> for ConnectionParamDto {
    fn from(param: ConnectionParam) -> Self {
        Self {
            name: param.name,
            description: param.description,
            pattern: param.pattern,
            choices: (!param.choices.is_empty()).then_some(param.choices),
            default: param.default,
            optional: param.optional.then_some(true),
        }
    }
}

/// A provider to register. `strategy` overrides the auth type's default strategy. With
/// `template`, a template of the catalog (`GET /v1/catalog`) fills in every field the body leaves
/// out (name, auth type, endpoints, scopes, strategy, ...); the body's fields win. `name` and
/// `auth_type` are required unless the template gives them
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
#[oai(deny_unknown_fields)]
pub struct ProviderCreate {
    /// A template of the provider catalog to start from
    #[oai(validator(pattern = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$", max_length = 63))]
    pub template: Option<Text>,
    /// Unique name, lower-case kebab (`google-drive`); agents resolve credentials by it.
    /// Required unless a template gives it
    #[oai(validator(pattern = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$", max_length = 63))]
    pub name: Option<Text>,
    #[oai(validator(max_length = 200))]
    pub display_name: Option<Text>,
    #[oai(validator(max_length = 2000))]
    pub description: Option<Text>,
    #[oai(validator(max_length = 64))]
    pub category: Option<Text>,
    // Required unless a template gives it (no doc comment: it would wrap the `$ref` in `allOf`).
    pub auth_type: Option<AuthTypeDto>,
    /// Default scopes requested at consent
    #[oai(validator(pattern = r"^[\x21\x23-\x5B\x5D-\x7E]+$", max_length = 256, max_items = 100))]
    pub scopes: Option<Vec<Text>>,
    /// OAuth2 client id
    pub client_id: Option<Text>,
    /// OAuth2 client secret: write-only, encrypted at rest, never returned
    #[oai(write_only)]
    pub client_secret: Option<Text>,
    #[oai(validator(pattern = r"^https?://", max_length = 2048))]
    pub authorization_url: Option<Text>,
    #[oai(validator(pattern = r"^https?://", max_length = 2048))]
    pub token_url: Option<Text>,
    /// OpenID issuer; endpoints are discovered when the URLs are not given
    #[oai(validator(pattern = r"^https?://", max_length = 2048))]
    pub issuer: Option<Text>,
    /// A remote MCP server's URL, its canonical resource URI: the authorization server and its
    /// endpoints are discovered from it (RFC 9728, RFC 8414), and without `client_id` Nexus
    /// registers a client once per authorization server (its metadata document, or dynamic
    /// registration)
    #[oai(validator(pattern = r"^https?://", max_length = 2048))]
    pub mcp_server_url: Option<Text>,
    /// Whether refreshes carry `resource` too (default true; false for authorization servers
    /// that reject it there)
    pub mcp_resource_on_refresh: Option<bool>,
    /// Extra authorization parameters (such as `access_type=offline`); never the security parameters
    pub authorization_params: Option<BTreeMap<String, Text>>,
    /// Added by an incremental consent (more scopes for an existing connection), such as
    /// Google's `include_granted_scopes=true`
    pub incremental_authorization_params: Option<BTreeMap<String, Text>>,
    pub token_endpoint_auth_method: Option<TokenEndpointAuthMethodDto>,
    /// PKCE S256 (default true)
    pub pkce: Option<bool>,
    /// How scopes are joined in the authorization request: `" "` (the default, RFC 6749) or
    /// `","` (Linear, Zoom, Strava, Todoist)
    #[oai(validator(pattern = r"^[ ,]$"))]
    pub scope_separator: Option<String>,
    /// Where refreshes go when not to `token_url` (Figma)
    #[oai(validator(pattern = r"^https?://", max_length = 2048))]
    pub refresh_url: Option<Text>,
    pub token_request_format: Option<TokenRequestFormatDto>,
    /// Extra parameters of the authorization-code exchange (Shopify's `expiring=1`); values may
    /// hold `{name}` placeholders. Never the ones Nexus sets (`grant_type`, `code`, ...)
    pub token_params: Option<BTreeMap<String, Text>>,
    /// Extra parameters of a refresh, as `token_params`
    pub refresh_params: Option<BTreeMap<String, Text>>,
    pub token_response: Option<TokenResponseShapeDto>,
    /// URLs used instead of `authorization_url`, `token_url`, `refresh_url`, `revocation_url`
    /// or `api_base_url` for a connection that gives every parameter they hold (Salesforce's My
    /// Domain, Intercom's regions); each holds a `{name}` placeholder of an optional parameter
    pub url_overrides: Option<BTreeMap<String, Text>>,
    /// Headers the provider's API wants besides the credential (`Notion-Version`); values may
    /// hold `{name}` (a connection parameter) and `{credential.field}` placeholders. Envelopes
    /// carry them filled, and the SDKs and the proxy send them
    pub api_headers: Option<BTreeMap<String, Text>>,
    /// Query parameters the provider's API wants besides the credential, as `api_headers`
    pub api_query: Option<BTreeMap<String, Text>>,
    #[oai(validator(pattern = r"^https?://", max_length = 2048))]
    pub revocation_url: Option<Text>,
    /// For api_key and basic_auth providers: a JSON Schema subset describing the credential fields
    pub credential_schema: Option<serde_json::Value>,
    pub verification: Option<VerificationDto>,
    pub strategy: Option<StrategyDto>,
    #[oai(validator(pattern = r"^https?://", max_length = 2048))]
    pub api_base_url: Option<Text>,
    /// Origins besides `api_base_url`'s that the credential may be sent to: exact origins
    /// (`https://uploads.example.com`) or one leading `*.` label under a registrable domain
    /// (`https://*.googleapis.com`); may hold `{name}` placeholders. SDKs and the proxy refuse
    /// every other origin
    #[oai(validator(max_items = 20, max_length = 2048))]
    pub api_origins: Option<Vec<String>>,
    /// The provider's logo, shown on the hosted capture form (https)
    #[oai(validator(pattern = r"^https?://", max_length = 2048))]
    pub logo_url: Option<Text>,
    /// Where users find their key or learn about the connection, linked from the capture form
    #[oai(validator(pattern = r"^https?://", max_length = 2048))]
    pub docs_url: Option<Text>,
    /// Values each connection supplies to fill `{name}` placeholders in the URLs above
    #[oai(validator(max_items = 20))]
    pub connection_params: Option<Vec<ConnectionParamDto>>,
    /// Domains a host that comes entirely from a parameter may be or be under
    #[oai(validator(max_items = 50))]
    pub allowed_host_suffixes: Option<Vec<String>>,
}

impl std::fmt::Debug for ProviderCreate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderCreate")
            .field("name", &self.name)
            .field("auth_type", &self.auth_type)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "[REDACTED]"))
            .finish_non_exhaustive()
    }
}

impl From<ProviderCreate> for NewProvider {
    fn from(dto: ProviderCreate) -> Self {
        NewProvider {
            client_secret: dto.client_secret.plain().map(SecretString::from),
            template: dto.template.plain(),
            draft: ProviderDraft {
                // Empty: the template's, or refused as missing.
                name: dto.name.plain().unwrap_or_default(),
                display_name: dto.display_name.plain(),
                description: dto.description.plain(),
                category: dto.category.plain(),
                auth_type: dto.auth_type.map(Into::into),
                scopes: dto.scopes.plain().unwrap_or_default(),
                client_id: dto.client_id.plain(),
                authorization_url: dto.authorization_url.plain(),
                token_url: dto.token_url.plain(),
                issuer: dto.issuer.plain(),
                mcp_server_url: dto.mcp_server_url.plain(),
                mcp_resource_on_refresh: dto.mcp_resource_on_refresh,
                authorization_params: dto.authorization_params.plain().unwrap_or_default(),
                incremental_authorization_params: dto.incremental_authorization_params.plain().unwrap_or_default(),
                token_endpoint_auth_method: dto.token_endpoint_auth_method.map(Into::into),
                pkce: dto.pkce,
                revocation_url: dto.revocation_url.plain(),
                scope_separator: dto.scope_separator,
                refresh_url: dto.refresh_url.plain(),
                token_request_format: dto.token_request_format.map(Into::into),
                token_params: dto.token_params.plain().unwrap_or_default(),
                refresh_params: dto.refresh_params.plain().unwrap_or_default(),
                token_response: dto.token_response.map(Into::into),
                url_overrides: dto.url_overrides.plain().unwrap_or_default(),
                api_headers: dto.api_headers.plain().unwrap_or_default(),
                api_query: dto.api_query.plain().unwrap_or_default(),
                credential_schema: dto.credential_schema,
                verification_url: dto.verification.as_ref().map(|v| v.url.0.clone()),
                verification_method: dto.verification.and_then(|v| v.method).map(method_to_domain),
                strategy: dto.strategy.map(Into::into),
                api_base_url: dto.api_base_url.plain(),
                api_origins: dto.api_origins.unwrap_or_default(),
                logo_url: dto.logo_url.plain(),
                docs_url: dto.docs_url.plain(),
                connection_params: dto
                    .connection_params
                    .unwrap_or_default()
                    .into_iter()
                    .map(Into::into)
                    .collect(),
                allowed_host_suffixes: dto.allowed_host_suffixes.unwrap_or_default(),
            },
        }
    }
}

/// Optional provider fields that `clear` can reset.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum ClearableField {
    Description,
    Category,
    AuthorizationUrl,
    TokenUrl,
    Issuer,
    RevocationUrl,
    RefreshUrl,
    Verification,
    Strategy,
    ApiBaseUrl,
    LogoUrl,
    DocsUrl,
    McpServerUrl,
}

/// Changes to a provider: absent fields stay as they are; fields named in `clear` are reset
/// (an explicit list rather than `null`, which generated clients cannot always send)
#[derive(Object, Default)]
#[oai(skip_serializing_if_is_none)]
#[oai(deny_unknown_fields)]
pub struct ProviderUpdate {
    #[oai(validator(pattern = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$", max_length = 63))]
    pub name: Option<Text>,
    #[oai(validator(max_length = 200))]
    pub display_name: Option<Text>,
    #[oai(validator(max_length = 2000))]
    pub description: Option<Text>,
    #[oai(validator(max_length = 64))]
    pub category: Option<Text>,
    #[oai(validator(pattern = r"^[\x21\x23-\x5B\x5D-\x7E]+$", max_length = 256, max_items = 100))]
    pub scopes: Option<Vec<Text>>,
    pub client_id: Option<Text>,
    /// A new client secret (write-only)
    #[oai(write_only)]
    pub client_secret: Option<Text>,
    #[oai(validator(pattern = r"^https?://", max_length = 2048))]
    pub authorization_url: Option<Text>,
    #[oai(validator(pattern = r"^https?://", max_length = 2048))]
    pub token_url: Option<Text>,
    #[oai(validator(pattern = r"^https?://", max_length = 2048))]
    pub issuer: Option<Text>,
    /// A remote MCP server's URL (see `ProviderCreate`)
    #[oai(validator(pattern = r"^https?://", max_length = 2048))]
    pub mcp_server_url: Option<Text>,
    pub mcp_resource_on_refresh: Option<bool>,
    pub authorization_params: Option<BTreeMap<String, Text>>,
    /// Replaces the incremental authorization parameters (an empty object removes them)
    pub incremental_authorization_params: Option<BTreeMap<String, Text>>,
    pub token_endpoint_auth_method: Option<TokenEndpointAuthMethodDto>,
    pub pkce: Option<bool>,
    /// `" "` or `","`
    #[oai(validator(pattern = r"^[ ,]$"))]
    pub scope_separator: Option<String>,
    #[oai(validator(pattern = r"^https?://", max_length = 2048))]
    pub refresh_url: Option<Text>,
    pub token_request_format: Option<TokenRequestFormatDto>,
    /// Replaces the extra token parameters (an empty object removes them)
    pub token_params: Option<BTreeMap<String, Text>>,
    /// Replaces the extra refresh parameters (an empty object removes them)
    pub refresh_params: Option<BTreeMap<String, Text>>,
    pub token_response: Option<TokenResponseShapeDto>,
    /// Replaces the URL overrides (an empty object removes them)
    pub url_overrides: Option<BTreeMap<String, Text>>,
    /// Replaces the API headers (an empty object removes them)
    pub api_headers: Option<BTreeMap<String, Text>>,
    /// Replaces the API query parameters (an empty object removes them)
    pub api_query: Option<BTreeMap<String, Text>>,
    #[oai(validator(pattern = r"^https?://", max_length = 2048))]
    pub revocation_url: Option<Text>,
    pub credential_schema: Option<serde_json::Value>,
    pub verification: Option<VerificationDto>,
    pub strategy: Option<StrategyDto>,
    #[oai(validator(pattern = r"^https?://", max_length = 2048))]
    pub api_base_url: Option<Text>,
    /// Replaces the declared API origins (an empty list removes them)
    #[oai(validator(max_items = 20, max_length = 2048))]
    pub api_origins: Option<Vec<String>>,
    #[oai(validator(pattern = r"^https?://", max_length = 2048))]
    pub logo_url: Option<Text>,
    #[oai(validator(pattern = r"^https?://", max_length = 2048))]
    pub docs_url: Option<Text>,
    /// Replaces the declared connection parameters (an empty list removes them)
    #[oai(validator(max_items = 20))]
    pub connection_params: Option<Vec<ConnectionParamDto>>,
    /// Replaces the allowed host suffixes (an empty list removes them)
    #[oai(validator(max_items = 50))]
    pub allowed_host_suffixes: Option<Vec<String>>,
    /// Optional fields to reset (`strategy` returns to the auth type's default)
    pub clear: Option<Vec<ClearableField>>,
}

impl std::fmt::Debug for ProviderUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderUpdate")
            .field("name", &self.name)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "[REDACTED]"))
            .finish_non_exhaustive()
    }
}

/// `Some(Some(v))` to set, `Some(None)` to clear, `None` to leave as it is.
fn change<T>(value: Option<T>, clear: bool) -> Option<Option<T>> {
    if clear { Some(None) } else { value.map(Some) }
}

impl From<ProviderUpdate> for ProviderPatch {
    fn from(dto: ProviderUpdate) -> Self {
        let clear = dto.clear.unwrap_or_default();
        let cleared = |field: ClearableField| clear.contains(&field);
        let verification = change(dto.verification, cleared(ClearableField::Verification));
        ProviderPatch {
            name: dto.name.plain(),
            display_name: dto.display_name.plain(),
            description: change(dto.description.plain(), cleared(ClearableField::Description)),
            category: change(dto.category.plain(), cleared(ClearableField::Category)),
            scopes: dto.scopes.plain(),
            client_id: dto.client_id.plain(),
            client_secret: dto.client_secret.plain().map(SecretString::from),
            authorization_url: change(dto.authorization_url.plain(), cleared(ClearableField::AuthorizationUrl)),
            token_url: change(dto.token_url.plain(), cleared(ClearableField::TokenUrl)),
            issuer: change(dto.issuer.plain(), cleared(ClearableField::Issuer)),
            mcp_server_url: change(dto.mcp_server_url.plain(), cleared(ClearableField::McpServerUrl)),
            mcp_resource_on_refresh: dto.mcp_resource_on_refresh,
            authorization_params: dto.authorization_params.plain(),
            incremental_authorization_params: dto.incremental_authorization_params.plain(),
            token_endpoint_auth_method: dto.token_endpoint_auth_method.map(Into::into),
            pkce: dto.pkce,
            revocation_url: change(dto.revocation_url.plain(), cleared(ClearableField::RevocationUrl)),
            scope_separator: dto.scope_separator,
            refresh_url: change(dto.refresh_url.plain(), cleared(ClearableField::RefreshUrl)),
            token_request_format: dto.token_request_format.map(Into::into),
            token_params: dto.token_params.plain(),
            refresh_params: dto.refresh_params.plain(),
            token_response: dto.token_response.map(Into::into),
            url_overrides: dto.url_overrides.plain(),
            api_headers: dto.api_headers.plain(),
            api_query: dto.api_query.plain(),
            credential_schema: dto.credential_schema,
            verification_method: verification
                .as_ref()
                .and_then(|v| v.as_ref().and_then(|v| v.method))
                .map(method_to_domain),
            verification_url: verification.map(|v| v.map(|v| v.url.plain())),
            strategy: change(dto.strategy, cleared(ClearableField::Strategy)).map(|s| s.map(Into::into)),
            api_base_url: change(dto.api_base_url.plain(), cleared(ClearableField::ApiBaseUrl)),
            api_origins: dto.api_origins,
            logo_url: change(dto.logo_url.plain(), cleared(ClearableField::LogoUrl)),
            docs_url: change(dto.docs_url.plain(), cleared(ClearableField::DocsUrl)),
            connection_params: dto
                .connection_params
                .map(|params| params.into_iter().map(Into::into).collect()),
            allowed_host_suffixes: dto.allowed_host_suffixes,
        }
    }
}

/// A registered provider as operators see it; the client secret is never included. `strategy` is
/// the one in effect (the auth type's default unless overridden)
#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
#[oai(rename = "Provider")]
pub struct ProviderView {
    pub id: Uuid,
    pub name: String,
    pub display_name: String,
    pub description: Option<String>,
    pub category: Option<String>,
    pub auth_type: AuthTypeDto,
    pub scopes: Vec<String>,
    pub client_id: Option<String>,
    /// Whether a client secret is stored (the secret itself is write-only)
    pub has_client_secret: bool,
    /// A keyed hash of the stored client secret (HMAC-SHA256 keyed with the provider id,
    /// 128 bits), so tools can tell whether a secret they hold is the stored one; never the
    /// secret
    pub client_secret_fingerprint: Option<String>,
    pub authorization_url: Option<String>,
    pub token_url: Option<String>,
    pub issuer: Option<String>,
    /// A remote MCP server's URL (absent: not an MCP provider)
    pub mcp_server_url: Option<String>,
    /// For an MCP provider: whether refreshes carry `resource`
    pub mcp_resource_on_refresh: Option<bool>,
    pub authorization_params: BTreeMap<String, String>,
    /// Added by an incremental consent (absent: none)
    pub incremental_authorization_params: Option<BTreeMap<String, String>>,
    pub token_endpoint_auth_method: Option<TokenEndpointAuthMethodDto>,
    pub pkce: Option<bool>,
    pub revocation_url: Option<String>,
    /// How scopes are joined when not with a space (absent: a space)
    pub scope_separator: Option<String>,
    pub refresh_url: Option<String>,
    // Absent: the default (no doc comment: it would wrap the `$ref` in `allOf`).
    pub token_request_format: Option<TokenRequestFormatDto>,
    pub token_params: Option<BTreeMap<String, String>>,
    pub refresh_params: Option<BTreeMap<String, String>>,
    // Absent: the default (no doc comment: it would wrap the `$ref` in `allOf`).
    pub token_response: Option<TokenResponseShapeDto>,
    pub url_overrides: Option<BTreeMap<String, String>>,
    /// Sent with the credential (absent: none)
    pub api_headers: Option<BTreeMap<String, String>>,
    pub api_query: Option<BTreeMap<String, String>>,
    pub credential_schema: Option<serde_json::Value>,
    pub verification: Option<VerificationDto>,
    pub strategy: StrategyDto,
    pub api_base_url: Option<String>,
    /// Origins besides `api_base_url`'s that the credential may be sent to
    pub api_origins: Vec<String>,
    pub logo_url: Option<String>,
    pub docs_url: Option<String>,
    /// Values each connection supplies to fill `{name}` placeholders in the URLs
    pub connection_params: Vec<ConnectionParamDto>,
    pub allowed_host_suffixes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Provider> for ProviderView {
    fn from(provider: Provider) -> Self {
        let strategy = provider.spec.effective_strategy().into();
        let spec = provider.spec;
        let oauth = spec.oauth;
        let text = |url: Option<url::Url>| url.map(String::from);
        let template = |url: Option<UrlTemplate>| url.map(|url| url.to_string());
        Self {
            id: provider.id.as_uuid(),
            name: spec.name.to_string(),
            display_name: spec.display_name,
            description: spec.description,
            category: spec.category,
            auth_type: spec.auth_type.into(),
            scopes: spec.scopes.into_iter().map(String::from).collect(),
            has_client_secret: provider.has_client_secret,
            client_secret_fingerprint: provider.client_secret_fingerprint,
            // An MCP provider without its own client has none to show (it is registered per issuer).
            client_id: oauth
                .as_ref()
                .and_then(|o| o.preregistered_client_id().map(str::to_owned)),
            mcp_server_url: oauth
                .as_ref()
                .and_then(|o| o.mcp.as_ref())
                .map(|m| m.server_url.to_string()),
            mcp_resource_on_refresh: oauth
                .as_ref()
                .and_then(|o| o.mcp.as_ref())
                .map(|m| m.resource_on_refresh),
            authorization_url: template(oauth.as_ref().and_then(|o| o.authorization_url.clone())),
            token_url: template(oauth.as_ref().and_then(|o| o.token_url.clone())),
            issuer: template(oauth.as_ref().and_then(|o| o.issuer.clone())),
            authorization_params: oauth
                .as_ref()
                .map(|o| o.authorization_params.clone())
                .unwrap_or_default(),
            incremental_authorization_params: oauth
                .as_ref()
                .map(|o| o.incremental_authorization_params.clone())
                .filter(|params| !params.is_empty()),
            token_endpoint_auth_method: oauth.as_ref().map(|o| o.token_endpoint_auth_method.into()),
            pkce: oauth.as_ref().map(|o| o.pkce),
            scope_separator: oauth
                .as_ref()
                .filter(|o| o.scope_separator != ' ')
                .map(|o| o.scope_separator.to_string()),
            refresh_url: template(oauth.as_ref().and_then(|o| o.refresh_url.clone())),
            token_request_format: oauth
                .as_ref()
                .map(|o| o.token_request_format)
                .filter(|format| *format != TokenRequestFormat::default())
                .map(Into::into),
            token_params: oauth
                .as_ref()
                .map(|o| o.token_params.clone())
                .filter(|params| !params.is_empty()),
            refresh_params: oauth
                .as_ref()
                .map(|o| o.refresh_params.clone())
                .filter(|params| !params.is_empty()),
            token_response: oauth
                .as_ref()
                .map(|o| o.token_response)
                .filter(|shape| *shape != TokenResponseShape::default())
                .map(Into::into),
            url_overrides: (!spec.url_overrides.is_empty()).then(|| {
                spec.url_overrides
                    .iter()
                    .map(|(field, url)| (field.clone(), url.to_string()))
                    .collect()
            }),
            api_headers: (!spec.api_headers.is_empty()).then(|| spec.api_headers.clone()),
            api_query: (!spec.api_query.is_empty()).then(|| spec.api_query.clone()),
            revocation_url: template(oauth.and_then(|o| o.revocation_url)),
            credential_schema: spec.credential_schema.map(|s| s.to_json()),
            verification: spec.verification.map(Into::into),
            strategy,
            api_base_url: template(spec.api_base_url),
            api_origins: spec.api_origins.iter().map(ToString::to_string).collect(),
            logo_url: text(spec.logo_url),
            docs_url: text(spec.docs_url),
            connection_params: spec.connection_params.into_iter().map(Into::into).collect(),
            allowed_host_suffixes: spec.allowed_host_suffixes,
            created_at: provider.created_at,
            updated_at: provider.updated_at,
        }
    }
}

#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
pub struct ProviderList {
    pub items: Vec<ProviderView>,
}

/// A provider an agent may connect to: what it is and how it authenticates; no secrets
#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
pub struct CatalogEntry {
    pub name: String,
    pub display_name: String,
    pub description: Option<String>,
    pub category: Option<String>,
    pub auth_type: AuthTypeDto,
    /// Scopes requested when the agent names none
    pub default_scopes: Vec<String>,
    /// May hold `{name}` placeholders that `connection_params` fill per connection
    pub api_base_url: Option<String>,
    /// Values a connection request must supply (`connection_params` of request-connection)
    pub connection_params: Vec<ConnectionParamDto>,
}

impl From<ProviderSummary> for CatalogEntry {
    fn from(summary: ProviderSummary) -> Self {
        Self {
            name: summary.name.to_string(),
            display_name: summary.display_name,
            description: summary.description,
            category: summary.category,
            auth_type: summary.auth_type.into(),
            default_scopes: summary.default_scopes.into_iter().map(String::from).collect(),
            api_base_url: summary.api_base_url.map(|url| url.to_string()),
            connection_params: summary.connection_params.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
pub struct ProviderCatalog {
    pub items: Vec<CatalogEntry>,
}
