//! Connection bodies: consent requests, connection views, the credential envelope.

use super::strategy::StrategyDto;
use super::text::{Plain, Text};
use chrono::{DateTime, Utc};
use nexus_domain::ConnectionId;
use nexus_domain::connection::{
    Connection, ConsentRequest, ConsentSpec, CredentialEnvelope, RefreshOutcome, missing_scopes,
};
use nexus_domain::gateway::ConnectionState;
use nexus_domain::status::ConnectionStatus;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object};
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename = "ConnectionStatus", rename_all = "snake_case")]
pub enum ConnectionStatusDto {
    Pending,
    Active,
    Failed,
    Expired,
    AttentionRequired,
    Revoked,
}

impl From<ConnectionStatus> for ConnectionStatusDto {
    fn from(status: ConnectionStatus) -> Self {
        match status {
            ConnectionStatus::Pending => Self::Pending,
            ConnectionStatus::Active => Self::Active,
            ConnectionStatus::Failed => Self::Failed,
            ConnectionStatus::Expired => Self::Expired,
            ConnectionStatus::AttentionRequired => Self::AttentionRequired,
            ConnectionStatus::Revoked => Self::Revoked,
        }
    }
}

impl From<ConnectionStatusDto> for ConnectionStatus {
    fn from(dto: ConnectionStatusDto) -> Self {
        match dto {
            ConnectionStatusDto::Pending => Self::Pending,
            ConnectionStatusDto::Active => Self::Active,
            ConnectionStatusDto::Failed => Self::Failed,
            ConnectionStatusDto::Expired => Self::Expired,
            ConnectionStatusDto::AttentionRequired => Self::AttentionRequired,
            ConnectionStatusDto::Revoked => Self::Revoked,
        }
    }
}

/// Start a consent (OAuth2) or a credential capture (API key, basic auth)
#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
#[oai(deny_unknown_fields)]
pub struct ConsentCreate {
    #[oai(validator(pattern = r"^[A-Za-z0-9._:-]+$", max_length = 128))]
    pub workspace_id: Text,
    /// Provider name (or id)
    #[oai(validator(pattern = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$", max_length = 63))]
    pub provider: Text,
    /// Scopes to request; the provider's defaults when absent or empty
    #[oai(validator(pattern = r"^[\x21\x23-\x5B\x5D-\x7E]+$", max_length = 256))]
    pub scopes: Option<Vec<Text>>,
    /// Where the user's browser returns, with `status`, `connection_id` and `provider` added
    #[oai(validator(pattern = r"^https?://[^\s]+$", max_length = 2048))]
    pub return_url: Text,
    /// Re-consent this existing connection, keeping its id; with `scopes`, an incremental consent
    /// asking for the union of its grant and these
    pub connection_id: Option<Uuid>,
    /// Values for the provider's connection parameters (its `connection_params`, such as a
    /// Zendesk `subdomain`): each checked against the declared pattern, stored with the
    /// connection and used for all its URLs. A re-consent keeps the connection's values
    #[oai(validator(max_properties = 20))]
    pub connection_params: Option<BTreeMap<String, String>>,
}

impl From<ConsentCreate> for ConsentRequest {
    fn from(dto: ConsentCreate) -> Self {
        Self {
            workspace_id: dto.workspace_id.plain(),
            provider: dto.provider.plain(),
            scopes: dto.scopes.plain(),
            return_url: dto.return_url.plain(),
            connection_id: dto.connection_id.map(ConnectionId::from_uuid),
            connection_params: dto.connection_params.unwrap_or_default(),
        }
    }
}

/// Where to send the user to connect
#[derive(Object, Clone)]
#[oai(skip_serializing_if_is_none)]
pub struct ConsentCreated {
    pub connection_id: Uuid,
    /// The provider's consent page, or Nexus's hosted capture form
    pub auth_url: String,
    /// The signed, single-use state carried by `auth_url`
    pub state: String,
    /// The user must finish before this instant
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for ConsentCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsentCreated")
            .field("connection_id", &self.connection_id)
            .finish_non_exhaustive()
    }
}

impl From<ConsentSpec> for ConsentCreated {
    fn from(spec: ConsentSpec) -> Self {
        Self {
            connection_id: spec.connection_id.as_uuid(),
            auth_url: spec.auth_url.into(),
            state: spec.state,
            expires_at: spec.expires_at,
        }
    }
}

/// A connection as operators see it; no secrets
#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
#[oai(rename = "Connection")]
pub struct ConnectionView {
    pub connection_id: Uuid,
    pub workspace_id: String,
    pub provider: String,
    pub provider_id: Uuid,
    pub status: ConnectionStatusDto,
    pub requested_scopes: Vec<String>,
    /// What the provider granted, when it said (absent until then)
    #[oai(skip_serializing_if_is_none)]
    pub granted_scopes: Option<Vec<String>>,
    /// Why the last consent or refresh failed (such as `access_denied`, `invalid_grant`)
    pub error: Option<String>,
    /// Set while a consent or capture is in progress
    pub consent_expires_at: Option<DateTime<Utc>>,
    /// The values this connection gave the provider's connection parameters
    pub connection_params: BTreeMap<String, String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub activated_at: Option<DateTime<Utc>>,
}

fn scopes(scopes: Vec<nexus_domain::Scope>) -> Vec<String> {
    scopes.into_iter().map(String::from).collect()
}

impl From<Connection> for ConnectionView {
    fn from(c: Connection) -> Self {
        Self {
            connection_id: c.id.as_uuid(),
            workspace_id: c.workspace_id.into(),
            provider: c.provider_name.into(),
            provider_id: c.provider_id.as_uuid(),
            status: c.status.into(),
            requested_scopes: scopes(c.requested_scopes),
            granted_scopes: c.granted_scopes.map(scopes),
            error: c.error,
            consent_expires_at: c.consent_expires_at,
            connection_params: c.connection_params,
            created_at: c.created_at,
            updated_at: c.updated_at,
            activated_at: c.activated_at,
        }
    }
}

#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
pub struct ConnectionPage {
    pub items: Vec<ConnectionView>,
    /// Pass as `cursor` for the next page; absent on the last page
    pub next_cursor: Option<String>,
}

/// The current credential and how to inject it. Never a refresh token, client secret or PKCE verifier
#[derive(Object, Clone)]
#[oai(skip_serializing_if_is_none)]
#[oai(rename = "CredentialEnvelope")]
pub struct CredentialEnvelopeDto {
    pub connection_id: Uuid,
    pub workspace_id: String,
    /// Provider name
    pub provider: String,
    pub strategy: StrategyDto,
    /// `access_token` and `token_type` for OAuth2; the captured fields for API keys and basic auth
    pub credentials: BTreeMap<String, String>,
    /// When the credential expires; absent when it does not
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: Vec<String>,
    /// The provider's API base URL for this connection, its parameters filled in
    pub api_base_url: Option<String>,
    /// The origins this credential may be sent to (`scheme://host[:port]`, lowercase, an IDN in
    /// punycode, a default port left out; a host may start with `*.`, standing for exactly one
    /// label): `api_base_url`'s and those the provider declares. SDKs refuse, without sending,
    /// a request to any other origin, and never carry the credential across a redirect to
    /// another origin. Empty: the provider declares none, and nothing may carry it
    pub api_origins: Vec<String>,
    /// Headers the provider's API wants besides the credential (Notion's `Notion-Version`, an
    /// account id), set before the strategy is applied (the strategy's header wins). Absent: none
    pub api_headers: Option<BTreeMap<String, String>>,
    /// Query parameters the provider's API wants besides the credential, added before the
    /// strategy is applied. Absent: none
    pub api_query: Option<BTreeMap<String, String>>,
}

/// A credential read's answer: the envelope, and `Nexus-Stale` when it came from memory.
#[derive(ApiResponse, Debug)]
pub enum CredentialResponse {
    /// The credential and how to inject it
    #[oai(status = 200)]
    Ok(
        Json<CredentialEnvelopeDto>,
        /// Present only when the database (or, behind a split Gateway, the Broker) could not
        /// answer and the credential was served from memory: how many seconds ago it was read
        /// from the database, at most `NEXUS_STALE_IF_ERROR_SECONDS`. The credential is valid
        /// beyond the refresh skew, but a revocation made meanwhile elsewhere is not seen yet
        #[oai(header = "Nexus-Stale")]
        Option<u64>,
    ),
}

impl From<CredentialEnvelope> for CredentialResponse {
    fn from(envelope: CredentialEnvelope) -> Self {
        let stale = envelope.stale_seconds;
        Self::Ok(Json(envelope.into()), stale)
    }
}

impl std::fmt::Debug for CredentialEnvelopeDto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialEnvelope")
            .field("connection_id", &self.connection_id)
            .field("provider", &self.provider)
            .field("credentials", &self.credentials.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl From<CredentialEnvelope> for CredentialEnvelopeDto {
    fn from(e: CredentialEnvelope) -> Self {
        Self {
            connection_id: e.connection_id.as_uuid(),
            workspace_id: e.workspace_id.into(),
            provider: e.provider.into(),
            strategy: e.strategy.into(),
            credentials: e.credentials.0,
            expires_at: e.expires_at,
            scopes: scopes(e.scopes),
            api_base_url: e.api_base_url.map(String::from),
            api_origins: e.api_origins.iter().map(ToString::to_string).collect(),
            api_headers: (!e.api_headers.0.is_empty()).then_some(e.api_headers.0),
            api_query: (!e.api_query.0.is_empty()).then_some(e.api_query.0),
        }
    }
}

/// The outcome of a forced refresh
#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
pub struct RefreshResult {
    pub connection_id: Uuid,
    pub status: ConnectionStatusDto,
    pub expires_at: Option<DateTime<Utc>>,
}

impl From<RefreshOutcome> for RefreshResult {
    fn from(r: RefreshOutcome) -> Self {
        Self {
            connection_id: r.connection_id.as_uuid(),
            status: r.status.into(),
            expires_at: r.expires_at,
        }
    }
}

/// An agent asks to connect a workspace to a provider
#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
#[oai(deny_unknown_fields)]
pub struct ConnectionRequest {
    #[oai(validator(pattern = r"^[A-Za-z0-9._:-]+$", max_length = 128))]
    pub workspace_id: Text,
    /// Provider name, as in the catalog
    #[oai(validator(pattern = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$", max_length = 63))]
    pub provider: Text,
    /// Scopes to request; the provider's defaults when absent or empty
    #[oai(validator(pattern = r"^[\x21\x23-\x5B\x5D-\x7E]+$", max_length = 256))]
    pub scopes: Option<Vec<Text>>,
    /// Where the user's browser returns afterwards
    #[oai(validator(pattern = r"^https?://[^\s]+$", max_length = 2048))]
    pub return_url: Text,
    /// Values for the provider's connection parameters (its `connection_params`, such as a
    /// Zendesk `subdomain`): each checked against the declared pattern, stored with the
    /// connection and used for all its URLs. A re-consent keeps the connection's values
    #[oai(validator(max_properties = 20))]
    pub connection_params: Option<BTreeMap<String, String>>,
    /// An existing connection of the workspace to consent again, keeping its id; with `scopes`,
    /// an incremental consent that asks for the union of its grant and these
    pub connection_id: Option<Uuid>,
}

impl From<ConnectionRequest> for ConsentRequest {
    fn from(dto: ConnectionRequest) -> Self {
        Self {
            workspace_id: dto.workspace_id.plain(),
            provider: dto.provider.plain(),
            scopes: dto.scopes.plain(),
            return_url: dto.return_url.plain(),
            connection_id: dto.connection_id.map(ConnectionId::from_uuid),
            connection_params: dto.connection_params.unwrap_or_default(),
        }
    }
}

/// Where to send the user: the provider's consent page, or Nexus's hosted form
#[derive(Object, Clone)]
#[oai(skip_serializing_if_is_none)]
pub struct ConnectionRequested {
    pub connection_id: Uuid,
    pub auth_url: String,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for ConnectionRequested {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionRequested")
            .field("connection_id", &self.connection_id)
            .finish_non_exhaustive()
    }
}

impl From<ConsentSpec> for ConnectionRequested {
    fn from(spec: ConsentSpec) -> Self {
        Self {
            connection_id: spec.connection_id.as_uuid(),
            auth_url: spec.auth_url.into(),
            expires_at: spec.expires_at,
        }
    }
}

/// A connection's state, as an agent polls it: `pending` while the user is still consenting
#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
pub struct ConnectionCheck {
    pub connection_id: Uuid,
    pub status: ConnectionStatusDto,
    pub provider: String,
    pub workspace_id: String,
    /// What the provider granted, or what was requested while it has not said
    pub scopes: Vec<String>,
    /// What the provider granted (the requested scopes when it did not say); empty before the
    /// first grant, and unchanged by an incremental consent the user has not completed
    pub granted_scopes: Vec<String>,
    /// With `scopes=` in the request: those not granted (empty when all are)
    pub missing_scopes: Option<Vec<String>>,
    pub updated_at: DateTime<Utc>,
    /// Why the consent or the last refresh failed
    pub error: Option<String>,
}

impl From<ConnectionState> for ConnectionCheck {
    fn from(c: ConnectionState) -> Self {
        Self::with_missing(c, None)
    }
}

impl ConnectionCheck {
    /// The check, with the scopes of `wanted` the connection was not granted.
    pub fn with_missing(c: ConnectionState, wanted: Option<&[nexus_domain::Scope]>) -> Self {
        let missing = wanted.map(|wanted| scopes(missing_scopes(&c.granted_scopes, wanted)));
        Self {
            connection_id: c.id.as_uuid(),
            status: c.status.into(),
            provider: c.provider.into(),
            workspace_id: c.workspace_id.into(),
            granted_scopes: scopes(c.granted_scopes),
            scopes: scopes(c.scopes),
            missing_scopes: missing,
            updated_at: c.updated_at,
            error: c.error,
        }
    }
}
