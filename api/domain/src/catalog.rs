//! A provider template of the catalog (`catalog/providers/<name>.json`): what an operator would
//! otherwise look up and type by hand. Unknown fields are refused, so a typo in a template fails
//! the catalog's test instead of being ignored.

use crate::error::ServiceError;
use crate::provider::{NewProvider, ProviderDraft, TokenEndpointAuthMethod};
use crate::status::AuthType;
use crate::strategy::Strategy;
use crate::token_request::{TokenRequestFormat, TokenResponseShape};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use crate::url_template::{ConnectionParam, placeholders};

/// A provider template: what an operator would otherwise look up and type by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// Lower-case kebab, the file's name, and the provider's name when created from it.
    pub name: String,
    pub display_name: String,
    /// Kebab slugs, most specific first.
    pub categories: Vec<String>,
    /// `oauth2`, `api_key` or `basic_auth`.
    pub auth_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    /// Where refreshes go when not to `token_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_url: Option<String>,
    /// Default scopes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// How scopes are joined when not with a space.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope_separator: Option<String>,
    /// Extra authorization-request parameters (static, or with `{param}` placeholders).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub authorization_params: BTreeMap<String, String>,
    /// Parameters an incremental consent adds (asking for more scopes on an existing grant),
    /// such as Google's `include_granted_scopes=true`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub incremental_authorization_params: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub token_params: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub refresh_params: BTreeMap<String, String>,
    /// `client_secret_basic` or `client_secret_post`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
    /// `json` when the token request body is JSON rather than a form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_request_format: Option<String>,
    /// Where the token response keeps the token, when not where RFC 6749 puts it: `slack_bot`,
    /// `slack_user` or `salesforce`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_response: Option<TokenResponseShape>,
    /// `false` where the provider is known to reject PKCE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkce: Option<bool>,
    /// For MCP servers: `dynamic`, `static` or `cimd` client registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_registration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_url: Option<String>,
    /// How the credential is injected (the Strategy of the provider API), for non-bearer ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<serde_json::Value>,
    /// The fields the hosted form asks for (JSON Schema), for API-key and basic-auth templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_schema: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_base_url: Option<String>,
    /// Origins besides `api_base_url`'s that the provider's API is served from (the
    /// credential may be sent there too).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_origins: Vec<String>,
    /// Headers and query parameters the provider's API also wants (hints for the agent:
    /// `{param}` is a connection parameter, `{credential.field}` a credential field).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub api_headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub api_query: BTreeMap<String, String>,
    /// URL fields used instead of the plain ones when all their parameters are given
    /// (Salesforce's My Domain, say).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub overrides: BTreeMap<String, String>,
    /// Values a connection supplies to fill `{name}` placeholders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connection_params: Vec<ConnectionParam>,
    /// Hosts (and their subdomains) a URL may resolve to when its whole host is a parameter.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_host_suffixes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
}

impl Template {
    /// What a provider created from this template would need that Nexus does not do yet (the
    /// catalog keeps these facts so that nothing is lost); empty when it can be created.
    pub fn unsupported(&self) -> Vec<&'static str> {
        // Nothing today: remote MCP servers (dynamic registration, metadata documents) run as
        // MCP providers. A fact Nexus cannot act on yet is listed here with its reason.
        Vec::new()
    }

    /// A remote MCP server's template: its client is registered per authorization server (by
    /// dynamic registration or a metadata document), and a provider made from it discovers its
    /// endpoints from the server's URL (`mcp_server_url`, which the operator gives).
    pub fn is_mcp(&self) -> bool {
        matches!(self.client_registration.as_deref(), Some("dynamic" | "cimd"))
    }

    /// An MCP template's provider: the template's names, category, scopes and links, the
    /// operator's server URL and everything else of the operator's. The template's endpoints and
    /// request parameters are left behind: the server's metadata names them, and Nexus sends
    /// the resource itself.
    fn fill_mcp(&self, draft: ProviderDraft) -> ProviderDraft {
        ProviderDraft {
            name: if draft.name.is_empty() {
                self.name.clone()
            } else {
                draft.name.clone()
            },
            display_name: draft.display_name.clone().or_else(|| Some(self.display_name.clone())),
            category: draft.category.clone().or_else(|| self.categories.first().cloned()),
            auth_type: draft.auth_type.or(Some(self.auth_type())),
            scopes: if draft.scopes.is_empty() {
                self.scopes.clone()
            } else {
                draft.scopes.clone()
            },
            logo_url: draft.logo_url.clone().or_else(|| self.logo_url.clone()),
            docs_url: draft.docs_url.clone().or_else(|| self.docs_url.clone()),
            ..draft
        }
    }

    /// The operator's draft with what it leaves out taken from the template: the operator's
    /// fields win, authorization parameters are merged (the operator's win), and the name is the
    /// template's when the draft has none. The endpoints are one unit: a draft that names any of
    /// the authorization URL, token URL or issuer takes none from the template (a template's
    /// token URL beside the operator's own authorization URL would send codes elsewhere).
    pub fn fill(&self, draft: ProviderDraft) -> ProviderDraft {
        if self.is_mcp() {
            return self.fill_mcp(draft);
        }
        let mut authorization_params = self.authorization_params.clone();
        authorization_params.extend(draft.authorization_params);
        let mut incremental_authorization_params = self.incremental_authorization_params.clone();
        incremental_authorization_params.extend(draft.incremental_authorization_params);
        let own_endpoints = draft.authorization_url.is_some() || draft.token_url.is_some() || draft.issuer.is_some();
        let (authorization_url, token_url, refresh_url) = if own_endpoints {
            (draft.authorization_url, draft.token_url, draft.refresh_url)
        } else {
            (
                self.authorization_url.clone(),
                self.token_url.clone(),
                draft.refresh_url.or_else(|| self.refresh_url.clone()),
            )
        };
        // An override of an endpoint belongs with the template's endpoints; one of the API base
        // with the template's API base.
        let url_overrides = if !draft.url_overrides.is_empty() {
            draft.url_overrides.clone()
        } else {
            self.overrides
                .iter()
                .filter(|(field, _)| match field.as_str() {
                    "api_base_url" => draft.api_base_url.is_none(),
                    _ => !own_endpoints,
                })
                .map(|(field, url)| (field.clone(), url.clone()))
                .collect()
        };
        let token_params = if draft.token_params.is_empty() {
            self.token_params.clone()
        } else {
            draft.token_params.clone()
        };
        let refresh_params = if draft.refresh_params.is_empty() {
            self.refresh_params.clone()
        } else {
            draft.refresh_params.clone()
        };
        // The template's URLs need its parameters; the operator's own URLs their own. With the
        // operator's endpoints, only those the template's kept URLs use (its API base).
        let connection_params = if !draft.connection_params.is_empty() {
            draft.connection_params.clone()
        } else if own_endpoints {
            let kept = if draft.api_base_url.is_none() {
                self.api_base_url.as_deref()
            } else {
                None
            };
            let mut used = kept.map(placeholders).unwrap_or_default();
            if draft.api_origins.is_empty() {
                used.extend(self.api_origins.iter().flat_map(|origin| placeholders(origin)));
            }
            let kept_texts = url_overrides
                .values()
                .chain(authorization_params.values())
                .chain(token_params.values())
                .chain(refresh_params.values())
                .chain(self.api_headers.values())
                .chain(self.api_query.values());
            used.extend(kept_texts.flat_map(|text| placeholders(text)));
            self.connection_params
                .iter()
                .filter(|param| used.contains(&param.name.as_str()))
                .cloned()
                .collect()
        } else {
            self.connection_params.clone()
        };
        ProviderDraft {
            name: if draft.name.is_empty() {
                self.name.clone()
            } else {
                draft.name
            },
            display_name: draft.display_name.or_else(|| Some(self.display_name.clone())),
            description: draft.description,
            category: draft.category.or_else(|| self.categories.first().cloned()),
            auth_type: draft.auth_type.or(Some(self.auth_type())),
            scopes: if draft.scopes.is_empty() {
                self.scopes.clone()
            } else {
                draft.scopes
            },
            client_id: draft.client_id,
            authorization_url,
            token_url,
            issuer: draft.issuer,
            authorization_params,
            incremental_authorization_params,
            token_endpoint_auth_method: draft
                .token_endpoint_auth_method
                .or_else(|| self.token_endpoint_auth_method()),
            pkce: draft.pkce.or(self.pkce),
            scope_separator: draft.scope_separator.or_else(|| self.scope_separator.clone()),
            refresh_url,
            token_request_format: draft
                .token_request_format
                .or(match self.token_request_format.as_deref() {
                    Some("json") => Some(TokenRequestFormat::Json),
                    _ => None,
                }),
            token_params,
            refresh_params,
            token_response: draft.token_response.or(self.token_response),
            url_overrides,
            api_headers: if draft.api_headers.is_empty() {
                self.api_headers.clone()
            } else {
                draft.api_headers
            },
            api_query: if draft.api_query.is_empty() {
                self.api_query.clone()
            } else {
                draft.api_query
            },
            revocation_url: draft.revocation_url,
            credential_schema: draft.credential_schema.or_else(|| self.credential_schema.clone()),
            verification_url: draft.verification_url,
            verification_method: draft.verification_method,
            strategy: draft.strategy.or_else(|| self.strategy()),
            api_base_url: draft.api_base_url.or_else(|| self.api_base_url.clone()),
            api_origins: if draft.api_origins.is_empty() {
                self.api_origins.clone()
            } else {
                draft.api_origins
            },
            logo_url: draft.logo_url.or_else(|| self.logo_url.clone()),
            docs_url: draft.docs_url.or_else(|| self.docs_url.clone()),
            connection_params,
            allowed_host_suffixes: if draft.allowed_host_suffixes.is_empty() {
                self.allowed_host_suffixes.clone()
            } else {
                draft.allowed_host_suffixes
            },
            mcp_server_url: draft.mcp_server_url,
            mcp_resource_on_refresh: draft.mcp_resource_on_refresh,
        }
    }

    /// The auth type (the catalog's test refuses any but these three).
    pub fn auth_type(&self) -> AuthType {
        match self.auth_type.as_str() {
            "api_key" => AuthType::ApiKey,
            "basic_auth" => AuthType::BasicAuth,
            _ => AuthType::Oauth2,
        }
    }

    pub fn token_endpoint_auth_method(&self) -> Option<TokenEndpointAuthMethod> {
        match self.token_endpoint_auth_method.as_deref() {
            Some("client_secret_basic") => Some(TokenEndpointAuthMethod::ClientSecretBasic),
            Some("client_secret_post") => Some(TokenEndpointAuthMethod::ClientSecretPost),
            _ => None,
        }
    }

    /// The strategy, when the template names one Nexus knows (the catalog's test refuses others).
    pub fn strategy(&self) -> Option<Strategy> {
        self.strategy
            .clone()
            .and_then(|value| serde_json::from_value::<Strategy>(value).ok())
    }

    /// Every URL the template holds, with the field it is in.
    pub fn urls(&self) -> Vec<(String, &str)> {
        let mut urls: Vec<(String, &str)> = [
            ("authorization_url", &self.authorization_url),
            ("token_url", &self.token_url),
            ("refresh_url", &self.refresh_url),
            ("registration_url", &self.registration_url),
            ("api_base_url", &self.api_base_url),
            ("docs_url", &self.docs_url),
            ("logo_url", &self.logo_url),
        ]
        .into_iter()
        .filter_map(|(field, url)| url.as_deref().map(|url| (field.to_owned(), url)))
        .collect();
        urls.extend(
            self.overrides
                .iter()
                .map(|(field, url)| (format!("overrides.{field}"), url.as_str())),
        );
        urls
    }

    /// Every text that may hold `{param}` placeholders, with where it is.
    pub fn templated_texts(&self) -> Vec<(String, &str)> {
        let mut texts = self.urls();
        for (map, values) in [
            ("authorization_params", &self.authorization_params),
            (
                "incremental_authorization_params",
                &self.incremental_authorization_params,
            ),
            ("token_params", &self.token_params),
            ("refresh_params", &self.refresh_params),
            ("api_headers", &self.api_headers),
            ("api_query", &self.api_query),
        ] {
            texts.extend(
                values
                    .iter()
                    .map(|(name, value)| (format!("{map}.{name}"), value.as_str())),
            );
        }
        texts.extend(
            self.api_origins
                .iter()
                .enumerate()
                .map(|(index, origin)| (format!("api_origins[{index}]"), origin.as_str())),
        );
        texts
    }
}

/// The operator's input with its named template's fields filled in (the Broker's create, and
/// `nexus providers plan` working out what a file means); a template that needs what Nexus does
/// not do yet is refused, naming what.
pub fn apply_template(templates: &[Template], input: NewProvider) -> Result<NewProvider, ServiceError> {
    let Some(name) = input.template.as_deref() else {
        return Ok(input);
    };
    let template = find(templates, name)
        .ok_or_else(|| ServiceError::invalid("template", format!("the catalog has no template `{name}`")))?;
    if let Some(auth_type) = input.draft.auth_type
        && auth_type != template.auth_type()
    {
        return Err(ServiceError::invalid(
            "auth_type",
            format!(
                "template `{name}` is for {} providers: leave auth_type out, or start from another template",
                template.auth_type
            ),
        ));
    }
    if template.is_mcp() && input.draft.mcp_server_url.is_none() {
        let under = template
            .api_base_url
            .as_deref()
            .map(|base| format!(", such as one under {base}"))
            .unwrap_or_default();
        return Err(ServiceError::invalid(
            "mcp_server_url",
            format!("template `{name}` is a remote MCP server: give its MCP endpoint's URL{under}"),
        ));
    }
    let unsupported = template.unsupported();
    if !unsupported.is_empty() {
        return Err(ServiceError::invalid(
            "template",
            format!(
                "template `{name}` needs {}, which Nexus does not support yet",
                unsupported.join(", ")
            ),
        ));
    }
    Ok(NewProvider {
        draft: template.fill(input.draft),
        client_secret: input.client_secret,
        template: None,
    })
}

/// The template called `name` in `templates` (sorted by name, as the catalog keeps them).
pub fn find<'a>(templates: &'a [Template], name: &str) -> Option<&'a Template> {
    templates
        .binary_search_by(|template| template.name.as_str().cmp(name))
        .ok()
        .map(|index| &templates[index])
}

#[cfg(test)]
mod tests {
    use super::Template;
    use crate::provider::ProviderDraft;
    use crate::status::AuthType;

    fn github() -> Template {
        serde_json::from_value(serde_json::json!({
            "name": "github", "display_name": "GitHub", "categories": ["dev-tools"], "auth_type": "oauth2",
            "authorization_url": "https://github.com/login/oauth/authorize",
            "token_url": "https://github.com/login/oauth/access_token",
            "scopes": ["repo"], "authorization_params": {"allow_signup": "false", "prompt": "consent"},
            "pkce": false, "api_base_url": "https://api.github.com"
        }))
        .expect("a template")
    }

    #[test]
    fn the_template_fills_what_the_draft_leaves_out_and_the_draft_wins() {
        let draft = ProviderDraft {
            client_id: Some("client".into()),
            scopes: vec!["read:user".into()],
            authorization_params: [("prompt".to_owned(), "none".to_owned())].into(),
            ..ProviderDraft::default()
        };
        let filled = github().fill(draft);
        assert_eq!(filled.name, "github");
        assert_eq!(filled.auth_type, Some(AuthType::Oauth2));
        assert_eq!(filled.scopes, ["read:user"]);
        assert_eq!(filled.authorization_params["prompt"], "none");
        assert_eq!(filled.authorization_params["allow_signup"], "false");
        assert_eq!(filled.pkce, Some(false));
        assert_eq!(
            filled.token_url.as_deref(),
            Some("https://github.com/login/oauth/access_token")
        );
        if let Err(error) = filled.clone().validate() {
            panic!("{error}");
        }
    }

    #[test]
    fn endpoints_come_from_the_draft_or_the_template_never_both() {
        let own = ProviderDraft {
            authorization_url: Some("https://ghe.example.com/login/oauth/authorize".into()),
            ..ProviderDraft::default()
        };
        let filled = github().fill(own);
        assert_eq!(
            filled.token_url, None,
            "the template's token URL must not pair with another host"
        );
        let issuer = ProviderDraft {
            issuer: Some("https://id.example.com".into()),
            ..ProviderDraft::default()
        };
        let filled = github().fill(issuer);
        assert_eq!((filled.authorization_url, filled.token_url), (None, None));
    }

    #[test]
    fn what_nexus_cannot_run_yet_is_named() {
        assert!(github().unsupported().is_empty());
        let mut template = github();
        template.api_headers.insert("x-version".into(), "2024-01-01".into());
        template.scope_separator = Some(",".into());
        assert!(
            template.unsupported().is_empty(),
            "API headers and commas are supported"
        );
        assert_eq!(
            template.fill(ProviderDraft::default()).scope_separator.as_deref(),
            Some(","),
            "and carried into the provider"
        );
        template.client_registration = Some("dynamic".into());
        assert!(
            template.unsupported().is_empty(),
            "an MCP server runs as an MCP provider"
        );
        assert!(template.is_mcp());
        let filled = template.fill(ProviderDraft {
            mcp_server_url: Some("https://mcp.github.test/mcp".into()),
            ..ProviderDraft::default()
        });
        assert_eq!(filled.mcp_server_url.as_deref(), Some("https://mcp.github.test/mcp"));
        assert_eq!(
            (filled.authorization_url, filled.token_url, filled.scope_separator),
            (None, None, None),
            "the server's metadata names its endpoints"
        );
        assert_eq!(filled.name, "github");
    }

    #[test]
    fn own_endpoints_keep_only_the_parameters_the_templates_urls_still_use() {
        let template: Template = serde_json::from_value(serde_json::json!({
            "name": "tenant-idp", "display_name": "Tenant IdP", "categories": ["iam"], "auth_type": "oauth2",
            "authorization_url": "https://{subdomain}.idp.example.com/authorize",
            "token_url": "https://{subdomain}.idp.example.com/token",
            "api_base_url": "https://{subdomain}.idp.example.com/api",
            "connection_params": [{"name": "subdomain", "description": "Your subdomain", "pattern": "^[a-z]+$"}]
        }))
        .expect("a template");
        let own = ProviderDraft {
            client_id: Some("client".into()),
            authorization_url: Some("https://login.example.com/authorize".into()),
            token_url: Some("https://login.example.com/token".into()),
            ..ProviderDraft::default()
        };
        let filled = template.fill(own.clone());
        assert_eq!(filled.connection_params.len(), 1, "the API base still needs it");
        if let Err(error) = filled.validate() {
            panic!("{error}");
        }
        let own_base = ProviderDraft {
            api_base_url: Some("https://api.example.com".into()),
            ..own
        };
        let filled = template.fill(own_base);
        assert!(filled.connection_params.is_empty());
        if let Err(error) = filled.validate() {
            panic!("{error}");
        }
    }
}
