//! Refresh across replicas, as an operator runs Nexus: three `nexus serve` processes on one
//! database. Against a real OpenID provider that rotates refresh tokens and revokes the grant
//! when a used one comes back, rounds of concurrent reads spread over the processes make exactly
//! one refresh grant each and never cost the consent. Against the mock provider, a few hundred
//! connections expiring soon are refreshed in the background, each exactly once, before anyone
//! reads them.

mod common;

use common::oidc::{CLIENT_SECRET, OidcProvider, consent_as_user};
use common::{Deployment, NexusProcess, install_tls_provider, raw};
use nexus_test_utils::mock_provider::{MockProvider, TokenReply};
use nexus_test_utils::{TestDatabase, database_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

const ADMIN_KEY: &str = "admin-key-for-the-replica-tests-0123456789";

/// One scenario at a time: each runs three Nexus processes, and the machine has two cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `count` Nexus processes sharing one database and one set of keys.
fn replicas(
    db: &TestDatabase,
    count: usize,
    extra_env: &[(&str, &str)],
) -> (Vec<NexusProcess>, Vec<tempfile::TempDir>) {
    let keys = Deployment::new(ADMIN_KEY);
    (0..count).map(|_| keys.spawn(db, extra_env)).unzip()
}

async fn post(url: &str, key: &str, body: &Value) -> Value {
    let response = raw().post(url).bearer_auth(key).json(body).send().await.expect("POST");
    let status = response.status();
    let body: Value = response.json().await.expect("JSON body");
    assert!(status.is_success(), "POST {url}: {status} {body}");
    body
}

async fn agent_key(broker: &str) -> String {
    post(
        &format!("{broker}/v1/agent-keys"),
        ADMIN_KEY,
        &json!({"name": "replica-test", "all_workspaces": true}),
    )
    .await["key"]
        .as_str()
        .expect("key")
        .to_owned()
}

/// Resolves through every process's Gateway at once, `per_process` reads each.
async fn resolve_everywhere(
    processes: &[NexusProcess],
    key: &str,
    workspace: &str,
    per_process: usize,
) -> Vec<(StatusCode, Value)> {
    let reads = processes.iter().flat_map(|process| {
        (0..per_process).map(move |_| {
            let url = format!(
                "{}/v1/resolve?workspace_id={workspace}&provider=oidc-replicas",
                process.gateway_url
            );
            let key = key.to_owned();
            async move {
                let response = raw().get(url).bearer_auth(key).send().await.expect("resolve");
                let status = response.status();
                (status, response.json::<Value>().await.expect("JSON"))
            }
        })
    });
    futures::future::join_all(reads).await
}

async fn exactly_once_across_processes_with_a_rotating_provider(db: TestDatabase) {
    let _serial = ONE_AT_A_TIME.lock().await;
    install_tls_provider();
    // Background refresh off: this test is about reads racing each other.
    let (processes, _dirs) = replicas(&db, 3, &[("NEXUS_REFRESH_AHEAD_SECONDS", "0")]);
    let broker = processes[0].broker_url.clone();
    let callback = format!("{broker}/auth/callback");
    let oidc = OidcProvider::start(&callback);
    post(
        &format!("{broker}/v1/providers"),
        ADMIN_KEY,
        &json!({
            "name": "oidc-replicas",
            "auth_type": "oauth2",
            "client_id": "nexus",
            "client_secret": CLIENT_SECRET,
            "issuer": oidc.issuer,
            "token_endpoint_auth_method": "client_secret_basic",
            "scopes": ["openid", "offline_access"],
            "authorization_params": {"prompt": "consent"}
        }),
    )
    .await;
    let key = agent_key(&broker).await;
    // The first token lives 4 s: inside the 60 s skew, so reads past the middle of its life (2 s)
    // must refresh it.
    oidc.set_access_ttl(4).await;
    let consent = post(
        &format!("{}/v1/request-connection", processes[0].gateway_url),
        &key,
        &json!({"workspace_id": "ws-replicas", "provider": "oidc-replicas", "return_url": "http://127.0.0.1:9/done"}),
    )
    .await;
    let connection_id = consent["connection_id"].as_str().expect("id").to_owned();
    let landed = consent_as_user(consent["auth_url"].as_str().expect("auth_url"), &callback).await;
    assert!(landed.as_str().contains("status=success"), "{landed}");
    tokio::time::sleep(Duration::from_millis(2100)).await;

    for round in 0..4 {
        // The refreshed token lives an hour: one refresh settles the round.
        oidc.set_access_ttl(3600).await;
        let (refreshes_before, errors_before, _) = oidc.grant_counts().await;
        let reads = resolve_everywhere(&processes, &key, "ws-replicas", 20).await;
        let tokens: BTreeSet<String> = reads
            .iter()
            .map(|(status, body)| {
                assert_eq!(*status, StatusCode::OK, "round {round}: {body}");
                body["credentials"]["access_token"].as_str().expect("token").to_owned()
            })
            .collect();
        assert_eq!(
            tokens.len(),
            1,
            "round {round}: every read got the same new token: {tokens:?}"
        );
        let (refreshes, errors, codes) = oidc.grant_counts().await;
        assert_eq!(
            refreshes - refreshes_before,
            1,
            "round {round}: exactly one refresh grant"
        );
        assert_eq!(errors, errors_before, "round {round}: no provider error: {codes}");
        let token = tokens.into_iter().next().expect("one token");
        assert_eq!(oidc.userinfo(&token).await.status(), StatusCode::OK, "round {round}");

        // Set up the next round: a token inside the skew again, through a forced refresh.
        oidc.set_access_ttl(4).await;
        let forced = raw()
            .post(format!(
                "{}/v1/refresh/{connection_id}",
                processes[round % 3].gateway_url
            ))
            .bearer_auth(&key)
            .send()
            .await
            .expect("forced refresh");
        assert_eq!(forced.status(), StatusCode::OK, "round {round}");
        // Other processes may hold the hour-long token in their 2-second envelope cache, and the
        // new 4-second token is due from the middle of its life.
        tokio::time::sleep(Duration::from_millis(2100)).await;
    }
    let check = raw()
        .get(format!(
            "{}/v1/check-connection/{connection_id}",
            processes[2].gateway_url
        ))
        .bearer_auth(&key)
        .send()
        .await
        .expect("check")
        .json::<Value>()
        .await
        .expect("JSON");
    assert_eq!(check["status"], "active", "{check}");
    for process in processes {
        assert!(process.terminate(), "clean shutdown");
    }
}

/// Consents and completes a callback on `broker` for `count` workspaces; returns the ids.
async fn connect_many(process: &NexusProcess, count: usize) -> Vec<String> {
    let broker = process.broker_url.as_str();
    let mut ids = Vec::new();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for i in 0..count {
        let consent = post(
            &format!("{broker}/v1/consents"),
            ADMIN_KEY,
            &json!({"workspace_id": format!("ws-{i}"), "provider": "mock", "return_url": "http://127.0.0.1:9/done"}),
        )
        .await;
        let state = consent["state"].as_str().expect("state");
        let back = browser
            .get(format!("{broker}/auth/callback"))
            .query(&[("state", state), ("code", "code")])
            .send()
            .await
            .expect("callback");
        assert_eq!(
            back.status(),
            StatusCode::FOUND,
            "callback {i}; the log:\n{}",
            process.log()
        );
        ids.push(consent["connection_id"].as_str().expect("id").to_owned());
    }
    ids
}

fn metric_sum(text: &str, name: &str, label: &str) -> u64 {
    text.lines()
        .filter(|line| line.starts_with(name) && line.contains(label))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

async fn background_refresh_across_processes(db: TestDatabase) {
    let _serial = ONE_AT_A_TIME.lock().await;
    install_tls_provider();
    const CONNECTIONS: usize = 300;
    let mock = MockProvider::start().await;
    // Code exchanges give tokens expiring in 8 s (within the 300 s lead, due from the middle of
    // their life); refreshes give hour-long ones.
    mock.default_reply(TokenReply::Tokens {
        access_token: "first".into(),
        refresh_token: None,
        expires_in: Some(8),
    });
    mock.refresh_reply_issues(3600);
    let (processes, _dirs) = replicas(
        &db,
        3,
        &[
            ("NEXUS_REFRESH_AHEAD_SECONDS", "300"),
            ("NEXUS_REFRESH_CONCURRENCY", "8"),
        ],
    );
    let broker = processes[0].broker_url.clone();
    register_mock(&broker, &mock).await;
    mock.issue_unique_refresh_tokens();
    let ids = connect_many(&processes[0], CONNECTIONS).await;

    let started = Instant::now();
    while mock.refresh_count() < CONNECTIONS && started.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Long enough for a duplicate to show up if one were coming.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        mock.refresh_count(),
        CONNECTIONS,
        "each connection refreshed exactly once"
    );
    let presented: BTreeMap<String, usize> = mock
        .token_requests()
        .iter()
        .filter_map(|r| r.form.get("refresh_token").cloned())
        .fold(BTreeMap::new(), |mut seen, token| {
            *seen.entry(token).or_default() += 1;
            seen
        });
    assert_eq!(presented.len(), CONNECTIONS);
    assert!(presented.values().all(|n| *n == 1), "no refresh token presented twice");

    // Reads find fresh tokens: none waits on the provider.
    let key = agent_key(&broker).await;
    for (i, id) in ids.iter().enumerate() {
        let gateway = &processes[i % 3].gateway_url;
        let envelope: Value = raw()
            .get(format!("{gateway}/v1/token/{id}"))
            .bearer_auth(&key)
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("JSON");
        assert_ne!(envelope["credentials"]["access_token"], "first", "{envelope}");
    }
    assert_eq!(mock.refresh_count(), CONNECTIONS, "no read called the provider");

    let mut background = 0;
    for process in &processes {
        let metrics = raw()
            .get(format!("{}/metrics", process.broker_url))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        background += metric_sum(&metrics, "nexus_background_refreshes_total", "status=\"success\"");
        assert!(metrics.contains("nexus_refresh_due"), "the due gauge is exported");
        assert!(
            metrics.contains("nexus_refresh_lag_seconds_bucket"),
            "the lag histogram is exported"
        );
    }
    assert_eq!(background, CONNECTIONS as u64, "every refresh was a background one");
    for process in processes {
        assert!(process.terminate(), "clean shutdown");
    }
}

async fn register_mock(broker: &str, mock: &MockProvider) {
    post(
        &format!("{broker}/v1/providers"),
        ADMIN_KEY,
        &json!({
            "name": "mock",
            "auth_type": "oauth2",
            "client_id": nexus_test_utils::mock_provider::CLIENT_ID,
            "client_secret": nexus_test_utils::mock_provider::CLIENT_SECRET,
            "authorization_url": mock.url("/authorize"),
            "token_url": mock.url("/token"),
            "scopes": ["read"]
        }),
    )
    .await;
}

/// The agent hangs up while the provider is slow, and the process is told to stop right after:
/// the provider's answer (a rotated refresh token) is stored before the process exits, and the
/// next process serves it without calling the provider.
async fn a_hang_up_and_a_stop_lose_no_rotated_token(db: TestDatabase) {
    let _serial = ONE_AT_A_TIME.lock().await;
    install_tls_provider();
    let mock = MockProvider::start().await;
    mock.default_reply(TokenReply::Tokens {
        access_token: "first".into(),
        refresh_token: None,
        expires_in: Some(1),
    });
    mock.issue_unique_refresh_tokens();
    let keys = Deployment::new(ADMIN_KEY);
    let quiet = [("NEXUS_REFRESH_AHEAD_SECONDS", "0")];
    let (first, _dir) = keys.spawn(&db, &quiet);
    register_mock(&first.broker_url, &mock).await;
    let id = connect_many(&first, 1).await.remove(0);
    let key = agent_key(&first.broker_url).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    mock.reply(TokenReply::Slow(
        Duration::from_millis(1500),
        Box::new(TokenReply::Tokens {
            access_token: "rotated".into(),
            refresh_token: Some("rotated-refresh".into()),
            expires_in: Some(3600),
        }),
    ));
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let hung_up = impatient
        .get(format!("{}/v1/token/{id}", first.gateway_url))
        .bearer_auth(&key)
        .send()
        .await
        .expect_err("the agent gives up first");
    assert!(hung_up.is_timeout(), "{hung_up}");
    assert!(first.terminate(), "clean shutdown while a refresh is in flight");
    assert_eq!(mock.refresh_count(), 1);

    let (second, _dir) = keys.spawn(&db, &quiet);
    let envelope: Value = raw()
        .get(format!("{}/v1/token/{id}", second.gateway_url))
        .bearer_auth(&key)
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("JSON");
    assert_eq!(envelope["credentials"]["access_token"], "rotated", "{envelope}");
    assert_eq!(mock.refresh_count(), 1, "served from the database, not refreshed again");
    let forced = raw()
        .post(format!("{}/v1/refresh/{id}", second.gateway_url))
        .bearer_auth(&key)
        .send()
        .await
        .expect("forced refresh");
    assert_eq!(forced.status(), StatusCode::OK);
    let presented: Vec<String> = mock
        .token_requests()
        .iter()
        .filter_map(|r| r.form.get("refresh_token").cloned())
        .collect();
    assert_eq!(presented.last().map(String::as_str), Some("rotated-refresh"));
    assert!(second.terminate());
}

/// The resolve read keeps providers parsed per process: an edit made through one process is
/// served by another at its next uncached read (the provider row's version, not a local signal).
async fn a_provider_edited_by_one_process_is_served_by_another(db: TestDatabase) {
    let _one = ONE_AT_A_TIME.lock().await;
    let (processes, _dirs) = replicas(&db, 2, &[]);
    let (editor, reader) = (&processes[0], &processes[1]);
    post(
        &format!("{}/v1/providers", editor.broker_url),
        ADMIN_KEY,
        &json!({"name": "edited", "auth_type": "api_key"}),
    )
    .await;
    let consent = post(
        &format!("{}/v1/consents", editor.broker_url),
        ADMIN_KEY,
        &json!({"workspace_id": "ws-edit", "provider": "edited", "return_url": "http://127.0.0.1:9/done"}),
    )
    .await;
    let captured = raw()
        .post(format!("{}/auth/capture", editor.broker_url))
        .json(&json!({"state": consent["state"], "credentials": {"api_key": "sk-edit"}}))
        .send()
        .await
        .expect("capture");
    assert_eq!(captured.status(), StatusCode::OK);
    let key = agent_key(&editor.broker_url).await;
    let resolve = || async {
        let response = raw()
            .get(format!(
                "{}/v1/resolve?workspace_id=ws-edit&provider=edited",
                reader.gateway_url
            ))
            .bearer_auth(&key)
            .send()
            .await
            .expect("resolve");
        assert_eq!(response.status(), StatusCode::OK);
        response.json::<Value>().await.expect("envelope")
    };
    let before = resolve().await;
    assert_eq!(before["credentials"]["api_key"], "sk-edit");
    assert_ne!(before["strategy"]["type"], "header");

    let edit = raw()
        .patch(format!("{}/v1/providers/edited", editor.broker_url))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"strategy": {"type": "header", "header_name": "X-Api-Key", "value_prefix": ""}}))
        .send()
        .await
        .expect("PATCH");
    let status = edit.status();
    assert!(
        status.is_success(),
        "PATCH: {status} {}",
        edit.text().await.unwrap_or_default()
    );
    // Past the reader's envelope cache (2 s), its next read goes to the database.
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let after = resolve().await;
    assert_eq!(after["strategy"]["type"], "header", "{after}");
    assert_eq!(after["strategy"]["header_name"], "X-Api-Key");
}

/// Completes the callback of `consent` (an answer of `POST /v1/consents`) on `process`.
async fn complete_callback(process: &NexusProcess, consent: &Value) {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let back = browser
        .get(format!("{}/auth/callback", process.broker_url))
        .query(&[("state", consent["state"].as_str().expect("state")), ("code", "code")])
        .send()
        .await
        .expect("callback");
    assert_eq!(back.status(), StatusCode::FOUND);
    let location = back.headers()["location"].to_str().expect("location");
    assert!(location.contains("status=success"), "{location}");
}

/// Process B's refresh presents the old grant and is answered `invalid_grant` after the user
/// re-consented the same connection through process A: the connection stays active with the
/// new grant, and B's reader gets it.
async fn a_stale_refresh_in_one_process_never_undoes_a_reconsent_in_another(db: TestDatabase) {
    let _serial = ONE_AT_A_TIME.lock().await;
    install_tls_provider();
    let mock = MockProvider::start().await;
    mock.default_reply(TokenReply::Tokens {
        access_token: "first".into(),
        refresh_token: Some("first-refresh".into()),
        expires_in: Some(1),
    });
    let (processes, _dirs) = replicas(&db, 2, &[("NEXUS_REFRESH_AHEAD_SECONDS", "0")]);
    let (a, b) = (&processes[0], &processes[1]);
    register_mock(&a.broker_url, &mock).await;
    let id = connect_many(a, 1).await.remove(0);
    let key = agent_key(&a.broker_url).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    mock.reply(TokenReply::Slow(
        Duration::from_millis(1500),
        Box::new(TokenReply::Error {
            status: 400,
            error: "invalid_grant".into(),
        }),
    ));
    let read = {
        let url = format!("{}/v1/token/{id}", b.gateway_url);
        let key = key.clone();
        tokio::spawn(async move { raw().get(url).bearer_auth(key).send().await.expect("token") })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    mock.reply(TokenReply::Tokens {
        access_token: "reconsented".into(),
        refresh_token: Some("reconsented-refresh".into()),
        expires_in: Some(3600),
    });
    let again = post(
        &format!("{}/v1/consents", a.broker_url),
        ADMIN_KEY,
        &json!({"workspace_id": "ws-0", "provider": "mock", "return_url": "http://127.0.0.1:9/done", "connection_id": id}),
    )
    .await;
    complete_callback(a, &again).await;
    let response = read.await.expect("joined");
    let status = response.status();
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["credentials"]["access_token"], "reconsented", "{body}");
    let check: Value = raw()
        .get(format!("{}/v1/check-connection/{id}", b.gateway_url))
        .bearer_auth(&key)
        .send()
        .await
        .expect("check")
        .json()
        .await
        .expect("JSON");
    assert_eq!(check["status"], "active", "{check}");
    for process in processes {
        assert!(process.terminate(), "clean shutdown");
    }
}

/// Two Broker processes with one permit per provider and a slow provider claim a backlog of 30
/// expired connections: readers through a third process are answered at once (they refresh the
/// connections the claimers are not working on) instead of waiting 10 s on idle claims and
/// answering 502; every refresh token is presented once.
async fn a_backlog_never_keeps_readers_waiting_across_processes(db: TestDatabase) {
    let _serial = ONE_AT_A_TIME.lock().await;
    install_tls_provider();
    const BACKLOG: usize = 30;
    let mock = MockProvider::start().await;
    mock.default_reply(TokenReply::Tokens {
        access_token: "first".into(),
        refresh_token: None,
        expires_in: Some(2),
    });
    mock.issue_unique_refresh_tokens();
    let keys = Deployment::new(ADMIN_KEY);
    let (reader, _reader_dir) = keys.spawn(&db, &[("NEXUS_REFRESH_AHEAD_SECONDS", "0")]);
    register_mock(&reader.broker_url, &mock).await;
    let ids = connect_many(&reader, BACKLOG).await;
    let key = agent_key(&reader.broker_url).await;
    // Every token has expired; each refresh from now takes the provider a second.
    mock.default_reply(TokenReply::Slow(
        Duration::from_secs(1),
        Box::new(TokenReply::Tokens {
            access_token: "renewed".into(),
            refresh_token: None,
            expires_in: Some(3600),
        }),
    ));
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let claimers_env = [
        ("NEXUS_REFRESH_AHEAD_SECONDS", "300"),
        ("NEXUS_REFRESH_PER_PROVIDER", "1"),
        ("NEXUS_REFRESH_CONCURRENCY", "32"),
    ];
    let claimers: Vec<_> = (0..2).map(|_| keys.spawn(&db, &claimers_env)).collect();
    // Their first scans claim the backlog.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let reads = ids.iter().map(|id| {
        let url = format!("{}/v1/token/{id}", reader.gateway_url);
        let key = key.clone();
        async move {
            let response = raw().get(url).bearer_auth(key).send().await.expect("token");
            (response.status(), response.json::<Value>().await.expect("JSON"))
        }
    });
    for (status, body) in futures::future::join_all(reads).await {
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["credentials"]["access_token"], "renewed", "{body}");
    }
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(6), "readers waited {waited:?}");
    // The claimers' queued jobs find fresh credentials and leave them.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let presented: BTreeMap<String, usize> = mock
        .token_requests()
        .iter()
        .filter_map(|r| r.form.get("refresh_token").cloned())
        .fold(BTreeMap::new(), |mut seen, token| {
            *seen.entry(token).or_default() += 1;
            seen
        });
    assert_eq!(presented.len(), BACKLOG, "every connection refreshed");
    assert!(
        presented.values().all(|n| *n == 1),
        "no refresh token presented twice: {presented:?}"
    );
    for (process, _dir) in claimers {
        assert!(process.terminate(), "clean shutdown");
    }
    assert!(reader.terminate(), "clean shutdown");
}

database_tests!(
    a_provider_edited_by_one_process_is_served_by_another,
    a_hang_up_and_a_stop_lose_no_rotated_token,
    #[requires(oidc)]
    exactly_once_across_processes_with_a_rotating_provider,
    background_refresh_across_processes,
    a_stale_refresh_in_one_process_never_undoes_a_reconsent_in_another,
    a_backlog_never_keeps_readers_waiting_across_processes,
);
