//! What operators watch: every process exports `nexus_build_info` and the process metrics, a
//! split Gateway on a `/metrics` listener of its own; the dashboard and the alert rules in
//! `deploy/` name only metric families the code registers.

mod common;

use common::{Mode, TestServer, raw};
use nexus_test_utils::{TestDatabase, database_tests};
use reqwest::StatusCode;
use std::collections::BTreeSet;
use std::path::Path;

async fn scrape(url: &str) -> String {
    let response = raw().get(format!("{url}/metrics")).send().await.expect("scrape");
    assert_eq!(response.status(), StatusCode::OK, "{url}/metrics");
    response.text().await.expect("metrics text")
}

fn assert_build_and_process_metrics(text: &str, process: &str) {
    let build_info = format!(
        "nexus_build_info{{commit=\"{}\",version=\"{}\"}} 1",
        nexus_server::build_info::COMMIT,
        nexus_server::build_info::VERSION
    );
    assert!(text.contains(&build_info), "{process}: no `{build_info}` in\n{text}");
    // The prometheus crate collects process metrics on Linux only.
    if !cfg!(target_os = "linux") {
        return;
    }
    for family in [
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
    ] {
        assert!(
            text.lines().any(|line| line.starts_with(&format!("{family} "))),
            "{process}: no {family} in\n{text}"
        );
    }
}

async fn split_gateway_has_a_metrics_listener(db: TestDatabase) {
    let server = TestServer::start_in(db, Mode::Split).await;
    let gateway_metrics = server.gateway_metrics_url.clone().expect("gateway metrics listener");
    // A request the Gateway answers is counted by the Gateway's own registry.
    let answered = raw()
        .get(format!("{}/v1/providers", server.gateway_url))
        .send()
        .await
        .expect("gateway request");
    assert_eq!(answered.status(), StatusCode::UNAUTHORIZED);
    let text = scrape(&gateway_metrics).await;
    assert_build_and_process_metrics(&text, "gateway");
    assert!(
        text.contains("nexus_http_requests_total{api=\"gateway\""),
        "gateway requests are counted:\n{text}"
    );
    // The metrics listener serves nothing else.
    let api = raw()
        .get(format!("{gateway_metrics}/v1/providers"))
        .send()
        .await
        .expect("request");
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    assert_build_and_process_metrics(&scrape(&server.broker_url).await, "broker");
    server.stop().await;
}

database_tests!(split_gateway_has_a_metrics_listener);

/// Tokens in `text` that look like a metric of ours: `nexus_*`, `oauth_*` or `process_*`.
fn metric_tokens(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|token| ["nexus_", "oauth_", "process_"].iter().any(|p| token.starts_with(p)))
        .map(str::to_owned)
        .collect()
}

/// A histogram's or summary's series name refers to its family.
fn family_of<'a>(series: &'a str, registered: &BTreeSet<String>) -> Option<&'a str> {
    if registered.contains(series) {
        return Some(series);
    }
    ["_bucket", "_sum", "_count"]
        .iter()
        .filter_map(|suffix| series.strip_suffix(suffix))
        .find(|family| registered.contains(*family))
}

#[test]
fn dashboard_and_alerts_name_only_registered_metrics() {
    let registered: BTreeSet<String> = nexus_server::build_info::metric_names().into_iter().collect();
    assert!(registered.contains("nexus_connections_total"), "{registered:?}");
    assert!(
        !cfg!(target_os = "linux") || registered.contains("process_resident_memory_bytes"),
        "{registered:?}"
    );
    let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy");
    for file in [
        "grafana/dashboards/nexus.json",
        "prometheus/alerts.yml",
        "prometheus/alerts.test.yml",
    ] {
        let text = std::fs::read_to_string(deploy.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let used = metric_tokens(&text);
        assert!(used.len() >= 3, "{file} names hardly any metric: {used:?}");
        let unknown: Vec<&String> = used
            .iter()
            .filter(|series| family_of(series, &registered).is_none())
            .collect();
        assert!(
            unknown.is_empty(),
            "{file} names metrics the code does not register: {unknown:?}\nregistered: {registered:?}"
        );
    }
    // The dashboard charts every credential-operation family.
    let dashboard =
        metric_tokens(&std::fs::read_to_string(deploy.join("grafana/dashboards/nexus.json")).expect("dashboard"));
    let charted: BTreeSet<&str> = dashboard.iter().filter_map(|s| family_of(s, &registered)).collect();
    let missing: Vec<&String> = registered
        .iter()
        .filter(|family| family.starts_with("oauth_") || family.starts_with("nexus_"))
        .filter(|family| !charted.contains(family.as_str()))
        .collect();
    assert!(missing.is_empty(), "the dashboard does not chart {missing:?}");
}
