//! End to end against a real OpenID provider (npm `oidc-provider`, started here on 127.0.0.1):
//! consent -> callback -> token -> userinfo -> forced refresh -> the provider withdraws the grant
//! -> the next refresh marks `attention_required` -> re-consent makes the same connection active.
//! Then: no issued token in the database or the server's log, and bounded metrics.

mod common;

use common::oidc::{CLIENT_SECRET, OidcProvider, consent_as_user};
use common::{Mode, NexusProcess, TestServer, install_tls_provider, nexus_command};
use nexus_client::broker::types as broker;
use nexus_client::credentials::{CredentialClient, Credentials, Target};
use nexus_client::gateway::types as gateway_types;
use nexus_server::config::generate_key;
use nexus_test_utils::{TestDatabase, database_tests};
use reqwest::StatusCode;

async fn real_provider_full_lifecycle(db: TestDatabase) {
    install_tls_provider();
    let dir = tempfile::tempdir().expect("tempdir");
    let admin_key = format!("admin-{}", generate_key());
    let mut command = nexus_command(dir.path());
    command
        .env("NEXUS_DATABASE_URL", &db.url)
        .env("NEXUS_ENCRYPTION_KEYS", generate_key())
        .env("NEXUS_STATE_KEY", generate_key())
        .env("NEXUS_ADMIN_KEYS", &admin_key)
        .env("NEXUS_LOG", "debug,hyper=info,h2=info,rustls=info,sqlx=info");
    let nexus = NexusProcess::spawn(command);
    let callback = format!("{}/auth/callback", nexus.broker_url);
    let oidc = OidcProvider::start(&callback);
    let client = nexus_client::broker_client(&nexus.broker_url, &admin_key).expect("client");

    let provider: broker::ProviderCreate = serde_json::from_value(serde_json::json!({
        "name": "oidc-e2e",
        "auth_type": "oauth2",
        "client_id": "nexus",
        "client_secret": CLIENT_SECRET,
        "issuer": oidc.issuer,
        "token_endpoint_auth_method": "client_secret_basic",
        "scopes": ["openid", "offline_access", "email"],
        "authorization_params": {"prompt": "consent"}
    }))
    .expect("provider body");
    client
        .provider_create()
        .body(provider)
        .send()
        .await
        .expect("register provider");

    let consent = |connection_id: Option<uuid::Uuid>| {
        let body = broker::ConsentCreate {
            connection_params: Default::default(),
            workspace_id: "ws-e2e".parse().expect("workspace"),
            provider: "oidc-e2e".parse().expect("provider"),
            scopes: Vec::new(),
            return_url: "http://127.0.0.1:9/connected?from=test"
                .parse()
                .expect("a valid return URL"),
            connection_id,
        };
        let client = client.clone();
        async move {
            client
                .consent_create()
                .body(body)
                .send()
                .await
                .expect("consent")
                .into_inner()
        }
    };
    let first = consent(None).await;
    let landed = consent_as_user(&first.auth_url, &callback).await;
    let query: std::collections::BTreeMap<String, String> = landed.query_pairs().into_owned().collect();
    assert_eq!(query.get("status").map(String::as_str), Some("success"), "{landed}");
    assert_eq!(query.get("from").map(String::as_str), Some("test"));
    assert_eq!(query.get("connection_id"), Some(&first.connection_id.to_string()));
    let id = first.connection_id.to_string();

    let token = client
        .connection_token_get()
        .connection_id(id.as_str())
        .send()
        .await
        .expect("token")
        .into_inner();
    let access = token.credentials["access_token"].clone();
    let me = oidc.userinfo(&access).await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: serde_json::Value = me.json().await.expect("userinfo JSON");
    assert_eq!(me["sub"], "alice");

    client
        .connection_refresh()
        .connection_id(id.as_str())
        .send()
        .await
        .expect("forced refresh");
    let refreshed = client
        .connection_token_get()
        .connection_id(id.as_str())
        .send()
        .await
        .expect("token")
        .into_inner();
    assert_ne!(
        refreshed.credentials["access_token"], access,
        "a new access token after refresh"
    );
    assert_eq!(
        oidc.userinfo(&refreshed.credentials["access_token"]).await.status(),
        StatusCode::OK
    );

    oidc.revoke_grants().await;
    let refused = client
        .connection_refresh()
        .connection_id(id.as_str())
        .send()
        .await
        .expect_err("grant withdrawn");
    assert_eq!(refused.status(), Some(StatusCode::CONFLICT));
    let view = client
        .connection_view()
        .connection_id(id.as_str())
        .send()
        .await
        .expect("view")
        .into_inner();
    assert_eq!(view.status, broker::ConnectionStatus::AttentionRequired);

    let again = consent(Some(first.connection_id)).await;
    assert_eq!(again.connection_id, first.connection_id, "re-consent keeps the id");
    let landed = consent_as_user(&again.auth_url, &callback).await;
    assert!(landed.as_str().contains("status=success"), "{landed}");
    let view = client
        .connection_view()
        .connection_id(id.as_str())
        .send()
        .await
        .expect("view")
        .into_inner();
    assert_eq!(view.status, broker::ConnectionStatus::Active);
    let renewed = client
        .connection_token_get()
        .connection_id(id.as_str())
        .send()
        .await
        .expect("token")
        .into_inner();
    assert_eq!(
        oidc.userinfo(&renewed.credentials["access_token"]).await.status(),
        StatusCode::OK
    );

    // No issued token (access or refresh) at rest or in the log.
    let issued = oidc.issued_tokens().await;
    assert!(issued.len() >= 5, "access and refresh tokens were issued: {issued:?}");
    let metrics = reqwest::get(format!("{}/metrics", nexus.broker_url))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let gateway_metrics = reqwest::get(format!("{}/metrics", nexus.gateway_url))
        .await
        .expect("gateway");
    assert_eq!(
        gateway_metrics.status(),
        StatusCode::NOT_FOUND,
        "/metrics is never on the Gateway"
    );
    let log = nexus.log();
    assert!(nexus.terminate(), "clean shutdown");
    let at_rest = match &db.sqlite_path {
        Some(path) => [path.clone(), path.with_extension("db-wal")]
            .iter()
            .map(|p| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned())
            .collect::<String>(),
        None => {
            use sea_orm::{ConnectionTrait, Statement};
            let conn = db.connect().await;
            let mut text = String::new();
            for table in ["providers", "connections", "credentials", "audit_events"] {
                let rows = conn
                    .query_all_raw(Statement::from_string(
                        conn.get_database_backend(),
                        format!("SELECT row_to_json(t)::text AS row FROM {table} t"),
                    ))
                    .await
                    .expect("dump");
                for row in rows {
                    text.push_str(&row.try_get::<String>("", "row").expect("row"));
                }
            }
            assert!(text.contains("oidc-e2e"), "the dump has content");
            text
        }
    };
    for token in &issued {
        assert!(
            !at_rest.contains(token.as_str()),
            "an issued token is readable in the database"
        );
        assert!(!log.contains(token.as_str()), "an issued token is in the server log");
    }
    assert!(
        !log.contains(CLIENT_SECRET) && !at_rest.contains(CLIENT_SECRET),
        "the client secret leaked"
    );
    assert!(!log.contains("code="), "the access log printed a callback code");
    assert!(
        log.contains("/auth/callback"),
        "the callback was logged (without its query)"
    );

    // Metrics: every name, with bounded labels.
    for name in [
        "oauth_token_get_total{provider=\"oidc-e2e\",status=\"success\"}",
        "oauth_token_refreshes_total{provider=\"oidc-e2e\",status=\"success\"}",
        "oauth_token_refreshes_total{provider=\"oidc-e2e\",status=\"error\"}",
        "oauth_refresh_duration_seconds_count{provider=\"oidc-e2e\"}",
        "oauth_consents_created_total{provider=\"oidc-e2e\"}",
        "oauth_token_exchanges_total{provider=\"oidc-e2e\",status=\"success\"}",
        "oauth_exchange_duration_seconds_count{provider=\"oidc-e2e\"}",
        "nexus_connections_total{status=\"active\"}",
        "nexus_db_operation_duration_seconds_count{method=\"find\",repo=\"connections\"}",
        "nexus_http_requests_total{api=\"broker\",operation=\"connection_token_get\",status=\"200\"}",
        "nexus_http_request_duration_seconds_count{api=\"broker\",operation=\"consent_create\"}",
    ] {
        assert!(metrics.contains(name), "missing {name} in:\n{metrics}");
    }
    assert!(
        !metrics.contains("ws-e2e") && !metrics.contains(&id),
        "unbounded label values in metrics"
    );
}

/// An agent's view, through the generated Gateway client: request a connection, let the user
/// consent, poll until active, resolve, and call the provider with the injected credential.
async fn agent_connects_through_the_gateway(db: TestDatabase, mode: Mode) {
    let server = TestServer::start_in(db, mode).await;
    let callback = format!("{}/auth/callback", server.broker_url);
    let oidc = OidcProvider::start(&callback);
    // A local API beside the provider: the credential may go to both (the provider's own
    // userinfo is its base URL; the API is a declared origin).
    let api = nexus_server::listen::bind("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("bind");
    let api_url: reqwest::Url = format!("http://{}/v1/me", api.addr).parse().expect("url");
    let provider: broker::ProviderCreate = serde_json::from_value(serde_json::json!({
        "name": "oidc-gw", "auth_type": "oauth2", "client_id": "nexus", "client_secret": CLIENT_SECRET,
        "api_base_url": oidc.issuer, "api_origins": [format!("http://{}", api.addr)],
        "issuer": oidc.issuer, "token_endpoint_auth_method": "client_secret_basic",
        "scopes": ["openid", "offline_access", "email"], "authorization_params": {"prompt": "consent"}
    }))
    .expect("provider body");
    server
        .broker()
        .provider_create()
        .body(provider)
        .send()
        .await
        .expect("register provider");
    let agent_key = server.agent_key(Some(vec!["ws-agent"])).await;
    let gateway = server.gateway(&agent_key);

    let requested = gateway
        .connection_request()
        .body(gateway_types::ConnectionRequest {
            connection_params: Default::default(),
            connection_id: None,
            workspace_id: "ws-agent".parse().expect("workspace"),
            provider: "oidc-gw".parse().expect("provider"),
            scopes: Vec::new(),
            return_url: "http://127.0.0.1:9/agent-done".parse().expect("a valid return URL"),
        })
        .send()
        .await
        .expect("request connection")
        .into_inner();
    let id = requested.connection_id.to_string();
    let check = gateway
        .connection_check()
        .connection_id(id.as_str())
        .send()
        .await
        .expect("check")
        .into_inner();
    assert_eq!(
        check.status,
        gateway_types::ConnectionStatus::Pending,
        "pending while the user consents"
    );

    let landed = consent_as_user(&requested.auth_url, &callback).await;
    assert!(landed.as_str().contains("status=success"), "{landed}");
    let mut status = gateway_types::ConnectionStatus::Pending;
    for _ in 0..20 {
        status = gateway
            .connection_check()
            .connection_id(id.as_str())
            .send()
            .await
            .expect("check")
            .into_inner()
            .status;
        if status == gateway_types::ConnectionStatus::Active {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status, gateway_types::ConnectionStatus::Active);

    let envelope = gateway
        .token_resolve()
        .workspace_id("ws-agent")
        .provider("oidc-gw")
        .send()
        .await
        .expect("resolve")
        .into_inner();
    assert_eq!(
        serde_json::to_value(&envelope.strategy).expect("strategy")["type"],
        "oauth2"
    );
    assert!(!envelope.credentials.contains_key("refresh_token"));
    let me = oidc.userinfo(&envelope.credentials["access_token"]).await;
    assert_eq!(
        me.status(),
        StatusCode::OK,
        "the injected credential works at the provider"
    );
    let refreshed = gateway
        .token_refresh()
        .connection_id(id.as_str())
        .send()
        .await
        .expect("refresh")
        .into_inner();
    assert_eq!(
        oidc.userinfo(&refreshed.credentials["access_token"]).await.status(),
        StatusCode::OK
    );

    // The Rust SDK: the injected token works at the provider.
    let credentials = std::sync::Arc::new(Credentials::new(server.gateway(&agent_key)));
    let target = Target::Resolve {
        workspace_id: "ws-agent".into(),
        provider: "oidc-gw".into(),
    };
    let sdk = CredentialClient::new(reqwest::Client::builder(), credentials.clone(), target.clone()).expect("client");
    let userinfo: reqwest::Url = format!("{}/me", oidc.issuer).parse().expect("url");
    let get = |url: &reqwest::Url| reqwest::Request::new(reqwest::Method::GET, url.clone());
    assert_eq!(
        sdk.execute(get(&userinfo)).await.expect("userinfo").status(),
        StatusCode::OK
    );

    // An API that refuses the first token it sees: the SDK refreshes through the Gateway once
    // and sends the request again, with a new token the provider accepts.
    let seen: std::sync::Arc<std::sync::Mutex<Vec<String>>> = std::sync::Arc::default();
    let (stop_api, stopped) = tokio::sync::watch::channel(false);
    let api_task = tokio::spawn(nexus_server::listen::serve(
        api,
        {
            let seen = seen.clone();
            poem::endpoint::make_sync(move |req: poem::Request| {
                let token = req
                    .headers()
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let mut seen = seen.lock().expect("lock");
                seen.push(token);
                let status = if seen.len() == 1 { 401 } else { 200 };
                poem::Response::builder()
                    .status(poem::http::StatusCode::from_u16(status).expect("status"))
                    .finish()
            })
        },
        stopped,
    ));
    assert_eq!(
        sdk.execute(get(&api_url)).await.expect("after one refresh").status(),
        StatusCode::OK
    );
    let tokens = seen.lock().expect("lock").clone();
    assert_eq!(tokens.len(), 2, "sent twice: {tokens:?}");
    assert_ne!(tokens[0], tokens[1], "the second send carries the refreshed token");
    let renewed = credentials.get(&target).await.expect("renewed");
    assert_eq!(tokens[1], format!("Bearer {}", renewed.credentials["access_token"]));
    assert_eq!(
        oidc.userinfo(&renewed.credentials["access_token"]).await.status(),
        StatusCode::OK
    );
    let _ = stop_api.send(true);
    api_task.await.expect("api task").expect("api stops");

    // The provider revokes the grant: the SDK's refresh is refused, and the agent learns that
    // the user must consent again, and for which connection.
    let revoked = reqwest::Client::new()
        .post(format!("{}/token/revocation", oidc.issuer))
        .basic_auth("nexus", Some(CLIENT_SECRET))
        .form(&[
            ("token", renewed.credentials["access_token"].as_str()),
            ("token_type_hint", "access_token"),
        ])
        .send()
        .await
        .expect("revoke at the provider");
    assert!(revoked.status().is_success(), "{}", revoked.status());
    let error = sdk.execute(get(&userinfo)).await.expect_err("consent is needed again");
    assert_eq!(error.code(), "attention_required", "{error:?}");
    assert!(
        matches!(&error, nexus_client::credentials::SdkError::Nexus { connection_id: Some(c), .. } if c.to_string() == id),
        "{error:?}"
    );
    server.stop().await;
}

async fn gateway_one_process(db: TestDatabase) {
    agent_connects_through_the_gateway(db, Mode::OneProcess).await;
}

async fn gateway_split(db: TestDatabase) {
    agent_connects_through_the_gateway(db, Mode::Split).await;
}

/// A provider that issues a refresh token only on the first consent (here: `oidc-provider`, which
/// grants `offline_access` only with `prompt=consent`): a second consent of the same connection
/// without it keeps the stored refresh token, and the next refresh (rotating it) works.
async fn a_reconsent_keeps_the_refresh_token_the_provider_does_not_send_again(db: TestDatabase) {
    install_tls_provider();
    let dir = tempfile::tempdir().expect("tempdir");
    let admin_key = format!("admin-{}", generate_key());
    let mut command = nexus_command(dir.path());
    command
        .env("NEXUS_DATABASE_URL", &db.url)
        .env("NEXUS_ENCRYPTION_KEYS", generate_key())
        .env("NEXUS_STATE_KEY", generate_key())
        .env("NEXUS_ADMIN_KEYS", &admin_key);
    let nexus = NexusProcess::spawn(command);
    let broker = nexus.broker_url.clone();
    let callback = format!("{broker}/auth/callback");
    let oidc = OidcProvider::start(&callback);
    let call = |method: reqwest::Method, path: &str, body: Option<serde_json::Value>| {
        let request = common::raw()
            .request(method, format!("{broker}{path}"))
            .bearer_auth(&admin_key);
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        async move {
            let response = request.send().await.expect("request");
            let status = response.status();
            (status, response.json::<serde_json::Value>().await.unwrap_or_default())
        }
    };
    let (status, body) = call(
        reqwest::Method::POST,
        "/v1/providers",
        Some(serde_json::json!({
            "name": "oidc-once",
            "auth_type": "oauth2",
            "client_id": "nexus",
            "client_secret": CLIENT_SECRET,
            "issuer": oidc.issuer,
            "token_endpoint_auth_method": "client_secret_basic",
            "scopes": ["openid", "offline_access"],
            "authorization_params": {"prompt": "consent"}
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let consent = |connection_id: Option<String>| {
        let mut body = serde_json::json!({
            "workspace_id": "ws-once", "provider": "oidc-once", "return_url": "http://127.0.0.1:9/done"
        });
        if let Some(id) = connection_id {
            body["connection_id"] = serde_json::Value::String(id);
        }
        call(reqwest::Method::POST, "/v1/consents", Some(body))
    };
    let (status, first) = consent(None).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let id = first["connection_id"].as_str().expect("id").to_owned();
    let landed = consent_as_user(first["auth_url"].as_str().expect("auth_url"), &callback).await;
    assert!(landed.as_str().contains("status=success"), "{landed}");

    // The second consent asks without `prompt=consent`: the provider issues no refresh token.
    let (status, body) = call(
        reqwest::Method::PATCH,
        "/v1/providers/oidc-once",
        Some(serde_json::json!({"authorization_params": {}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, again) = consent(Some(id.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    let auth_url = again["auth_url"].as_str().expect("auth_url");
    assert!(!auth_url.contains("prompt=consent"), "{auth_url}");
    let landed = consent_as_user(auth_url, &callback).await;
    assert!(landed.as_str().contains("status=success"), "{landed}");

    let (refreshes_before, errors_before, _) = oidc.grant_counts().await;
    let (status, refreshed) = call(reqwest::Method::POST, &format!("/v1/connections/{id}/refresh"), None).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the kept refresh token still works: {refreshed}"
    );
    let (refreshes, errors, codes) = oidc.grant_counts().await;
    assert_eq!(refreshes - refreshes_before, 1, "one refresh grant");
    assert_eq!(errors, errors_before, "no provider error: {codes}");
    let (_, view) = call(reqwest::Method::GET, &format!("/v1/connections/{id}"), None).await;
    assert_eq!(view["status"], "active", "{view}");
    assert!(nexus.terminate(), "clean shutdown");
}

database_tests!(
    #[requires(oidc)]
    real_provider_full_lifecycle,
    #[requires(oidc)]
    a_reconsent_keeps_the_refresh_token_the_provider_does_not_send_again,
    #[requires(oidc)]
    gateway_one_process,
    #[requires(oidc)]
    gateway_split
);
