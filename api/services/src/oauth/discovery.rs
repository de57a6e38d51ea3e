//! OpenID discovery, validated on arrival (issuer matches, authorization and token endpoints
//! present, https unless loopback) and cached per issuer for a while. A document without a
//! `token_endpoint` is a clear "provider misconfigured" error at consent, never a later mystery.

use super::http::{Answer, Outbound};
use crate::outbound_policy::{AddressCheckError, optional_endpoint, required_endpoint};
use nexus_domain::ServiceError;
use nexus_domain::provider::OAuthSettings;
use nexus_domain::url_template::UrlTemplate;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use url::Url;

/// The endpoints a consent, exchange, refresh or revocation uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub authorization_url: Url,
    pub token_url: Url,
    pub revocation_url: Option<Url>,
    /// Present when the provider is an OpenID provider with discovery: the exact issuer string
    /// and its key set URL, for id_token verification.
    pub issuer: Option<String>,
    pub jwks_uri: Option<Url>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Metadata {
    issuer: String,
    authorization_endpoint: Url,
    token_endpoint: Url,
    revocation_endpoint: Option<Url>,
    jwks_uri: Option<Url>,
}

#[derive(Deserialize)]
struct RawMetadata {
    issuer: Option<String>,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    revocation_endpoint: Option<String>,
    jwks_uri: Option<String>,
}

#[derive(Debug)]
pub struct Discovery {
    outbound: Outbound,
    ttl: Duration,
    cache: Mutex<HashMap<String, (Instant, Arc<Metadata>)>>,
}

/// `{issuer}/.well-known/openid-configuration`, built by path segments: an issuer with or
/// without a trailing slash gives the same URL.
pub fn discovery_url(issuer: &Url) -> Url {
    let mut url = issuer.clone();
    url.set_query(None);
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().extend([".well-known", "openid-configuration"]);
    }
    url
}

fn same_issuer(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

impl Discovery {
    pub fn new(outbound: Outbound, ttl: Duration) -> Self {
        Self {
            outbound,
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, issuer: &str) -> Option<Arc<Metadata>> {
        let cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        cache
            .get(issuer)
            .filter(|(fetched, _)| fetched.elapsed() < self.ttl)
            .map(|(_, metadata)| metadata.clone())
    }

    async fn metadata(&self, provider: &str, issuer: &Url) -> Result<Arc<Metadata>, ServiceError> {
        if let Some(metadata) = self.cached(issuer.as_str()) {
            return Ok(metadata);
        }
        let misconfigured = |message: String| ServiceError::misconfigured(provider, message);
        let url = discovery_url(issuer);
        let Answer { status, body, .. } = self
            .outbound
            .send(
                self.outbound
                    .client()
                    .get(url.clone())
                    .header("accept", "application/json"),
            )
            .await
            .map_err(|_| ServiceError::upstream(provider))?;
        if !status.is_success() {
            return Err(if status.is_server_error() {
                ServiceError::upstream(provider)
            } else {
                misconfigured(format!("OpenID discovery at {url} answered HTTP {}", status.as_u16()))
            });
        }
        let raw: RawMetadata = serde_json::from_slice(&body)
            .map_err(|_| misconfigured(format!("the discovery document at {url} is not valid JSON")))?;
        let metadata = validate(raw, issuer).map_err(misconfigured)?;
        // Where Nexus itself connects (the browser alone goes to the authorization endpoint).
        let connected = [
            Some(&metadata.token_endpoint),
            metadata.revocation_endpoint.as_ref(),
            metadata.jwks_uri.as_ref(),
        ];
        for (name, endpoint) in ["token_endpoint", "revocation_endpoint", "jwks_uri"]
            .into_iter()
            .zip(connected)
        {
            if let Some(endpoint) = endpoint {
                self.outbound
                    .check_discovered_addresses(name, endpoint, issuer)
                    .await
                    .map_err(|error| match error {
                        AddressCheckError::Inside(message) => misconfigured(message),
                        AddressCheckError::Unresolved => ServiceError::upstream(provider),
                    })?;
            }
        }
        let metadata = Arc::new(metadata);
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(issuer.to_string(), (Instant::now(), metadata.clone()));
        Ok(metadata)
    }

    /// The provider's endpoints: explicit URLs win; discovery fills in the rest.
    /// `oauth` is a provider's settings filled for one connection
    /// ([`nexus_domain::provider::ProviderSpec::for_connection`]): a URL still holding a
    /// placeholder is a misconfiguration, never sent.
    pub async fn endpoints(&self, provider: &str, oauth: &OAuthSettings) -> Result<Endpoints, ServiceError> {
        let fixed = |template: &Option<UrlTemplate>| -> Result<Option<Url>, ServiceError> {
            template
                .as_ref()
                .map(|template| {
                    template
                        .fixed()
                        .cloned()
                        .ok_or_else(|| ServiceError::ProviderMisconfigured {
                            provider: provider.to_owned(),
                            message: format!("`{template}` needs the connection's parameters"),
                        })
                })
                .transpose()
        };
        let (authorization_url, token_url) = (fixed(&oauth.authorization_url)?, fixed(&oauth.token_url)?);
        let (issuer, revocation_url) = (fixed(&oauth.issuer)?, fixed(&oauth.revocation_url)?);
        if let (Some(authorization_url), Some(token_url)) = (authorization_url, token_url) {
            let discovered = match &issuer {
                Some(issuer) => Some(self.metadata(provider, issuer).await?),
                None => None,
            };
            if let Some(metadata) = &discovered {
                Self::check_within(provider, oauth, metadata)?;
            }
            return Ok(Endpoints {
                authorization_url,
                token_url,
                revocation_url: revocation_url
                    .or_else(|| discovered.as_ref().and_then(|m| m.revocation_endpoint.clone())),
                issuer: discovered.as_ref().map(|m| m.issuer.clone()),
                jwks_uri: discovered.and_then(|m| m.jwks_uri.clone()),
            });
        }
        let issuer = issuer.as_ref().ok_or_else(|| ServiceError::ProviderMisconfigured {
            provider: provider.to_owned(),
            message: "neither endpoints nor an issuer are configured".to_owned(),
        })?;
        let metadata = self.metadata(provider, issuer).await?;
        Self::check_within(provider, oauth, &metadata)?;
        Ok(Endpoints {
            authorization_url: metadata.authorization_endpoint.clone(),
            token_url: metadata.token_endpoint.clone(),
            revocation_url: revocation_url.or_else(|| metadata.revocation_endpoint.clone()),
            issuer: Some(metadata.issuer.clone()),
            jwks_uri: metadata.jwks_uri.clone(),
        })
    }

    /// A templated issuer's document may only name endpoints in the issuer's own domain.
    fn check_within(provider: &str, oauth: &OAuthSettings, metadata: &Metadata) -> Result<(), ServiceError> {
        let Some(rule) = &oauth.discovered_within else {
            return Ok(());
        };
        let named = [
            ("authorization_endpoint", Some(&metadata.authorization_endpoint)),
            ("token_endpoint", Some(&metadata.token_endpoint)),
            ("revocation_endpoint", metadata.revocation_endpoint.as_ref()),
            ("jwks_uri", metadata.jwks_uri.as_ref()),
        ];
        for (name, url) in named {
            if let Some(url) = url
                && !rule.allows(url)
            {
                return Err(ServiceError::ProviderMisconfigured {
                    provider: provider.to_owned(),
                    message: format!(
                        "the discovery document's {name} is outside the issuer's domain ({})",
                        url.host_str().unwrap_or_default()
                    ),
                });
            }
        }
        Ok(())
    }

    /// Fetches a JSON Web Key Set (bounded, within the deadline).
    pub async fn jwks(&self, provider: &str, url: &Url) -> Result<Vec<u8>, ServiceError> {
        let Answer { status, body, .. } = self
            .outbound
            .send(self.outbound.client().get(url.clone()))
            .await
            .map_err(|_| ServiceError::upstream(provider))?;
        if !status.is_success() {
            return Err(ServiceError::Upstream {
                provider: provider.to_owned(),
                retryable: status.is_server_error(),
                retry_after_seconds: None,
            });
        }
        Ok(body)
    }
}

fn validate(raw: RawMetadata, expected_issuer: &Url) -> Result<Metadata, String> {
    let issuer = raw.issuer.ok_or("the discovery document has no issuer")?;
    if !same_issuer(&issuer, expected_issuer.as_str()) {
        return Err(format!(
            "the discovery document names issuer {issuer}, expected {expected_issuer}"
        ));
    }
    let document = "the discovery document";
    let endpoint = |name: &str, value| required_endpoint(document, name, value, expected_issuer);
    let optional = |name: &str, value| optional_endpoint(name, value, expected_issuer);
    Ok(Metadata {
        authorization_endpoint: endpoint("authorization_endpoint", raw.authorization_endpoint)?,
        token_endpoint: endpoint("token_endpoint", raw.token_endpoint)?,
        revocation_endpoint: optional("revocation_endpoint", raw.revocation_endpoint)?,
        jwks_uri: optional("jwks_uri", raw.jwks_uri)?,
        issuer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_url_ignores_a_trailing_slash() {
        for issuer in ["https://idp.test/realms/x", "https://idp.test/realms/x/"] {
            let url = discovery_url(&Url::parse(issuer).expect("url"));
            assert_eq!(
                url.as_str(),
                "https://idp.test/realms/x/.well-known/openid-configuration"
            );
        }
        let root = discovery_url(&Url::parse("https://accounts.google.com").expect("url"));
        assert_eq!(
            root.as_str(),
            "https://accounts.google.com/.well-known/openid-configuration"
        );
    }

    fn raw(token_endpoint: Option<&str>) -> RawMetadata {
        RawMetadata {
            issuer: Some("https://idp.test".into()),
            authorization_endpoint: Some("https://idp.test/auth".into()),
            token_endpoint: token_endpoint.map(str::to_owned),
            revocation_endpoint: None,
            jwks_uri: Some("https://idp.test/jwks".into()),
        }
    }

    #[test]
    fn documents_are_validated_on_arrival() {
        let issuer = Url::parse("https://idp.test/").expect("url");
        assert!(validate(raw(Some("https://idp.test/token")), &issuer).is_ok());
        let missing = validate(raw(None), &issuer).expect_err("no token endpoint");
        assert!(missing.contains("token_endpoint"), "{missing}");
        assert!(
            validate(raw(Some("http://idp.test/token")), &issuer).is_err(),
            "http off loopback"
        );
        let other = Url::parse("https://evil.test").expect("url");
        assert!(
            validate(raw(Some("https://idp.test/token")), &other).is_err(),
            "issuer mismatch"
        );
    }

    #[test]
    fn a_templated_issuers_document_stays_in_its_domain() {
        let issuer = Url::parse("https://acme.idp.example.com").expect("url");
        let mut document = raw(Some("https://acme.idp.example.com/token"));
        document.issuer = Some(issuer.to_string());
        document.authorization_endpoint = Some("https://acme.idp.example.com/auth".into());
        document.jwks_uri = Some("https://keys.idp.example.com/jwks".into());
        let metadata = validate(document, &issuer).expect("valid document");
        let mut oauth = OAuthSettings {
            client_id: "c".into(),
            authorization_url: None,
            token_url: None,
            issuer: None,
            authorization_params: Default::default(),
            incremental_authorization_params: Default::default(),
            token_endpoint_auth_method: Default::default(),
            pkce: true,
            revocation_url: None,
            scope_separator: ' ',
            refresh_url: None,
            token_request_format: Default::default(),
            token_params: Default::default(),
            refresh_params: Default::default(),
            token_response: Default::default(),
            discovered_within: Some(nexus_domain::url_template::DomainRule {
                template: "https://{tenant}.idp.example.com".into(),
                allowed_host_suffixes: Vec::new(),
            }),
            mcp: None,
        };
        assert!(Discovery::check_within("p", &oauth, &metadata).is_ok());
        let mut elsewhere = metadata.clone();
        elsewhere.token_endpoint = Url::parse("https://collector.evil.example/token").expect("url");
        let error = Discovery::check_within("p", &oauth, &elsewhere).expect_err("outside");
        assert!(error.to_string().contains("token_endpoint"), "{error}");
        oauth.discovered_within = None;
        assert!(
            Discovery::check_within("p", &oauth, &elsewhere).is_ok(),
            "a fixed issuer is trusted"
        );
    }
}
