//! The credential-operation metrics of CONTRACT.md, with bounded labels only (provider names,
//! statuses; never a workspace, a connection id or user input).

use nexus_domain::status::ConnectionStatus;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry};

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

fn histogram(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> HistogramVec {
    let metric = HistogramVec::new(HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec()), labels)
        .unwrap_or_else(|e| panic!("metric {name} is well-formed: {e}"));
    registry
        .register(Box::new(metric.clone()))
        .unwrap_or_else(|e| panic!("metric {name} is registered once: {e}"));
    metric
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
        }
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
