//! The Gateway API: what agents, SDKs and MCP servers call, with an agent key.

use crate::auth::AgentAuth;
use crate::dto::providers::ProviderCatalog;
use crate::error::ApiResult;
use crate::state::GatewayState;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{OpenApi, Tags};

#[derive(Tags)]
enum GatewayTag {
    /// Providers an agent may connect to
    Catalog,
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
        tracing::debug!(agent_key_id = %auth.0.key_id, "catalog read");
        let providers = state.providers.list().await?;
        Ok(Json(ProviderCatalog {
            items: providers.into_iter().map(Into::into).collect(),
        }))
    }
}
