//! Scopes an agent can rely on, against the real OpenID provider (npm `oidc-provider`): a
//! connection granted `openid` only is `insufficient_scope` for `openid email` (on resolve and
//! on token, naming what is missing and the connection), check-connection shows the grant and
//! what is missing, and an incremental consent through the Gateway (started with the Rust SDK's
//! helper) adds `email` under the same connection id. In both Gateway modes, on both databases.

mod common;

use common::oidc::{CLIENT_SECRET, OidcProvider, consent_as_user};
use common::{Mode, TestServer, raw};
use nexus_test_utils::{TestDatabase, database_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn get(server: &TestServer, key: &str, path: &str) -> (StatusCode, Value) {
    let response = raw()
        .get(format!("{}{path}", server.gateway_url))
        .bearer_auth(key)
        .send()
        .await
        .expect("gateway request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn request_connection(server: &TestServer, key: &str, body: Value) -> Value {
    let response = raw()
        .post(format!("{}/v1/request-connection", server.gateway_url))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("request-connection");
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.expect("JSON")
}

async fn scopes_against_the_real_provider(db: TestDatabase, mode: Mode) {
    let server = TestServer::start_in(db, mode).await;
    let callback = format!("{}/auth/callback", server.broker_url);
    let oidc = OidcProvider::start(&callback);
    let response = raw()
        .post(format!("{}/v1/providers", server.broker_url))
        .bearer_auth(&server.admin_key)
        .json(&json!({
            "name": "idp", "auth_type": "oauth2", "client_id": "nexus", "client_secret": CLIENT_SECRET,
            "issuer": oidc.issuer, "token_endpoint_auth_method": "client_secret_basic",
            "scopes": ["openid"], "authorization_params": {"prompt": "consent"},
            "incremental_authorization_params": {"include_granted_scopes": "true"}
        }))
        .send()
        .await
        .expect("register");
    assert_eq!(response.status(), StatusCode::CREATED);
    let key = server.agent_key(Some(vec!["ws-s"])).await;

    let started = request_connection(
        &server,
        &key,
        json!({"workspace_id": "ws-s", "provider": "idp", "scopes": ["openid"],
               "return_url": "http://127.0.0.1:9/done"}),
    )
    .await;
    let id = started["connection_id"].as_str().expect("connection_id").to_owned();
    assert!(
        !started["auth_url"]
            .as_str()
            .unwrap_or_default()
            .contains("include_granted_scopes"),
        "a first consent carries no incremental parameter: {started}"
    );
    let landed = consent_as_user(started["auth_url"].as_str().expect("auth_url"), &callback).await;
    assert!(landed.as_str().contains("status=success"), "{landed}");

    // What was granted, and what is missing for `openid email`.
    let (status, check) = get(&server, &key, &format!("/v1/check-connection/{id}?scopes=openid,email")).await;
    assert_eq!(status, StatusCode::OK, "{check}");
    assert_eq!(check["granted_scopes"], json!(["openid"]), "{check}");
    assert_eq!(check["missing_scopes"], json!(["email"]), "{check}");
    let (_, check) = get(&server, &key, &format!("/v1/check-connection/{id}")).await;
    assert!(check.get("missing_scopes").is_none(), "only when asked: {check}");

    for path in [
        "/v1/resolve?workspace_id=ws-s&provider=idp&scopes=openid,email".to_owned(),
        format!("/v1/token/{id}?scopes=openid%20email"),
    ] {
        let (status, error) = get(&server, &key, &path).await;
        assert_eq!(status, StatusCode::CONFLICT, "{path}: {error}");
        assert_eq!(error["code"], "insufficient_scope", "{error}");
        assert_eq!(error["missing_scopes"], json!(["email"]), "{error}");
        assert_eq!(error["connection_id"], json!(id), "{error}");
        assert!(
            !error.to_string().contains("access_token"),
            "no credential in the refusal: {error}"
        );
    }
    let (status, envelope) = get(
        &server,
        &key,
        "/v1/resolve?workspace_id=ws-s&provider=idp&scopes=openid",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{envelope}");
    let (status, error) = get(&server, &key, "/v1/resolve?workspace_id=ws-s&provider=idp&scopes=a%22b").await;
    assert_eq!(
        (status, error["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("scopes")),
        "{error}"
    );

    // The Rust SDK: a typed error naming what is missing, and the incremental consent it calls
    // for: same connection, the union of the grant and the new scopes.
    let credentials = nexus_client::credentials::Credentials::new(server.gateway(&key));
    let target = nexus_client::credentials::Target::Resolve {
        workspace_id: "ws-s".to_owned(),
        provider: "idp".to_owned(),
    };
    let missing = match credentials.get_scoped(&target, &["openid", "email"]).await {
        Err(nexus_client::credentials::SdkError::InsufficientScope(missing)) => missing,
        other => panic!("expected insufficient_scope, got {other:?}"),
    };
    assert_eq!(missing.missing_scopes, ["email"]);
    assert_eq!(json!(missing.connection_id), json!(id));
    let again = credentials
        .request_scopes(&missing, "ws-s", "idp", "http://127.0.0.1:9/done")
        .await
        .expect("an incremental consent");
    assert_eq!(json!(again.connection_id), json!(id), "the id is kept");
    let auth_url = url::Url::parse(&again.auth_url).expect("url");
    let asked = auth_url
        .query_pairs()
        .find(|(name, _)| name == "scope")
        .map(|(_, value)| value.into_owned());
    assert_eq!(asked.as_deref(), Some("openid email"), "{auth_url}");
    assert!(
        auth_url
            .query_pairs()
            .any(|(name, value)| name == "include_granted_scopes" && value == "true"),
        "the provider's incremental-authorization parameter: {auth_url}"
    );
    let landed = consent_as_user(auth_url.as_str(), &callback).await;
    assert!(landed.as_str().contains("status=success"), "{landed}");
    // A split Gateway may serve its cached envelope for up to ENVELOPE_CACHE_TTL (2 s).
    let mut attempts = 0;
    let (status, envelope) = loop {
        attempts += 1;
        let (status, envelope) = get(
            &server,
            &key,
            "/v1/resolve?workspace_id=ws-s&provider=idp&scopes=openid,email",
        )
        .await;
        if status == StatusCode::OK || attempts == 15 {
            break (status, envelope);
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    };
    assert_eq!(status, StatusCode::OK, "{envelope}");
    assert_eq!(envelope["connection_id"], json!(id));
    let access = envelope["credentials"]["access_token"].as_str().expect("token");
    let me: Value = oidc.userinfo(access).await.json().await.expect("userinfo");
    assert_eq!(me["email"], "alice@example.test", "the new grant reaches email: {me}");

    // While an incremental consent is open, the connection serves its old grant only.
    let pending = request_connection(
        &server,
        &key,
        json!({"workspace_id": "ws-s", "provider": "idp", "scopes": ["profile"], "connection_id": id,
               "return_url": "http://127.0.0.1:9/done"}),
    )
    .await;
    assert_eq!(pending["connection_id"], json!(id));
    let (_, check) = get(&server, &key, &format!("/v1/check-connection/{id}?scopes=profile")).await;
    assert_eq!(
        check["missing_scopes"],
        json!(["profile"]),
        "not granted before consent: {check}"
    );

    // Another workspace's key cannot start a consent of this connection, whichever workspace
    // it names.
    let other = server.agent_key(Some(vec!["ws-other"])).await;
    for workspace in ["ws-s", "ws-other"] {
        let response = raw()
            .post(format!("{}/v1/request-connection", server.gateway_url))
            .bearer_auth(&other)
            .json(
                &json!({"workspace_id": workspace, "provider": "idp", "connection_id": id,
                          "scopes": ["profile"], "return_url": "http://127.0.0.1:9/done"}),
            )
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{workspace}");
    }
}

async fn scopes_one_process(db: TestDatabase) {
    scopes_against_the_real_provider(db, Mode::OneProcess).await;
}

async fn scopes_split(db: TestDatabase) {
    scopes_against_the_real_provider(db, Mode::Split).await;
}

database_tests!(
    #[requires(oidc)]
    scopes_one_process,
    #[requires(oidc)]
    scopes_split
);
