//! The provider catalog on the Broker: template summaries (`GET /v1/catalog`) and whole
//! templates (`GET /v1/catalog/{name}`).

use super::providers::{AuthTypeDto, TokenEndpointAuthMethodDto, TokenResponseShapeDto};
use super::strategy::StrategyDto;
use nexus_domain::catalog::{ConnectionParam, Template};
use poem_openapi::Object;
use std::collections::BTreeMap;

/// A template in the catalog's list.
#[derive(Object, Debug, Clone)]
#[oai(rename = "TemplateSummary", skip_serializing_if_is_none)]
pub struct TemplateSummaryDto {
    /// The template's name, and the provider's name when created from it
    pub name: String,
    pub display_name: String,
    pub categories: Vec<String>,
    pub auth_type: AuthTypeDto,
    /// Names of the values a connection supplies (a subdomain, a region)
    pub connection_params: Vec<String>,
    /// What a provider created from this template would need that Nexus does not do yet; empty
    /// when `POST /v1/providers` with `"template"` can create it
    pub unsupported: Vec<String>,
    /// The integration guide for this provider
    pub docs_url: Option<String>,
    pub logo_url: Option<String>,
}

impl From<&Template> for TemplateSummaryDto {
    fn from(template: &Template) -> Self {
        Self {
            name: template.name.clone(),
            display_name: template.display_name.clone(),
            categories: template.categories.clone(),
            auth_type: template.auth_type().into(),
            connection_params: template.connection_params.iter().map(|p| p.name.clone()).collect(),
            unsupported: template.unsupported().into_iter().map(str::to_owned).collect(),
            docs_url: template.docs_url.clone(),
            logo_url: template.logo_url.clone(),
        }
    }
}

/// The catalog's templates, ordered by name.
#[derive(Object, Debug, Clone)]
#[oai(rename = "TemplateList")]
pub struct TemplateListDto {
    pub items: Vec<TemplateSummaryDto>,
}

/// A value a connection supplies to fill `{name}` in the template's URLs and parameters.
#[derive(Object, Debug, Clone)]
#[oai(rename = "TemplateConnectionParam", skip_serializing_if_is_none)]
pub struct TemplateConnectionParamDto {
    pub name: String,
    pub description: String,
    /// Every value must match this (the `regex` crate's syntax, anchored)
    pub pattern: String,
    /// The only values allowed, when the provider has a fixed list
    pub choices: Vec<String>,
    pub default: Option<String>,
    /// Only an override uses it: a connection may leave it out
    pub optional: bool,
}

impl From<&ConnectionParam> for TemplateConnectionParamDto {
    fn from(param: &ConnectionParam) -> Self {
        Self {
            name: param.name.clone(),
            description: param.description.clone(),
            pattern: param.pattern.clone(),
            choices: param.choices.clone(),
            default: param.default.clone(),
            optional: param.optional,
        }
    }
}

/// A whole template: what `POST /v1/providers` with `"template"` fills in.
#[derive(Object, Debug, Clone)]
#[oai(rename = "Template", skip_serializing_if_is_none)]
pub struct TemplateDto {
    pub name: String,
    pub display_name: String,
    pub categories: Vec<String>,
    pub auth_type: AuthTypeDto,
    pub authorization_url: Option<String>,
    pub token_url: Option<String>,
    /// Where refreshes go, when not to `token_url`
    pub refresh_url: Option<String>,
    /// Default scopes
    pub scopes: Vec<String>,
    /// How scopes are joined, when not with a space
    pub scope_separator: Option<String>,
    pub authorization_params: BTreeMap<String, String>,
    /// Added by an incremental consent (more scopes for an existing connection)
    pub incremental_authorization_params: Option<BTreeMap<String, String>>,
    pub token_params: BTreeMap<String, String>,
    pub refresh_params: BTreeMap<String, String>,
    pub token_endpoint_auth_method: Option<TokenEndpointAuthMethodDto>,
    /// `json` when the token request body is JSON
    pub token_request_format: Option<String>,
    // Where the token response keeps the token, when not where RFC 6749 puts it (no doc
    // comment: it would wrap the `$ref` in `allOf`).
    pub token_response: Option<TokenResponseShapeDto>,
    /// `false` where the provider rejects PKCE
    pub pkce: Option<bool>,
    /// MCP servers: `dynamic`, `static` or `cimd` client registration
    pub client_registration: Option<String>,
    pub registration_url: Option<String>,
    pub strategy: Option<StrategyDto>,
    /// The hosted form's fields (JSON Schema)
    pub credential_schema: Option<serde_json::Value>,
    pub api_base_url: Option<String>,
    /// Origins besides `api_base_url`'s that the provider's API is served from
    pub api_origins: Vec<String>,
    /// Headers the provider's API also wants (`{param}`: a connection parameter,
    /// `{credential.field}`: a credential field)
    pub api_headers: BTreeMap<String, String>,
    pub api_query: BTreeMap<String, String>,
    /// URL fields used instead of the plain ones when all their parameters are given
    pub overrides: BTreeMap<String, String>,
    pub connection_params: Vec<TemplateConnectionParamDto>,
    /// The hosts (and their subdomains) a whole-host parameter may lead to
    pub allowed_host_suffixes: Vec<String>,
    /// What a provider created from this template would need that Nexus does not do yet
    pub unsupported: Vec<String>,
    pub docs_url: Option<String>,
    pub logo_url: Option<String>,
}

impl From<&Template> for TemplateDto {
    fn from(template: &Template) -> Self {
        Self {
            name: template.name.clone(),
            display_name: template.display_name.clone(),
            categories: template.categories.clone(),
            auth_type: template.auth_type().into(),
            authorization_url: template.authorization_url.clone(),
            token_url: template.token_url.clone(),
            refresh_url: template.refresh_url.clone(),
            scopes: template.scopes.clone(),
            scope_separator: template.scope_separator.clone(),
            authorization_params: template.authorization_params.clone(),
            incremental_authorization_params: (!template.incremental_authorization_params.is_empty())
                .then(|| template.incremental_authorization_params.clone()),
            token_params: template.token_params.clone(),
            refresh_params: template.refresh_params.clone(),
            token_endpoint_auth_method: template.token_endpoint_auth_method().map(Into::into),
            token_request_format: template.token_request_format.clone(),
            token_response: template.token_response.map(Into::into),
            pkce: template.pkce,
            client_registration: template.client_registration.clone(),
            registration_url: template.registration_url.clone(),
            strategy: template.strategy().map(StrategyDto::from),
            credential_schema: template.credential_schema.clone(),
            api_base_url: template.api_base_url.clone(),
            api_origins: template.api_origins.clone(),
            api_headers: template.api_headers.clone(),
            api_query: template.api_query.clone(),
            overrides: template.overrides.clone(),
            connection_params: template.connection_params.iter().map(Into::into).collect(),
            allowed_host_suffixes: template.allowed_host_suffixes.clone(),
            unsupported: template.unsupported().into_iter().map(str::to_owned).collect(),
            docs_url: template.docs_url.clone(),
            logo_url: template.logo_url.clone(),
        }
    }
}
