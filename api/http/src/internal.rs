//! The Broker's internal API, for a Gateway running in its own process: agent-key checks and the
//! Gateway's operations on behalf of an agent. Authenticated by a service key, which alone reads
//! nothing: every operation for an agent carries that agent's own key in `X-Nexus-Agent-Key`,
//! and the Broker authenticates it itself (with the same short cache as its own Gateway) and
//! applies its workspace restriction. A missing, unknown or deleted agent key is 403.

use crate::auth::ServiceAuth;
use crate::dto::connections::{ConnectionRequest, ConnectionRequested, ConnectionView, CredentialEnvelopeDto};
use crate::dto::providers::ProviderCatalog;
use crate::error::ApiResult;
use crate::state::BrokerState;
use nexus_domain::agent_key::Caller;
use nexus_domain::secret::SecretString;
use nexus_domain::{ConnectionId, ServiceError};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
enum InternalTag {
    /// For a Gateway in its own process (service key)
    Internal,
}

/// A presented agent key, to check
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct AgentKeyPresented {
    pub key: String,
}

impl std::fmt::Debug for AgentKeyPresented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AgentKeyPresented([REDACTED])")
    }
}

/// Whether an agent key is live, and what it may reach
#[derive(Object, Debug, Clone)]
pub struct AgentKeyCheck {
    pub valid: bool,
    pub agent_key_id: Option<Uuid>,
    pub workspace_ids: Vec<String>,
    pub all_workspaces: bool,
}

#[derive(ApiResponse, Debug)]
enum Requested {
    /// Send the user to `auth_url`
    #[oai(status = 201)]
    Created(Json<ConnectionRequested>),
}

/// The agent a Gateway acts for, authenticated here from the agent's own key.
async fn agent(state: &BrokerState, presented: Option<String>) -> Result<Caller, ServiceError> {
    let refused = ServiceError::Forbidden {
        reason: "an operation for an agent needs that agent's valid key in X-Nexus-Agent-Key",
    };
    let Some(key) = presented else {
        return Err(refused);
    };
    match state.agent_keys.authenticate(&SecretString::from(key)).await {
        Ok(principal) => Ok(Caller::agent(&principal)),
        Err(ServiceError::Unauthenticated) => Err(refused),
        Err(other) => Err(other),
    }
}

fn connection_id(raw: &str) -> Result<ConnectionId, ServiceError> {
    raw.parse()
        .map_err(|_| ServiceError::invalid("connection_id", "must be a UUID"))
}

/// The internal operations (service key required).
#[derive(Debug)]
pub struct InternalApi;

#[OpenApi]
impl InternalApi {
    /// Check an agent key
    ///
    /// `valid: false` for a key that is unknown, malformed or deleted.
    #[oai(
        path = "/v1/internal/agent-keys/authenticate",
        method = "post",
        operation_id = "internal_agent_key_authenticate",
        tag = "InternalTag::Internal"
    )]
    async fn internal_agent_key_authenticate(
        &self,
        auth: ServiceAuth,
        state: Data<&BrokerState>,
        body: Json<AgentKeyPresented>,
    ) -> ApiResult<Json<AgentKeyCheck>> {
        tracing::debug!(service = ?auth.0, "agent key check for a Gateway");
        let check = match state.agent_keys.authenticate(&SecretString::from(body.0.key)).await {
            Ok(principal) => AgentKeyCheck {
                valid: true,
                agent_key_id: Some(principal.key_id.as_uuid()),
                all_workspaces: principal.workspace_ids.is_none(),
                workspace_ids: principal
                    .workspace_ids
                    .map(|ids| ids.into_iter().map(String::from).collect())
                    .unwrap_or_default(),
            },
            Err(ServiceError::Unauthenticated) => AgentKeyCheck {
                valid: false,
                agent_key_id: None,
                workspace_ids: Vec::new(),
                all_workspaces: false,
            },
            Err(other) => return Err(other.into()),
        };
        Ok(Json(check))
    }

    /// The provider catalog, for a Gateway
    #[oai(
        path = "/v1/internal/providers",
        method = "get",
        operation_id = "internal_provider_catalog",
        tag = "InternalTag::Internal"
    )]
    async fn internal_provider_catalog(
        &self,
        _auth: ServiceAuth,
        state: Data<&BrokerState>,
    ) -> ApiResult<Json<ProviderCatalog>> {
        let providers = state.providers.catalog().await?;
        Ok(Json(ProviderCatalog {
            items: providers.into_iter().map(Into::into).collect(),
        }))
    }

    /// Request a connection, for an agent
    #[oai(
        path = "/v1/internal/request-connection",
        method = "post",
        operation_id = "internal_connection_request",
        tag = "InternalTag::Internal"
    )]
    async fn internal_connection_request(
        &self,
        _auth: ServiceAuth,
        state: Data<&BrokerState>,
        #[oai(name = "X-Nexus-Agent-Key")] agent_key: Header<Option<String>>,
        body: Json<ConnectionRequest>,
    ) -> ApiResult<Requested> {
        let caller = agent(&state, agent_key.0).await?;
        let spec = state.connections.create_consent_spec(&caller, body.0.into()).await?;
        Ok(Requested::Created(Json(spec.into())))
    }

    /// View a connection, for an agent
    #[oai(
        path = "/v1/internal/connections/:connection_id",
        method = "get",
        operation_id = "internal_connection_view",
        tag = "InternalTag::Internal"
    )]
    async fn internal_connection_view(
        &self,
        _auth: ServiceAuth,
        state: Data<&BrokerState>,
        #[oai(name = "X-Nexus-Agent-Key")] agent_key: Header<Option<String>>,
        connection_id: Path<String>,
    ) -> ApiResult<Json<ConnectionView>> {
        let caller = agent(&state, agent_key.0).await?;
        let connection = state
            .connections
            .get(&caller, self::connection_id(&connection_id)?)
            .await?;
        Ok(Json(connection.into()))
    }

    /// Get a connection's credential, for an agent
    #[oai(
        path = "/v1/internal/token/:connection_id",
        method = "get",
        operation_id = "internal_token_get",
        tag = "InternalTag::Internal"
    )]
    async fn internal_token_get(
        &self,
        _auth: ServiceAuth,
        state: Data<&BrokerState>,
        #[oai(name = "X-Nexus-Agent-Key")] agent_key: Header<Option<String>>,
        connection_id: Path<String>,
    ) -> ApiResult<Json<CredentialEnvelopeDto>> {
        let caller = agent(&state, agent_key.0).await?;
        let envelope = state
            .connections
            .get_token(&caller, self::connection_id(&connection_id)?)
            .await?;
        Ok(Json(envelope.into()))
    }

    /// Refresh a connection's credential, for an agent
    #[oai(
        path = "/v1/internal/refresh/:connection_id",
        method = "post",
        operation_id = "internal_token_refresh",
        tag = "InternalTag::Internal"
    )]
    async fn internal_token_refresh(
        &self,
        _auth: ServiceAuth,
        state: Data<&BrokerState>,
        #[oai(name = "X-Nexus-Agent-Key")] agent_key: Header<Option<String>>,
        connection_id: Path<String>,
    ) -> ApiResult<Json<CredentialEnvelopeDto>> {
        let caller = agent(&state, agent_key.0).await?;
        let envelope = state
            .connections
            .refresh_token(&caller, self::connection_id(&connection_id)?)
            .await?;
        Ok(Json(envelope.into()))
    }

    /// Resolve a workspace's credential for a provider, for an agent
    #[oai(
        path = "/v1/internal/resolve",
        method = "get",
        operation_id = "internal_token_resolve",
        tag = "InternalTag::Internal"
    )]
    async fn internal_token_resolve(
        &self,
        _auth: ServiceAuth,
        state: Data<&BrokerState>,
        #[oai(name = "X-Nexus-Agent-Key")] agent_key: Header<Option<String>>,
        workspace_id: Query<String>,
        provider: Query<String>,
    ) -> ApiResult<Json<CredentialEnvelopeDto>> {
        let caller = agent(&state, agent_key.0).await?;
        let envelope = state
            .connections
            .get_token_by_workspace_and_provider(&caller, &workspace_id, &provider)
            .await?;
        Ok(Json(envelope.into()))
    }
}
