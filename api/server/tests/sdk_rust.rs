//! The Rust SDK's credential layer against a running Nexus: `CredentialClient` delivers a
//! captured API key to a local API, concurrent misses make one Gateway call, a wrong target is
//! the Gateway's typed error, another origin than the provider's is refused, and a revoked
//! connection is refused before anything is sent.

mod common;

use common::{TestServer, raw};
use nexus_client::credentials::{CredentialClient, Credentials, SdkError, Target};
use nexus_test_utils::{TestDatabase, database_tests};
use poem::{EndpointExt, Route, handler, web::Data};
use serde_json::json;
use std::sync::{Arc, Mutex};

#[handler]
fn echo(req: &poem::Request, seen: Data<&Arc<Mutex<Vec<Option<String>>>>>) -> &'static str {
    let key = req
        .headers()
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    seen.lock().expect("lock").push(key);
    "ok"
}

async fn resolves(server: &TestServer) -> f64 {
    let text = raw()
        .get(format!("{}/metrics", server.broker_url))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .filter(|line| line.starts_with("nexus_http_requests_total{") && line.contains("operation=\"token_resolve\""))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn credential_client_round_trip(db: TestDatabase) {
    let server = TestServer::start(db).await;
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::new(Mutex::new(Vec::new()));
    let api = nexus_server::listen::bind("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("bind");
    let api_url = format!("http://{}/v1/me", api.addr);
    // The credential may go to the local API only (its base URL's origin).
    server
        .admin_post(
            "/v1/providers",
            json!({"name": "keyed", "auth_type": "api_key", "api_base_url": format!("http://{}", api.addr)}),
        )
        .await;
    server.connect_api_key("ws-rs", "keyed", "sk-rs").await;
    let agent_key = server.agent_key(Some(vec!["ws-rs"])).await;
    let (stop_api, stopped) = tokio::sync::watch::channel(false);
    let api_task = tokio::spawn(nexus_server::listen::serve(
        api,
        Route::new().at("/v1/me", poem::get(echo)).data(seen.clone()),
        stopped,
    ));

    let credentials = Arc::new(Credentials::new(server.gateway(&agent_key)));
    let target = Target::Resolve {
        workspace_id: "ws-rs".into(),
        provider: "keyed".into(),
    };
    let client = CredentialClient::new(reqwest::Client::builder(), credentials.clone(), target).expect("client");
    let before = resolves(&server).await;
    let calls = (0..16).map(|_| {
        let client = client.clone();
        let url = api_url.clone();
        async move {
            let request = reqwest::Request::new(reqwest::Method::GET, url.parse().expect("url"));
            client.execute(request).await.expect("sent").status()
        }
    });
    let statuses = futures::future::join_all(calls).await;
    assert!(statuses.iter().all(|s| s.is_success()), "{statuses:?}");
    assert_eq!(
        resolves(&server).await - before,
        1.0,
        "16 concurrent requests, one Gateway call"
    );
    assert!(
        seen.lock()
            .expect("lock")
            .iter()
            .all(|key| key.as_deref() == Some("sk-rs")),
        "the key arrived"
    );

    // Another origin (the same host on another port, then another host): refused before
    // anything is sent, with a typed error that names the origin and not the key.
    let sent_before = seen.lock().expect("lock").len();
    let port = api_url
        .split(':')
        .nth(2)
        .and_then(|rest| rest.split('/').next())
        .expect("port");
    for foreign in [
        format!("http://127.0.0.1:{}/v1/me", port.parse::<u16>().expect("port") ^ 1),
        format!("http://localhost:{port}/v1/me"),
    ] {
        let error = client
            .execute(reqwest::Request::new(
                reqwest::Method::GET,
                foreign.parse().expect("url"),
            ))
            .await
            .expect_err("another origin");
        assert_eq!(error.code(), "origin_not_allowed", "{foreign}");
        assert!(!error.to_string().contains("sk-rs"));
    }
    let narrowed = client.clone().with_origins(&["https://api.example.com"]);
    let error = narrowed
        .execute(reqwest::Request::new(
            reqwest::Method::GET,
            api_url.parse().expect("url"),
        ))
        .await
        .expect_err("narrowed away");
    assert_eq!(error.code(), "origin_not_allowed", "a caller may narrow the origins");
    assert_eq!(seen.lock().expect("lock").len(), sent_before, "nothing was sent");

    // Outside the key's workspaces: the Gateway's typed error, nothing sent.
    let elsewhere = CredentialClient::new(
        reqwest::Client::builder(),
        credentials.clone(),
        Target::Resolve {
            workspace_id: "ws-other".into(),
            provider: "keyed".into(),
        },
    )
    .expect("client");
    let sent_before = seen.lock().expect("lock").len();
    let error = elsewhere
        .execute(reqwest::Request::new(
            reqwest::Method::GET,
            api_url.parse().expect("url"),
        ))
        .await
        .expect_err("not found");
    assert_eq!(error.code(), "connection_not_found");
    assert!(matches!(error, SdkError::Nexus { status: 404, .. }), "{error:?}");
    assert_eq!(seen.lock().expect("lock").len(), sent_before, "nothing was sent");

    // Revoked: refused as such, by connection.
    let envelope = credentials
        .get(&Target::Resolve {
            workspace_id: "ws-rs".into(),
            provider: "keyed".into(),
        })
        .await
        .expect("cached");
    server
        .broker()
        .connection_revoke()
        .connection_id(envelope.connection_id.to_string().as_str())
        .send()
        .await
        .expect("revoke");
    let by_id = CredentialClient::new(
        reqwest::Client::builder(),
        Arc::new(Credentials::new(server.gateway(&agent_key))),
        Target::Connection(envelope.connection_id),
    )
    .expect("client");
    let error = by_id
        .execute(reqwest::Request::new(
            reqwest::Method::GET,
            api_url.parse().expect("url"),
        ))
        .await
        .expect_err("revoked");
    assert_eq!(error.code(), "connection_revoked");
    assert!(!error.to_string().contains("sk-rs"));
    let _ = stop_api.send(true);
    api_task.await.expect("api task").expect("api stops");
    server.stop().await;
}

/// Not a Gateway: a proxy's HTML error page, or nothing listening. Typed errors, no key in them.
#[tokio::test]
async fn a_broken_gateway_is_a_typed_error() {
    let key = "nxa_testtest_notarealkeynotarealkeynotarealkey";
    let target = Target::Resolve {
        workspace_id: "ws".into(),
        provider: "p".into(),
    };
    let proxy = nexus_server::listen::bind("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("bind");
    let proxy_url = format!("http://{}", proxy.addr);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(nexus_server::listen::serve(
        proxy,
        poem::endpoint::make_sync(|_| {
            poem::Response::builder()
                .status(poem::http::StatusCode::BAD_GATEWAY)
                .content_type("text/html")
                .body("<html><body>502 Bad Gateway</body></html>")
        }),
        stopped,
    ));
    let credentials = Credentials::new(nexus_client::gateway_client(&proxy_url, key).expect("client"));
    let error = credentials.get(&target).await.expect_err("not a Gateway");
    assert_eq!(error.code(), "unexpected_response", "{error:?}");
    assert!(!error.to_string().contains(key));
    let _ = stop.send(true);
    task.await.expect("task").expect("stops");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed_url = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let credentials = Credentials::new(nexus_client::gateway_client(&closed_url, key).expect("client"));
    let error = credentials.get(&target).await.expect_err("nothing listening");
    assert_eq!(error.code(), "gateway_unreachable", "{error:?}");
}

/// Proxy mode, with a `proxy_only` key, in one process and split: the key reaches the API
/// through Nexus, the same key reads no credential, and the proxy's refusals are typed errors.
async fn proxy_mode(db: TestDatabase, mode: common::Mode) {
    let server = TestServer::start_in(db, mode).await;
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::new(Mutex::new(Vec::new()));
    let api = nexus_server::listen::bind("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("bind");
    let api_base = format!("http://{}", api.addr);
    server
        .admin_post(
            "/v1/providers",
            json!({"name": "keyed", "auth_type": "api_key", "api_base_url": api_base}),
        )
        .await;
    server.connect_api_key("ws-px", "keyed", "sk-px").await;
    let created = server
        .admin_post(
            "/v1/agent-keys",
            json!({"name": "secretless", "workspace_ids": ["ws-px"], "proxy_only": true}),
        )
        .await;
    let key = created["key"].as_str().expect("key").to_owned();
    let (stop_api, stopped) = tokio::sync::watch::channel(false);
    let api_task = tokio::spawn(nexus_server::listen::serve(
        api,
        Route::new().at("/v1/me", poem::get(echo)).data(seen.clone()),
        stopped,
    ));
    let credentials = Arc::new(Credentials::new(server.gateway(&key)));
    let target = Target::Resolve {
        workspace_id: "ws-px".into(),
        provider: "keyed".into(),
    };
    let client = CredentialClient::new(reqwest::Client::builder(), credentials.clone(), target.clone())
        .expect("client")
        .through_proxy();
    let get = |url: String| reqwest::Request::new(reqwest::Method::GET, url.parse().expect("url"));
    let answer = client.execute(get(format!("{api_base}/v1/me"))).await.expect("proxied");
    assert_eq!(answer.status(), reqwest::StatusCode::OK);
    assert_eq!(answer.headers()["nexus-proxied"], "true");
    assert_eq!(
        seen.lock().expect("lock").last().cloned().flatten().as_deref(),
        Some("sk-px")
    );
    let refused = credentials.get(&target).await.expect_err("proxy_only");
    assert_eq!(refused.code(), "proxy_only_key");
    let foreign = client
        .execute(get("http://127.0.0.2:9/collect".to_owned()))
        .await
        .expect_err("another origin");
    assert_eq!(foreign.code(), "origin_not_allowed");
    assert!(matches!(foreign, SdkError::Nexus { status: 403, .. }), "{foreign:?}");
    let scoped = client.clone().with_scopes(&["repo"]);
    let refused = scoped
        .execute(get(format!("{api_base}/v1/me")))
        .await
        .expect_err("scopes");
    assert_eq!(
        refused.code(),
        "invalid_request",
        "scopes are refused, not ignored, through the proxy"
    );
    let narrowed = client.clone().with_origins(&["https://api.example.com"]);
    let before = seen.lock().expect("lock").len();
    let refused = narrowed
        .execute(get(format!("{api_base}/v1/me")))
        .await
        .expect_err("narrowed");
    assert_eq!(refused.code(), "origin_not_allowed");
    assert_eq!(seen.lock().expect("lock").len(), before, "nothing was sent");
    let _ = stop_api.send(true);
    api_task.await.expect("api task").expect("api stops");
    server.stop().await;
}

async fn proxy_mode_one_process(db: TestDatabase) {
    proxy_mode(db, common::Mode::OneProcess).await;
}

async fn proxy_mode_split(db: TestDatabase) {
    proxy_mode(db, common::Mode::Split).await;
}

database_tests!(credential_client_round_trip, proxy_mode_one_process, proxy_mode_split);
