//! The Gateway's port in one process: each operation authenticates the agent's key through the
//! agent-key service (cached briefly) and calls the connection and provider services as that
//! agent. A `proxy_only` key is refused every operation that returns a credential.

use async_trait::async_trait;
use nexus_domain::ConnectionId;
use nexus_domain::agent_key::{AgentPrincipal, Caller, PresentedKey};
use nexus_domain::connection::{ConsentRequest, ConsentSpec, CredentialEnvelope};
use nexus_domain::gateway::ConnectionState;
use nexus_domain::ports::{AgentKeyService, ConnectionService, GatewayService, ProviderService, ServiceResult};
use nexus_domain::provider::ProviderSummary;
use nexus_domain::secret::SecretString;
use std::sync::Arc;

/// The Gateway API over this process's services.
pub struct LocalGateway {
    agent_keys: Arc<dyn AgentKeyService>,
    providers: Arc<dyn ProviderService>,
    connections: Arc<dyn ConnectionService>,
}

impl std::fmt::Debug for LocalGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalGateway").finish_non_exhaustive()
    }
}

impl LocalGateway {
    pub fn new(
        agent_keys: Arc<dyn AgentKeyService>,
        providers: Arc<dyn ProviderService>,
        connections: Arc<dyn ConnectionService>,
    ) -> Self {
        Self {
            agent_keys,
            providers,
            connections,
        }
    }

    async fn principal(&self, agent: &PresentedKey) -> ServiceResult<AgentPrincipal> {
        self.agent_keys
            .authenticate(&SecretString::from(agent.expose().to_owned()))
            .await
    }

    async fn caller(&self, agent: &PresentedKey) -> ServiceResult<Caller> {
        Ok(Caller::agent(&self.principal(agent).await?))
    }

    /// The caller of an operation that hands out a credential: never a `proxy_only` key.
    async fn reader(&self, agent: &PresentedKey) -> ServiceResult<Caller> {
        let principal = self.principal(agent).await?;
        principal.may_read_credentials()?;
        Ok(Caller::agent(&principal))
    }
}

#[async_trait]
impl GatewayService for LocalGateway {
    async fn catalog(&self, agent: &PresentedKey) -> ServiceResult<Vec<ProviderSummary>> {
        self.caller(agent).await?;
        self.providers.catalog().await
    }

    async fn request_connection(&self, agent: &PresentedKey, request: ConsentRequest) -> ServiceResult<ConsentSpec> {
        let caller = self.caller(agent).await?;
        self.connections.create_consent_spec(&caller, request).await
    }

    async fn check_connection(&self, agent: &PresentedKey, id: ConnectionId) -> ServiceResult<ConnectionState> {
        let caller = self.caller(agent).await?;
        Ok(self.connections.get(&caller, id).await?.into())
    }

    async fn token(&self, agent: &PresentedKey, id: ConnectionId) -> ServiceResult<CredentialEnvelope> {
        let caller = self.reader(agent).await?;
        self.connections.get_token(&caller, id).await
    }

    async fn resolve(
        &self,
        agent: &PresentedKey,
        workspace_id: &str,
        provider: &str,
    ) -> ServiceResult<CredentialEnvelope> {
        let caller = self.reader(agent).await?;
        self.connections
            .get_token_by_workspace_and_provider(&caller, workspace_id, provider)
            .await
    }

    async fn refresh(&self, agent: &PresentedKey, id: ConnectionId) -> ServiceResult<CredentialEnvelope> {
        let caller = self.reader(agent).await?;
        self.connections.refresh_token(&caller, id).await
    }
}
