//! The credential-operation metrics of CONTRACT.md, with bounded labels only (provider names,
//! statuses; never a workspace, a connection id or user input).

use nexus_domain::status::ConnectionStatus;
use prometheus::{Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

#[derive(Debug, Clone)]
pub struct Metrics {
    pub token_get: IntCounterVec,
    pub refreshes: IntCounterVec,
    pub refresh_duration: HistogramVec,
    pub captures: IntCounterVec,
    pub consents: IntCounterVec,
    pub exchanges: IntCounterVec,
    pub exchange_duration: HistogramVec,
    pub connections: IntGaugeVec,
    /// Failed refreshes by why: `grant_revoked`, `provider_misconfigured`, `upstream_unavailable`.
    pub refresh_failures: IntCounterVec,
    pub background_refreshes: IntCounterVec,
    /// How long before its expiry a token was refreshed (0 when it had already expired).
    pub refresh_lag: Histogram,
    /// Credentials due for background refresh now (polled by the background refresher).
    pub refresh_due: IntGauge,
    /// Reads answered from memory while the database could not answer (`Nexus-Stale`).
    pub stale_reads: IntCounterVec,
    /// Audit events lost because the database stayed away past the buffer's bound.
    pub audit_dropped: prometheus::IntCounter,
}

const LATENCY_BUCKETS: [f64; 10] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

fn counter(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let metric = IntCounterVec::new(Opts::new(name, help), labels)
        .unwrap_or_else(|e| panic!("metric {name} is well-formed: {e}"));
    registry
        .register(Box::new(metric.clone()))
        .unwrap_or_else(|e| panic!("metric {name} is registered once: {e}"));
    metric
}

fn register<M: prometheus::core::Collector + Clone + 'static>(registry: &Registry, name: &str, metric: M) -> M {
    registry
        .register(Box::new(metric.clone()))
        .unwrap_or_else(|e| panic!("metric {name} is registered once: {e}"));
    metric
}

fn histogram(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> HistogramVec {
    let metric = HistogramVec::new(HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec()), labels)
        .unwrap_or_else(|e| panic!("metric {name} is well-formed: {e}"));
    registry
        .register(Box::new(metric.clone()))
        .unwrap_or_else(|e| panic!("metric {name} is registered once: {e}"));
    metric
}

/// `nexus_stale_reads_total{provider}`: registered by the Broker's services and, on its own, by a
/// split Gateway (which serves from memory when the Broker cannot answer).
pub fn stale_reads(registry: &Registry) -> IntCounterVec {
    counter(
        registry,
        "nexus_stale_reads_total",
        "Credential reads answered from memory while the database (or the Broker) could not answer",
        &["provider"],
    )
}

impl Metrics {
    pub fn new(registry: &Registry) -> Self {
        let connections = IntGaugeVec::new(
            Opts::new("nexus_connections_total", "Connections by status (polled)"),
            &["status"],
        )
        .unwrap_or_else(|e| panic!("metric nexus_connections_total is well-formed: {e}"));
        registry
            .register(Box::new(connections.clone()))
            .unwrap_or_else(|e| panic!("metric nexus_connections_total is registered once: {e}"));
        Self {
            token_get: counter(
                registry,
                "oauth_token_get_total",
                "Token reads (get and resolve)",
                &["provider", "status"],
            ),
            refreshes: counter(
                registry,
                "oauth_token_refreshes_total",
                "Token refreshes",
                &["provider", "status"],
            ),
            refresh_duration: histogram(
                registry,
                "oauth_refresh_duration_seconds",
                "Duration of token refreshes",
                &["provider"],
            ),
            captures: counter(
                registry,
                "oauth_credential_captures_total",
                "Static credential captures",
                &["provider", "status"],
            ),
            consents: counter(
                registry,
                "oauth_consents_created_total",
                "Consents started",
                &["provider"],
            ),
            exchanges: counter(
                registry,
                "oauth_token_exchanges_total",
                "Authorization-code exchanges",
                &["provider", "status"],
            ),
            exchange_duration: histogram(
                registry,
                "oauth_exchange_duration_seconds",
                "Duration of authorization-code exchanges",
                &["provider"],
            ),
            connections,
            refresh_failures: counter(
                registry,
                "nexus_refresh_failures_total",
                "Failed token refreshes by reason",
                &["provider", "reason"],
            ),
            background_refreshes: counter(
                registry,
                "nexus_background_refreshes_total",
                "Refreshes started by the background refresher, by outcome",
                &["provider", "status"],
            ),
            refresh_lag: register(
                registry,
                "nexus_refresh_lag_seconds",
                Histogram::with_opts(
                    HistogramOpts::new(
                        "nexus_refresh_lag_seconds",
                        "How long before its expiry a token was refreshed",
                    )
                    .buckets(vec![0.0, 1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 180.0, 240.0, 300.0, 600.0]),
                )
                .unwrap_or_else(|e| panic!("metric nexus_refresh_lag_seconds is well-formed: {e}")),
            ),
            refresh_due: register(
                registry,
                "nexus_refresh_due",
                IntGauge::new("nexus_refresh_due", "Credentials due for background refresh now")
                    .unwrap_or_else(|e| panic!("metric nexus_refresh_due is well-formed: {e}")),
            ),
            stale_reads: stale_reads(registry),
            audit_dropped: register(
                registry,
                "nexus_audit_events_dropped_total",
                prometheus::IntCounter::new(
                    "nexus_audit_events_dropped_total",
                    "Audit events lost because the database stayed away past the audit buffer's bound",
                )
                .unwrap_or_else(|e| panic!("metric nexus_audit_events_dropped_total is well-formed: {e}")),
            ),
        }
    }

    /// Every metric family name this set registers (for checks of dashboards and alerts).
    pub fn names(&self) -> Vec<String> {
        let collectors: [&dyn prometheus::core::Collector; 14] = [
            &self.token_get,
            &self.refreshes,
            &self.refresh_duration,
            &self.captures,
            &self.consents,
            &self.exchanges,
            &self.exchange_duration,
            &self.connections,
            &self.refresh_failures,
            &self.background_refreshes,
            &self.refresh_lag,
            &self.refresh_due,
            &self.stale_reads,
            &self.audit_dropped,
        ];
        collectors
            .iter()
            .flat_map(|collector| collector.desc())
            .map(|desc| desc.fq_name.clone())
            .collect()
    }

    /// Sets the connection gauge; statuses with no connection read 0, so they never go stale.
    pub fn set_connection_counts(&self, counts: &[(ConnectionStatus, u64)]) {
        for status in ConnectionStatus::ALL {
            let count = counts.iter().find(|(s, _)| *s == status).map_or(0, |(_, n)| *n);
            self.connections
                .with_label_values(&[status.as_str()])
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
    }
}
