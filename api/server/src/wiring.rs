//! Wiring: repositories over the database, services over the repositories, API state over the
//! services. The one place that knows every concrete type.

use crate::config::Settings;
use crate::database::DatabaseHealth;
use nexus_crypto::StateSigner;
use nexus_domain::clock::{Clock, SystemClock};
use nexus_domain::ports::AuditService;
use nexus_domain::proxy::ProxyService;
use nexus_http::{BrokerState, GatewayState, HttpMetrics};
use nexus_repositories::{
    DbMetrics, SqlAgentKeyRepository, SqlAuditRepository, SqlClientRegistrationRepository, SqlConnectionRepository,
    SqlProviderRepository, SqlReadReceiptRepository, SqlWebhookOutboxRepository, SqlWebhookRepository, Timed,
};
use nexus_services::background::{
    AuditFlushTask, AuditRetentionTask, BackgroundMetrics, BackgroundTask, ConnectionSweepTask, Driver, Schedule,
};
use nexus_services::mcp::{McpClients, McpDiscovery};
use nexus_services::oauth::{Discovery, Outbound};
use nexus_services::{
    AdminKeys, AgentKeyServiceImpl, AuditBacklogSettings, AuditFlusher, AuditServiceImpl, BackgroundRefresh,
    CacheEpoch, ConnectionDeps, ConnectionServiceImpl, ConnectionSettings, DeliveryDeps, DeliveryTask, DeliveryWorker,
    LocalGateway, Metrics, OutboundPolicy, ProviderServiceImpl, ProxyMetrics, ProxyServiceImpl, TargetPolicy,
    WebhookMetrics, WebhookServiceImpl,
};
use prometheus::Registry;
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use std::time::Duration;

/// Outbound calls to providers give up after this (and never outlive the inbound request).
const OUTBOUND_TIMEOUT: Duration = Duration::from_secs(10);

/// The client every call to a provider goes through; it fails when no CA bundle can be loaded.
pub fn outbound_client() -> anyhow::Result<Outbound> {
    Ok(Outbound::new(OUTBOUND_TIMEOUT)?)
}
/// How long an OpenID discovery document is trusted before it is fetched again.
const DISCOVERY_TTL: Duration = Duration::from_secs(3600);

/// The states of both APIs, built over one database, and what the background tasks need.
#[derive(Debug)]
pub struct States {
    pub broker: BrokerState,
    pub gateway: GatewayState,
    /// For the benchmark's baseline route.
    pub agent_keys: Arc<AgentKeyServiceImpl>,
    pub connections: Arc<ConnectionServiceImpl>,
    pub http_metrics: HttpMetrics,
    /// Every background job of the process (background refresh, webhook delivery, the
    /// connection sweep, audit flush and retention), run until shutdown.
    pub background: Arc<Driver>,
}

/// `outbound` is built first by the caller: a missing CA bundle stops the start before the
/// database is touched.
pub fn build(settings: Settings, db: DatabaseConnection, outbound: Outbound) -> anyhow::Result<States> {
    let background_refresh = settings.background_refresh.clone();
    let instance_id = format!("nexus-{}", uuid::Uuid::new_v4());
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let registry = Registry::new();
    let _ = crate::build_info::register(&registry);
    let keyring = Arc::new(settings.keyring);
    // Every repository is wrapped in its timing decorator.
    let db_metrics = DbMetrics::new(&registry);
    let metrics = Metrics::new(&registry);
    let (audit, audit_flusher) = AuditServiceImpl::buffered_with(
        Arc::new(Timed::new(SqlAuditRepository::new(db.clone()), db_metrics.clone())),
        clock.clone(),
        AuditBacklogSettings {
            dropped_metric: Some(metrics.audit_dropped.clone()),
            ..settings.audit_backlog
        },
    );
    let audit_trail = Arc::new(audit);
    let audit: Arc<dyn AuditService> = audit_trail.clone();
    let epoch = Arc::new(CacheEpoch::default());
    let provider_repo = Arc::new(Timed::new(SqlProviderRepository::new(db.clone()), db_metrics.clone()));
    let providers = Arc::new(
        ProviderServiceImpl::new(provider_repo.clone(), keyring.clone(), audit.clone(), clock.clone())
            .with_epoch(epoch.clone())
            .with_catalog(nexus_catalog::templates())
            .with_outbound_policy(if settings.production {
                OutboundPolicy::PRODUCTION
            } else {
                OutboundPolicy::DEVELOPMENT
            }),
    );
    let connection_repo = Arc::new(Timed::new(SqlConnectionRepository::new(db.clone()), db_metrics.clone()));
    // Remote MCP servers: discovered from their URLs, their clients registered once per issuer
    // (or Nexus's Client ID Metadata Document, where the operator serves one and the server
    // takes it).
    let mcp_discovery = Arc::new(McpDiscovery::new(outbound.clone(), DISCOVERY_TTL));
    let mcp_clients = Arc::new(
        McpClients::new(
            Arc::new(Timed::new(
                SqlClientRegistrationRepository::new(db.clone()),
                db_metrics.clone(),
            )),
            keyring.clone(),
            outbound.clone(),
            clock.clone(),
            settings.client_metadata_url.clone(),
        )
        .with_registration_tokens(settings.registration_tokens.clone()),
    );
    let connections = Arc::new(ConnectionServiceImpl::new(ConnectionDeps {
        connections: connection_repo.clone(),
        providers: provider_repo,
        keyring: keyring.clone(),
        signer: Arc::new(StateSigner::new(settings.state_key)),
        audit: audit.clone(),
        clock: clock.clone(),
        discovery: Arc::new(Discovery::new(outbound.clone(), DISCOVERY_TTL)),
        mcp_discovery,
        mcp_clients,
        outbound,
        metrics,
        epoch,
        leases: connection_repo.clone(),
        receipts: Arc::new(Timed::new(
            SqlReadReceiptRepository::new(db.clone()),
            db_metrics.clone(),
        )),
        settings: ConnectionSettings {
            public_url: settings.public_url,
            return_urls: settings.return_urls,
            refresh_skew: settings.refresh_skew,
            instance_id: instance_id.clone(),
            stale_if_error: settings.stale_if_error,
        },
    }));
    let agent_keys = Arc::new(
        AgentKeyServiceImpl::new(
            Arc::new(Timed::new(SqlAgentKeyRepository::new(db.clone()), db_metrics.clone())),
            audit.clone(),
            clock.clone(),
        )
        .with_stale_if_error(settings.stale_if_error),
    );
    let webhook_repo = Arc::new(Timed::new(SqlWebhookRepository::new(db.clone()), db_metrics.clone()));
    let outbox = Arc::new(Timed::new(SqlWebhookOutboxRepository::new(db.clone()), db_metrics));
    let webhooks = Arc::new(WebhookServiceImpl::new(
        webhook_repo.clone(),
        outbox.clone(),
        keyring.clone(),
        audit.clone(),
        clock.clone(),
        TargetPolicy {
            allow_private: settings.webhooks.allow_private,
        },
    ));
    let webhook_delivery = DeliveryWorker::new(
        DeliveryDeps {
            outbox,
            webhooks: webhook_repo,
            keyring: keyring.clone(),
            clock: clock.clone(),
            metrics: WebhookMetrics::new(&registry),
            instance_id,
        },
        settings.webhooks,
    )
    .map_err(|e| anyhow::anyhow!("building the webhook client: {e}"))?;
    let health = Arc::new(DatabaseHealth::new(db));
    let http_metrics = HttpMetrics::new(&registry);
    let background = Arc::new(background_driver(
        BackgroundJobs {
            refresh: BackgroundRefresh::new(connections.refresher(), background_refresh),
            delivery: DeliveryTask::new(webhook_delivery),
            connections: connections.clone(),
            audit_flusher,
            audit_trail,
            audit_retention: settings.audit_retention,
            poll_interval: settings.poll_interval,
        },
        clock.clone(),
        BackgroundMetrics::new(&registry),
    ));
    let proxy: Arc<dyn ProxyService> = Arc::new(
        ProxyServiceImpl::new(
            agent_keys.clone(),
            connections.clone(),
            audit.clone(),
            ProxyMetrics::new(&registry),
            settings.proxy,
        )
        .map_err(|e| anyhow::anyhow!("building the proxy: {e}"))?,
    );
    Ok(States {
        broker: BrokerState {
            admin_auth: Arc::new(AdminKeys::new(&settings.admin_keys, audit.clone())),
            service_auth: Arc::new(AdminKeys::for_services(&settings.service_keys, audit.clone())),
            providers: providers.clone(),
            connections: connections.clone(),
            agent_keys: agent_keys.clone(),
            audit,
            webhooks,
            health: health.clone(),
            proxy: proxy.clone(),
            background: background.clone(),
            metrics: registry,
        },
        gateway: GatewayState {
            gateway: Arc::new(LocalGateway::new(agent_keys.clone(), providers, connections.clone())),
            proxy,
            health,
            bench_baseline: None,
        },
        agent_keys,
        connections,
        http_metrics,
        background,
    })
}

/// What the background driver runs.
struct BackgroundJobs {
    refresh: Arc<BackgroundRefresh>,
    delivery: Arc<DeliveryTask>,
    connections: Arc<ConnectionServiceImpl>,
    audit_flusher: AuditFlusher,
    audit_trail: Arc<AuditServiceImpl>,
    audit_retention: Option<Duration>,
    poll_interval: Duration,
}

/// The driver with every background job of a Broker process registered.
fn background_driver(jobs: BackgroundJobs, clock: Arc<dyn Clock>, metrics: BackgroundMetrics) -> Driver {
    let mut driver = Driver::new(clock, Some(metrics.clone()));
    let mut register = |task: Arc<dyn BackgroundTask>, schedule: Schedule| {
        metrics.declare(task.name());
        driver.register(task, schedule);
    };
    if jobs.refresh.enabled() {
        let schedule = jobs.refresh.schedule();
        register(jobs.refresh, schedule);
    }
    if jobs.delivery.enabled() {
        let schedule = jobs.delivery.schedule();
        register(jobs.delivery, schedule);
    }
    register(
        Arc::new(ConnectionSweepTask {
            connections: jobs.connections,
        }),
        Schedule {
            period: jobs.poll_interval,
            jitter: false,
            timeout: Some(Duration::from_secs(60)),
        },
    );
    register(
        Arc::new(AuditFlushTask::new(jobs.audit_flusher)),
        AuditFlushTask::schedule(),
    );
    if let Some(retention) = jobs.audit_retention {
        register(
            Arc::new(AuditRetentionTask {
                audit: jobs.audit_trail,
                retention,
            }),
            AuditRetentionTask::schedule(),
        );
    }
    driver
}
