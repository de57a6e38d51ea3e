//! The `nexus` server: configuration, database, wiring and listeners. `main.rs` parses the
//! command line; everything it runs lives here so tests can start the same server in-process.

#[cfg(feature = "bench")]
pub mod bench;
pub mod build_info;
pub mod config;
pub mod database;
pub mod healthcheck;
pub mod listen;
pub mod providers_as_code;
pub mod wiring;

use config::CommonArgs;
use std::net::SocketAddr;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long a stopping process waits for refreshes in flight to store their answers.
const REFRESH_DRAIN: std::time::Duration = std::time::Duration::from_secs(20);

/// What to start: both APIs (`serve`), or the Broker alone (`broker`).
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub common: CommonArgs,
    pub broker_listen: SocketAddr,
    /// `None`: no Gateway listener in this process.
    pub gateway_listen: Option<SocketAddr>,
    /// Serve the benchmark's baseline route on the Gateway.
    pub bench_baseline: bool,
}

/// A running server. Dropping it does not stop it; call [`Running::stop`].
#[derive(Debug)]
pub struct Running {
    pub broker_addr: SocketAddr,
    pub gateway_addr: Option<SocketAddr>,
    /// The browser-only listener, when configured.
    pub public_addr: Option<SocketAddr>,
    /// The `/metrics`-only listener, when configured.
    pub metrics_addr: Option<SocketAddr>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<anyhow::Result<()>>>,
    /// Drained once the listeners have stopped: refreshes in flight (started by reads or in
    /// the background) store what the provider answered before the process ends.
    refresher: Option<std::sync::Arc<nexus_services::Refresher>>,
}

impl Running {
    /// Stops accepting, lets in-flight requests finish, and waits.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        self.wait().await
    }

    /// Waits until every listener has stopped (after a shutdown, or on a listener error).
    pub async fn wait(self) -> anyhow::Result<()> {
        for task in self.tasks {
            task.await??;
        }
        if let Some(refresher) = self.refresher {
            refresher.drain(REFRESH_DRAIN).await;
        }
        Ok(())
    }

    pub fn shutdown_handle(&self) -> watch::Sender<bool> {
        self.shutdown.clone()
    }
}

/// Re-encrypts every stored secret under the keyring's newest key (`nexus keys rotate`).
pub async fn rotate_keys(
    settings: config::Settings,
    db: sea_orm::DatabaseConnection,
) -> anyhow::Result<nexus_services::RotationReport> {
    let rotation = nexus_services::KeyRotation::new(
        std::sync::Arc::new(nexus_repositories::SqlSealedSecretRepository::new(db)),
        std::sync::Arc::new(settings.keyring),
    );
    rotation
        .run()
        .await
        .map_err(|e| anyhow::anyhow!("key rotation: {e} ({})", e.internal_detail().unwrap_or("")))
}

/// Starts a Gateway in its own process: no database, no keys; every call goes to the Broker.
/// With `metrics_listen`, a listener of its own serves `/metrics` (the Gateway API never does).
pub async fn start_gateway(
    settings: config::GatewaySettings,
    listen: SocketAddr,
    metrics_listen: Option<SocketAddr>,
) -> anyhow::Result<Running> {
    let bound = listen::bind(listen).await?;
    let metrics_listener = match metrics_listen {
        Some(addr) => Some(listen::bind(addr).await?),
        None => None,
    };
    let remote = nexus_remote::RemoteBroker::new(
        settings.broker_url.as_str(),
        &settings.service_key,
        settings.proxy_max_body_bytes,
    )
    .map_err(|e| anyhow::anyhow!("building the Broker client: {e}"))?;
    let state = nexus_http::GatewayState {
        gateway: remote.clone(),
        proxy: remote.clone(),
        health: remote.clone(),
        bench_baseline: None,
    };
    let registry = prometheus::Registry::new();
    let _ = build_info::register(&registry);
    remote.count_stale_reads_in(nexus_services::stale_reads_metric(&registry));
    let metrics = nexus_http::HttpMetrics::new(&registry);
    let (shutdown, receiver) = watch::channel(false);
    let gateway_addr = bound.addr;
    let metrics_addr = metrics_listener.as_ref().map(|m| m.addr);
    let mut tasks = Vec::new();
    if let Some(bound) = metrics_listener {
        tasks.push(tokio::spawn(listen::serve(
            bound,
            nexus_http::metrics_app(registry, metrics.clone()),
            receiver.clone(),
        )));
    }
    tasks.extend([
        // Reads served from the cache reach the Broker's audit trail every second, and the last
        // ones once the listener has drained (no request is served from the cache after that).
        tokio::spawn({
            let remote = remote.clone();
            let shutdown = receiver.clone();
            async move {
                remote.report_reads(shutdown).await;
                Ok(())
            }
        }),
        tokio::spawn(async move {
            let served = listen::serve(bound, nexus_http::gateway_app(state, metrics), receiver).await;
            remote.close().await;
            served
        }),
    ]);
    tracing::info!(
        %gateway_addr,
        metrics_addr = ?metrics_addr,
        broker = %settings.broker_url,
        version = build_info::VERSION,
        commit = build_info::COMMIT,
        "nexus gateway is listening"
    );
    Ok(Running {
        broker_addr: gateway_addr,
        gateway_addr: Some(gateway_addr),
        public_addr: None,
        metrics_addr,
        shutdown,
        tasks,
        refresher: None,
    })
}

/// Validates configuration, opens and migrates the database, binds and starts the listeners.
pub async fn start(options: ServeOptions) -> anyhow::Result<Running> {
    let broker = listen::bind(options.broker_listen).await?;
    let gateway = match options.gateway_listen {
        Some(addr) => Some(listen::bind(addr).await?),
        None => None,
    };
    let public = match options.common.public_listen {
        Some(addr) => Some(listen::bind(addr).await?),
        None => None,
    };
    let metrics_listener = match options.common.metrics_listen {
        Some(addr) => Some(listen::bind(addr).await?),
        None => None,
    };
    // Browsers reach the public listener when there is one.
    let settings = options
        .common
        .resolve(public.as_ref().map_or(broker.addr, |p| p.addr))?;
    tracing::info!(
        production = settings.production,
        encryption_key = settings.keyring.primary_key_id(),
        public_url = %settings.public_url,
        "configuration loaded"
    );
    let outbound = wiring::outbound_client()?;
    let db = database::connect(&settings.database_url, settings.database_pool_size).await?;
    database::migrate(&db).await?;
    #[cfg(feature = "bench")]
    let reference_db = db.clone();
    #[cfg_attr(not(feature = "bench"), allow(unused_mut))]
    let mut states = wiring::build(settings, db, outbound)?;
    #[cfg(feature = "bench")]
    if options.bench_baseline {
        states.gateway.bench_baseline = Some(nexus_http::BenchBaseline {
            agent_keys: states.agent_keys.clone(),
            keyed_select: std::sync::Arc::new(bench::RawKeyedSelect(reference_db)),
        });
    }

    let (shutdown, receiver) = watch::channel(false);
    let broker_addr = broker.addr;
    let gateway_addr = gateway.as_ref().map(|g| g.addr);
    let mut tasks = vec![
        tokio::spawn(listen::serve(
            broker,
            nexus_http::broker_app(
                states.broker.clone(),
                states.http_metrics.clone(),
                nexus_http::BrokerRoutes {
                    browser: public.is_none(),
                    metrics: metrics_listener.is_none(),
                },
            ),
            receiver.clone(),
        )),
        // Every background job, until shutdown: runs in progress finish, then each job drains
        // its work (refreshes and deliveries in flight, the last audit events).
        tokio::spawn({
            let shutdown = receiver.clone();
            let background = states.background.clone();
            async move {
                background.run(shutdown).await;
                Ok(())
            }
        }),
    ];
    let public_addr = public.as_ref().map(|p| p.addr);
    if let Some(public) = public {
        tasks.push(tokio::spawn(listen::serve(
            public,
            nexus_http::public_app(states.broker.clone(), states.http_metrics.clone()),
            receiver.clone(),
        )));
    }
    let metrics_addr = metrics_listener.as_ref().map(|m| m.addr);
    if let Some(bound) = metrics_listener {
        tasks.push(tokio::spawn(listen::serve(
            bound,
            nexus_http::metrics_app(states.broker.metrics.clone(), states.http_metrics.clone()),
            receiver.clone(),
        )));
    }
    if let Some(gateway) = gateway {
        tasks.push(tokio::spawn(listen::serve(
            gateway,
            nexus_http::gateway_app(states.gateway, states.http_metrics),
            receiver,
        )));
    }
    tracing::info!(
        %broker_addr,
        gateway_addr = ?gateway_addr,
        public_addr = ?public_addr,
        metrics_addr = ?metrics_addr,
        version = build_info::VERSION,
        commit = build_info::COMMIT,
        "nexus is listening"
    );
    Ok(Running {
        broker_addr,
        gateway_addr,
        public_addr,
        metrics_addr,
        shutdown,
        tasks,
        refresher: Some(states.connections.refresher()),
    })
}
