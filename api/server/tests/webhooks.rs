//! Webhooks as a receiver meets them: every delivery is verified by an independent Standard
//! Webhooks implementation (the Python `standardwebhooks` package) in a real receiver on
//! 127.0.0.1; retries, a Broker killed mid-delivery, a burst of 500 state changes across
//! processes, and the address policy of production. On both databases.

mod common;

use common::{Deployment, TestServer, raw};
use nexus_server::config::generate_key;
use nexus_test_utils::mock_provider::{MockProvider, TokenReply};
use nexus_test_utils::{TestDatabase, database_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Python of the tool venv (`cargo xtask test` names it), where `standardwebhooks` is.
/// Fails without one (the tests are marked `#[requires(python)]`).
fn python() -> std::path::PathBuf {
    if let Some(python) = std::env::var_os("NEXUS_TEST_PYTHON") {
        return python.into();
    }
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/tool-venv/bin/python");
    assert!(
        venv.exists(),
        "no Python with standardwebhooks: run the tests through `cargo xtask test` (it sets NEXUS_TEST_PYTHON)"
    );
    venv
}

/// The receiver process; killed on drop.
struct Receiver {
    child: Child,
    url: String,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Receiver {
    fn start() -> Self {
        let python = python();
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/webhook_receiver/receiver.py");
        let mut child = Command::new(python)
            .arg(script)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the receiver");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the receiver's port");
        let port: u16 = line.trim().parse().expect("a port");
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    async fn configure(&self, config: Value) {
        let answer = raw()
            .post(format!("{}/_config", self.url))
            .json(&config)
            .send()
            .await
            .expect("configure the receiver");
        assert_eq!(answer.status(), StatusCode::OK);
    }

    async fn seen(&self) -> Vec<Value> {
        let seen: Value = raw()
            .get(format!("{}/_seen", self.url))
            .send()
            .await
            .expect("ask the receiver")
            .json()
            .await
            .expect("JSON");
        seen["seen"].as_array().cloned().unwrap_or_default()
    }

    /// Waits until `enough` holds for what was seen (or panics after `within`).
    async fn wait_for(&self, within: Duration, what: &str, enough: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let seen = self.seen().await;
            if enough(&seen) {
                return seen;
            }
            assert!(
                started.elapsed() < within,
                "{what}: not within {within:?}; the receiver saw {seen:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Deliveries the receiver answered with 2xx, on `path`.
fn accepted<'a>(seen: &'a [Value], path: &str) -> Vec<&'a Value> {
    seen.iter()
        .filter(|entry| entry["path"] == path && entry["answered"] == 200)
        .collect()
}

async fn send(method: reqwest::Method, url: &str, key: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut request = raw().request(method, url).bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

async fn create_webhook(broker: &str, key: &str, body: Value) -> (String, String) {
    let (status, created) = send(reqwest::Method::POST, &format!("{broker}/v1/webhooks"), key, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    (
        created["webhook"]["id"].as_str().expect("id").to_owned(),
        created["secret"].as_str().expect("secret").to_owned(),
    )
}

async fn api_key_provider(broker: &str, key: &str, name: &str) {
    let (status, body) = send(
        reqwest::Method::POST,
        &format!("{broker}/v1/providers"),
        key,
        Some(json!({"name": name, "display_name": "Keyed", "auth_type": "api_key"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

const RETURN_URL: &str = "http://127.0.0.1:9/done";

/// A pending connection of `workspace` to `provider`; returns its id and capture state.
async fn consent(broker: &str, key: &str, workspace: &str, provider: &str, return_url: &str) -> (String, String) {
    let (status, body) = send(
        reqwest::Method::POST,
        &format!("{broker}/v1/consents"),
        key,
        Some(json!({"workspace_id": workspace, "provider": provider, "return_url": return_url})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        body["connection_id"].as_str().expect("id").to_owned(),
        body["state"].as_str().expect("state").to_owned(),
    )
}

async fn capture(broker: &str, state: &str, api_key: &str) {
    let answer = raw()
        .post(format!("{broker}/auth/capture"))
        .json(&json!({"state": state, "credentials": {"api_key": api_key}}))
        .send()
        .await
        .expect("capture");
    assert!(answer.status().is_success(), "capture: {}", answer.status());
}

async fn deliveries(broker: &str, key: &str, webhook: &str) -> Vec<Value> {
    let (status, page) = send(
        reqwest::Method::GET,
        &format!("{broker}/v1/webhooks/{webhook}/deliveries?limit=500"),
        key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"].as_array().cloned().unwrap_or_default()
}

const WAIT: Duration = Duration::from_secs(30);

async fn signed_events_in_order_with_rotation_and_filters(db: TestDatabase) {
    let receiver = Receiver::start();
    let server = TestServer::start(db).await;
    let (broker, key) = (server.broker_url.clone(), server.admin_key.clone());

    // Bad input: each refused with 400 naming the field, nothing stored.
    for (body, field) in [
        (
            json!({"url": "ftp://example.com/in", "event_types": ["connection.active"]}),
            "url",
        ),
        (
            json!({"url": "https://user:pw@example.com/in", "event_types": ["connection.active"]}),
            "url",
        ),
        (
            json!({"url": "https://example.com/in", "event_types": ["connection.created"]}),
            "event_types",
        ),
        (
            json!({"url": "https://example.com/in", "event_types": []}),
            "event_types",
        ),
    ] {
        let (status, error) = send(
            reqwest::Method::POST,
            &format!("{broker}/v1/webhooks"),
            &key,
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {error}");
        assert_eq!(error["code"], "invalid_request", "{error}");
        assert_eq!(error["field"], field, "{body} -> {error}");
    }
    let (_, listed) = send(reqwest::Method::GET, &format!("{broker}/v1/webhooks"), &key, None).await;
    assert_eq!(listed["items"], json!([]), "refused endpoints are not stored");

    let (everything, secret) = create_webhook(
        &broker,
        &key,
        json!({"url": format!("{}/all", receiver.url), "event_types": ["connection.active", "connection.revoked"]}),
    )
    .await;
    assert!(secret.starts_with("whsec_"), "a Standard Webhooks secret");
    let (view_status, view) = send(
        reqwest::Method::GET,
        &format!("{broker}/v1/webhooks/{everything}"),
        &key,
        None,
    )
    .await;
    assert_eq!(view_status, StatusCode::OK);
    assert!(
        view.get("secret").is_none() && !view.to_string().contains(&secret),
        "the secret is shown once: {view}"
    );
    let (_, only) = create_webhook(
        &broker,
        &key,
        json!({"url": format!("{}/only", receiver.url), "event_types": ["connection.active"], "workspace_id": "ws-only"}),
    )
    .await;
    receiver.configure(json!({"secrets": [secret, only]})).await;

    api_key_provider(&broker, &key, "keyed").await;
    let connection = server.connect_api_key("ws-1", "keyed", "sk-webhook-secret-value").await;
    let (status, _) = send(
        reqwest::Method::DELETE,
        &format!("{broker}/v1/connections/{connection}"),
        &key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let seen = receiver
        .wait_for(WAIT, "active then revoked", |seen| accepted(seen, "/all").len() >= 2)
        .await;
    let all = accepted(&seen, "/all");
    let types: Vec<&Value> = all.iter().map(|entry| &entry["body"]["type"]).collect();
    assert_eq!(
        types,
        [&json!("connection.active"), &json!("connection.revoked")],
        "in order"
    );
    for entry in &all {
        assert_eq!(
            entry["verified_by"],
            json!([0]),
            "verified with the endpoint's secret: {entry}"
        );
        let data = &entry["body"]["data"];
        assert_eq!(data["connection_id"], connection.as_str());
        assert_eq!(data["workspace_id"], "ws-1");
        assert_eq!(data["provider"], "keyed");
        assert!(
            !entry.to_string().contains("sk-webhook-secret-value"),
            "never a credential: {entry}"
        );
    }
    assert_eq!(all[0]["body"]["data"]["status"], "active");
    assert_eq!(all[0]["body"]["data"]["reason"], "credentials_captured");
    assert_eq!(all[1]["body"]["data"]["status"], "revoked");
    assert_eq!(all[1]["body"]["data"]["reason"], "revoked");
    assert!(
        accepted(&seen, "/only").is_empty(),
        "a workspace filter keeps other workspaces' events out"
    );

    let log = deliveries(&broker, &key, &everything).await;
    assert_eq!(log.len(), 2, "{log:#?}");
    for delivery in &log {
        assert_eq!(delivery["status"], "delivered", "{delivery}");
        assert_eq!(delivery["attempts"][0]["status_code"], 200, "{delivery}");
        assert!(delivery.get("next_attempt_at").is_none());
    }
    let ids: HashSet<&str> = all.iter().filter_map(|entry| entry["id"].as_str()).collect();
    assert!(
        log.iter()
            .all(|delivery| ids.contains(delivery["id"].as_str().unwrap_or_default())),
        "the log's ids are the webhook-id headers"
    );

    // Rotation: for the grace period both secrets sign; the receiver may hold either.
    let (status, rotated) = send(
        reqwest::Method::POST,
        &format!("{broker}/v1/webhooks/{everything}/rotate-secret"),
        &key,
        Some(json!({"grace_period_seconds": 3600})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new_secret = rotated["secret"].as_str().expect("new secret").to_owned();
    assert_ne!(new_secret, secret);
    receiver.configure(json!({"secrets": [secret, new_secret]})).await;
    let second = server.connect_api_key("ws-only", "keyed", "sk-another").await;
    let seen = receiver
        .wait_for(WAIT, "the event after the rotation", |seen| {
            accepted(seen, "/all").len() >= 3 && !accepted(seen, "/only").is_empty()
        })
        .await;
    let after = accepted(&seen, "/all")[2];
    assert_eq!(after["body"]["data"]["connection_id"], second.as_str());
    assert_eq!(
        after["verified_by"],
        json!([0, 1]),
        "old and new secret both verify: {after}"
    );
    assert_eq!(accepted(&seen, "/only")[0]["body"]["data"]["workspace_id"], "ws-only");

    // A redelivery sends the same message again, under the same webhook-id.
    let first = log.last().expect("the oldest delivery")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, again) = send(
        reqwest::Method::POST,
        &format!("{broker}/v1/webhooks/{everything}/deliveries/{first}/redeliver"),
        &key,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    let seen = receiver
        .wait_for(WAIT, "the redelivery", |seen| {
            seen.iter().filter(|entry| entry["id"] == first.as_str()).count() >= 2
        })
        .await;
    assert!(
        seen.iter()
            .filter(|entry| entry["id"] == first.as_str())
            .all(|entry| entry["body"]["type"] == "connection.active")
    );

    let metrics = raw()
        .get(format!("{broker}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let delivered = metrics
        .lines()
        .find(|line| line.starts_with("nexus_webhook_deliveries_total{status=\"delivered\"}"))
        .and_then(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .unwrap_or(0);
    assert!(delivered >= 4, "delivered counted: {delivered}");
    assert!(
        metrics.contains("nexus_webhook_outbox_depth"),
        "the outbox depth is exported"
    );
    assert!(metrics.contains("nexus_webhook_delivery_latency_seconds_bucket"));

    // Deleting the endpoint takes its log with it.
    let (status, _) = send(
        reqwest::Method::DELETE,
        &format!("{broker}/v1/webhooks/{everything}"),
        &key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, gone) = send(
        reqwest::Method::GET,
        &format!("{broker}/v1/webhooks/{everything}/deliveries"),
        &key,
        None,
    )
    .await;
    assert_eq!(
        (status, gone["code"].clone()),
        (StatusCode::NOT_FOUND, json!("webhook_not_found"))
    );
    server.stop().await;
}

async fn a_failing_receiver_gets_the_event_once_after_retries(db: TestDatabase) {
    let receiver = Receiver::start();
    let server = TestServer::start_with(db, common::Mode::OneProcess, |args| {
        args.webhook_timeout_seconds = 1;
    })
    .await;
    let (broker, key) = (server.broker_url.clone(), server.admin_key.clone());
    let (flaky, secret) = create_webhook(
        &broker,
        &key,
        json!({"url": format!("{}/flaky", receiver.url), "event_types": ["connection.active"]}),
    )
    .await;
    let (slow, _) = create_webhook(
        &broker,
        &key,
        json!({"url": format!("{}/slow", receiver.url), "event_types": ["connection.active"]}),
    )
    .await;
    let (huge, _) = create_webhook(
        &broker,
        &key,
        json!({"url": format!("{}/huge", receiver.url), "event_types": ["connection.active"]}),
    )
    .await;
    receiver.configure(json!({"secrets": [secret], "fail_first": 3})).await;
    api_key_provider(&broker, &key, "keyed").await;
    server.connect_api_key("ws-1", "keyed", "sk-1").await;

    let seen = receiver
        .wait_for(WAIT, "the fourth attempt succeeds", |seen| {
            !accepted(seen, "/flaky").is_empty()
        })
        .await;
    let flaky_attempts: Vec<&Value> = seen.iter().filter(|entry| entry["path"] == "/flaky").collect();
    assert_eq!(
        flaky_attempts.len(),
        4,
        "three failures, one success: {flaky_attempts:#?}"
    );
    assert_eq!(accepted(&seen, "/flaky").len(), 1, "accepted exactly once");
    assert!(flaky_attempts.iter().all(|entry| entry["verified_by"] == json!([0])));
    let ids: HashSet<&Value> = flaky_attempts.iter().map(|entry| &entry["id"]).collect();
    assert_eq!(ids.len(), 1, "every retry carries the same webhook-id");

    let log = deliveries(&broker, &key, &flaky).await;
    assert_eq!(log.len(), 1);
    let codes: Vec<&Value> = log[0]["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| &a["status_code"])
        .collect();
    assert_eq!(codes, [&json!(500), &json!(500), &json!(500), &json!(200)], "{log:#?}");
    assert_eq!(log[0]["status"], "delivered");
    assert_eq!(log[0]["attempts"][0]["error"], "http_status");

    // A receiver slower than the deadline is cut off and retried; a huge answer is cut off at
    // the size limit and still counts (2xx).
    let started = Instant::now();
    loop {
        let slow_log = deliveries(&broker, &key, &slow).await;
        if let Some(first) = slow_log
            .first()
            .and_then(|d| d["attempts"].as_array())
            .and_then(|a| a.first().cloned())
        {
            assert_eq!(first["error"], "timeout", "{slow_log:#?}");
            assert!(first.get("status_code").is_none());
            assert!(
                first["duration_ms"].as_u64().unwrap_or(0) < 2_500,
                "cut off at the deadline: {first}"
            );
            assert_eq!(slow_log[0]["status"], "pending", "retried later");
            assert!(slow_log[0]["next_attempt_at"].is_string());
            break;
        }
        assert!(started.elapsed() < WAIT, "no attempt at the slow receiver");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let started = Instant::now();
    loop {
        let huge_log = deliveries(&broker, &key, &huge).await;
        if huge_log.first().is_some_and(|d| d["status"] == "delivered") {
            assert_eq!(huge_log[0]["attempts"][0]["status_code"], 200);
            break;
        }
        assert!(
            started.elapsed() < WAIT,
            "the huge answer was not taken as delivered: {huge_log:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.stop().await;
}

/// Fast outbox scans and retries for spawned processes: the tests wait for deliveries.
const FAST: [(&str, &str); 2] = [
    ("NEXUS_WEBHOOK_POLL_INTERVAL_MS", "100"),
    ("NEXUS_WEBHOOK_FIRST_RETRY_MS", "200"),
];

fn deployment() -> Deployment {
    Deployment::new(&format!("admin-{}", generate_key()))
}

/// `extra` on top of the fast webhook settings.
fn fast(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    FAST.iter().copied().chain(extra.iter().copied()).collect()
}

/// One multi-process scenario at a time: the machine has two cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn a_broker_killed_mid_delivery_leaves_it_to_another(db: TestDatabase) {
    let receiver = Receiver::start();
    let _turn = ONE_AT_A_TIME.lock().await;
    let deployment = deployment();
    // A short deadline makes the lease (deadline + 15 s) lapse soon after the kill.
    let env = fast(&[("NEXUS_WEBHOOK_TIMEOUT_SECONDS", "2")]);
    let (mut first, _first_dir) = deployment.spawn(&db, &env);
    let key = deployment.admin_key.clone();
    let (webhook, secret) = create_webhook(
        &first.broker_url,
        &key,
        json!({"url": format!("{}/hook", receiver.url), "event_types": ["connection.active"]}),
    )
    .await;
    receiver
        .configure(json!({"secrets": [secret], "hang_first": 1, "hang_seconds": 60}))
        .await;
    api_key_provider(&first.broker_url, &key, "keyed").await;
    let (connection, state) = consent(&first.broker_url, &key, "ws-1", "keyed", RETURN_URL).await;
    capture(&first.broker_url, &state, "sk-1").await;

    // The first process committed the activation and is sending its event: kill it now.
    receiver
        .wait_for(WAIT, "the first attempt in flight", |seen| !seen.is_empty())
        .await;
    first.child.kill().expect("kill the first process");
    let _ = first.child.wait();

    let (second, _second_dir) = deployment.spawn(&db, &env);
    let seen = receiver
        .wait_for(Duration::from_secs(60), "the event from the second process", |seen| {
            seen.len() >= 2
        })
        .await;
    assert_eq!(seen.len(), 2, "held once, delivered once: {seen:#?}");
    assert_eq!(seen[1]["id"], seen[0]["id"], "the same message");
    assert_eq!(seen[1]["answered"], 200);
    assert_eq!(seen[1]["verified_by"], json!([0]));
    assert_eq!(seen[1]["body"]["data"]["connection_id"], connection.as_str());
    let log = deliveries(&second.broker_url, &key, &webhook).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status"], "delivered", "{log:#?}");
    assert_eq!(
        log[0]["attempts"].as_array().map(Vec::len),
        Some(1),
        "the killed process's attempt was never recorded: {log:#?}"
    );
    assert!(second.terminate(), "clean shutdown");
}

async fn a_burst_of_500_changes_is_delivered_once_each_across_processes(db: TestDatabase) {
    const CONNECTIONS: usize = 500;
    let receiver = Receiver::start();
    let _turn = ONE_AT_A_TIME.lock().await;
    let deployment = deployment();
    let (one, _one_dir) = deployment.spawn(&db, &FAST);
    let (two, _two_dir) = deployment.spawn(&db, &FAST);
    let key = deployment.admin_key.clone();
    let (webhook, secret) = create_webhook(
        &one.broker_url,
        &key,
        json!({"url": format!("{}/burst", receiver.url), "event_types": ["connection.revoked"]}),
    )
    .await;
    receiver.configure(json!({"secrets": [secret]})).await;
    api_key_provider(&one.broker_url, &key, "keyed").await;
    let mut pending = Vec::new();
    for chunk in (0..CONNECTIONS).collect::<Vec<_>>().chunks(25) {
        let made = futures::future::join_all(chunk.iter().map(|i| {
            let (broker, key, workspace) = (one.broker_url.clone(), key.clone(), format!("ws-{i}"));
            async move { consent(&broker, &key, &workspace, "keyed", RETURN_URL).await }
        }))
        .await;
        pending.extend(made.into_iter().map(|(id, _)| id));
    }
    // One transaction revokes all 500: 500 events at once, for two processes to deliver.
    let (status, body) = send(
        reqwest::Method::DELETE,
        &format!("{}/v1/providers/keyed?cascade=true", two.broker_url),
        &key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    receiver
        .wait_for(Duration::from_secs(120), "500 deliveries", |seen| {
            accepted(seen, "/burst").len() >= CONNECTIONS
        })
        .await;
    // Give a duplicate time to show up.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let seen = receiver.seen().await;
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    for entry in &seen {
        *by_id.entry(entry["id"].as_str().expect("webhook-id")).or_default() += 1;
    }
    assert_eq!(by_id.len(), CONNECTIONS, "one message per connection");
    assert!(by_id.values().all(|&count| count == 1), "no message delivered twice");
    let connections: HashSet<&str> = seen
        .iter()
        .filter_map(|entry| entry["body"]["data"]["connection_id"].as_str())
        .collect();
    let expected: HashSet<&str> = pending.iter().map(String::as_str).collect();
    assert_eq!(connections, expected, "every revoked connection, none twice");
    assert!(
        seen.iter().all(|entry| entry["verified_by"] == json!([0])),
        "every signature verifies"
    );
    assert!(
        seen.iter()
            .all(|entry| entry["body"]["data"]["reason"] == "provider_deleted")
    );
    let log = deliveries(&one.broker_url, &key, &webhook).await;
    assert_eq!(log.len(), CONNECTIONS);
    assert!(log.iter().all(|delivery| delivery["status"] == "delivered"));
    let logs = one.log() + &two.log();
    assert!(!logs.contains("whsec_"), "no signing secret in the logs");
    assert!(one.terminate() && two.terminate(), "clean shutdowns");
}

async fn production_refuses_inside_addresses_unless_allowed(db: TestDatabase) {
    let receiver = Receiver::start();
    let _turn = ONE_AT_A_TIME.lock().await;
    let deployment = deployment();
    let production = [
        ("NEXUS_PRODUCTION", "true"),
        ("NEXUS_PUBLIC_URL", "https://nexus.example.com"),
        ("NEXUS_ALLOWED_RETURN_URLS", "app.example.com"),
    ];
    let (strict, _strict_dir) = deployment.spawn(&db, &fast(&production));
    let key = deployment.admin_key.clone();
    for url in [
        format!("{}/hook", receiver.url),
        "http://localhost:9/hook".to_owned(),
        "http://10.0.0.8/hook".to_owned(),
        "http://169.254.169.254/latest/meta-data".to_owned(),
        "http://[::1]:9/hook".to_owned(),
    ] {
        let (status, error) = send(
            reqwest::Method::POST,
            &format!("{}/v1/webhooks", strict.broker_url),
            &key,
            Some(json!({"url": url, "event_types": ["connection.active"]})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {error}");
        assert_eq!(error["field"], "url", "{error}");
        assert!(
            error["message"]
                .as_str()
                .unwrap_or_default()
                .contains("NEXUS_WEBHOOK_ALLOW_PRIVATE"),
            "{error}"
        );
    }
    assert!(strict.terminate());

    let allowed = fast(
        &production
            .iter()
            .copied()
            .chain([("NEXUS_WEBHOOK_ALLOW_PRIVATE", "true")])
            .collect::<Vec<_>>(),
    );
    let (lenient, _lenient_dir) = deployment.spawn(&db, &allowed);
    let (_, secret) = create_webhook(
        &lenient.broker_url,
        &key,
        json!({"url": format!("{}/hook", receiver.url), "event_types": ["connection.active"]}),
    )
    .await;
    receiver.configure(json!({"secrets": [secret]})).await;
    api_key_provider(&lenient.broker_url, &key, "keyed").await;
    let (_, state) = consent(
        &lenient.broker_url,
        &key,
        "ws-1",
        "keyed",
        "https://app.example.com/done",
    )
    .await;
    let (status, _) = send(
        reqwest::Method::GET,
        &format!("{}/v1/connections?workspace_id=ws-1", lenient.broker_url),
        &key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Production's capture form needs the public URL; the JSON variant works on the Broker.
    capture(&lenient.broker_url, &state, "sk-1").await;
    let seen = receiver
        .wait_for(WAIT, "a delivery the operator allowed", |seen| {
            !accepted(seen, "/hook").is_empty()
        })
        .await;
    assert_eq!(seen[0]["verified_by"], json!([0]));
    assert!(lenient.terminate());
}

/// The provider fails: rate limited, then down, a refresh after another (three in a row raise
/// one `connection.refresh_failed`, the fourth none), then the grant is revoked
/// (`connection.attention_required`).
async fn upstream_faults_raise_refresh_failed_then_attention_required(db: TestDatabase) {
    let receiver = Receiver::start();
    let server = TestServer::start(db).await;
    let (broker, key) = (server.broker_url.clone(), server.admin_key.clone());
    let (_, secret) = create_webhook(
        &broker,
        &key,
        json!({"url": format!("{}/upstream", receiver.url),
               "event_types": ["connection.refresh_failed", "connection.attention_required"]}),
    )
    .await;
    receiver.configure(json!({"secrets": [secret]})).await;
    let mock = MockProvider::start().await;
    server
        .admin_post(
            "/v1/providers",
            json!({
                "name": "mock", "auth_type": "oauth2",
                "client_id": nexus_test_utils::mock_provider::CLIENT_ID,
                "client_secret": nexus_test_utils::mock_provider::CLIENT_SECRET,
                "authorization_url": mock.url("/authorize"), "token_url": mock.url("/token"),
                "scopes": ["read"]
            }),
        )
        .await;
    let (connection, state) = consent(&broker, &key, "ws-up", "mock", RETURN_URL).await;
    let callback = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(format!("{broker}/auth/callback"))
        .query(&[("state", state.as_str()), ("code", "code")])
        .send()
        .await
        .expect("callback");
    assert_eq!(callback.status(), StatusCode::FOUND);

    let refresh = format!("{broker}/v1/connections/{connection}/refresh");
    for (round, reply) in [
        TokenReply::RateLimited("0".to_owned()),
        TokenReply::RateLimited("0".to_owned()),
        TokenReply::Status(503),
        TokenReply::Status(502),
    ]
    .into_iter()
    .enumerate()
    {
        mock.default_reply(reply);
        let (status, error) = send(reqwest::Method::POST, &refresh, &key, None).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "round {round}: {error}");
        assert_eq!(error["code"], "upstream_unavailable", "{error}");
    }
    let seen = receiver
        .wait_for(WAIT, "refresh_failed", |seen| !accepted(seen, "/upstream").is_empty())
        .await;
    let failed = accepted(&seen, "/upstream")[0];
    assert_eq!(failed["body"]["type"], "connection.refresh_failed");
    assert_eq!(
        failed["body"]["data"]["status"], "active",
        "still active, still retried"
    );
    assert_eq!(failed["body"]["data"]["reason"], "upstream_unavailable");
    assert_eq!(failed["verified_by"], json!([0]));

    mock.default_reply(TokenReply::Error {
        status: 400,
        error: "invalid_grant".to_owned(),
    });
    let (status, error) = send(reqwest::Method::POST, &refresh, &key, None).await;
    assert_eq!(
        (status, error["code"].clone()),
        (StatusCode::CONFLICT, json!("attention_required"))
    );
    let seen = receiver
        .wait_for(WAIT, "attention_required", |seen| {
            accepted(seen, "/upstream").len() >= 2
        })
        .await;
    let types: Vec<&Value> = accepted(&seen, "/upstream")
        .iter()
        .map(|e| &e["body"]["type"])
        .collect();
    assert_eq!(
        types,
        [
            &json!("connection.refresh_failed"),
            &json!("connection.attention_required")
        ],
        "one refresh_failed for four failures in a row, then the revoked grant"
    );
    assert_eq!(
        accepted(&seen, "/upstream")[1]["body"]["data"]["reason"],
        "invalid_grant"
    );
    server.stop().await;
}

database_tests!(
    #[requires(python)]
    upstream_faults_raise_refresh_failed_then_attention_required,
    #[requires(python)]
    signed_events_in_order_with_rotation_and_filters,
    #[requires(python)]
    a_failing_receiver_gets_the_event_once_after_retries,
    #[requires(python)]
    a_broker_killed_mid_delivery_leaves_it_to_another,
    #[requires(python)]
    a_burst_of_500_changes_is_delivered_once_each_across_processes,
    #[requires(python)]
    production_refuses_inside_addresses_unless_allowed,
);
