//! Providers: the raw draft an API hands in, and the validated spec every other layer uses.

use crate::api_extras::validate_extras;
use crate::credential_schema::CredentialSchema;
use crate::error::ServiceError;
use crate::ids::ProviderId;
use crate::names::{ProviderName, Scope};
use crate::origins::{ApiOrigin, MAX_API_ORIGINS, OriginPattern};
use crate::secret::SecretString;
use crate::status::AuthType;
use crate::strategy::Strategy;
use crate::token_request::{TokenRequestFormat, TokenResponseShape, fill_params, validate_token_params};
use crate::url_template::{
    ConnectionParam, ConnectionParams, DomainRule, UrlTemplate, check_values, placeholders, validate_declarations,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use url::{Host, Url};

/// Authorization-request parameters Nexus sets itself; a provider may never override them.
pub const RESERVED_AUTHORIZATION_PARAMS: [&str; 8] = [
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
];

/// How Nexus authenticates itself to a provider's token endpoint (RFC 6749 section 2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpointAuthMethod {
    #[default]
    ClientSecretPost,
    ClientSecretBasic,
}

impl TokenEndpointAuthMethod {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretPost => "client_secret_post",
            Self::ClientSecretBasic => "client_secret_basic",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "client_secret_post" => Ok(Self::ClientSecretPost),
            "client_secret_basic" => Ok(Self::ClientSecretBasic),
            other => Err(format!("unknown token endpoint auth method `{other}`")),
        }
    }
}

/// An optional live check of captured static credentials: the strategy is applied to a request
/// to `url`, and any 2xx answer accepts the credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub url: UrlTemplate,
    pub method: VerificationMethod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum VerificationMethod {
    #[default]
    Get,
    Head,
    Post,
}

/// OAuth2 settings, present exactly when `auth_type` is `oauth2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthSettings {
    pub client_id: String,
    /// Explicit endpoints; when absent, `issuer` discovery supplies them. Any of them may hold
    /// `{param}` placeholders that a connection's parameters fill.
    pub authorization_url: Option<UrlTemplate>,
    pub token_url: Option<UrlTemplate>,
    pub issuer: Option<UrlTemplate>,
    pub authorization_params: BTreeMap<String, String>,
    /// Sent on top of `authorization_params` when a consent adds scopes to an existing
    /// connection (Google's `include_granted_scopes=true`, say).
    pub incremental_authorization_params: BTreeMap<String, String>,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    pub pkce: bool,
    pub revocation_url: Option<UrlTemplate>,
    /// How scopes are joined in the authorization request: `' '` (RFC 6749), or `','` for the
    /// providers that want commas (Linear, Zoom, Strava, Todoist).
    pub scope_separator: char,
    /// Where refreshes go when not to the token URL (Figma's `/v1/oauth/refresh`).
    pub refresh_url: Option<UrlTemplate>,
    pub token_request_format: TokenRequestFormat,
    /// Added to the authorization-code exchange, and to refreshes (`refresh_params`); values
    /// may hold `{param}` placeholders.
    pub token_params: BTreeMap<String, String>,
    pub refresh_params: BTreeMap<String, String>,
    pub token_response: TokenResponseShape,
    /// Set by [`ProviderSpec::for_connection`] when the issuer came from a connection's
    /// parameters: the endpoints its discovery document names must stay in the same domain
    /// (else a tenant's document could send codes and the client secret anywhere).
    pub discovered_within: Option<DomainRule>,
    /// Present for a remote MCP server: its endpoints are discovered from its URL (RFC 9728,
    /// RFC 8414) and, when `client_id` is empty, its client is registered per issuer.
    pub mcp: Option<McpSettings>,
}

/// A remote MCP server as a provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct McpSettings {
    /// The server's canonical URL: the resource (RFC 8707) every token is asked for.
    pub server_url: Url,
    /// Whether refreshes carry `resource` too (some authorization servers reject it there).
    pub resource_on_refresh: bool,
}

impl OAuthSettings {
    /// The operator's own client at the authorization server, when there is one (an MCP
    /// provider without it registers a client per issuer).
    pub fn preregistered_client_id(&self) -> Option<&str> {
        Some(self.client_id.as_str()).filter(|id| !id.is_empty())
    }
}

/// A provider as validated: every field has been checked against its auth type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSpec {
    pub name: ProviderName,
    pub display_name: String,
    pub description: Option<String>,
    pub category: Option<String>,
    pub auth_type: AuthType,
    pub scopes: Vec<Scope>,
    pub oauth: Option<OAuthSettings>,
    pub credential_schema: Option<CredentialSchema>,
    pub verification: Option<Verification>,
    /// An explicit strategy; `None` means the default for the auth type.
    pub strategy: Option<Strategy>,
    pub api_base_url: Option<UrlTemplate>,
    /// Origins besides `api_base_url`'s that the credential may be sent to (Google's
    /// `https://*.googleapis.com`, say). Envelopes carry both; the SDKs and the proxy refuse
    /// every other origin.
    pub api_origins: Vec<ApiOrigin>,
    /// What each connection supplies to fill the URLs' `{param}` placeholders.
    pub connection_params: Vec<ConnectionParam>,
    /// URL fields used instead of the plain ones for a connection that gives every parameter
    /// they hold (Salesforce's My Domain, Intercom's regions), by field name.
    pub url_overrides: BTreeMap<String, UrlTemplate>,
    /// Headers and query parameters the provider's API wants besides the credential (values
    /// may hold `{param}` and `{credential.field}` placeholders).
    pub api_headers: BTreeMap<String, String>,
    pub api_query: BTreeMap<String, String>,
    /// Where a host that comes entirely from a parameter may point (and below).
    pub allowed_host_suffixes: Vec<String>,
    /// Shown on the capture form: the provider's logo, and where users find their key.
    pub logo_url: Option<Url>,
    pub docs_url: Option<Url>,
}

impl ProviderSpec {
    pub fn effective_strategy(&self) -> Strategy {
        self.strategy
            .clone()
            .unwrap_or_else(|| Strategy::default_for(self.auth_type))
    }
}

/// What agents see of a provider in the catalog: no endpoint, no client id, no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSummary {
    pub name: ProviderName,
    pub display_name: String,
    pub description: Option<String>,
    pub category: Option<String>,
    pub auth_type: AuthType,
    pub default_scopes: Vec<Scope>,
    pub api_base_url: Option<UrlTemplate>,
    pub connection_params: Vec<ConnectionParam>,
}

impl From<Provider> for ProviderSummary {
    fn from(provider: Provider) -> Self {
        let spec = provider.spec;
        Self {
            name: spec.name,
            display_name: spec.display_name,
            description: spec.description,
            category: spec.category,
            auth_type: spec.auth_type,
            default_scopes: spec.scopes,
            api_base_url: spec.api_base_url,
            connection_params: spec.connection_params,
        }
    }
}

/// A stored provider. The client secret itself never leaves the services layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub id: ProviderId,
    pub spec: ProviderSpec,
    pub has_client_secret: bool,
    /// A keyed hash of the client secret (never the secret), for "changed"/"unchanged" checks.
    pub client_secret_fingerprint: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A provider as a caller describes it, before validation. Every field is what the caller sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProviderDraft {
    pub name: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    pub auth_type: Option<AuthType>,
    pub scopes: Vec<String>,
    pub client_id: Option<String>,
    pub authorization_url: Option<String>,
    pub token_url: Option<String>,
    pub issuer: Option<String>,
    pub authorization_params: BTreeMap<String, String>,
    pub incremental_authorization_params: BTreeMap<String, String>,
    pub token_endpoint_auth_method: Option<TokenEndpointAuthMethod>,
    pub pkce: Option<bool>,
    pub revocation_url: Option<String>,
    /// `" "` (the default) or `","`.
    pub scope_separator: Option<String>,
    pub refresh_url: Option<String>,
    pub token_request_format: Option<TokenRequestFormat>,
    pub token_params: BTreeMap<String, String>,
    pub refresh_params: BTreeMap<String, String>,
    pub token_response: Option<TokenResponseShape>,
    pub url_overrides: BTreeMap<String, String>,
    pub api_headers: BTreeMap<String, String>,
    pub api_query: BTreeMap<String, String>,
    pub credential_schema: Option<serde_json::Value>,
    pub verification_url: Option<String>,
    pub verification_method: Option<VerificationMethod>,
    pub strategy: Option<Strategy>,
    pub api_base_url: Option<String>,
    pub api_origins: Vec<String>,
    pub logo_url: Option<String>,
    pub docs_url: Option<String>,
    pub connection_params: Vec<ConnectionParam>,
    pub allowed_host_suffixes: Vec<String>,
    pub mcp_server_url: Option<String>,
    pub mcp_resource_on_refresh: Option<bool>,
}

/// Registration input: the draft plus the write-only client secret.
#[derive(Debug)]
pub struct NewProvider {
    pub draft: ProviderDraft,
    pub client_secret: Option<SecretString>,
    /// A catalog template filling in what the draft leaves out.
    pub template: Option<String>,
}

/// A partial update. `None` leaves a field as it is; for clearable fields `Some(None)` clears it.
#[derive(Debug, Default)]
pub struct ProviderPatch {
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub description: Option<Option<String>>,
    pub category: Option<Option<String>>,
    pub scopes: Option<Vec<String>>,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    pub authorization_url: Option<Option<String>>,
    pub token_url: Option<Option<String>>,
    pub issuer: Option<Option<String>>,
    pub authorization_params: Option<BTreeMap<String, String>>,
    pub incremental_authorization_params: Option<BTreeMap<String, String>>,
    pub token_endpoint_auth_method: Option<TokenEndpointAuthMethod>,
    pub pkce: Option<bool>,
    pub revocation_url: Option<Option<String>>,
    pub scope_separator: Option<String>,
    pub refresh_url: Option<Option<String>>,
    pub token_request_format: Option<TokenRequestFormat>,
    pub token_params: Option<BTreeMap<String, String>>,
    pub refresh_params: Option<BTreeMap<String, String>>,
    pub token_response: Option<TokenResponseShape>,
    pub url_overrides: Option<BTreeMap<String, String>>,
    pub api_headers: Option<BTreeMap<String, String>>,
    pub api_query: Option<BTreeMap<String, String>>,
    pub credential_schema: Option<serde_json::Value>,
    pub verification_url: Option<Option<String>>,
    pub verification_method: Option<VerificationMethod>,
    pub strategy: Option<Option<Strategy>>,
    pub api_base_url: Option<Option<String>>,
    pub api_origins: Option<Vec<String>>,
    pub logo_url: Option<Option<String>>,
    pub docs_url: Option<Option<String>>,
    pub connection_params: Option<Vec<ConnectionParam>>,
    pub allowed_host_suffixes: Option<Vec<String>>,
    pub mcp_server_url: Option<Option<String>>,
    pub mcp_resource_on_refresh: Option<bool>,
}

/// A provider named in a path: by id or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderRef {
    Id(ProviderId),
    Name(ProviderName),
}

impl ProviderRef {
    pub fn parse(raw: &str) -> Result<Self, ServiceError> {
        if let Ok(id) = raw.parse::<ProviderId>() {
            return Ok(Self::Id(id));
        }
        ProviderName::parse(raw)
            .map(Self::Name)
            .map_err(|_| ServiceError::invalid("provider", "must be a provider id (UUID) or a provider name"))
    }
}

impl std::fmt::Display for ProviderRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Id(id) => id.fmt(f),
            Self::Name(name) => name.fmt(f),
        }
    }
}

impl ProviderDraft {
    /// Validates every field against the auth type. The first problem is reported, by field.
    pub fn validate(self) -> Result<ProviderSpec, ServiceError> {
        let name = ProviderName::parse(&self.name).map_err(|m| ServiceError::invalid("name", m))?;
        let auth_type = self.auth_type.ok_or_else(|| {
            ServiceError::invalid("auth_type", "is required: oauth2, api_key, basic_auth or aws_sigv4")
        })?;
        let display_name = bounded_text("display_name", self.display_name, 200)?.unwrap_or_else(|| name.to_string());
        let description = bounded_text("description", self.description, 2000)?;
        let category = bounded_text("category", self.category, 64)?;
        if self.scopes.len() > 100 {
            return Err(ServiceError::invalid("scopes", "at most 100 scopes"));
        }
        let scopes = self
            .scopes
            .iter()
            .map(|s| Scope::parse(s).map_err(|m| ServiceError::invalid("scopes", m)))
            .collect::<Result<Vec<_>, _>>()?;
        let mcp = match self.mcp_server_url.as_deref() {
            Some(raw) if auth_type == AuthType::Oauth2 => Some(McpSettings {
                server_url: parse_mcp_server_url(raw)?,
                resource_on_refresh: self.mcp_resource_on_refresh.unwrap_or(true),
            }),
            Some(_) => {
                return Err(ServiceError::invalid(
                    "mcp_server_url",
                    "applies to oauth2 providers only",
                ));
            }
            None if self.mcp_resource_on_refresh.is_some() => {
                return Err(ServiceError::invalid(
                    "mcp_resource_on_refresh",
                    "applies with mcp_server_url only",
                ));
            }
            None => None,
        };
        // An MCP server's tokens are for the server itself.
        let api_base_url = match (&self.api_base_url, &mcp) {
            (None, Some(mcp)) => Some(
                UrlTemplate::parse(mcp.server_url.as_str()).map_err(|m| ServiceError::invalid("mcp_server_url", m))?,
            ),
            _ => optional_template("api_base_url", self.api_base_url.as_deref())?,
        };
        let api_origins = validate_api_origins(&self.api_origins)?;
        let logo_url = optional_url("logo_url", self.logo_url.as_deref())?;
        let docs_url = optional_url("docs_url", self.docs_url.as_deref())?;

        let (oauth, credential_schema, verification) = if auth_type == AuthType::Oauth2 {
            reject_present("credential_schema", self.credential_schema.is_some(), auth_type)?;
            reject_present("verification_url", self.verification_url.is_some(), auth_type)?;
            if mcp.is_some() {
                // Where an MCP server's authorization lives is discovered from its URL.
                for (field, present) in [
                    ("authorization_url", self.authorization_url.is_some()),
                    ("token_url", self.token_url.is_some()),
                    ("issuer", self.issuer.is_some()),
                    ("revocation_url", self.revocation_url.is_some()),
                    ("refresh_url", self.refresh_url.is_some()),
                ] {
                    if present {
                        return Err(ServiceError::invalid(
                            field,
                            "is discovered from mcp_server_url; leave it out for an MCP provider",
                        ));
                    }
                }
                if self.pkce == Some(false) {
                    return Err(ServiceError::invalid("pkce", "is required by MCP authorization"));
                }
                // Nexus names the MCP server as the resource itself (RFC 8707).
                for (field, params) in [
                    ("authorization_params", &self.authorization_params),
                    ("token_params", &self.token_params),
                    ("refresh_params", &self.refresh_params),
                ] {
                    if params.contains_key("resource") {
                        return Err(ServiceError::invalid(
                            field,
                            "must not set `resource`: Nexus sends the MCP server's URL as the resource",
                        ));
                    }
                }
            }
            let client_id = bounded_text("client_id", self.client_id, 512)?;
            let oauth = OAuthSettings {
                client_id: match client_id {
                    Some(id) => id,
                    // Registered per issuer (a metadata document or dynamic registration).
                    None if mcp.is_some() => String::new(),
                    None => return Err(ServiceError::invalid("client_id", "is required for oauth2 providers")),
                },
                authorization_url: optional_template("authorization_url", self.authorization_url.as_deref())?,
                token_url: optional_template("token_url", self.token_url.as_deref())?,
                issuer: optional_template("issuer", self.issuer.as_deref())?,
                authorization_params: validate_authorization_params("authorization_params", self.authorization_params)?,
                incremental_authorization_params: validate_authorization_params(
                    "incremental_authorization_params",
                    self.incremental_authorization_params,
                )?,
                token_endpoint_auth_method: self.token_endpoint_auth_method.unwrap_or_default(),
                pkce: self.pkce.unwrap_or(true),
                revocation_url: optional_template("revocation_url", self.revocation_url.as_deref())?,
                scope_separator: match self.scope_separator.as_deref() {
                    None | Some(" ") => ' ',
                    Some(",") => ',',
                    Some(_) => {
                        return Err(ServiceError::invalid(
                            "scope_separator",
                            "must be \" \" (the default) or \",\"",
                        ));
                    }
                },
                refresh_url: optional_template("refresh_url", self.refresh_url.as_deref())?,
                token_request_format: self.token_request_format.unwrap_or_default(),
                token_params: validate_token_params("token_params", self.token_params)?,
                refresh_params: validate_token_params("refresh_params", self.refresh_params)?,
                token_response: self.token_response.unwrap_or_default(),
                discovered_within: None,
                mcp,
            };
            match (&oauth.authorization_url, &oauth.token_url, &oauth.issuer) {
                (Some(_), Some(_), _) | (None, None, Some(_)) => {}
                (None, None, None) if oauth.mcp.is_some() => {}
                (Some(_), None, _) => {
                    return Err(ServiceError::invalid("token_url", "is required with authorization_url"));
                }
                (None, Some(_), _) => {
                    return Err(ServiceError::invalid("authorization_url", "is required with token_url"));
                }
                (None, None, None) => {
                    return Err(ServiceError::invalid(
                        "token_url",
                        "oauth2 providers need authorization_url and token_url, or an issuer for OpenID discovery",
                    ));
                }
            }
            (Some(oauth), None, None)
        } else {
            for (field, present) in [
                ("client_id", self.client_id.is_some()),
                ("authorization_url", self.authorization_url.is_some()),
                ("token_url", self.token_url.is_some()),
                ("issuer", self.issuer.is_some()),
                ("revocation_url", self.revocation_url.is_some()),
                ("authorization_params", !self.authorization_params.is_empty()),
                (
                    "incremental_authorization_params",
                    !self.incremental_authorization_params.is_empty(),
                ),
                ("token_endpoint_auth_method", self.token_endpoint_auth_method.is_some()),
                ("pkce", self.pkce.is_some()),
                ("scope_separator", self.scope_separator.is_some()),
                ("refresh_url", self.refresh_url.is_some()),
                ("token_request_format", self.token_request_format.is_some()),
                ("token_params", !self.token_params.is_empty()),
                ("refresh_params", !self.refresh_params.is_empty()),
                ("token_response", self.token_response.is_some()),
            ] {
                reject_present(field, present, auth_type)?;
            }
            let schema = match &self.credential_schema {
                Some(raw) => CredentialSchema::parse(raw).map_err(|m| ServiceError::invalid("credential_schema", m))?,
                None if auth_type == AuthType::ApiKey => CredentialSchema::default_api_key(),
                None if auth_type == AuthType::AwsSigv4 => CredentialSchema::default_aws_sigv4(),
                None => CredentialSchema::default_basic_auth(),
            };
            if auth_type == AuthType::AwsSigv4 && self.verification_url.is_some() {
                // Nexus does not sign requests itself: the SDKs do, for the agent.
                return Err(ServiceError::invalid(
                    "verification",
                    "is not available for aws_sigv4 providers",
                ));
            }
            let verification =
                optional_template("verification_url", self.verification_url.as_deref())?.map(|url| Verification {
                    url,
                    method: self.verification_method.unwrap_or_default(),
                });
            (None, Some(schema), verification)
        };

        if let Some(strategy) = &self.strategy {
            strategy.validate().map_err(|m| ServiceError::invalid("strategy", m))?;
            if let Some(schema) = &credential_schema
                && let Some(missing) = strategy
                    .credential_fields()
                    .into_iter()
                    .find(|field| !schema.properties.contains_key(*field))
            {
                return Err(ServiceError::invalid(
                    "strategy",
                    format!("reads credential field `{missing}`, which the credential schema does not define"),
                ));
            }
        }

        if auth_type == AuthType::AwsSigv4 && !matches!(self.strategy, Some(Strategy::AwsSigv4 { .. })) {
            return Err(ServiceError::invalid(
                "strategy",
                "aws_sigv4 providers need {\"type\": \"aws_sigv4\", \"service\": ..., \"region\": ...}",
            ));
        }

        let url_overrides = validate_url_overrides(self.url_overrides, oauth.is_some())?;
        let spec = ProviderSpec {
            name,
            display_name,
            description,
            category,
            auth_type,
            scopes,
            oauth,
            credential_schema,
            verification,
            strategy: self.strategy,
            api_base_url,
            api_origins,
            connection_params: self.connection_params,
            url_overrides,
            api_headers: validate_extras("api_headers", self.api_headers, false)?,
            api_query: validate_extras("api_query", self.api_query, true)?,
            allowed_host_suffixes: validate_host_suffixes(self.allowed_host_suffixes)?,
            logo_url,
            docs_url,
        };
        spec.check_placeholders()?;
        Ok(spec)
    }
}

impl ProviderSpec {
    /// The draft this spec came from, so a patch can be applied and validated like a create.
    pub fn to_draft(&self) -> ProviderDraft {
        let oauth = self.oauth.as_ref();
        ProviderDraft {
            name: self.name.to_string(),
            display_name: Some(self.display_name.clone()),
            description: self.description.clone(),
            category: self.category.clone(),
            auth_type: Some(self.auth_type),
            scopes: self.scopes.iter().map(ToString::to_string).collect(),
            // An MCP provider's empty client id stands for "registered per issuer": no client id.
            client_id: oauth.and_then(|o| o.preregistered_client_id().map(str::to_owned)),
            authorization_url: oauth.and_then(|o| o.authorization_url.as_ref().map(ToString::to_string)),
            token_url: oauth.and_then(|o| o.token_url.as_ref().map(ToString::to_string)),
            issuer: oauth.and_then(|o| o.issuer.as_ref().map(ToString::to_string)),
            authorization_params: oauth.map(|o| o.authorization_params.clone()).unwrap_or_default(),
            incremental_authorization_params: oauth
                .map(|o| o.incremental_authorization_params.clone())
                .unwrap_or_default(),
            token_endpoint_auth_method: oauth.map(|o| o.token_endpoint_auth_method),
            pkce: oauth.map(|o| o.pkce),
            revocation_url: oauth.and_then(|o| o.revocation_url.as_ref().map(ToString::to_string)),
            scope_separator: oauth
                .filter(|o| o.scope_separator != ' ')
                .map(|o| o.scope_separator.to_string()),
            refresh_url: oauth.and_then(|o| o.refresh_url.as_ref().map(ToString::to_string)),
            token_request_format: oauth
                .map(|o| o.token_request_format)
                .filter(|format| *format != TokenRequestFormat::default()),
            token_params: oauth.map(|o| o.token_params.clone()).unwrap_or_default(),
            refresh_params: oauth.map(|o| o.refresh_params.clone()).unwrap_or_default(),
            token_response: oauth
                .map(|o| o.token_response)
                .filter(|shape| *shape != TokenResponseShape::default()),
            url_overrides: self
                .url_overrides
                .iter()
                .map(|(field, url)| (field.clone(), url.to_string()))
                .collect(),
            api_headers: self.api_headers.clone(),
            api_query: self.api_query.clone(),
            credential_schema: self.credential_schema.as_ref().map(CredentialSchema::to_json),
            verification_url: self.verification.as_ref().map(|v| v.url.to_string()),
            verification_method: self.verification.as_ref().map(|v| v.method),
            strategy: self.strategy.clone(),
            api_base_url: self.api_base_url.as_ref().map(ToString::to_string),
            api_origins: self.api_origins.iter().map(ToString::to_string).collect(),
            logo_url: self.logo_url.as_ref().map(ToString::to_string),
            docs_url: self.docs_url.as_ref().map(ToString::to_string),
            connection_params: self.connection_params.clone(),
            allowed_host_suffixes: self.allowed_host_suffixes.clone(),
            mcp_server_url: oauth.and_then(|o| o.mcp.as_ref()).map(|m| m.server_url.to_string()),
            mcp_resource_on_refresh: oauth
                .and_then(|o| o.mcp.as_ref())
                .map(|m| m.resource_on_refresh)
                .filter(|on| !on),
        }
    }
}

impl ProviderPatch {
    /// Applies the patch to a draft; the caller validates the result like a new provider.
    pub fn apply_to(self, draft: &mut ProviderDraft) {
        fn set<T>(target: &mut T, value: Option<T>) {
            if let Some(value) = value {
                *target = value;
            }
        }
        if let Some(name) = self.name {
            draft.name = name;
        }
        set(&mut draft.display_name, self.display_name.map(Some));
        set(&mut draft.description, self.description);
        set(&mut draft.category, self.category);
        set(&mut draft.scopes, self.scopes);
        set(&mut draft.client_id, self.client_id.map(Some));
        set(&mut draft.authorization_url, self.authorization_url);
        set(&mut draft.token_url, self.token_url);
        set(&mut draft.issuer, self.issuer);
        set(&mut draft.authorization_params, self.authorization_params);
        set(
            &mut draft.incremental_authorization_params,
            self.incremental_authorization_params,
        );
        set(
            &mut draft.token_endpoint_auth_method,
            self.token_endpoint_auth_method.map(Some),
        );
        set(&mut draft.pkce, self.pkce.map(Some));
        set(&mut draft.revocation_url, self.revocation_url);
        set(&mut draft.scope_separator, self.scope_separator.map(Some));
        set(&mut draft.refresh_url, self.refresh_url);
        set(&mut draft.token_request_format, self.token_request_format.map(Some));
        set(&mut draft.token_params, self.token_params);
        set(&mut draft.refresh_params, self.refresh_params);
        set(&mut draft.token_response, self.token_response.map(Some));
        set(&mut draft.url_overrides, self.url_overrides);
        set(&mut draft.api_headers, self.api_headers);
        set(&mut draft.api_query, self.api_query);
        set(&mut draft.credential_schema, self.credential_schema.map(Some));
        set(&mut draft.verification_url, self.verification_url);
        set(&mut draft.verification_method, self.verification_method.map(Some));
        set(&mut draft.strategy, self.strategy);
        set(&mut draft.api_base_url, self.api_base_url);
        set(&mut draft.api_origins, self.api_origins);
        set(&mut draft.logo_url, self.logo_url);
        set(&mut draft.docs_url, self.docs_url);
        set(&mut draft.connection_params, self.connection_params);
        set(&mut draft.allowed_host_suffixes, self.allowed_host_suffixes);
        set(&mut draft.mcp_server_url, self.mcp_server_url);
        set(
            &mut draft.mcp_resource_on_refresh,
            self.mcp_resource_on_refresh.map(Some),
        );
    }
}

/// An MCP server's URL: absolute http(s) (http only on loopback), no credentials, no query, no
/// fragment (it is the resource indicator itself, RFC 8707 §2).
fn parse_mcp_server_url(raw: &str) -> Result<Url, ServiceError> {
    let url = parse_endpoint_url("mcp_server_url", raw)?;
    if url.query().is_some() {
        return Err(ServiceError::invalid("mcp_server_url", "must not have a query"));
    }
    Ok(url)
}

fn reject_present(field: &str, present: bool, auth_type: AuthType) -> Result<(), ServiceError> {
    if present {
        return Err(ServiceError::invalid(
            field,
            format!("does not apply to {} providers", auth_type.as_str()),
        ));
    }
    Ok(())
}

fn bounded_text(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, ServiceError> {
    match value {
        Some(text) if text.trim().is_empty() => Err(ServiceError::invalid(field, "must not be blank")),
        Some(text) if text.chars().count() > max => Err(ServiceError::invalid(
            field,
            format!("must be at most {max} characters"),
        )),
        Some(text) if text.chars().any(|c| c.is_control() && c != '\n') => {
            Err(ServiceError::invalid(field, "must not contain control characters"))
        }
        other => Ok(other),
    }
}

/// Whether a URL points at this machine, where plain http is acceptable (tests, local providers).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        // RFC 6761: `localhost` and every name under it are this machine (Nexus's resolver
        // answers them with loopback itself, as browsers do).
        Some(Host::Domain(domain)) => {
            let name = domain.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Parses an endpoint URL: absolute, https (http only on loopback), no credentials, no fragment.
pub fn parse_endpoint_url(field: &str, raw: &str) -> Result<Url, ServiceError> {
    let url = Url::parse(raw).map_err(|e| ServiceError::invalid(field, format!("is not a valid URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(ServiceError::invalid(
                field,
                "must use https (http is only allowed on loopback)",
            ));
        }
        other => {
            return Err(ServiceError::invalid(field, format!("scheme `{other}` is not http(s)")));
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ServiceError::invalid(field, "must not contain credentials"));
    }
    if url.fragment().is_some() {
        return Err(ServiceError::invalid(field, "must not contain a fragment"));
    }
    if raw.len() > 2048 {
        return Err(ServiceError::invalid(field, "must be at most 2048 characters"));
    }
    Ok(url)
}

fn optional_url(field: &str, raw: Option<&str>) -> Result<Option<Url>, ServiceError> {
    raw.map(|raw| parse_endpoint_url(field, raw)).transpose()
}

/// An endpoint that may hold `{param}` placeholders: its shape (placeholders filled with a
/// plain label) must pass every check a fixed endpoint does.
pub fn parse_endpoint_template(field: &str, raw: &str) -> Result<UrlTemplate, ServiceError> {
    let template = UrlTemplate::parse(raw).map_err(|m| ServiceError::invalid(field, m))?;
    if template.fixed().is_some() {
        return parse_endpoint_url(field, raw).map(UrlTemplate::fixed_url);
    }
    parse_endpoint_url(field, template.shape().as_str())?;
    if raw.len() > 2048 {
        return Err(ServiceError::invalid(field, "must be at most 2048 characters"));
    }
    Ok(template)
}

fn optional_template(field: &str, raw: Option<&str>) -> Result<Option<UrlTemplate>, ServiceError> {
    raw.map(|raw| parse_endpoint_template(field, raw)).transpose()
}

/// Public suffixes (the list's private section) whose every host the provider itself runs: a
/// customer picks the name, never what answers there, so the provider's own endpoints under
/// them may take a connection's host. Each was checked against the provider's documentation.
pub const PROVIDER_RUN_SUFFIXES: [(&str, &str); 3] = [
    (
        "myshopify.com",
        "every shop's Admin API and OAuth endpoints are Shopify's servers",
    ),
    (
        "blob.core.windows.net",
        "every storage account's endpoint is Azure Storage itself",
    ),
    (
        "supabase.co",
        "every project's API gateway is Supabase's (its Edge Functions run the code of the project's owner, who is the tenant that named it)",
    ),
];

/// Whether anyone may register a name under `suffix` and run what answers there: a public suffix
/// of either section of the list, but for `localhost` and the suffixes whose hosts their owner
/// runs ([`PROVIDER_RUN_SUFFIXES`], [`crate::origins::OWNER_ASSIGNED_SUFFIXES`]).
pub fn is_shared_suffix(suffix: &str) -> bool {
    let suffix = suffix.trim_end_matches('.').to_ascii_lowercase();
    suffix != "localhost"
        && psl::domain_str(&suffix).is_none()
        && !crate::origins::OWNER_ASSIGNED_SUFFIXES.contains(&suffix.as_str())
        && !PROVIDER_RUN_SUFFIXES.iter().any(|(known, _)| *known == suffix)
}

/// Registrable domains (two labels or more, lower case, no wildcard) that a host coming
/// entirely from a parameter may be, or be under; or `localhost`, for tenants on this machine
/// (RFC 6761: every name under it is loopback).
pub fn validate_host_suffixes(suffixes: Vec<String>) -> Result<Vec<String>, ServiceError> {
    const FIELD: &str = "allowed_host_suffixes";
    if suffixes.len() > 50 {
        return Err(ServiceError::invalid(FIELD, "at most 50 suffixes"));
    }
    for suffix in &suffixes {
        let labels: Vec<&str> = suffix.split('.').collect();
        let valid_label = |l: &&str| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        };
        if (labels.len() < 2 && suffix != "localhost") || !labels.iter().all(valid_label) {
            return Err(ServiceError::invalid(
                FIELD,
                format!("`{suffix}` is not a lower-case domain of two labels or more"),
            ));
        }
        // A public suffix, from either section of the list (`co.uk`, `azurewebsites.net`,
        // `github.io`): anyone may register a name under it and run what answers there, so a
        // connection's host under it would receive the client secret and the user's tokens.
        if is_shared_suffix(suffix) {
            return Err(ServiceError::invalid(
                FIELD,
                format!(
                    "`{suffix}` is a public suffix: anyone may register a name under it, so a connection could \
                     send credentials to a host nobody vetted; name the registrable domains instead"
                ),
            ));
        }
    }
    Ok(suffixes)
}

/// Why a provider's URL could not be filled for a connection: the parameter that made it fail
/// (when one did) and what went wrong. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnresolvedUrl {
    pub field: &'static str,
    pub param: Option<String>,
    pub message: String,
}

impl std::fmt::Display for UnresolvedUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.field, self.message)
    }
}

impl UnresolvedUrl {
    /// As a client's mistake at consent time: 400 naming the parameter.
    pub fn into_invalid(self) -> ServiceError {
        let field = self
            .param
            .as_ref()
            .map_or_else(|| "connection_params".to_owned(), |p| format!("connection_params.{p}"));
        ServiceError::invalid(field, format!("makes {} {}", self.field, self.message))
    }
}

impl ProviderSpec {
    /// Every URL field that may hold placeholders, by name.
    fn templates(&self) -> Vec<(&'static str, &UrlTemplate)> {
        let mut templates = Vec::new();
        if let Some(oauth) = &self.oauth {
            for (field, url) in [
                ("authorization_url", &oauth.authorization_url),
                ("token_url", &oauth.token_url),
                ("issuer", &oauth.issuer),
                ("revocation_url", &oauth.revocation_url),
                ("refresh_url", &oauth.refresh_url),
            ] {
                templates.extend(url.iter().map(|url| (field, url)));
            }
        }
        templates.extend(self.url_overrides.values().map(|url| ("url_overrides", url)));
        templates.extend(self.verification.iter().map(|v| ("verification_url", &v.url)));
        templates.extend(self.api_base_url.iter().map(|url| ("api_base_url", url)));
        templates.extend(self.api_origins.iter().map(|origin| ("api_origins", origin.template())));
        templates
    }

    /// Placeholders and declarations agree: every placeholder declared, every declaration used,
    /// and a host that comes entirely from a parameter limited by `allowed_host_suffixes`.
    fn check_placeholders(&self) -> Result<(), ServiceError> {
        validate_declarations("connection_params", &self.connection_params)?;
        let declared = |name: &str| self.connection_params.iter().any(|p| p.name == name);
        let templates = self.templates();
        for (field, template) in &templates {
            if let Some(undeclared) = template.placeholders().into_iter().find(|name| !declared(name)) {
                return Err(ServiceError::invalid(
                    *field,
                    format!("uses `{{{undeclared}}}`, which connection_params does not declare"),
                ));
            }
            if template.host_needs_suffixes() && self.allowed_host_suffixes.is_empty() {
                return Err(ServiceError::invalid(
                    "allowed_host_suffixes",
                    format!("is required: the host of {field} comes entirely from a parameter"),
                ));
            }
        }
        let texts = self.templated_params();
        for (field, text) in &texts {
            if let Some(undeclared) = placeholders(text).into_iter().find(|name| !declared(name)) {
                return Err(ServiceError::invalid(
                    *field,
                    format!("uses `{{{undeclared}}}`, which connection_params does not declare"),
                ));
            }
        }
        for (index, param) in self.connection_params.iter().enumerate() {
            let name = param.name.as_str();
            let used = templates
                .iter()
                .any(|(_, template)| template.placeholders().contains(&name))
                || texts.iter().any(|(_, text)| placeholders(text).contains(&name));
            if !used {
                return Err(ServiceError::invalid(
                    format!("connection_params[{index}].name"),
                    format!("`{}` is not used by any URL or parameter", param.name),
                ));
            }
        }
        Ok(())
    }

    /// Every request-parameter value that may hold placeholders, by the field it is in.
    fn templated_params(&self) -> Vec<(&'static str, &str)> {
        let extras = [("api_headers", &self.api_headers), ("api_query", &self.api_query)];
        let extras = extras
            .into_iter()
            .flat_map(|(field, values)| values.values().map(move |value| (field, value.as_str())));
        let Some(oauth) = &self.oauth else {
            return extras.collect();
        };
        [
            ("authorization_params", &oauth.authorization_params),
            (
                "incremental_authorization_params",
                &oauth.incremental_authorization_params,
            ),
            ("token_params", &oauth.token_params),
            ("refresh_params", &oauth.refresh_params),
        ]
        .into_iter()
        .flat_map(|(field, params)| params.values().map(move |value| (field, value.as_str())))
        .chain(extras)
        .collect()
    }

    /// The spec with every URL filled from a connection's parameters (checked to stay on the
    /// provider's domain): what a consent, exchange, refresh, revocation or resolve uses.
    pub fn for_connection(&self, params: &ConnectionParams) -> Result<ProviderSpec, UnresolvedUrl> {
        if self.connection_params.is_empty() {
            return Ok(self.clone());
        }
        // Stored values are checked again: a pattern tightened since stops old values too.
        let params = &check_values(&self.connection_params, params).map_err(|error| UnresolvedUrl {
            field: "connection_params",
            param: error
                .field()
                .and_then(|field| field.strip_prefix("connection_params."))
                .map(str::to_owned),
            message: format!("are no longer valid ({error})"),
        })?;
        let resolve = |field: &'static str, template: &UrlTemplate| -> Result<UrlTemplate, UnresolvedUrl> {
            template
                .resolve(params, &self.allowed_host_suffixes)
                .map(UrlTemplate::fixed_url)
                .map_err(|message| UnresolvedUrl {
                    field,
                    param: template.placeholders().first().map(|p| (*p).to_owned()),
                    message,
                })
        };
        let resolve_optional = |field: &'static str, template: &Option<UrlTemplate>| {
            template.as_ref().map(|t| resolve(field, t)).transpose()
        };
        let mut spec = self.clone();
        // An override replaces its field when the connection gives every parameter it holds.
        for (field, url) in &self.url_overrides {
            if !url.placeholders().iter().all(|name| params.contains_key(*name)) {
                continue;
            }
            let target = match (field.as_str(), spec.oauth.as_mut()) {
                ("api_base_url", _) => &mut spec.api_base_url,
                ("authorization_url", Some(oauth)) => &mut oauth.authorization_url,
                ("token_url", Some(oauth)) => &mut oauth.token_url,
                ("refresh_url", Some(oauth)) => &mut oauth.refresh_url,
                ("revocation_url", Some(oauth)) => &mut oauth.revocation_url,
                _ => continue,
            };
            *target = Some(url.clone());
        }
        spec.url_overrides = BTreeMap::new();
        if let Some(oauth) = &mut spec.oauth {
            oauth.refresh_url = resolve_optional("refresh_url", &oauth.refresh_url)?;
            oauth.authorization_params = fill_params(&oauth.authorization_params, params);
            oauth.incremental_authorization_params = fill_params(&oauth.incremental_authorization_params, params);
            oauth.token_params = fill_params(&oauth.token_params, params);
            oauth.refresh_params = fill_params(&oauth.refresh_params, params);
            oauth.discovered_within = oauth
                .issuer
                .as_ref()
                .filter(|issuer| issuer.fixed().is_none())
                .map(|issuer| DomainRule {
                    template: issuer.as_str().to_owned(),
                    allowed_host_suffixes: self.allowed_host_suffixes.clone(),
                });
            oauth.authorization_url = resolve_optional("authorization_url", &oauth.authorization_url)?;
            oauth.token_url = resolve_optional("token_url", &oauth.token_url)?;
            oauth.issuer = resolve_optional("issuer", &oauth.issuer)?;
            oauth.revocation_url = resolve_optional("revocation_url", &oauth.revocation_url)?;
        }
        if let Some(verification) = &mut spec.verification {
            verification.url = resolve("verification_url", &verification.url)?;
        }
        spec.api_base_url = resolve_optional("api_base_url", &spec.api_base_url)?;
        Ok(spec)
    }
}

impl ProviderSpec {
    /// A connection's API base URL: the override when the connection gives its parameters, else
    /// the plain one, filled. `None` when it no longer fills (a provider edited since).
    pub fn api_base_url_for(&self, params: &ConnectionParams) -> Option<Url> {
        let params = &self.with_defaults(params);
        let chosen = self
            .url_overrides
            .get("api_base_url")
            .filter(|url| url.placeholders().iter().all(|name| params.contains_key(*name)))
            .or(self.api_base_url.as_ref())?;
        chosen.resolve(params, &self.allowed_host_suffixes).ok()
    }

    /// A connection's values with the declared defaults of those it leaves out, as consent,
    /// exchange and refresh see them ([`ProviderSpec::for_connection`]), so the envelope's URLs
    /// are the ones tokens were sent to even when a default was added after the connection.
    fn with_defaults(&self, params: &ConnectionParams) -> ConnectionParams {
        let mut values = params.clone();
        for param in &self.connection_params {
            if let Some(default) = &param.default {
                values.entry(param.name.clone()).or_insert_with(|| default.clone());
            }
        }
        values
    }

    /// Where a connection's credential may be sent: `api_base_url`'s origin and each declared
    /// origin, filled from its parameters. One that no longer fills (a provider edited since
    /// the connection was made) is left out: fewer origins, never a wrong one.
    pub fn origins_for(&self, params: &ConnectionParams) -> Vec<OriginPattern> {
        let params = &self.with_defaults(params);
        let base = self.api_base_url_for(params).and_then(|url| OriginPattern::of(&url));
        let declared = self
            .api_origins
            .iter()
            .filter_map(|origin| origin.resolve(params, &self.allowed_host_suffixes).ok());
        let mut origins: Vec<OriginPattern> = Vec::new();
        for origin in base.into_iter().chain(declared) {
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        origins
    }
}

fn validate_api_origins(raw: &[String]) -> Result<Vec<ApiOrigin>, ServiceError> {
    if raw.len() > MAX_API_ORIGINS {
        return Err(ServiceError::invalid(
            "api_origins",
            format!("at most {MAX_API_ORIGINS} origins"),
        ));
    }
    raw.iter()
        .enumerate()
        .map(|(index, origin)| {
            ApiOrigin::parse(origin).map_err(|message| ServiceError::invalid(format!("api_origins[{index}]"), message))
        })
        .collect()
}

/// The URL fields an override may replace.
const OVERRIDABLE_URLS: [&str; 5] = [
    "authorization_url",
    "token_url",
    "refresh_url",
    "revocation_url",
    "api_base_url",
];

fn validate_url_overrides(
    raw: BTreeMap<String, String>,
    oauth: bool,
) -> Result<BTreeMap<String, UrlTemplate>, ServiceError> {
    raw.into_iter()
        .map(|(field, url)| {
            let at = format!("url_overrides.{field}");
            if !OVERRIDABLE_URLS.contains(&field.as_str()) {
                return Err(ServiceError::invalid(
                    at,
                    format!("is not a URL an override may replace ({})", OVERRIDABLE_URLS.join(", ")),
                ));
            }
            if !oauth && field != "api_base_url" {
                return Err(ServiceError::invalid(at, "only oauth2 providers have this URL"));
            }
            let template = parse_endpoint_template("url_overrides", &url).map_err(|e| match e {
                ServiceError::InvalidInput { message, .. } => ServiceError::invalid(at.clone(), message),
                other => other,
            })?;
            if template.placeholders().is_empty() {
                return Err(ServiceError::invalid(
                    at,
                    "must hold a `{param}` placeholder: an override is chosen by the parameters it holds",
                ));
            }
            Ok((field, template))
        })
        .collect()
}

fn validate_authorization_params(
    field: &'static str,
    params: BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, ServiceError> {
    if params.len() > 20 {
        return Err(ServiceError::invalid(field, "at most 20 parameters"));
    }
    for (key, value) in &params {
        if RESERVED_AUTHORIZATION_PARAMS.contains(&key.as_str()) {
            return Err(ServiceError::invalid(
                field,
                format!("`{key}` is set by Nexus and cannot be overridden"),
            ));
        }
        if key.is_empty() || key.len() > 64 || value.len() > 512 {
            return Err(ServiceError::invalid(
                field,
                "keys must be 1 to 64 and values at most 512 characters",
            ));
        }
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oauth_draft() -> ProviderDraft {
        ProviderDraft {
            name: "github".into(),
            auth_type: Some(AuthType::Oauth2),
            client_id: Some("client".into()),
            authorization_url: Some("https://github.com/login/oauth/authorize".into()),
            token_url: Some("https://github.com/login/oauth/access_token".into()),
            scopes: vec!["repo".into()],
            ..ProviderDraft::default()
        }
    }

    /// A suffix anyone may register under (either section of the public suffix list) would let a
    /// tenant's value send the client secret to a host nobody vetted.
    #[test]
    fn host_suffixes_that_anyone_may_register_under_are_refused() {
        for shared in [
            "azurewebsites.net",
            "github.io",
            "herokuapp.com",
            "co.uk",
            "s3.amazonaws.com",
        ] {
            let error = validate_host_suffixes(vec![shared.to_owned()]).expect_err(shared);
            assert!(error.to_string().contains("public suffix"), "{shared}: {error}");
        }
        for vetted in [
            "myshopify.com",
            "salesforce.com",
            "amazon.co.uk",
            "localhost",
            "blob.core.windows.net",
        ] {
            assert!(validate_host_suffixes(vec![vetted.to_owned()]).is_ok(), "{vetted}");
        }
        // A row saved before the rule: the shared suffix admits nothing, the others still work.
        let suffixes = vec!["azurewebsites.net".to_owned(), "example.com".to_owned()];
        assert!(!crate::url_template::host_within(
            "https://{host}/token",
            &suffixes,
            "evil.azurewebsites.net"
        ));
        assert!(crate::url_template::host_within(
            "https://{host}/token",
            &suffixes,
            "acme.example.com"
        ));
    }

    fn field_of(result: Result<ProviderSpec, ServiceError>) -> String {
        result
            .expect_err("should be rejected")
            .field()
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn a_complete_oauth_provider_is_valid_with_defaults() {
        let spec = oauth_draft().validate().expect("valid");
        let oauth = spec.oauth.as_ref().expect("oauth settings");
        assert!(oauth.pkce);
        assert_eq!(
            oauth.token_endpoint_auth_method,
            TokenEndpointAuthMethod::ClientSecretPost
        );
        assert_eq!(spec.display_name, "github");
        assert_eq!(spec.effective_strategy(), Strategy::Oauth2);
        assert_eq!(spec.to_draft().validate().expect("round trip"), spec);
    }

    #[test]
    fn oauth_providers_need_both_urls_or_an_issuer() {
        let mut draft = oauth_draft();
        draft.token_url = None;
        assert_eq!(field_of(draft.validate()), "token_url");

        let mut draft = oauth_draft();
        draft.authorization_url = None;
        draft.token_url = None;
        assert_eq!(field_of(draft.clone().validate()), "token_url");
        draft.issuer = Some("https://accounts.google.com".into());
        assert!(draft.validate().is_ok());
    }

    #[test]
    fn endpoints_must_be_https_unless_loopback() {
        let mut draft = oauth_draft();
        draft.token_url = Some("http://example.com/token".into());
        assert_eq!(field_of(draft.validate()), "token_url");
        let mut draft = oauth_draft();
        draft.token_url = Some("http://127.0.0.1:9000/token".into());
        assert!(draft.validate().is_ok());
    }

    #[test]
    fn security_parameters_cannot_be_overridden() {
        let mut draft = oauth_draft();
        draft
            .authorization_params
            .insert("redirect_uri".into(), "https://evil.test".into());
        assert_eq!(field_of(draft.validate()), "authorization_params");
    }

    #[test]
    fn static_providers_get_a_default_schema_and_reject_oauth_fields() {
        let draft = ProviderDraft {
            name: "openai".into(),
            auth_type: Some(AuthType::ApiKey),
            ..ProviderDraft::default()
        };
        let spec = draft.clone().validate().expect("valid");
        assert_eq!(spec.credential_schema, Some(CredentialSchema::default_api_key()));

        let with_client = ProviderDraft {
            client_id: Some("x".into()),
            ..draft.clone()
        };
        assert_eq!(field_of(with_client.validate()), "client_id");

        let bad_strategy = ProviderDraft {
            strategy: Some(Strategy::QueryParam {
                param_name: "key".into(),
                credential_field: "token".into(),
            }),
            ..draft
        };
        assert_eq!(field_of(bad_strategy.validate()), "strategy");
    }

    #[test]
    fn names_and_refs() {
        let mut draft = oauth_draft();
        draft.name = "Git Hub".into();
        assert_eq!(field_of(draft.validate()), "name");
        assert!(matches!(ProviderRef::parse("github"), Ok(ProviderRef::Name(_))));
        assert!(matches!(
            ProviderRef::parse("0190a5b2-7c4e-7000-8000-000000000000"),
            Ok(ProviderRef::Id(_))
        ));
        assert!(ProviderRef::parse("NOT_A_NAME").is_err());
    }

    #[test]
    fn overrides_apply_to_connections_that_give_their_parameters_and_params_are_filled() {
        let region = ConnectionParam {
            name: "region".into(),
            description: "Your region".into(),
            pattern: "^(?:eu|au)$".into(),
            choices: vec![],
            default: None,
            optional: true,
        };
        let draft = ProviderDraft {
            name: "intercom".into(),
            auth_type: Some(AuthType::Oauth2),
            client_id: Some("client".into()),
            authorization_url: Some("https://app.intercom.com/oauth".into()),
            token_url: Some("https://api.intercom.io/auth/eagle/token".into()),
            api_base_url: Some("https://api.intercom.io".into()),
            url_overrides: [
                (
                    "token_url".to_owned(),
                    "https://api.{region}.intercom.io/auth/eagle/token".to_owned(),
                ),
                ("api_base_url".to_owned(), "https://api.{region}.intercom.io".to_owned()),
            ]
            .into(),
            token_params: [("realm".to_owned(), "{region}-realm".to_owned())].into(),
            connection_params: vec![region],
            ..ProviderDraft::default()
        };
        let spec = draft.clone().validate().expect("valid");
        assert_eq!(spec.to_draft().validate().expect("round trip"), spec);
        let plain = spec.for_connection(&ConnectionParams::new()).expect("fills");
        let oauth = plain.oauth.as_ref().expect("oauth");
        assert_eq!(
            oauth.token_url.as_ref().map(ToString::to_string).as_deref(),
            Some("https://api.intercom.io/auth/eagle/token")
        );
        assert!(
            oauth.token_params.is_empty(),
            "a parameter without its value is not sent"
        );
        let eu: ConnectionParams = [("region".to_owned(), "eu".to_owned())].into();
        let regional = spec.for_connection(&eu).expect("fills");
        let oauth = regional.oauth.as_ref().expect("oauth");
        assert_eq!(
            oauth.token_url.as_ref().map(ToString::to_string).as_deref(),
            Some("https://api.eu.intercom.io/auth/eagle/token")
        );
        assert_eq!(oauth.token_params["realm"], "eu-realm");
        assert_eq!(
            spec.api_base_url_for(&eu).map(String::from).as_deref(),
            Some("https://api.eu.intercom.io/")
        );

        let mut fixed = draft.clone();
        fixed.url_overrides = [("token_url".to_owned(), "https://api.eu.intercom.io/token".to_owned())].into();
        assert_eq!(field_of(fixed.validate()), "url_overrides.token_url");
        let mut unknown = draft.clone();
        unknown.url_overrides = [("issuer".to_owned(), "https://{region}.example.com".to_owned())].into();
        assert_eq!(field_of(unknown.validate()), "url_overrides.issuer");
        let mut reserved = draft;
        reserved.refresh_params = [("grant_type".to_owned(), "password".to_owned())].into();
        assert_eq!(field_of(reserved.validate()), "refresh_params");
    }

    #[test]
    fn patches_apply_and_clear() {
        let spec = oauth_draft().validate().expect("valid");
        let mut draft = spec.to_draft();
        ProviderPatch {
            description: Some(Some("Code hosting".into())),
            scopes: Some(vec![]),
            ..ProviderPatch::default()
        }
        .apply_to(&mut draft);
        let patched = draft.validate().expect("valid");
        assert_eq!(patched.description.as_deref(), Some("Code hosting"));
        assert!(patched.scopes.is_empty());
    }
}
