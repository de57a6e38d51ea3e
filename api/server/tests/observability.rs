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

/// What runs in the background of a Broker process, as an operator reads it: every job in
/// `GET /v1/background-tasks` (through the generated client, so the answer parses against its
/// schema), each run recorded with its outcome, and the same runs in `nexus_background_task_*`.
async fn background_tasks_are_listed_and_measured(db: TestDatabase) {
    let server = TestServer::start(db).await;
    let client = server.broker();
    let names = |list: &nexus_client::broker::types::BackgroundTaskList| -> BTreeSet<String> {
        list.items.iter().map(|task| task.name.clone()).collect()
    };
    // The test server refreshes nothing ahead (its lead is zero): that job is not registered.
    let expected: BTreeSet<String> = ["webhook_delivery", "connection_sweep", "audit_flush", "audit_retention"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let list = loop {
        let list = client
            .background_task_list()
            .send()
            .await
            .expect("the task list")
            .into_inner();
        assert_eq!(names(&list), expected);
        // The one-second jobs have each run and succeeded.
        let ran = |name: &str| {
            list.items.iter().any(|task| {
                task.name == name
                    && task.runs > 0
                    && task
                        .last_run
                        .as_ref()
                        .is_some_and(|run| run.outcome == nexus_client::broker::types::BackgroundTaskOutcome::Succeeded)
            })
        };
        if ran("audit_flush") && ran("connection_sweep") && ran("webhook_delivery") {
            break list;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the background jobs did not run: {list:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    for task in &list.items {
        assert!(
            task.period_ms > 0 && task.timeout_ms.is_none_or(|ms| ms > 0),
            "{task:?}"
        );
        assert_eq!(task.failures, 0, "{task:?}");
        if !task.running {
            assert!(
                task.next_activation_at.is_some(),
                "a task that is not running has a next activation: {task:?}"
            );
        }
    }
    let retention = list
        .items
        .iter()
        .find(|task| task.name == "audit_retention")
        .expect("retention");
    assert_eq!(retention.period_ms, 3_600_000);
    // An agent key is refused: this is the operator's view.
    let agent = server.agent_key(None).await;
    let refused = raw()
        .get(format!("{}/v1/background-tasks", server.broker_url))
        .bearer_auth(agent)
        .send()
        .await
        .expect("request");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    let text = scrape(&server.broker_url).await;
    let runs = text
        .lines()
        .find(|line| line.starts_with("nexus_background_task_runs_total{outcome=\"succeeded\",task=\"audit_flush\"}"))
        .unwrap_or_else(|| panic!("no audit flush runs in\n{text}"));
    let count: f64 = runs.rsplit(' ').next().and_then(|n| n.parse().ok()).expect("a count");
    assert!(count >= 1.0, "{runs}");
    for family in [
        "nexus_background_task_duration_seconds_count{task=\"connection_sweep\"}",
        "nexus_background_task_overruns_total{task=\"webhook_delivery\"}",
        "nexus_background_task_last_success_timestamp_seconds{task=\"audit_flush\"}",
    ] {
        assert!(text.contains(family), "no {family} in\n{text}");
    }
    server.stop().await;
}

database_tests!(
    split_gateway_has_a_metrics_listener,
    background_tasks_are_listed_and_measured
);

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
