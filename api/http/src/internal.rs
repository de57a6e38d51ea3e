//! The Broker's internal API, for a Gateway running in its own process: agent-key checks and the
//! Gateway's operations on behalf of an agent. Authenticated by a service key; the agent the
//! Gateway acts for travels in `X-Nexus-Agent-Key-Id` and `X-Nexus-Agent-Workspaces`, and the
//! Broker applies that agent's workspace restriction exactly as the Gateway would.

use crate::auth::ServiceAuth;
use crate::dto::connections::{ConnectionRequest, ConnectionRequested, ConnectionView, CredentialEnvelopeDto};
use crate::dto::providers::ProviderCatalog;
use crate::error::ApiResult;
use crate::state::BrokerState;
use nexus_domain::agent_key::{Actor, Caller};
use nexus_domain::secret::SecretString;
use nexus_domain::{AgentKeyId, ConnectionId, ServiceError, WorkspaceId};
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

/// The workspace value meaning "every workspace".
pub const ALL_WORKSPACES: &str = "*";

/// The agent a Gateway acts for, from its two headers.
fn caller(agent_key_id: &str, workspaces: &str) -> Result<Caller, ServiceError> {
    let key_id: AgentKeyId = agent_key_id
        .parse()
        .map_err(|_| ServiceError::invalid("X-Nexus-Agent-Key-Id", "must be a UUID"))?;
    let workspace_ids = if workspaces == ALL_WORKSPACES {
        None
    } else {
        Some(
            workspaces
                .split(',')
                .map(|w| WorkspaceId::parse(w.trim()).map_err(|m| ServiceError::invalid("X-Nexus-Agent-Workspaces", m)))
                .collect::<Result<Vec<_>, _>>()?,
        )
    };
    Ok(Caller {
        actor: Actor::Agent { key_id },
        workspace_ids,
    })
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
        #[oai(name = "X-Nexus-Agent-Key-Id")] agent_key_id: Header<String>,
        #[oai(name = "X-Nexus-Agent-Workspaces")] workspaces: Header<String>,
        body: Json<ConnectionRequest>,
    ) -> ApiResult<Requested> {
        let caller = caller(&agent_key_id, &workspaces)?;
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
        #[oai(name = "X-Nexus-Agent-Key-Id")] agent_key_id: Header<String>,
        #[oai(name = "X-Nexus-Agent-Workspaces")] workspaces: Header<String>,
        connection_id: Path<String>,
    ) -> ApiResult<Json<ConnectionView>> {
        let caller = caller(&agent_key_id, &workspaces)?;
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
        #[oai(name = "X-Nexus-Agent-Key-Id")] agent_key_id: Header<String>,
        #[oai(name = "X-Nexus-Agent-Workspaces")] workspaces: Header<String>,
        connection_id: Path<String>,
    ) -> ApiResult<Json<CredentialEnvelopeDto>> {
        let caller = caller(&agent_key_id, &workspaces)?;
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
        #[oai(name = "X-Nexus-Agent-Key-Id")] agent_key_id: Header<String>,
        #[oai(name = "X-Nexus-Agent-Workspaces")] workspaces: Header<String>,
        connection_id: Path<String>,
    ) -> ApiResult<Json<CredentialEnvelopeDto>> {
        let caller = caller(&agent_key_id, &workspaces)?;
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
        #[oai(name = "X-Nexus-Agent-Key-Id")] agent_key_id: Header<String>,
        #[oai(name = "X-Nexus-Agent-Workspaces")] workspaces: Header<String>,
        workspace_id: Query<String>,
        provider: Query<String>,
    ) -> ApiResult<Json<CredentialEnvelopeDto>> {
        let caller = caller(&agent_key_id, &workspaces)?;
        let envelope = state
            .connections
            .get_token_by_workspace_and_provider(&caller, &workspace_id, &provider)
            .await?;
        Ok(Json(envelope.into()))
    }
}
