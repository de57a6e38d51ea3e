//! The service traits (ports). Handlers hold them as `Arc<dyn Trait>`: one object-safe shape
//! (via `async_trait`) that both the database-backed services and the remote Broker client
//! implement.

use crate::agent_key::{Actor, AgentKey, AgentPrincipal, IssuedAgentKey, NewAgentKey};
use crate::audit::{AuditEvent, AuditQuery, NewAuditEvent, Page};
use crate::error::ServiceError;
use crate::ids::AgentKeyId;
use crate::provider::{NewProvider, Provider, ProviderPatch, ProviderRef};
use crate::secret::SecretString;
use async_trait::async_trait;

pub type ServiceResult<T> = Result<T, ServiceError>;

/// Registration and maintenance of providers.
#[async_trait]
pub trait ProviderService: Send + Sync {
    async fn create(&self, actor: &Actor, input: NewProvider) -> ServiceResult<Provider>;
    /// Live providers, ordered by name.
    async fn list(&self) -> ServiceResult<Vec<Provider>>;
    async fn get(&self, provider: &ProviderRef) -> ServiceResult<Provider>;
    async fn update(
        &self,
        actor: &Actor,
        provider: &ProviderRef,
        patch: ProviderPatch,
    ) -> ServiceResult<Provider>;
    /// Soft delete. Refuses while active connections exist unless `cascade` revokes them.
    async fn delete(
        &self,
        actor: &Actor,
        provider: &ProviderRef,
        cascade: bool,
    ) -> ServiceResult<()>;
}

/// Agent keys: issued by operators, presented by agents to the Gateway.
#[async_trait]
pub trait AgentKeyService: Send + Sync {
    async fn create(&self, actor: &Actor, input: NewAgentKey) -> ServiceResult<IssuedAgentKey>;
    /// Keys that are not revoked, newest first.
    async fn list(&self) -> ServiceResult<Vec<AgentKey>>;
    async fn delete(&self, actor: &Actor, id: AgentKeyId) -> ServiceResult<()>;
    /// Checks a presented key in constant time; `Unauthenticated` for anything but a live key.
    async fn authenticate(&self, presented: &SecretString) -> ServiceResult<AgentPrincipal>;
}

/// Operator authentication for the Broker.
#[async_trait]
pub trait AdminAuthenticator: Send + Sync {
    async fn authenticate(&self, presented: &SecretString) -> ServiceResult<Actor>;
}

#[async_trait]
pub trait AuditService: Send + Sync {
    async fn record(&self, event: NewAuditEvent) -> ServiceResult<()>;
    async fn list(&self, query: AuditQuery) -> ServiceResult<Page<AuditEvent>>;
}

/// Readiness: the database answers and its migrations are current.
#[async_trait]
pub trait HealthService: Send + Sync {
    async fn ready(&self) -> ServiceResult<()>;
}
