//! `ConnectionService`: consent, callback, capture, token retrieval, refresh and revocation,
//! over the repositories, the keyring and the provider's endpoints.

mod callback;
mod capture;
mod consent;
mod gateway_reads;
mod revoke;
mod stale;
pub(crate) mod stored;
mod strategy;
mod tokens;

use crate::audit::AuditServiceImpl;
use crate::cache::{CacheEpoch, Invalidation, TtlCache};
use crate::metrics::Metrics;
use crate::oauth::{Discovery, Outbound, TokenEndpoint};
use crate::paging::{page, page_size};
use crate::refresh::{Refresher, RefresherDeps};
use crate::repo_errors::internal;
use crate::return_urls::ReturnUrlPolicy;
use async_trait::async_trait;
use chrono::TimeDelta;
use nexus_crypto::{Keyring, StateSigner};
use nexus_domain::agent_key::{Actor, Caller};
use nexus_domain::audit::{AuditEventType, NewAuditEvent, Page};
use nexus_domain::clock::Clock;
use nexus_domain::connection::{
    CallbackParams, CaptureForm, CompletedFlow, Connection, ConnectionQuery, ConsentRequest, ConsentSpec,
    CredentialEnvelope,
};
use nexus_domain::gateway::{GatewayRead, ServedReads};
use nexus_domain::ports::{AuditService, ConnectionService, ServiceResult};
use nexus_domain::secret::SecretString;
use nexus_domain::{ConnectionId, ProviderName, ResourceKind, ServiceError, WorkspaceId};
use nexus_repositories::{
    ActiveConnectionRead, ConnectionBundle, ConnectionRepository, ProviderRecord, ProviderRepository,
    ReadReceiptRepository, RefreshRepository,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use url::Url;

pub use capture::MAX_CAPTURE_ATTEMPTS;
pub(crate) use stored::{Stored, credential_aad, pkce_aad};
pub use strategy::apply_strategy;

pub const DEFAULT_REFRESH_SKEW_SECONDS: i64 = 60;

/// What the connection service needs to know about its deployment.
#[derive(Debug, Clone)]
pub struct ConnectionSettings {
    /// Where browsers reach the Broker: the callback and capture URLs are built on it.
    pub public_url: Url,
    pub return_urls: ReturnUrlPolicy,
    /// Tokens expiring within this are refreshed before they are served.
    pub refresh_skew: TimeDelta,
    /// This process's name in refresh leases.
    pub instance_id: String,
    /// How long after it was read from the database an envelope may still be served from
    /// memory while the database cannot answer (`Nexus-Stale`); zero turns that off.
    pub stale_if_error: std::time::Duration,
}

/// `NEXUS_STALE_IF_ERROR_SECONDS`' default.
pub const DEFAULT_STALE_IF_ERROR: std::time::Duration = std::time::Duration::from_secs(900);

/// The signed state of a consent or capture: which connection, and its single-use nonce.
#[derive(Debug, Serialize, Deserialize)]
struct ConsentState {
    #[serde(rename = "c")]
    connection_id: ConnectionId,
    #[serde(rename = "n")]
    nonce: String,
    /// An MCP server's authorization server when the consent started: the callback's code goes
    /// only to it (a server that names another one meanwhile gets nothing).
    #[serde(rename = "i", default, skip_serializing_if = "Option::is_none")]
    issuer: Option<String>,
}

/// Everything the service is built from.
pub struct ConnectionDeps {
    pub connections: Arc<dyn ConnectionRepository>,
    pub providers: Arc<dyn ProviderRepository>,
    pub keyring: Arc<Keyring>,
    pub signer: Arc<StateSigner>,
    pub audit: Arc<dyn AuditService>,
    pub clock: Arc<dyn Clock>,
    pub outbound: Outbound,
    pub discovery: Arc<Discovery>,
    /// Remote MCP servers: their authorization, discovered from their URLs.
    pub mcp_discovery: Arc<crate::mcp::McpDiscovery>,
    /// The clients Nexus registered with MCP servers' authorization servers.
    pub mcp_clients: Arc<crate::mcp::McpClients>,
    pub metrics: Metrics,
    pub settings: ConnectionSettings,
    /// Shared with the provider service: any change invalidates the envelope cache.
    pub epoch: Arc<CacheEpoch>,
    /// Refresh leases, claiming and fenced writes (the connection repository, usually).
    pub leases: Arc<dyn RefreshRepository>,
    /// Split Gateways' read receipts, each counted once.
    pub receipts: Arc<dyn ReadReceiptRepository>,
}

impl std::fmt::Debug for ConnectionDeps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionDeps")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

pub struct ConnectionServiceImpl {
    connections: Arc<dyn ConnectionRepository>,
    providers: Arc<dyn ProviderRepository>,
    keyring: Arc<Keyring>,
    signer: Arc<StateSigner>,
    audit: Arc<dyn AuditService>,
    clock: Arc<dyn Clock>,
    outbound: Outbound,
    discovery: Arc<Discovery>,
    parties: Arc<crate::oauth::OAuthParties>,
    token_endpoint: TokenEndpoint,
    metrics: Metrics,
    settings: ConnectionSettings,
    refresher: Arc<Refresher>,
    epoch: Arc<CacheEpoch>,
    receipts: Arc<dyn ReadReceiptRepository>,
    /// Envelopes served recently, by connection and by (workspace, provider): the read path
    /// touches no database while they are fresh.
    /// One envelope under both of its keys (by connection, by workspace and provider).
    envelopes: TtlCache<EnvelopeKey, Arc<CachedEnvelope>>,
}

/// An envelope served recently, and from when it is due for refresh: from then on, reads go to
/// the database (and the refresher) again.
#[derive(Debug, Clone)]
struct CachedEnvelope {
    envelope: CredentialEnvelope,
    due_from: Option<chrono::DateTime<chrono::Utc>>,
}

impl CachedEnvelope {
    /// The writes that make it stale: its connection's, and its workspace's target's.
    fn depends_on(&self) -> [Invalidation; 2] {
        [
            Invalidation::Connection(self.envelope.connection_id),
            Invalidation::Target(self.envelope.workspace_id.clone(), self.envelope.provider.clone()),
        ]
    }
}

pub use nexus_domain::gateway::ENVELOPE_CACHE_TTL;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum EnvelopeKey {
    Connection(ConnectionId),
    Target(WorkspaceId, ProviderName),
}

impl ConnectionServiceImpl {
    /// Makes stale what a change to `connection` changed: its own cached envelopes, and its
    /// workspace's resolve target for the provider (another connection may now be the newest
    /// active one). Nothing else in the cache.
    fn invalidate(&self, connection: &nexus_domain::connection::Connection) {
        self.epoch.invalidate(&[
            Invalidation::Connection(connection.id),
            Invalidation::Target(connection.workspace_id.clone(), connection.provider_name.clone()),
        ]);
    }
}

impl std::fmt::Debug for ConnectionServiceImpl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionServiceImpl")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl ConnectionServiceImpl {
    pub fn new(deps: ConnectionDeps) -> Self {
        let envelopes = TtlCache::retaining(ENVELOPE_CACHE_TTL, deps.settings.stale_if_error);
        let token_endpoint = TokenEndpoint::new(deps.outbound.clone());
        let parties = Arc::new(crate::oauth::OAuthParties::new(
            deps.discovery.clone(),
            deps.mcp_discovery,
            deps.mcp_clients,
            deps.keyring.clone(),
        ));
        let refresher = Refresher::new(RefresherDeps {
            connections: deps.connections.clone(),
            leases: deps.leases,
            keyring: deps.keyring.clone(),
            parties: parties.clone(),
            token_endpoint: token_endpoint.clone(),
            audit: deps.audit.clone(),
            clock: deps.clock.clone(),
            metrics: deps.metrics.clone(),
            epoch: deps.epoch.clone(),
            instance_id: deps.settings.instance_id.clone(),
        });
        Self {
            token_endpoint,
            refresher,
            connections: deps.connections,
            providers: deps.providers,
            keyring: deps.keyring,
            signer: deps.signer,
            audit: deps.audit,
            clock: deps.clock,
            outbound: deps.outbound,
            discovery: deps.discovery,
            parties,
            metrics: deps.metrics,
            settings: deps.settings,
            epoch: deps.epoch,
            receipts: deps.receipts,
            envelopes,
        }
    }

    /// The refresher every read and the background refresher go through.
    pub fn refresher(&self) -> Arc<Refresher> {
        self.refresher.clone()
    }

    /// Expires pending connections past their window (the periodic sweep).
    pub async fn sweep_expired(&self) -> ServiceResult<usize> {
        let expired = self
            .connections
            .expire_pending(self.clock.now())
            .await
            .map_err(internal("expiring pending connections"))?;
        for id in &expired {
            self.record(NewAuditEvent::new(AuditEventType::ConnectionExpired, &Actor::System).connection(*id))
                .await;
        }
        Ok(expired.len())
    }

    /// Refreshes `nexus_connections_total` (the periodic poller).
    pub async fn poll_connection_counts(&self) -> ServiceResult<()> {
        let counts = self
            .connections
            .count_by_status()
            .await
            .map_err(internal("counting connections"))?;
        self.metrics.set_connection_counts(&counts);
        Ok(())
    }

    async fn record(&self, event: NewAuditEvent) {
        AuditServiceImpl::record_or_log(self.audit.as_ref(), event).await;
    }

    fn sign_state(&self, connection_id: ConnectionId, nonce: &str, issuer: Option<String>) -> String {
        self.signer.sign(
            &ConsentState {
                connection_id,
                nonce: nonce.to_owned(),
                issuer,
            },
            self.clock.now().timestamp(),
        )
    }

    fn verify_state(&self, state: &str) -> ServiceResult<ConsentState> {
        self.signer
            .verify(state, self.clock.now().timestamp())
            .map_err(|e| match e {
                nexus_crypto::StateError::Expired => ServiceError::InvalidState {
                    reason: "the state has expired",
                },
                nexus_crypto::StateError::BadSignature | nexus_crypto::StateError::Malformed => {
                    ServiceError::InvalidState {
                        reason: "the state is not valid",
                    }
                }
            })
    }

    /// The workspace's newest active connection to the provider. With none, the connection
    /// waiting on its user decides (409 naming it); with nothing at all, 404.
    async fn resolve(
        &self,
        caller: &Caller,
        workspace: &WorkspaceId,
        provider: &ProviderName,
    ) -> ServiceResult<ActiveConnectionRead> {
        let not_found = || ServiceError::not_found(ResourceKind::Connection, format!("{workspace}/{provider}"));
        if !caller.can_access(workspace) {
            return Err(not_found());
        }
        if let Some(read) = self
            .connections
            .find_active_for_read(workspace, provider)
            .await
            .map_err(internal("resolving a connection"))?
        {
            return Ok(read);
        }
        let waiting = self
            .connections
            .find_newest_waiting(workspace, provider)
            .await
            .map_err(internal("resolving a connection"))?;
        Err(waiting
            .and_then(|connection| tokens::unusable(connection.status, connection.id))
            .unwrap_or_else(not_found))
    }

    /// A connection the caller may see; anything else is "not found", whatever the reason.
    async fn visible(&self, caller: &Caller, id: ConnectionId) -> ServiceResult<ConnectionBundle> {
        self.connections
            .find(id)
            .await
            .map_err(internal("reading a connection"))?
            .filter(|bundle| caller.can_access(&bundle.connection.workspace_id))
            .ok_or_else(|| ServiceError::not_found(ResourceKind::Connection, id))
    }

    fn redirect_uri(&self) -> Url {
        endpoint_url(&self.settings.public_url, &["auth", "callback"])
    }
}

/// Captured fields sealed to a connection's credential row exactly as a capture seals them, for
/// the benchmark's bulk seeding (`bench` builds only).
#[cfg(feature = "bench")]
pub fn seal_captured(
    keyring: &Keyring,
    id: ConnectionId,
    values: BTreeMap<String, String>,
) -> nexus_domain::ciphertext::Ciphertext {
    Stored::from_captured(values).seal(keyring, id)
}

/// A provider's client secret, opened with the keyring.
pub(crate) fn open_client_secret(keyring: &Keyring, provider: &ProviderRecord) -> ServiceResult<SecretString> {
    {
        let sealed = provider
            .client_secret
            .as_ref()
            .ok_or_else(|| ServiceError::ProviderMisconfigured {
                provider: provider.provider.spec.name.to_string(),
                message: "no client secret is stored".to_owned(),
            })?;
        let plaintext = keyring
            .decrypt(sealed, &crate::client_secret_aad(provider.provider.id))
            .map_err(|e| ServiceError::internal("opening a client secret", e))?;
        String::from_utf8(plaintext)
            .map(SecretString::from)
            .map_err(|e| ServiceError::internal("decoding a client secret", e))
    }
}

/// Where Nexus serves its Client ID Metadata Document under its public URL (the document's id).
pub fn client_metadata_url(public_url: &Url) -> Url {
    endpoint_url(public_url, &["auth", "client-metadata.json"])
}

/// `base` + path segments, without `//` whatever the base's trailing slash.
pub(crate) fn endpoint_url(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

fn parse_workspace(raw: &str) -> ServiceResult<WorkspaceId> {
    WorkspaceId::parse(raw).map_err(|m| ServiceError::invalid("workspace_id", m))
}

fn parse_provider_name(raw: &str) -> ServiceResult<ProviderName> {
    ProviderName::parse(raw).map_err(|m| ServiceError::invalid("provider", m))
}

// One name per operation: each trait method is the inherent method of the same name, written in
// the file of its flow (consent.rs, callback.rs, capture.rs, tokens.rs, revoke.rs).
#[async_trait]
impl ConnectionService for ConnectionServiceImpl {
    async fn create_consent_spec(&self, caller: &Caller, request: ConsentRequest) -> ServiceResult<ConsentSpec> {
        Self::create_consent_spec(self, caller, request).await
    }

    async fn exchange_code_for_tokens(&self, params: CallbackParams) -> ServiceResult<CompletedFlow> {
        Self::exchange_code_for_tokens(self, params).await
    }

    async fn capture_form(&self, state: &str) -> ServiceResult<CaptureForm> {
        Self::capture_form(self, state).await
    }

    fn client_metadata_document(&self) -> serde_json::Value {
        // A public client: the document names no key, and PKCE proves each exchange.
        serde_json::json!({
            "client_id": client_metadata_url(&self.settings.public_url).as_str(),
            "client_name": "Nexus",
            "redirect_uris": [self.redirect_uri().as_str()],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        })
    }

    async fn save_credential(&self, state: &str, values: BTreeMap<String, String>) -> ServiceResult<CompletedFlow> {
        Self::save_credential(self, state, values).await
    }

    async fn get_token(&self, caller: &Caller, id: ConnectionId) -> ServiceResult<CredentialEnvelope> {
        if let Some(envelope) = self.cached(caller, &EnvelopeKey::Connection(id)).await {
            return Ok(envelope);
        }
        let read_epoch = self.epoch.stamp();
        let bundle = self.visible(caller, id).await;
        self.read_token(caller, bundle, read_epoch, &EnvelopeKey::Connection(id))
            .await
    }

    async fn get_token_by_workspace_and_provider(
        &self,
        caller: &Caller,
        workspace_id: &str,
        provider: &str,
    ) -> ServiceResult<CredentialEnvelope> {
        let workspace = parse_workspace(workspace_id)?;
        let provider = parse_provider_name(provider)?;
        if let Some(envelope) = self
            .cached(caller, &EnvelopeKey::Target(workspace.clone(), provider.clone()))
            .await
        {
            return Ok(envelope);
        }
        self.resolve_token(caller, &workspace, &provider).await
    }

    async fn refresh_token(&self, caller: &Caller, id: ConnectionId) -> ServiceResult<CredentialEnvelope> {
        Self::refresh_token(self, caller, id).await
    }

    async fn revoke(&self, caller: &Caller, id: ConnectionId) -> ServiceResult<()> {
        Self::revoke(self, caller, id).await
    }

    async fn get(&self, caller: &Caller, id: ConnectionId) -> ServiceResult<Connection> {
        Ok(self.visible(caller, id).await?.connection)
    }

    async fn list(&self, caller: &Caller, mut query: ConnectionQuery) -> ServiceResult<Page<Connection>> {
        query.limit = page_size(query.limit)?;
        if let (Some(workspace), false) = (&query.workspace_id, caller.workspace_ids.is_none())
            && !caller.can_access(workspace)
        {
            return Ok(Page {
                items: Vec::new(),
                next_cursor: None,
            });
        }
        let limit = query.limit;
        // A restricted key's workspaces are filtered by the query itself: filtering a page
        // afterwards would return it short (or empty) while more of its rows exist.
        query.workspace_in = caller.workspace_ids.clone();
        if query.workspace_in.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Page {
                items: Vec::new(),
                next_cursor: None,
            });
        }
        let items: Vec<Connection> = self
            .connections
            .list(&query)
            .await
            .map_err(internal("listing connections"))?;
        // The query filtered them; a row outside the caller's workspaces here is a bug, never
        // something to show.
        if items.iter().any(|c| !caller.can_access(&c.workspace_id)) {
            return Err(ServiceError::internal(
                "listing connections",
                "the query returned a connection outside the caller's workspaces",
            ));
        }
        Ok(page(items, limit, |c| c.id.to_string()))
    }

    fn gateway_read(&self, caller: &Caller, envelope: CredentialEnvelope) -> GatewayRead {
        self.receipt_for(caller, envelope)
    }

    async fn record_served_reads(&self, reads: Vec<ServedReads>) -> ServiceResult<usize> {
        self.count_served_reads(reads).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls_never_double_a_slash() {
        for base in [
            "https://nexus.test",
            "https://nexus.test/",
            "https://nexus.test/base/",
            "https://nexus.test/base",
        ] {
            let url = endpoint_url(&Url::parse(base).expect("url"), &["auth", "callback"]);
            assert!(!url.path().contains("//"), "{url}");
            assert!(url.path().ends_with("/auth/callback"), "{url}");
        }
    }
}
