//! The Broker's internal API, for a Gateway running in its own process: the Gateway's operations
//! on behalf of an agent, and the reads it served from its cache. Authenticated by a service
//! key, which alone reads nothing: every operation for an agent carries that agent's own key in
//! `X-Nexus-Agent-Key`, and the Broker authenticates it itself in the same call (with the same
//! short cache as its own Gateway) and applies its workspace restriction. A missing, unknown or
//! deleted agent key is 403, and so is a `proxy_only` key asking for a credential.

use crate::auth::ServiceAuth;
use crate::dto::connections::{ConnectionCheck, ConnectionRequest, ConnectionRequested, CredentialResponse};
use crate::dto::internal::{GatewayCredential, ServedReadsReport};
use crate::dto::providers::ProviderCatalog;
use crate::error::ApiResult;
use crate::params::{ProviderNameParam, WorkspaceIdParam};
use crate::path::path_id;
use crate::state::BrokerState;
use nexus_domain::agent_key::{AgentPrincipal, Caller};
use nexus_domain::gateway::ConnectionState;
use nexus_domain::secret::SecretString;
use nexus_domain::{ConnectionId, ServiceError};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, Tags};

#[derive(Tags)]
enum InternalTag {
    /// For a Gateway in its own process (service key)
    Internal,
}

#[derive(ApiResponse, Debug)]
enum Recorded {
    /// Recorded
    #[oai(status = 204)]
    NoContent,
}

#[derive(ApiResponse, Debug)]
enum Requested {
    /// Send the user to `auth_url`
    #[oai(status = 201)]
    Created(Json<ConnectionRequested>),
}

/// The agent a Gateway acts for, authenticated here from the agent's own key.
async fn agent(state: &BrokerState, presented: Option<String>) -> Result<AgentPrincipal, ServiceError> {
    let refused = ServiceError::Forbidden {
        reason: "an operation for an agent needs that agent's valid key in X-Nexus-Agent-Key",
    };
    let Some(key) = presented else {
        return Err(refused);
    };
    match state.agent_keys.authenticate(&SecretString::from(key)).await {
        Ok(principal) => Ok(principal),
        Err(ServiceError::Unauthenticated) => Err(refused),
        Err(other) => Err(other),
    }
}

/// The agent of an operation that hands out a credential: never a `proxy_only` key.
async fn reader(state: &BrokerState, presented: Option<String>) -> Result<AgentPrincipal, ServiceError> {
    let principal = agent(state, presented).await?;
    principal.may_read_credentials()?;
    Ok(principal)
}

/// The internal operations (service key required).
#[derive(Debug)]
pub struct InternalApi;

#[OpenApi]
impl InternalApi {
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
        #[oai(name = "X-Nexus-Agent-Key")] agent_key: Header<Option<String>>,
    ) -> ApiResult<Json<ProviderCatalog>> {
        agent(&state, agent_key.0).await?;
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
        let caller = Caller::agent(&agent(&state, agent_key.0).await?);
        let spec = state.connections.create_consent_spec(&caller, body.0.into()).await?;
        Ok(Requested::Created(Json(spec.into())))
    }

    /// Check a connection, for an agent
    #[oai(
        path = "/v1/internal/connections/:connection_id",
        method = "get",
        operation_id = "internal_connection_check",
        tag = "InternalTag::Internal"
    )]
    async fn internal_connection_check(
        &self,
        _auth: ServiceAuth,
        state: Data<&BrokerState>,
        #[oai(name = "X-Nexus-Agent-Key")] agent_key: Header<Option<String>>,
        #[oai(validator(pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"))]
        connection_id: Path<String>,
    ) -> ApiResult<Json<ConnectionCheck>> {
        let caller = Caller::agent(&agent(&state, agent_key.0).await?);
        let connection = state
            .connections
            .get(&caller, path_id::<ConnectionId>("connection_id", &connection_id)?)
            .await?;
        Ok(Json(ConnectionState::from(connection).into()))
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
        #[oai(validator(pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"))]
        connection_id: Path<String>,
    ) -> ApiResult<Json<GatewayCredential>> {
        let caller = Caller::agent(&reader(&state, agent_key.0).await?);
        let envelope = state
            .connections
            .get_token(&caller, path_id::<ConnectionId>("connection_id", &connection_id)?)
            .await?;
        Ok(Json(state.connections.gateway_read(&caller, envelope).into()))
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
        #[oai(validator(pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"))]
        connection_id: Path<String>,
    ) -> ApiResult<CredentialResponse> {
        let caller = Caller::agent(&reader(&state, agent_key.0).await?);
        let envelope = state
            .connections
            .refresh_token(&caller, path_id::<ConnectionId>("connection_id", &connection_id)?)
            .await?;
        Ok(envelope.into())
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
        workspace_id: Query<WorkspaceIdParam>,
        provider: Query<ProviderNameParam>,
    ) -> ApiResult<Json<GatewayCredential>> {
        let caller = Caller::agent(&reader(&state, agent_key.0).await?);
        let envelope = state
            .connections
            .get_token_by_workspace_and_provider(&caller, &workspace_id, &provider)
            .await?;
        Ok(Json(state.connections.gateway_read(&caller, envelope).into()))
    }

    /// Report reads served from a Gateway's cache
    ///
    /// Each entry counts reads the Gateway served again from its cache under the receipt it got
    /// with the credential. They are audited and counted as reads here; entries whose receipt
    /// this Broker did not sign, or signed more than ten minutes ago, are skipped. Reports are
    /// at least once: a report the Gateway retries after losing the answer may count twice.
    #[oai(
        path = "/v1/internal/reads",
        method = "post",
        operation_id = "internal_reads_report",
        tag = "InternalTag::Internal"
    )]
    async fn internal_reads_report(
        &self,
        auth: ServiceAuth,
        state: Data<&BrokerState>,
        body: Json<ServedReadsReport>,
    ) -> ApiResult<Recorded> {
        let reported = body.0.reads.len();
        let reads = body.0.reads.into_iter().map(Into::into).collect();
        let counted = state.connections.record_served_reads(reads).await?;
        tracing::debug!(service = ?auth.0, reported, counted, "cached reads reported");
        Ok(Recorded::NoContent)
    }
}
