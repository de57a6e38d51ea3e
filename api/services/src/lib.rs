//! Nexus services: the domain service traits implemented over the repositories and the crypto
//! crate. Services never see HTTP; repositories never see plaintext.

mod admin_auth;
mod agent_keys;
mod audit;
mod audit_backlog;
pub mod background;
mod cache;
mod connections;
mod gateway;
pub mod mcp;
mod metrics;
pub mod oauth;
mod outbound_policy;
mod paging;
mod providers;
mod proxy;
mod refresh;
mod repo_errors;
pub mod resolver;
mod return_urls;
mod rotation;
mod webhooks;

pub use admin_auth::AdminKeys;
pub use agent_keys::AgentKeyServiceImpl;
pub use audit::{AuditFlusher, AuditServiceImpl};
pub use audit_backlog::{AuditBacklogSettings, DEFAULT_AUDIT_BUFFER_EVENTS};
pub use cache::CacheEpoch;
#[cfg(feature = "bench")]
pub use connections::seal_captured;
pub use connections::{
    ConnectionDeps, ConnectionServiceImpl, ConnectionSettings, DEFAULT_REFRESH_SKEW_SECONDS, DEFAULT_STALE_IF_ERROR,
    MAX_CAPTURE_ATTEMPTS, apply_strategy, client_metadata_url,
};
pub use gateway::LocalGateway;
pub use metrics::{Metrics, stale_reads as stale_reads_metric};
pub use outbound_policy::OutboundPolicy;
pub use providers::{ProviderServiceImpl, client_secret_aad};
pub use proxy::{BUFFERED_BODY_BYTES, ProxyMetrics, ProxyServiceImpl, ProxySettings};
pub use refresh::{BackgroundRefresh, BackgroundSettings, LEASE_DURATION, Refresher};
pub use return_urls::ReturnUrlPolicy;
pub use rotation::{KeyRotation, RotationReport};
pub use webhooks::{
    DeliveryDeps, DeliveryTask, DeliveryWorker, MAX_ROTATION_GRACE, TargetPolicy, WebhookMetrics, WebhookServiceImpl,
    WebhookSettings,
};
