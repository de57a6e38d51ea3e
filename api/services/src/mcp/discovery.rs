//! Where a remote MCP server's authorization lives (MCP authorization, revisions 2025-06-18 and
//! 2025-11-25): the `WWW-Authenticate` challenge of an unauthenticated request, else the
//! Protected Resource Metadata at its well-known locations (RFC 9728, path-inserted then root),
//! whose `resource` must be the server's; then the first authorization server's metadata
//! (RFC 8414, then the two OpenID Connect forms, in that order), whose `issuer` must echo the one
//! asked for and which must offer PKCE with S256. Every URL is checked by the outbound rules of
//! discovered endpoints before it is fetched; results are cached per server URL.

use super::challenge::{BearerChallenge, bearer_challenge_of};
use crate::oauth::http::{Answer, Outbound};
use crate::outbound_policy::{AddressCheckError, check_discovered, optional_endpoint, required_endpoint};
use nexus_domain::ServiceError;
use nexus_domain::provider::parse_endpoint_url;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use url::Url;

/// The MCP revision Nexus speaks when it probes a server.
pub const MCP_PROTOCOL_VERSION: &str = "2025-11-25";

/// An authorization server as its metadata describes it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationServer {
    /// Exactly as the authorization server's metadata states it (RFC 8414 §3.3; a callback's
    /// `iss` is compared with it as a string, RFC 9207).
    pub issuer: String,
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    pub registration_endpoint: Option<Url>,
    pub revocation_endpoint: Option<Url>,
    pub token_endpoint_auth_methods: Vec<String>,
    pub scopes_supported: Vec<String>,
    /// `client_id_metadata_document_supported`: a client may be an HTTPS URL serving its metadata.
    pub client_id_metadata_documents: bool,
    /// `authorization_response_iss_parameter_supported` (RFC 9207): the callback must carry `iss`.
    pub iss_parameter: bool,
}

/// What a consent with an MCP server needs: where to ask, for what resource, with which scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpAuthorization {
    /// The resource indicator (RFC 8707) for every authorization, token and refresh request,
    /// exactly as the resource metadata publishes it (a parser would add a `/` to a bare origin).
    pub resource: String,
    /// The challenge's scopes, else the resource metadata's `scopes_supported`, else none.
    pub scopes: Vec<String>,
    pub server: AuthorizationServer,
}

#[derive(Deserialize)]
struct RawResourceMetadata {
    resource: Option<String>,
    #[serde(default)]
    authorization_servers: Vec<String>,
    #[serde(default)]
    scopes_supported: Vec<String>,
}

#[derive(Deserialize)]
struct RawServerMetadata {
    issuer: Option<String>,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    registration_endpoint: Option<String>,
    revocation_endpoint: Option<String>,
    #[serde(default)]
    code_challenge_methods_supported: Vec<String>,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Vec<String>,
    #[serde(default)]
    scopes_supported: Vec<String>,
    #[serde(default)]
    client_id_metadata_document_supported: bool,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
}

#[derive(Debug)]
pub struct McpDiscovery {
    outbound: Outbound,
    ttl: Duration,
    cache: Mutex<HashMap<String, (Instant, Arc<McpAuthorization>)>>,
}

/// `base`'s origin with `path` as its path (no query, no fragment).
fn at_origin(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    url.set_path(path);
    url.set_query(None);
    url.set_fragment(None);
    url
}

/// RFC 9728 §3.1: the well-known suffix inserted between the host and the resource's path, then
/// at the root (where servers of one resource per origin put it).
pub fn resource_metadata_urls(server: &Url) -> Vec<Url> {
    const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";
    let path = server.path().trim_end_matches('/');
    let mut urls = Vec::new();
    if !path.is_empty() {
        urls.push(at_origin(server, &format!("{WELL_KNOWN}{path}")));
    }
    urls.push(at_origin(server, WELL_KNOWN));
    urls
}

/// The metadata locations of an authorization server, in the order the MCP specification gives:
/// RFC 8414's (path-inserted), OpenID Connect's path-inserted form, then OpenID Connect's
/// path-appended form; an issuer without a path has the first two only.
pub fn server_metadata_urls(issuer: &Url) -> Vec<Url> {
    let path = issuer.path().trim_end_matches('/');
    let mut urls = vec![
        at_origin(issuer, &format!("/.well-known/oauth-authorization-server{path}")),
        at_origin(issuer, &format!("/.well-known/openid-configuration{path}")),
    ];
    if !path.is_empty() {
        urls.push(at_origin(issuer, &format!("{path}/.well-known/openid-configuration")));
    }
    urls
}

/// Whether a protected resource's `resource` stands for `server`: the same origin, and the same
/// path or a parent of it (one resource may serve several endpoints below its URL).
pub fn resource_covers(resource: &Url, server: &Url) -> bool {
    if resource.origin() != server.origin() || resource.query().is_some() || resource.fragment().is_some() {
        return false;
    }
    let parent = resource.path().trim_end_matches('/');
    let child = server.path().trim_end_matches('/');
    child == parent || child.starts_with(&format!("{parent}/"))
}

fn same_issuer(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

impl McpDiscovery {
    pub fn new(outbound: Outbound, ttl: Duration) -> Self {
        Self {
            outbound,
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, server: &Url) -> Option<Arc<McpAuthorization>> {
        let cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        cache
            .get(server.as_str())
            .filter(|(fetched, _)| fetched.elapsed() < self.ttl)
            .map(|(_, found)| found.clone())
    }

    /// Drops what was discovered for `server`: the next use discovers again (after an endpoint
    /// stopped answering, or the resource named another authorization server).
    pub fn forget(&self, server: &Url) {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(server.as_str());
    }

    /// The authorization of the MCP server at `server` (its canonical URL), discovered or cached.
    pub async fn discover(&self, provider: &str, server: &Url) -> Result<Arc<McpAuthorization>, ServiceError> {
        if let Some(found) = self.cached(server) {
            return Ok(found);
        }
        let found = Arc::new(self.discover_now(provider, server).await?);
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(server.to_string(), (Instant::now(), found.clone()));
        Ok(found)
    }

    /// Checks again, now, where the endpoints Nexus connects to resolve: a name that resolved
    /// outside when it was discovered may resolve inside since (DNS rebinding). Called at every
    /// use of a discovery, cached or not.
    pub async fn recheck(&self, provider: &str, found: &McpAuthorization, server: &Url) -> Result<(), ServiceError> {
        let endpoints = [
            ("token_endpoint", Some(&found.server.token_endpoint)),
            ("registration_endpoint", found.server.registration_endpoint.as_ref()),
            ("revocation_endpoint", found.server.revocation_endpoint.as_ref()),
        ];
        for (name, endpoint) in endpoints {
            if let Some(endpoint) = endpoint {
                self.outbound
                    .check_discovered_addresses(name, endpoint, server)
                    .await
                    .map_err(|error| address_error(provider, error))?;
            }
        }
        Ok(())
    }

    async fn discover_now(&self, provider: &str, server: &Url) -> Result<McpAuthorization, ServiceError> {
        let misconfigured = |message: String| ServiceError::misconfigured(provider, message);
        let challenge = self.probe(provider, server).await?.unwrap_or_default();
        let named = match challenge.resource_metadata() {
            Some(raw) => Some(
                parse_endpoint_url("resource_metadata", raw)
                    .map_err(|error| misconfigured(format!("the server's challenge names {error}")))?,
            ),
            None => None,
        };
        let candidates = named.map_or_else(|| resource_metadata_urls(server), |url| vec![url]);
        let mut metadata = None;
        for url in &candidates {
            if let Some(body) = self.fetch(provider, "resource metadata", url, server).await? {
                metadata = Some(body);
                break;
            }
        }
        let Some(body) = metadata else {
            return Err(misconfigured(format!(
                "{server} publishes no OAuth protected resource metadata (RFC 9728): looked at {}",
                candidates.iter().map(Url::as_str).collect::<Vec<_>>().join(", ")
            )));
        };
        let raw: RawResourceMetadata = serde_json::from_slice(&body)
            .map_err(|_| misconfigured(format!("the resource metadata of {server} is not valid JSON")))?;
        let published = raw
            .resource
            .ok_or_else(|| misconfigured(format!("the resource metadata of {server} names no resource")))?;
        let resource = Url::parse(&published).map_err(|_| {
            misconfigured(format!(
                "the resource metadata of {server} names a resource that is not a URL"
            ))
        })?;
        // The resource is sent as published: it must be what every parser reads it as (a bare
        // origin may leave out its `/`).
        if resource.as_str() != published && resource.as_str() != format!("{published}/") {
            return Err(misconfigured(format!(
                "the resource metadata of {server} names a resource that is not in canonical form"
            )));
        }
        if !resource_covers(&resource, server) {
            return Err(misconfigured(format!(
                "the resource metadata names resource {resource}, which is not {server}"
            )));
        }
        let issuer_text = raw.authorization_servers.first().ok_or_else(|| {
            misconfigured(format!(
                "the resource metadata of {server} names no authorization server"
            ))
        })?;
        let issuer = parse_endpoint_url("authorization_servers", issuer_text)
            .map_err(|error| misconfigured(format!("the resource metadata names {error}")))?;
        let authorization_server = self
            .authorization_server(provider, issuer_text, &issuer, server)
            .await?;
        let scopes = challenge.scopes().unwrap_or(raw.scopes_supported);
        Ok(McpAuthorization {
            resource: published,
            scopes,
            server: authorization_server,
        })
    }

    /// The unauthenticated request an MCP client starts with (an `initialize`), for its 401's
    /// challenge; any other answer has none. Only the status and headers are read.
    async fn probe(&self, provider: &str, server: &Url) -> Result<Option<BearerChallenge>, ServiceError> {
        check_discovered("the MCP server URL", server, server)
            .map_err(|message| ServiceError::misconfigured(provider, message))?;
        let initialize = serde_json::json!({
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": MCP_PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "nexus", "version": env!("CARGO_PKG_VERSION")}
            }
        });
        let request = self
            .outbound
            .client()
            .post(server.clone())
            .header("accept", "application/json, text/event-stream")
            .json(&initialize);
        let budget = nexus_domain::deadline::remaining(Duration::from_secs(10));
        let response = tokio::time::timeout(budget, request.send())
            .await
            .map_err(|_| ServiceError::upstream(provider))?
            .map_err(|_| ServiceError::upstream(provider))?;
        if response.status().is_server_error() {
            return Err(ServiceError::upstream(provider));
        }
        if response.status() != reqwest::StatusCode::UNAUTHORIZED {
            return Ok(None);
        }
        let values = response.headers().get_all(reqwest::header::WWW_AUTHENTICATE);
        Ok(bearer_challenge_of(
            values.iter().filter_map(|value| value.to_str().ok()),
        ))
    }

    /// A JSON document at `url`: `None` when it is not there (a 4xx), so the next location is
    /// tried; a 5xx or a failed call is the upstream's failure. `anchor` is the MCP server: the
    /// document may be inside (loopback, private) only when the server is.
    async fn fetch(
        &self,
        provider: &str,
        what: &str,
        url: &Url,
        anchor: &Url,
    ) -> Result<Option<Vec<u8>>, ServiceError> {
        check_discovered(what, url, anchor).map_err(|message| ServiceError::misconfigured(provider, message))?;
        self.outbound
            .check_discovered_addresses(what, url, anchor)
            .await
            .map_err(|error| address_error(provider, error))?;
        let Answer { status, body, .. } = self
            .outbound
            .send(
                self.outbound
                    .client()
                    .get(url.clone())
                    .header("accept", "application/json")
                    .header("mcp-protocol-version", MCP_PROTOCOL_VERSION),
            )
            .await
            .map_err(|_| ServiceError::upstream(provider))?;
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(ServiceError::upstream(provider));
        }
        Ok(status.is_success().then_some(body))
    }

    async fn authorization_server(
        &self,
        provider: &str,
        issuer_text: &str,
        issuer: &Url,
        anchor: &Url,
    ) -> Result<AuthorizationServer, ServiceError> {
        let misconfigured = |message: String| ServiceError::misconfigured(provider, message);
        let candidates = server_metadata_urls(issuer);
        let mut found = None;
        for url in &candidates {
            if let Some(body) = self
                .fetch(provider, "authorization server metadata", url, anchor)
                .await?
            {
                found = Some(body);
                break;
            }
        }
        let body = found.ok_or_else(|| {
            misconfigured(format!(
                "the authorization server {issuer_text} publishes no metadata: looked at {}",
                candidates.iter().map(Url::as_str).collect::<Vec<_>>().join(", ")
            ))
        })?;
        let raw: RawServerMetadata = serde_json::from_slice(&body)
            .map_err(|_| misconfigured(format!("the metadata of {issuer_text} is not valid JSON")))?;
        let server = validate_server(raw, issuer_text, anchor).map_err(misconfigured)?;
        for (name, endpoint) in [
            ("token_endpoint", Some(&server.token_endpoint)),
            ("registration_endpoint", server.registration_endpoint.as_ref()),
            ("revocation_endpoint", server.revocation_endpoint.as_ref()),
        ] {
            if let Some(endpoint) = endpoint {
                self.outbound
                    .check_discovered_addresses(name, endpoint, anchor)
                    .await
                    .map_err(|error| address_error(provider, error))?;
            }
        }
        Ok(server)
    }
}

/// An authorization server's metadata, checked: its issuer echoes the one asked for (RFC 8414
/// §3.3), PKCE with S256 is offered, and every endpoint passes the rules of discovered ones.
fn validate_server(raw: RawServerMetadata, issuer: &str, anchor: &Url) -> Result<AuthorizationServer, String> {
    let echoed = raw
        .issuer
        .ok_or_else(|| format!("the metadata of {issuer} names no issuer"))?;
    if !same_issuer(&echoed, issuer) {
        return Err(format!("the metadata of {issuer} names issuer {echoed}"));
    }
    if !raw
        .code_challenge_methods_supported
        .iter()
        .any(|method| method == "S256")
    {
        return Err(format!(
            "the authorization server {issuer} does not offer PKCE with S256 (code_challenge_methods_supported)"
        ));
    }
    let document = format!("the metadata of {issuer}");
    let required = |name: &str, value| required_endpoint(&document, name, value, anchor);
    let optional = |name: &str, value| optional_endpoint(name, value, anchor);
    Ok(AuthorizationServer {
        issuer: echoed,
        authorization_endpoint: required("authorization_endpoint", raw.authorization_endpoint)?,
        token_endpoint: required("token_endpoint", raw.token_endpoint)?,
        registration_endpoint: optional("registration_endpoint", raw.registration_endpoint)?,
        revocation_endpoint: optional("revocation_endpoint", raw.revocation_endpoint)?,
        token_endpoint_auth_methods: raw.token_endpoint_auth_methods_supported,
        scopes_supported: raw.scopes_supported,
        client_id_metadata_documents: raw.client_id_metadata_document_supported,
        iss_parameter: raw.authorization_response_iss_parameter_supported,
    })
}

fn address_error(provider: &str, error: AddressCheckError) -> ServiceError {
    match error {
        AddressCheckError::Inside(message) => ServiceError::misconfigured(provider, message),
        AddressCheckError::Unresolved => ServiceError::upstream(provider),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(raw: &str) -> Url {
        Url::parse(raw).expect("url")
    }

    fn strings(urls: Vec<Url>) -> Vec<String> {
        urls.into_iter().map(String::from).collect()
    }

    #[test]
    fn resource_metadata_is_looked_for_path_inserted_then_at_the_root() {
        assert_eq!(
            strings(resource_metadata_urls(&url("https://mcp.example.com/public/mcp"))),
            [
                "https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp",
                "https://mcp.example.com/.well-known/oauth-protected-resource"
            ]
        );
        assert_eq!(
            strings(resource_metadata_urls(&url("https://mcp.example.com/?x=1"))),
            ["https://mcp.example.com/.well-known/oauth-protected-resource"]
        );
    }

    #[test]
    fn server_metadata_is_looked_for_in_the_specifications_order() {
        assert_eq!(
            strings(server_metadata_urls(&url("https://auth.example.com/tenant1"))),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
                "https://auth.example.com/.well-known/openid-configuration/tenant1",
                "https://auth.example.com/tenant1/.well-known/openid-configuration"
            ]
        );
        assert_eq!(
            strings(server_metadata_urls(&url("https://auth.example.com/"))),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server",
                "https://auth.example.com/.well-known/openid-configuration"
            ]
        );
    }

    #[test]
    fn a_resource_covers_its_own_url_and_those_below() {
        let server = url("https://mcp.example.com/v1/mcp");
        for covering in [
            "https://mcp.example.com/v1/mcp",
            "https://mcp.example.com/v1/mcp/",
            "https://mcp.example.com/v1",
            "https://mcp.example.com",
        ] {
            assert!(resource_covers(&url(covering), &server), "{covering}");
        }
        for other in [
            "https://mcp.example.com/v1/mc",
            "https://mcp.example.com/v2/mcp",
            "https://other.example.com/v1/mcp",
            "http://mcp.example.com/v1/mcp",
            "https://mcp.example.com:8443/v1/mcp",
            "https://mcp.example.com/v1/mcp/tools",
        ] {
            assert!(!resource_covers(&url(other), &server), "{other}");
        }
    }

    fn raw_server(issuer: &str) -> RawServerMetadata {
        RawServerMetadata {
            issuer: Some(issuer.to_owned()),
            authorization_endpoint: Some("https://auth.example.com/authorize".into()),
            token_endpoint: Some("https://auth.example.com/token".into()),
            registration_endpoint: Some("https://auth.example.com/register".into()),
            revocation_endpoint: None,
            code_challenge_methods_supported: vec!["plain".into(), "S256".into()],
            token_endpoint_auth_methods_supported: vec!["none".into()],
            scopes_supported: vec![],
            client_id_metadata_document_supported: true,
            authorization_response_iss_parameter_supported: true,
        }
    }

    #[test]
    fn server_metadata_must_echo_its_issuer_and_offer_s256() {
        let anchor = url("https://mcp.example.com/mcp");
        let server = validate_server(
            raw_server("https://auth.example.com"),
            "https://auth.example.com",
            &anchor,
        )
        .expect("valid");
        assert!(server.iss_parameter && server.client_id_metadata_documents);
        let mismatch = validate_server(
            raw_server("https://evil.example.com"),
            "https://auth.example.com",
            &anchor,
        )
        .expect_err("another issuer");
        assert!(mismatch.contains("evil.example.com"), "{mismatch}");
        let mut plain = raw_server("https://auth.example.com");
        plain.code_challenge_methods_supported = vec!["plain".into()];
        assert!(
            validate_server(plain, "https://auth.example.com", &anchor)
                .expect_err("no S256")
                .contains("S256")
        );
        let mut absent = raw_server("https://auth.example.com");
        absent.code_challenge_methods_supported = vec![];
        assert!(
            validate_server(absent, "https://auth.example.com", &anchor).is_err(),
            "absent is refused too"
        );
        let mut inside = raw_server("https://auth.example.com");
        inside.token_endpoint = Some("https://169.254.169.254/token".into());
        assert!(
            validate_server(inside, "https://auth.example.com", &anchor).is_err(),
            "metadata address"
        );
        let mut plain_http = raw_server("https://auth.example.com");
        plain_http.registration_endpoint = Some("http://auth.example.com/register".into());
        assert!(
            validate_server(plain_http, "https://auth.example.com", &anchor).is_err(),
            "http"
        );
    }

    #[tokio::test]
    async fn endpoints_are_checked_again_at_every_use() {
        let discovery = McpDiscovery::new(
            Outbound::new(Duration::from_secs(5)).expect("outbound"),
            Duration::from_secs(60),
        );
        let anchor = url("https://mcp.example.com/mcp");
        let mut server = validate_server(
            raw_server("https://auth.example.com"),
            "https://auth.example.com",
            &anchor,
        )
        .expect("valid when discovered");
        // Since then, its name resolves to this machine (as a rebinding server's would).
        server.token_endpoint = url("https://localhost/token");
        let found = McpAuthorization {
            resource: anchor.to_string(),
            scopes: Vec::new(),
            server,
        };
        assert!(discovery.recheck("p", &found, &anchor).await.is_err());
        // An MCP server on this machine may use endpoints on it.
        let local = url("http://127.0.0.1:9/mcp");
        assert!(discovery.recheck("p", &found, &local).await.is_ok());
    }
}
