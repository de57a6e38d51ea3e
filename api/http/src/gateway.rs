//! The Gateway API: what agents, SDKs and MCP servers call, with an agent key. A key restricted
//! to some workspaces sees nothing outside them: the answer there is 404, as for an unknown id.

use crate::auth::AgentAuth;
use crate::dto::connections::{ConnectionCheck, ConnectionRequest, ConnectionRequested, CredentialResponse};
use crate::dto::providers::ProviderCatalog;
use crate::error::ApiResult;
use crate::params::{ProviderNameParam, ScopeListParam, WorkspaceIdParam};
use crate::path::path_id;
use crate::state::GatewayState;
use nexus_domain::ConnectionId;
use nexus_domain::connection::parse_scope_list;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, Tags};

#[derive(Tags)]
enum GatewayTag {
    /// Providers an agent may connect to
    Catalog,
    /// Connecting a workspace to a provider
    Connections,
    /// Credentials, ready to inject
    Tokens,
}

#[derive(ApiResponse, Debug)]
enum Requested {
    /// Send the user to `auth_url`
    #[oai(status = 201)]
    Created(Json<ConnectionRequested>),
}

/// The Gateway's `/v1` operations (agent key required).
#[derive(Debug)]
pub struct GatewayApi;

#[OpenApi]
impl GatewayApi {
    /// List the provider catalog
    ///
    /// Providers an agent may connect to: name, description, auth type, default scopes and API
    /// base URL. Never a secret.
    #[oai(
        path = "/v1/providers",
        method = "get",
        operation_id = "provider_catalog",
        tag = "GatewayTag::Catalog"
    )]
    async fn provider_catalog(&self, auth: AgentAuth, state: Data<&GatewayState>) -> ApiResult<Json<ProviderCatalog>> {
        let providers = state.gateway.catalog(&auth.0).await?;
        Ok(Json(ProviderCatalog {
            items: providers.into_iter().map(Into::into).collect(),
        }))
    }

    /// Request a connection
    ///
    /// Starts connecting a workspace to a provider and returns where to send the user: the
    /// provider's consent page (OAuth2) or Nexus's hosted form (API keys, basic auth). Poll
    /// `check-connection` until it is `active`.
    #[oai(
        path = "/v1/request-connection",
        method = "post",
        operation_id = "connection_request",
        tag = "GatewayTag::Connections"
    )]
    async fn connection_request(
        &self,
        auth: AgentAuth,
        state: Data<&GatewayState>,
        body: Json<ConnectionRequest>,
    ) -> ApiResult<Requested> {
        let spec = state.gateway.request_connection(&auth.0, body.0.into()).await?;
        Ok(Requested::Created(Json(spec.into())))
    }

    /// Check a connection
    ///
    /// `pending` while the user is consenting, then `active`, `failed`, `expired`,
    /// `attention_required` or `revoked`.
    #[oai(
        path = "/v1/check-connection/:connection_id",
        method = "get",
        operation_id = "connection_check",
        tag = "GatewayTag::Connections"
    )]
    async fn connection_check(
        &self,
        auth: AgentAuth,
        state: Data<&GatewayState>,
        #[oai(validator(pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"))]
        connection_id: Path<String>,
        /// Scopes the agent needs (`a,b`): `missing_scopes` names those not granted
        scopes: Query<Option<ScopeListParam>>,
    ) -> ApiResult<Json<ConnectionCheck>> {
        let id = path_id::<ConnectionId>("connection_id", &connection_id)?;
        let wanted = scopes
            .0
            .as_deref()
            .map(|raw| parse_scope_list("scopes", raw))
            .transpose()?;
        let connection = state.gateway.check_connection(&auth.0, id).await?;
        Ok(Json(ConnectionCheck::with_missing(connection, wanted.as_deref())))
    }

    /// Get a connection's credential
    ///
    /// The current credential and the strategy to inject it; refreshed first when it expires
    /// within the skew. When that refresh fails upstream a token still valid is served; an
    /// expired one is 502 `upstream_unavailable` with `Retry-After`, or 502
    /// `provider_misconfigured` when the provider refused Nexus's client (the connection stays
    /// active). Only a provider's `invalid_grant` makes it 409 `attention_required`.
    #[oai(
        path = "/v1/token/:connection_id",
        method = "get",
        operation_id = "token_get",
        tag = "GatewayTag::Tokens"
    )]
    async fn token_get(
        &self,
        auth: AgentAuth,
        state: Data<&GatewayState>,
        #[oai(validator(pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"))]
        connection_id: Path<String>,
        /// Scopes the agent needs (`a,b`): 409 `insufficient_scope` when the grant lacks any
        scopes: Query<Option<ScopeListParam>>,
    ) -> ApiResult<CredentialResponse> {
        let id = path_id::<ConnectionId>("connection_id", &connection_id)?;
        let wanted = scopes
            .0
            .as_deref()
            .map(|raw| parse_scope_list("scopes", raw))
            .transpose()?;
        let envelope = state.gateway.token(&auth.0, id).await?;
        envelope.require_scopes(wanted.as_deref().unwrap_or_default())?;
        Ok(envelope.into())
    }

    /// Refresh a connection's credential
    ///
    /// Forces a refresh and returns the new credential. Concurrent refreshes of one connection,
    /// from any number of Nexus processes, make one call to the provider.
    #[oai(
        path = "/v1/refresh/:connection_id",
        method = "post",
        operation_id = "token_refresh",
        tag = "GatewayTag::Tokens"
    )]
    async fn token_refresh(
        &self,
        auth: AgentAuth,
        state: Data<&GatewayState>,
        #[oai(validator(pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"))]
        connection_id: Path<String>,
    ) -> ApiResult<CredentialResponse> {
        let id = path_id::<ConnectionId>("connection_id", &connection_id)?;
        let envelope = state.gateway.refresh(&auth.0, id).await?;
        Ok(envelope.into())
    }

    /// Resolve a workspace's credential for a provider
    ///
    /// For stateless MCP servers: the credential of the workspace's newest active connection to
    /// the provider, and how to inject it, in one call. With no active connection, the
    /// connection waiting on its user decides: 409 `attention_required` (the user must consent
    /// again) or `connection_pending` (the consent is in progress), with that `connection_id` in
    /// the error body, so the agent can send the user to re-consent it; 404
    /// `connection_not_found` when there is none. Refresh failures are answered as for
    /// `token_get`.
    #[oai(
        path = "/v1/resolve",
        method = "get",
        operation_id = "token_resolve",
        tag = "GatewayTag::Tokens"
    )]
    async fn token_resolve(
        &self,
        auth: AgentAuth,
        state: Data<&GatewayState>,
        workspace_id: Query<WorkspaceIdParam>,
        provider: Query<ProviderNameParam>,
        /// Scopes the agent needs (`a,b`): 409 `insufficient_scope` with `missing_scopes` and
        /// the `connection_id` to consent again when the grant lacks any
        scopes: Query<Option<ScopeListParam>>,
    ) -> ApiResult<CredentialResponse> {
        let wanted = scopes
            .0
            .as_deref()
            .map(|raw| parse_scope_list("scopes", raw))
            .transpose()?;
        let envelope = state.gateway.resolve(&auth.0, &workspace_id, &provider).await?;
        envelope.require_scopes(wanted.as_deref().unwrap_or_default())?;
        Ok(envelope.into())
    }
}
