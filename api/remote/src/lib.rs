//! A Gateway in its own process: the domain service traits it needs, implemented over the
//! generated Broker client with a service key. The Gateway holds no database and no encryption
//! key; every answer comes from the Broker, and every Broker error is passed on unchanged.
//! A Broker that cannot be reached is `broker_unavailable` (503, retryable).

mod convert;
mod errors;

use async_trait::async_trait;
use nexus_client::broker::{Client, types};
use nexus_domain::agent_key::{Actor, AgentKey, AgentPrincipal, Caller, IssuedAgentKey, NewAgentKey};
use nexus_domain::audit::Page;
use nexus_domain::connection::{
    CallbackParams, CaptureForm, CompletedFlow, Connection, ConnectionQuery, ConsentRequest, ConsentSpec,
    CredentialEnvelope,
};
use nexus_domain::ports::{AgentKeyService, ConnectionService, HealthService, ProviderService, ServiceResult};
use nexus_domain::provider::{NewProvider, Provider, ProviderPatch, ProviderRef, ProviderSummary};
use nexus_domain::secret::{ExposeSecret, SecretString};
use nexus_domain::{AgentKeyId, ConnectionId, ServiceError};
use std::collections::BTreeMap;
use std::sync::Arc;

pub use errors::remote_error;

/// The Broker, seen from a Gateway.
#[derive(Debug, Clone)]
pub struct RemoteBroker {
    client: Client,
}

impl RemoteBroker {
    pub fn new(base_url: &str, service_key: &SecretString) -> Result<Arc<Self>, String> {
        let client = nexus_client::broker_client(base_url, service_key.expose_secret()).map_err(|e| e.to_string())?;
        Ok(Arc::new(Self { client }))
    }
}

/// Operations a split Gateway never performs: they belong to the Broker.
fn not_on_gateway(operation: &str) -> ServiceError {
    ServiceError::Remote {
        status: 403,
        code: nexus_domain::ErrorCode::Forbidden,
        message: format!("{operation} is a Broker operation, not available on a Gateway"),
        field: None,
        connection_id: None,
        retry_after_seconds: None,
    }
}

/// The agent's own key, which the Broker checks again on every call: a Gateway's word for who
/// the agent is counts for nothing there.
fn agent_key(caller: &Caller) -> ServiceResult<String> {
    caller
        .presented_key
        .as_ref()
        .map(|key| key.expose().to_owned())
        .ok_or_else(|| ServiceError::internal("calling the Broker", "an agent request without the agent's key"))
}

#[async_trait]
impl AgentKeyService for RemoteBroker {
    async fn create(&self, _actor: &Actor, _input: NewAgentKey) -> ServiceResult<IssuedAgentKey> {
        Err(not_on_gateway("creating an agent key"))
    }

    async fn list(&self) -> ServiceResult<Vec<AgentKey>> {
        Err(not_on_gateway("listing agent keys"))
    }

    async fn delete(&self, _actor: &Actor, _id: AgentKeyId) -> ServiceResult<()> {
        Err(not_on_gateway("deleting an agent key"))
    }

    /// Asks the Broker every time, so a key deleted there is refused here at once.
    async fn authenticate(&self, presented: &SecretString) -> ServiceResult<AgentPrincipal> {
        let check = self
            .client
            .internal_agent_key_authenticate()
            .body(types::AgentKeyPresented {
                key: presented.expose_secret().to_owned(),
            })
            .send()
            .await
            .map_err(remote_error)?
            .into_inner();
        convert::principal(check)
    }
}

#[async_trait]
impl ProviderService for RemoteBroker {
    async fn create(&self, _actor: &Actor, _input: NewProvider) -> ServiceResult<Provider> {
        Err(not_on_gateway("registering a provider"))
    }

    async fn list(&self) -> ServiceResult<Vec<Provider>> {
        Err(not_on_gateway("listing provider configurations"))
    }

    async fn get(&self, _provider: &ProviderRef) -> ServiceResult<Provider> {
        Err(not_on_gateway("viewing a provider configuration"))
    }

    async fn update(&self, _actor: &Actor, _provider: &ProviderRef, _patch: ProviderPatch) -> ServiceResult<Provider> {
        Err(not_on_gateway("updating a provider"))
    }

    async fn delete(&self, _actor: &Actor, _provider: &ProviderRef, _cascade: bool) -> ServiceResult<()> {
        Err(not_on_gateway("deleting a provider"))
    }

    async fn catalog(&self) -> ServiceResult<Vec<ProviderSummary>> {
        let catalog = self
            .client
            .internal_provider_catalog()
            .send()
            .await
            .map_err(remote_error)?
            .into_inner();
        catalog.items.into_iter().map(convert::summary).collect()
    }
}

#[async_trait]
impl ConnectionService for RemoteBroker {
    async fn create_consent_spec(&self, caller: &Caller, request: ConsentRequest) -> ServiceResult<ConsentSpec> {
        let key = agent_key(caller)?;
        let requested = self
            .client
            .internal_connection_request()
            .x_nexus_agent_key(key)
            .body(types::ConnectionRequest {
                workspace_id: request.workspace_id,
                provider: request.provider,
                scopes: request.scopes.unwrap_or_default(),
                return_url: request.return_url,
            })
            .send()
            .await
            .map_err(remote_error)?
            .into_inner();
        convert::consent_spec(requested)
    }

    async fn exchange_code_for_tokens(&self, _params: CallbackParams) -> ServiceResult<CompletedFlow> {
        Err(not_on_gateway("the OAuth callback"))
    }

    async fn capture_form(&self, _state: &str) -> ServiceResult<CaptureForm> {
        Err(not_on_gateway("the capture form"))
    }

    async fn save_credential(&self, _state: &str, _values: BTreeMap<String, String>) -> ServiceResult<CompletedFlow> {
        Err(not_on_gateway("the capture form"))
    }

    async fn get_token(&self, caller: &Caller, id: ConnectionId) -> ServiceResult<CredentialEnvelope> {
        let key = agent_key(caller)?;
        let envelope = self
            .client
            .internal_token_get()
            .x_nexus_agent_key(key)
            .connection_id(id.to_string())
            .send()
            .await
            .map_err(remote_error)?
            .into_inner();
        convert::envelope(envelope)
    }

    async fn get_token_by_workspace_and_provider(
        &self,
        caller: &Caller,
        workspace_id: &str,
        provider: &str,
    ) -> ServiceResult<CredentialEnvelope> {
        let key = agent_key(caller)?;
        let envelope = self
            .client
            .internal_token_resolve()
            .x_nexus_agent_key(key)
            .workspace_id(workspace_id)
            .provider(provider)
            .send()
            .await
            .map_err(remote_error)?
            .into_inner();
        convert::envelope(envelope)
    }

    async fn refresh_token(&self, caller: &Caller, id: ConnectionId) -> ServiceResult<CredentialEnvelope> {
        let key = agent_key(caller)?;
        let envelope = self
            .client
            .internal_token_refresh()
            .x_nexus_agent_key(key)
            .connection_id(id.to_string())
            .send()
            .await
            .map_err(remote_error)?
            .into_inner();
        convert::envelope(envelope)
    }

    async fn revoke(&self, _caller: &Caller, _id: ConnectionId) -> ServiceResult<()> {
        Err(not_on_gateway("revoking a connection"))
    }

    async fn get(&self, caller: &Caller, id: ConnectionId) -> ServiceResult<Connection> {
        let key = agent_key(caller)?;
        let view = self
            .client
            .internal_connection_view()
            .x_nexus_agent_key(key)
            .connection_id(id.to_string())
            .send()
            .await
            .map_err(remote_error)?
            .into_inner();
        convert::connection(view)
    }

    async fn list(&self, _caller: &Caller, _query: ConnectionQuery) -> ServiceResult<Page<Connection>> {
        Err(not_on_gateway("listing connections"))
    }
}

#[async_trait]
impl HealthService for RemoteBroker {
    /// Ready when the Broker is ready.
    async fn ready(&self) -> ServiceResult<()> {
        self.client.health_ready().send().await.map_err(remote_error)?;
        Ok(())
    }
}
