//! Where and as whom Nexus speaks OAuth for one provider and connection: the endpoints
//! (configured, OpenID-discovered, or discovered from a remote MCP server), the client (the
//! operator's, the one registered per issuer, or the one a grant was made with), and for an MCP
//! server the resource every request names and the issuer its callbacks must carry.

use super::discovery::{Discovery, Endpoints};
use super::token_endpoint::{ClientAuth, ClientAuthentication};
use crate::mcp::{McpClients, McpDiscovery};
use nexus_crypto::Keyring;
use nexus_domain::ServiceError;
use nexus_domain::ports::ServiceResult;
use nexus_domain::provider::ProviderSpec;
use nexus_domain::secret::{ExposeSecret, SecretString};
use nexus_repositories::ProviderRecord;
use serde_json::{Value, json};
use std::sync::Arc;
use url::Url;

/// The client a grant is made with. A grant is refreshed and revoked by the same client, so a
/// client Nexus registered is kept with the grant's credential (`Stored`).
#[derive(Clone)]
pub struct GrantClient {
    pub client_id: String,
    pub client_secret: Option<SecretString>,
    pub authentication: ClientAuthentication,
}

impl std::fmt::Debug for GrantClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrantClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "[REDACTED]"))
            .field("authentication", &self.authentication)
            .finish()
    }
}

impl GrantClient {
    pub fn auth(&self) -> ClientAuth<'_> {
        ClientAuth {
            client_id: &self.client_id,
            client_secret: self.client_secret.as_ref(),
            method: self.authentication,
        }
    }

    /// As kept inside a sealed credential.
    pub fn to_json(&self) -> Value {
        json!({
            "client_id": self.client_id,
            "client_secret": self.client_secret.as_ref().map(|s| s.expose_secret().to_owned()),
            "token_endpoint_auth_method": self.authentication.as_str(),
        })
    }

    pub fn from_json(value: &Value) -> Option<Self> {
        Some(Self {
            client_id: value.get("client_id")?.as_str()?.to_owned(),
            client_secret: value
                .get("client_secret")
                .and_then(Value::as_str)
                .map(|s| SecretString::from(s.to_owned())),
            authentication: ClientAuthentication::parse(value.get("token_endpoint_auth_method")?.as_str()?)?,
        })
    }
}

/// Everything one OAuth call for a connection needs.
#[derive(Debug)]
pub struct OAuthParty {
    pub endpoints: Endpoints,
    pub client: GrantClient,
    /// Nexus registered the client (it travels with the grant, and a refusal discards it).
    pub registered: bool,
    /// An MCP server's resource indicator (RFC 8707) for every request, as its metadata
    /// publishes it.
    pub resource: Option<String>,
    /// Whether refreshes name the resource too.
    pub resource_on_refresh: bool,
    /// An MCP server's authorization server: a callback's `iss` must be it (RFC 9207).
    pub issuer: Option<String>,
    /// The server says it names itself in every authorization response.
    pub iss_required: bool,
    /// The MCP server's challenge scopes, else its metadata's `scopes_supported`.
    pub discovered_scopes: Vec<String>,
}

impl OAuthParty {
    /// The resource for a code exchange (and for a refresh, when `refresh`).
    pub fn resource_for(&self, refresh: bool) -> Option<&str> {
        self.resource
            .as_deref()
            .filter(|_| !refresh || self.resource_on_refresh)
    }
}

/// Which client a call uses.
#[derive(Debug, Clone)]
pub enum ClientSource<'a> {
    /// A consent or its code exchange: the operator's client, or the one registered for the
    /// authorization server (made now if needed) with this callback. `issuer`: the MCP
    /// authorization server the consent started at (the exchange goes to it or nowhere).
    Consent {
        redirect_uri: &'a Url,
        issuer: Option<&'a str>,
    },
    /// A refresh or a revocation: the client the grant was made with (`Some` when Nexus
    /// registered it), else the operator's, and the MCP authorization server it was made at.
    /// Never a new registration.
    Grant {
        client: Option<GrantClient>,
        issuer: Option<String>,
    },
}

/// The operator's client's method, unless the authorization server lists the methods it takes
/// and that one is not among them while the other secret method is.
fn supported_method(configured: ClientAuthentication, supported: &[String]) -> ClientAuthentication {
    use ClientAuthentication::{ClientSecretBasic, ClientSecretPost};
    if supported.is_empty() || ClientAuthentication::first_supported(&[configured], supported).is_some() {
        return configured;
    }
    ClientAuthentication::first_supported(&[ClientSecretBasic, ClientSecretPost], supported).unwrap_or(configured)
}

#[derive(Debug)]
pub struct OAuthParties {
    discovery: Arc<Discovery>,
    mcp_discovery: Arc<McpDiscovery>,
    mcp_clients: Arc<McpClients>,
    keyring: Arc<Keyring>,
}

impl OAuthParties {
    pub fn new(
        discovery: Arc<Discovery>,
        mcp_discovery: Arc<McpDiscovery>,
        mcp_clients: Arc<McpClients>,
        keyring: Arc<Keyring>,
    ) -> Self {
        Self {
            discovery,
            mcp_discovery,
            mcp_clients,
            keyring,
        }
    }

    /// The party for `record`'s provider, its URLs filled for the connection (`spec`), with the
    /// client `source` says.
    pub async fn party(
        &self,
        record: &ProviderRecord,
        spec: &ProviderSpec,
        source: ClientSource<'_>,
    ) -> ServiceResult<OAuthParty> {
        let name = spec.name.as_str();
        let oauth = spec
            .oauth
            .as_ref()
            .ok_or_else(|| ServiceError::misconfigured(name, "the provider does not use OAuth2"))?;
        let operators_client = || -> ServiceResult<GrantClient> {
            let client_id = oauth
                .preregistered_client_id()
                .ok_or_else(|| ServiceError::misconfigured(name, "the provider has no client_id"))?;
            Ok(GrantClient {
                client_id: client_id.to_owned(),
                client_secret: Some(crate::connections::open_client_secret(&self.keyring, record)?),
                authentication: oauth.token_endpoint_auth_method.into(),
            })
        };
        let Some(mcp) = &oauth.mcp else {
            return Ok(OAuthParty {
                endpoints: self.discovery.endpoints(name, oauth).await?,
                // Only an MCP grant has a client of Nexus's: anything else is the operator's.
                client: operators_client()?,
                registered: false,
                resource: None,
                resource_on_refresh: false,
                issuer: None,
                iss_required: false,
                discovered_scopes: Vec::new(),
            });
        };
        let found = self.mcp_discovery.discover(name, &mcp.server_url).await?;
        self.mcp_discovery.recheck(name, &found, &mcp.server_url).await?;
        // The grant (or the consent) was made at one authorization server: secrets, codes and
        // refresh tokens go to it only, even when the MCP server now names another.
        let pinned = match &source {
            ClientSource::Consent { issuer, .. } => issuer.map(str::to_owned),
            ClientSource::Grant { issuer, .. } => issuer.clone(),
        };
        if let Some(pinned) = pinned
            && pinned != found.server.issuer
        {
            return Err(ServiceError::misconfigured(
                name,
                format!(
                    "{} now names authorization server {}, not {pinned}, where this grant was made: the user must consent again",
                    mcp.server_url, found.server.issuer
                ),
            ));
        }
        let (client, registered) = match (source, oauth.preregistered_client_id()) {
            (
                ClientSource::Grant {
                    client: Some(client), ..
                },
                _,
            ) => (client, true),
            (_, Some(_)) => {
                let mut client = operators_client()?;
                client.authentication =
                    supported_method(client.authentication, &found.server.token_endpoint_auth_methods);
                (client, false)
            }
            (ClientSource::Grant { client: None, .. }, None) => {
                return Err(ServiceError::misconfigured(
                    name,
                    "the grant's registered client is not stored with it",
                ));
            }
            (ClientSource::Consent { redirect_uri, .. }, None) => (
                self.mcp_clients.client_for(name, &found.server, redirect_uri).await?,
                true,
            ),
        };
        Ok(OAuthParty {
            endpoints: Endpoints {
                authorization_url: found.server.authorization_endpoint.clone(),
                token_url: found.server.token_endpoint.clone(),
                revocation_url: found.server.revocation_endpoint.clone(),
                // An MCP server's tokens are access tokens for it: no id_token is verified.
                issuer: None,
                jwks_uri: None,
            },
            client,
            registered,
            resource: Some(found.resource.clone()),
            resource_on_refresh: mcp.resource_on_refresh,
            issuer: Some(found.server.issuer.clone()),
            iss_required: found.server.iss_parameter,
            discovered_scopes: found.scopes.clone(),
        })
    }

    /// After the authorization server refused Nexus's client: what was discovered for an MCP
    /// provider is discovered again at the next call (it may have moved), and a client Nexus
    /// registered is registered again at the next consent.
    pub async fn refused(&self, spec: &ProviderSpec, party: Option<&OAuthParty>) {
        if let Some(mcp) = spec.oauth.as_ref().and_then(|o| o.mcp.as_ref()) {
            self.mcp_discovery.forget(&mcp.server_url);
        }
        if let Some(party) = party.filter(|party| party.registered)
            && let Some(issuer) = &party.issuer
        {
            self.mcp_clients.discard(issuer, &party.client.client_id).await;
        }
    }
}
