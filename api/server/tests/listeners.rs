//! The public surface is small when the operator asks for it: a public listener serves the
//! browser routes and `/healthz` only (and the Broker listener then serves no `/auth/*`); a
//! metrics listener serves `/metrics` only (and the Broker listener then serves none). A capture
//! completes through the public listener.

mod common;

use common::{Mode, TestServer, raw};
use nexus_test_utils::{TestDatabase, database_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn status(url: String) -> StatusCode {
    raw().get(url).send().await.expect("request").status()
}

async fn public_and_metrics_listeners_serve_only_their_routes(db: TestDatabase) {
    let server = TestServer::start_with(db, Mode::OneProcess, |common| {
        common.public_listen = Some("127.0.0.1:0".parse().expect("addr"));
        common.metrics_listen = Some("127.0.0.1:0".parse().expect("addr"));
    })
    .await;
    let public = server.public_url.clone().expect("public listener");
    let metrics = server.metrics_url.clone().expect("metrics listener");
    let broker = server.broker_url.clone();

    // The public listener: browser routes and liveness, nothing else.
    assert_eq!(status(format!("{public}/healthz")).await, StatusCode::OK);
    assert_eq!(
        status(format!("{public}/auth/capture?state=bogus")).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        status(format!("{public}/auth/callback?state=bogus&code=x")).await,
        StatusCode::BAD_REQUEST
    );
    for path in [
        "/v1/providers",
        "/v1/internal/providers",
        "/metrics",
        "/docs",
        "/openapi.json",
        "/readyz",
    ] {
        assert_eq!(
            status(format!("{public}{path}")).await,
            StatusCode::NOT_FOUND,
            "public {path}"
        );
    }
    // The metrics listener: `/metrics` only.
    assert_eq!(status(format!("{metrics}/metrics")).await, StatusCode::OK);
    for path in ["/v1/providers", "/auth/capture", "/healthz"] {
        assert_eq!(
            status(format!("{metrics}{path}")).await,
            StatusCode::NOT_FOUND,
            "metrics {path}"
        );
    }
    // The Broker listener no longer serves what moved; the Gateway never served it.
    for path in ["/metrics", "/auth/capture?state=bogus", "/auth/callback?state=x"] {
        assert_eq!(
            status(format!("{broker}{path}")).await,
            StatusCode::NOT_FOUND,
            "broker {path}"
        );
        assert_eq!(
            status(format!("{}{path}", server.gateway_url)).await,
            StatusCode::NOT_FOUND,
            "gateway {path}"
        );
    }

    // A capture goes through the public listener: the consent's URL points there.
    let created = raw()
        .post(format!("{broker}/v1/providers"))
        .bearer_auth(&server.admin_key)
        .json(&json!({"name": "keyed", "auth_type": "api_key"}))
        .send()
        .await
        .expect("provider");
    assert_eq!(created.status(), StatusCode::CREATED);
    let consent: Value = raw()
        .post(format!("{broker}/v1/consents"))
        .bearer_auth(&server.admin_key)
        .json(&json!({"workspace_id": "ws-1", "provider": "keyed", "return_url": "http://127.0.0.1:9/done"}))
        .send()
        .await
        .expect("consent")
        .json()
        .await
        .expect("JSON");
    let auth_url = consent["auth_url"].as_str().expect("auth_url");
    assert!(
        auth_url.starts_with(&format!("{public}/auth/capture?state=")),
        "{auth_url}"
    );
    assert_eq!(status(auth_url.to_owned()).await, StatusCode::OK);
    let captured = raw()
        .post(format!("{public}/auth/capture"))
        .json(&json!({"state": consent["state"], "credentials": {"api_key": "sk-public"}}))
        .send()
        .await
        .expect("capture");
    assert_eq!(captured.status(), StatusCode::OK);
    let text = raw()
        .get(format!("{metrics}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        text.contains("oauth_credential_captures_total{provider=\"keyed\",status=\"success\"} 1"),
        "{text}"
    );
    server.stop().await;
}

database_tests!(public_and_metrics_listeners_serve_only_their_routes);
