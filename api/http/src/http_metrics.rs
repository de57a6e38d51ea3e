//! HTTP request metrics: `nexus_http_requests_total{api, operation, status}` and
//! `nexus_http_request_duration_seconds{api, operation}`. The operation is the OpenAPI
//! operation id (or `other`), never a path with ids in it.

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

#[derive(Debug, Clone)]
pub struct HttpMetrics {
    requests: IntCounterVec,
    duration: HistogramVec,
}

impl HttpMetrics {
    pub fn new(registry: &Registry) -> Self {
        let requests = IntCounterVec::new(
            Opts::new("nexus_http_requests_total", "HTTP requests served"),
            &["api", "operation", "status"],
        )
        .unwrap_or_else(|e| panic!("metric nexus_http_requests_total is well-formed: {e}"));
        let duration = HistogramVec::new(
            HistogramOpts::new("nexus_http_request_duration_seconds", "HTTP request duration").buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["api", "operation"],
        )
        .unwrap_or_else(|e| panic!("metric nexus_http_request_duration_seconds is well-formed: {e}"));
        for metric in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(duration.clone()),
        ] {
            registry
                .register(metric)
                .unwrap_or_else(|e| panic!("HTTP metrics are registered once: {e}"));
        }
        Self { requests, duration }
    }

    /// The metric family names this registers (for checks of dashboards and alerts).
    pub fn names(&self) -> Vec<String> {
        let collectors: [&dyn prometheus::core::Collector; 2] = [&self.requests, &self.duration];
        collectors
            .iter()
            .flat_map(|collector| collector.desc())
            .map(|desc| desc.fq_name.clone())
            .collect()
    }

    pub(crate) fn observe(&self, api: &str, operation: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[api, operation, &status.to_string()])
            .inc();
        self.duration.with_label_values(&[api, operation]).observe(seconds);
    }
}
