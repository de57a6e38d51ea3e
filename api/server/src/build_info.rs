//! What this binary is: its version and commit, for `nexus --version`, the start-up log and
//! the `nexus_build_info` metric, plus the process metrics every Nexus process exports.

use prometheus::{IntGaugeVec, Opts, Registry};

/// The release version (`VERSION`, stamped into the workspace manifest).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The commit the binary was built from (12 hex digits), or `unknown`.
pub const COMMIT: &str = env!("NEXUS_COMMIT");
/// `0.2.0 (commit 0123456789ab)`, as `nexus --version` prints it.
pub const LONG_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("NEXUS_COMMIT"), ")");

/// Registers `nexus_build_info{version, commit} 1` and, on Linux, the `process_*` metrics
/// (CPU, resident memory, open descriptors, threads, start time). Returns the family names.
pub fn register(registry: &Registry) -> Vec<String> {
    let mut collectors: Vec<Box<dyn prometheus::core::Collector>> = Vec::new();
    let info = IntGaugeVec::new(
        Opts::new("nexus_build_info", "The running version and commit (always 1)"),
        &["version", "commit"],
    )
    .unwrap_or_else(|e| panic!("metric nexus_build_info is well-formed: {e}"));
    info.with_label_values(&[VERSION, COMMIT]).set(1);
    collectors.push(Box::new(info));
    #[cfg(target_os = "linux")]
    collectors.push(Box::new(prometheus::process_collector::ProcessCollector::for_self()));
    let mut names = Vec::new();
    for collector in collectors {
        names.extend(collector.desc().into_iter().map(|desc| desc.fq_name.clone()));
        registry
            .register(collector)
            .unwrap_or_else(|e| panic!("build and process metrics are registered once: {e}"));
    }
    names
}

/// Every metric family a Nexus process (Broker, Gateway or both) can export, whether or not it
/// has a sample yet: what dashboards and alerts may refer to.
pub fn metric_names() -> Vec<String> {
    let registry = Registry::new();
    let mut names = register(&registry);
    names.extend(nexus_services::Metrics::new(&registry).names());
    names.extend(nexus_repositories::DbMetrics::new(&registry).names());
    names.extend(nexus_http::HttpMetrics::new(&registry).names());
    names.extend(nexus_services::WebhookMetrics::new(&registry).names());
    names.extend(nexus_services::background::BackgroundMetrics::new(&registry).names());
    names.sort();
    names
}
