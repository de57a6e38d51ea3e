//! The Broker API: operators register providers, issue agent keys and read the audit trail.

use crate::auth::AdminAuth;
use crate::dto::agent_keys::{AgentKeyCreate, AgentKeyCreated, AgentKeyList};
use crate::dto::audit::{AuditEventPage, AuditEventTypeDto};
use crate::dto::catalog::{TemplateDto, TemplateListDto, TemplateSummaryDto};
use crate::dto::connections::{
    ConnectionPage, ConnectionStatusDto, ConnectionView, ConsentCreate, ConsentCreated, CredentialResponse,
    RefreshResult,
};
use crate::dto::providers::{AuthTypeDto, ProviderCreate, ProviderList, ProviderUpdate, ProviderView};
use crate::error::ApiResult;
use crate::path::path_id;
use crate::state::BrokerState;
use chrono::{DateTime, Utc};
use nexus_domain::agent_key::Caller;
use nexus_domain::audit::AuditQuery;
use nexus_domain::connection::ConnectionQuery;
use nexus_domain::provider::ProviderRef;
use nexus_domain::{AgentKeyId, AuditEventId, ConnectionId, ServiceError};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
enum BrokerTag {
    /// Providers Nexus can connect to
    Providers,
    /// Consents, connections and their credentials
    Connections,
    /// Keys agents use on the Gateway
    AgentKeys,
    /// What happened, to what, by whom
    Audit,
}

#[derive(ApiResponse, Debug)]
enum ProviderCreated {
    /// The provider is registered
    #[oai(status = 201)]
    Created(Json<ProviderView>),
}

#[derive(ApiResponse, Debug)]
enum AgentKeyIssued {
    /// The key is created; `key` is shown this once
    #[oai(status = 201)]
    Created(Json<AgentKeyCreated>),
}

#[derive(ApiResponse, Debug)]
enum ConsentStarted {
    /// Send the user to `auth_url`
    #[oai(status = 201)]
    Created(Json<ConsentCreated>),
}

#[derive(ApiResponse, Debug)]
enum Deleted {
    /// Deleted
    #[oai(status = 204)]
    NoContent,
}

/// The Broker's `/v1` operations (admin key required).
#[derive(Debug)]
pub struct BrokerApi;

fn provider_ref(raw: &str) -> Result<ProviderRef, ServiceError> {
    ProviderRef::parse(raw)
}

#[OpenApi]
impl BrokerApi {
    /// Register a provider
    ///
    /// OAuth2 providers need `client_id`, `client_secret`, and either `authorization_url` with
    /// `token_url` or an `issuer` for OpenID discovery. API-key and basic-auth providers take an
    /// optional `credential_schema`. The client secret is encrypted and never returned.
    #[oai(
        path = "/v1/providers",
        method = "post",
        operation_id = "provider_create",
        tag = "BrokerTag::Providers"
    )]
    async fn provider_create(
        &self,
        auth: AdminAuth,
        state: Data<&BrokerState>,
        body: Json<ProviderCreate>,
    ) -> ApiResult<ProviderCreated> {
        let provider = state.providers.create(&auth.0, body.0.into()).await?;
        Ok(ProviderCreated::Created(Json(provider.into())))
    }

    /// List the provider catalog's templates
    ///
    /// Ready templates (endpoints, scopes, strategy, connection parameters) for hundreds of
    /// providers, ordered by name; `category` and `auth_type` narrow the list. `unsupported`
    /// names what a provider created from a template would need that Nexus does not do yet.
    #[oai(
        path = "/v1/catalog",
        method = "get",
        operation_id = "template_list",
        tag = "BrokerTag::Providers"
    )]
    async fn template_list(
        &self,
        _auth: AdminAuth,
        state: Data<&BrokerState>,
        #[oai(validator(pattern = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$", max_length = 63))] category: Query<Option<String>>,
        auth_type: Query<Option<AuthTypeDto>>,
    ) -> ApiResult<Json<TemplateListDto>> {
        let items = state
            .providers
            .templates()
            .iter()
            // Filtered before they are converted: most of the catalog is left out by a filter.
            .filter(|template| category.0.as_ref().is_none_or(|c| template.categories.contains(c)))
            .filter(|template| {
                auth_type
                    .0
                    .is_none_or(|kind| AuthTypeDto::from(template.auth_type()) == kind)
            })
            .map(TemplateSummaryDto::from)
            .collect();
        Ok(Json(TemplateListDto { items }))
    }

    /// View a template of the provider catalog
    ///
    /// 404 `template_not_found` when the catalog has no template of that name.
    #[oai(
        path = "/v1/catalog/:name",
        method = "get",
        operation_id = "template_view",
        tag = "BrokerTag::Providers"
    )]
    async fn template_view(
        &self,
        _auth: AdminAuth,
        state: Data<&BrokerState>,
        #[oai(validator(pattern = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$", max_length = 63))] name: Path<String>,
    ) -> ApiResult<Json<TemplateDto>> {
        let template = nexus_domain::catalog::find(state.providers.templates(), &name.0)
            .ok_or_else(|| ServiceError::not_found(nexus_domain::ResourceKind::Template, &name.0))?;
        Ok(Json(TemplateDto::from(template)))
    }

    /// List providers
    #[oai(
        path = "/v1/providers",
        method = "get",
        operation_id = "provider_list",
        tag = "BrokerTag::Providers"
    )]
    async fn provider_list(&self, _auth: AdminAuth, state: Data<&BrokerState>) -> ApiResult<Json<ProviderList>> {
        let providers = state.providers.list().await?;
        Ok(Json(ProviderList {
            items: providers.into_iter().map(Into::into).collect(),
        }))
    }

    /// View a provider
    ///
    /// `provider` is the provider's id or its name.
    #[oai(
        path = "/v1/providers/:provider",
        method = "get",
        operation_id = "provider_view",
        tag = "BrokerTag::Providers"
    )]
    async fn provider_view(
        &self,
        _auth: AdminAuth,
        state: Data<&BrokerState>,
        #[oai(validator(
            pattern = r"^([a-z][a-z0-9]*(-[a-z0-9]+)*|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$",
            max_length = 63
        ))]
        provider: Path<String>,
    ) -> ApiResult<Json<ProviderView>> {
        let provider = state.providers.get(&provider_ref(&provider)?).await?;
        Ok(Json(provider.into()))
    }

    /// Update a provider
    ///
    /// Absent fields are left as they are; `null` clears an optional field. The result is
    /// validated like a new provider. The auth type cannot change.
    #[oai(
        path = "/v1/providers/:provider",
        method = "patch",
        operation_id = "provider_update",
        tag = "BrokerTag::Providers"
    )]
    async fn provider_update(
        &self,
        auth: AdminAuth,
        state: Data<&BrokerState>,
        #[oai(validator(
            pattern = r"^([a-z][a-z0-9]*(-[a-z0-9]+)*|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$",
            max_length = 63
        ))]
        provider: Path<String>,
        body: Json<ProviderUpdate>,
    ) -> ApiResult<Json<ProviderView>> {
        let provider = state
            .providers
            .update(&auth.0, &provider_ref(&provider)?, body.0.into())
            .await?;
        Ok(Json(provider.into()))
    }

    /// Delete a provider
    ///
    /// Soft delete. Refused with 409 `provider_in_use` while the provider has live connections,
    /// unless `cascade=true`, which revokes them and erases their credentials.
    #[oai(
        path = "/v1/providers/:provider",
        method = "delete",
        operation_id = "provider_delete",
        tag = "BrokerTag::Providers"
    )]
    async fn provider_delete(
        &self,
        auth: AdminAuth,
        state: Data<&BrokerState>,
        #[oai(validator(
            pattern = r"^([a-z][a-z0-9]*(-[a-z0-9]+)*|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$",
            max_length = 63
        ))]
        provider: Path<String>,
        cascade: Query<Option<bool>>,
    ) -> ApiResult<Deleted> {
        state
            .providers
            .delete(&auth.0, &provider_ref(&provider)?, cascade.0.unwrap_or(false))
            .await?;
        Ok(Deleted::NoContent)
    }

    /// Start a consent
    ///
    /// Creates a pending connection (or, with `connection_id`, re-consents an existing one under
    /// the same id) and returns where to send the user: the provider's consent page for OAuth2,
    /// Nexus's hosted form for API keys and basic auth. `return_url` must be allowed by
    /// `NEXUS_ALLOWED_RETURN_URLS`.
    #[oai(
        path = "/v1/consents",
        method = "post",
        operation_id = "consent_create",
        tag = "BrokerTag::Connections"
    )]
    async fn consent_create(
        &self,
        auth: AdminAuth,
        state: Data<&BrokerState>,
        body: Json<ConsentCreate>,
    ) -> ApiResult<ConsentStarted> {
        let spec = state
            .connections
            .create_consent_spec(&Caller::unrestricted(auth.0), body.0.into())
            .await?;
        Ok(ConsentStarted::Created(Json(spec.into())))
    }

    /// List connections
    ///
    /// Oldest first; filter by `workspace_id`, `provider` and `status`; page with `cursor` and
    /// `limit` (default 50, at most 500).
    #[oai(
        path = "/v1/connections",
        method = "get",
        operation_id = "connection_list",
        tag = "BrokerTag::Connections"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn connection_list(
        &self,
        auth: AdminAuth,
        state: Data<&BrokerState>,
        #[oai(validator(pattern = r"^[A-Za-z0-9._:-]+$", max_length = 128))] workspace_id: Query<Option<String>>,
        #[oai(validator(pattern = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$", max_length = 63))] provider: Query<Option<String>>,
        status: Query<Option<ConnectionStatusDto>>,
        cursor: Query<Option<Uuid>>,
        #[oai(validator(minimum(value = "0"), maximum(value = "500")))] limit: Query<Option<u32>>,
    ) -> ApiResult<Json<ConnectionPage>> {
        let query = ConnectionQuery {
            workspace_id: workspace_id
                .0
                .map(|w| nexus_domain::WorkspaceId::parse(&w).map_err(|m| ServiceError::invalid("workspace_id", m)))
                .transpose()?,
            provider: provider
                .0
                .map(|p| nexus_domain::ProviderName::parse(&p).map_err(|m| ServiceError::invalid("provider", m)))
                .transpose()?,
            status: status.0.map(Into::into),
            after: cursor.0.map(ConnectionId::from_uuid),
            limit: limit.0.map_or(0, u64::from),
            workspace_in: None,
        };
        let page = state.connections.list(&Caller::unrestricted(auth.0), query).await?;
        Ok(Json(ConnectionPage {
            items: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        }))
    }

    /// View a connection
    #[oai(
        path = "/v1/connections/:connection_id",
        method = "get",
        operation_id = "connection_view",
        tag = "BrokerTag::Connections"
    )]
    async fn connection_view(
        &self,
        auth: AdminAuth,
        state: Data<&BrokerState>,
        #[oai(validator(pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"))]
        connection_id: Path<String>,
    ) -> ApiResult<Json<ConnectionView>> {
        let id = path_id::<ConnectionId>("connection_id", &connection_id)?;
        let connection = state.connections.get(&Caller::unrestricted(auth.0), id).await?;
        Ok(Json(connection.into()))
    }

    /// Get a connection's token
    ///
    /// The credential envelope; a token expiring within the refresh skew is refreshed first.
    #[oai(
        path = "/v1/connections/:connection_id/token",
        method = "get",
        operation_id = "connection_token_get",
        tag = "BrokerTag::Connections"
    )]
    async fn token_get(
        &self,
        auth: AdminAuth,
        state: Data<&BrokerState>,
        #[oai(validator(pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"))]
        connection_id: Path<String>,
    ) -> ApiResult<CredentialResponse> {
        let id = path_id::<ConnectionId>("connection_id", &connection_id)?;
        let envelope = state.connections.get_token(&Caller::unrestricted(auth.0), id).await?;
        Ok(envelope.into())
    }

    /// Resolve a workspace's token for a provider
    ///
    /// The envelope of the workspace's newest active connection to the provider. With none, 409
    /// `attention_required` or `connection_pending` names the connection waiting on its user
    /// (`connection_id` in the error body); 404 when there is none.
    #[oai(
        path = "/v1/token",
        method = "get",
        operation_id = "connection_token_resolve",
        tag = "BrokerTag::Connections"
    )]
    async fn token_resolve(
        &self,
        auth: AdminAuth,
        state: Data<&BrokerState>,
        #[oai(validator(pattern = r"^[A-Za-z0-9._:-]+$", max_length = 128))] workspace_id: Query<String>,
        #[oai(validator(pattern = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$", max_length = 63))] provider: Query<String>,
    ) -> ApiResult<CredentialResponse> {
        let envelope = state
            .connections
            .get_token_by_workspace_and_provider(&Caller::unrestricted(auth.0), &workspace_id, &provider)
            .await?;
        Ok(envelope.into())
    }

    /// Refresh a connection's token
    ///
    /// Forces a refresh and persists the result. 409 `not_refreshable` for static credentials;
    /// 409 `attention_required` when the provider refused (the user must consent again).
    #[oai(
        path = "/v1/connections/:connection_id/refresh",
        method = "post",
        operation_id = "connection_refresh",
        tag = "BrokerTag::Connections"
    )]
    async fn connection_refresh(
        &self,
        auth: AdminAuth,
        state: Data<&BrokerState>,
        #[oai(validator(pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"))]
        connection_id: Path<String>,
    ) -> ApiResult<Json<RefreshResult>> {
        let id = path_id::<ConnectionId>("connection_id", &connection_id)?;
        let outcome = state.connections.refresh(&Caller::unrestricted(auth.0), id).await?;
        Ok(Json(outcome.into()))
    }

    /// Revoke a connection
    ///
    /// Erases its credentials and marks it revoked, then calls the provider's revocation
    /// endpoint when it has one (a failure there is logged and audited, not returned).
    #[oai(
        path = "/v1/connections/:connection_id",
        method = "delete",
        operation_id = "connection_revoke",
        tag = "BrokerTag::Connections"
    )]
    async fn connection_revoke(
        &self,
        auth: AdminAuth,
        state: Data<&BrokerState>,
        #[oai(validator(pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"))]
        connection_id: Path<String>,
    ) -> ApiResult<Deleted> {
        let id = path_id::<ConnectionId>("connection_id", &connection_id)?;
        state.connections.revoke(&Caller::unrestricted(auth.0), id).await?;
        Ok(Deleted::NoContent)
    }

    /// Create an agent key
    ///
    /// The key is in this answer only; Nexus stores its hash. Restrict it to workspaces with
    /// `workspace_ids`: outside them the Gateway answers 404, as for a connection that does not exist.
    #[oai(
        path = "/v1/agent-keys",
        method = "post",
        operation_id = "agent_key_create",
        tag = "BrokerTag::AgentKeys"
    )]
    async fn agent_key_create(
        &self,
        auth: AdminAuth,
        state: Data<&BrokerState>,
        body: Json<AgentKeyCreate>,
    ) -> ApiResult<AgentKeyIssued> {
        let issued = state.agent_keys.create(&auth.0, body.0.into()).await?;
        Ok(AgentKeyIssued::Created(Json(issued.into())))
    }

    /// List agent keys
    #[oai(
        path = "/v1/agent-keys",
        method = "get",
        operation_id = "agent_key_list",
        tag = "BrokerTag::AgentKeys"
    )]
    async fn agent_key_list(&self, _auth: AdminAuth, state: Data<&BrokerState>) -> ApiResult<Json<AgentKeyList>> {
        let keys = state.agent_keys.list().await?;
        Ok(Json(AgentKeyList {
            items: keys.into_iter().map(Into::into).collect(),
        }))
    }

    /// Delete an agent key
    ///
    /// The key stops working at once.
    #[oai(
        path = "/v1/agent-keys/:agent_key_id",
        method = "delete",
        operation_id = "agent_key_delete",
        tag = "BrokerTag::AgentKeys"
    )]
    async fn agent_key_delete(
        &self,
        auth: AdminAuth,
        state: Data<&BrokerState>,
        #[oai(validator(pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"))]
        agent_key_id: Path<String>,
    ) -> ApiResult<Deleted> {
        state
            .agent_keys
            .delete(&auth.0, path_id::<AgentKeyId>("agent_key_id", &agent_key_id)?)
            .await?;
        Ok(Deleted::NoContent)
    }

    /// List audit events
    ///
    /// Oldest first. Filter by `event_type`, `connection_id` and `since`; page with `cursor`
    /// (the `next_cursor` of the previous page) and `limit` (default 50, at most 500).
    #[oai(
        path = "/v1/audit-events",
        method = "get",
        operation_id = "audit_event_list",
        tag = "BrokerTag::Audit"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn audit_event_list(
        &self,
        _auth: AdminAuth,
        state: Data<&BrokerState>,
        event_type: Query<Option<AuditEventTypeDto>>,
        connection_id: Query<Option<Uuid>>,
        since: Query<Option<DateTime<Utc>>>,
        cursor: Query<Option<Uuid>>,
        #[oai(validator(minimum(value = "0"), maximum(value = "500")))] limit: Query<Option<u32>>,
    ) -> ApiResult<Json<AuditEventPage>> {
        let event_type = event_type.0.map(Into::into);
        let page = state
            .audit
            .list(AuditQuery {
                event_type,
                connection_id: connection_id.0.map(ConnectionId::from_uuid),
                since: since.0,
                after: cursor.0.map(AuditEventId::from_uuid),
                limit: limit.0.map_or(0, u64::from),
            })
            .await?;
        Ok(Json(page.into()))
    }
}
