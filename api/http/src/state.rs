//! What each API needs from the layers below: service traits only.

use nexus_domain::ports::ServiceResult;
use nexus_domain::ports::{
    AdminAuthenticator, AgentKeyService, AuditService, BackgroundTaskService, ConnectionService, GatewayService,
    HealthService, ProviderService, WebhookService,
};
use nexus_domain::proxy::ProxyService;
use std::sync::Arc;

/// Services behind the Broker API.
#[derive(Clone)]
pub struct BrokerState {
    pub admin_auth: Arc<dyn AdminAuthenticator>,
    /// Authenticates Gateways running in their own process.
    pub service_auth: Arc<dyn AdminAuthenticator>,
    pub providers: Arc<dyn ProviderService>,
    pub connections: Arc<dyn ConnectionService>,
    pub agent_keys: Arc<dyn AgentKeyService>,
    pub audit: Arc<dyn AuditService>,
    pub webhooks: Arc<dyn WebhookService>,
    pub health: Arc<dyn HealthService>,
    /// Forwards a split Gateway's proxied requests (`/v1/internal/proxy`).
    pub proxy: Arc<dyn ProxyService>,
    /// What runs in the background of this process (`/v1/background-tasks`).
    pub background: Arc<dyn BackgroundTaskService>,
    /// Everything `/metrics` exposes.
    pub metrics: prometheus::Registry,
}

/// The port behind the Gateway API: this process's services, or (split deployment) the Broker.
#[derive(Clone)]
pub struct GatewayState {
    pub gateway: Arc<dyn GatewayService>,
    /// `/v1/proxy`: this process's proxy, or (split) the Broker's.
    pub proxy: Arc<dyn ProxyService>,
    pub health: Arc<dyn HealthService>,
    /// Serves the benchmark's reference routes (only in a `--features bench` build, and only
    /// when asked).
    pub bench_baseline: Option<BenchBaseline>,
}

/// What the benchmark's reference routes use: agent-key authentication, and one keyed select.
#[derive(Clone)]
pub struct BenchBaseline {
    pub agent_keys: Arc<dyn AgentKeyService>,
    pub keyed_select: Arc<dyn KeyedSelect>,
}

/// One keyed select of a workspace's active connection, and nothing else: the database's own
/// price of a read, measured through the same HTTP stack as resolve.
#[async_trait::async_trait]
pub trait KeyedSelect: Send + Sync {
    async fn active_connection_of(&self, workspace: &str) -> ServiceResult<Option<String>>;
}

impl std::fmt::Debug for BrokerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerState").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for BenchBaseline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BenchBaseline").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for GatewayState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayState").finish_non_exhaustive()
    }
}
