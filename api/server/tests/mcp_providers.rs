//! A remote MCP server as a provider, end to end through the Broker and the Gateway, on SQLite
//! and PostgreSQL, against the fake MCP server of `nexus_test_utils::mcp_fakes`: registered by
//! URL only; the consent discovers the authorization server, registers one client (reused by
//! the next consent), names the resource on the authorization and token requests and checks the
//! callback's `iss`; the agent resolves a token the MCP server takes; a refresh names the
//! resource (unless switched off) and uses the grant's client; what an MCP provider refuses.

mod common;

use common::{TestServer, raw};
use nexus_test_utils::mcp_fakes::{BASIC_CLIENT, FakeMcpServer, McpShape};
use nexus_test_utils::{TestDatabase, database_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("browser")
}

async fn consent(server: &TestServer, workspace: &str, provider: &str) -> (StatusCode, Value) {
    send(
        raw()
            .post(format!("{}/v1/consents", server.broker_url))
            .bearer_auth(&server.admin_key)
            .json(&json!({"workspace_id": workspace, "provider": provider, "return_url": "http://127.0.0.1:9/done"})),
    )
    .await
}

/// The user's browser at the authorization server, which sends it to Nexus's callback; the
/// callback URL passes through `tamper` first (an attacker's change). Where Nexus sends the
/// browser back to.
async fn authorize(auth_url: &str, tamper: impl FnOnce(url::Url) -> url::Url) -> String {
    let browser = browser();
    let to_nexus = browser.get(auth_url).send().await.expect("authorize");
    assert_eq!(to_nexus.status(), StatusCode::FOUND);
    let callback = url::Url::parse(to_nexus.headers()["location"].to_str().expect("location")).expect("callback");
    let back = browser.get(tamper(callback)).send().await.expect("callback");
    back.headers()["location"].to_str().expect("return location").to_owned()
}

fn query(url: &str) -> std::collections::BTreeMap<String, String> {
    url::Url::parse(url).expect("url").query_pairs().into_owned().collect()
}

async fn an_mcp_server_registered_by_url(db: TestDatabase) {
    let server = TestServer::start(db).await;
    let fake = FakeMcpServer::start(McpShape::default()).await;
    let (status, created) = send(
        raw()
            .post(format!("{}/v1/providers", server.broker_url))
            .bearer_auth(&server.admin_key)
            .json(&json!({"name": "fake-mcp", "auth_type": "oauth2", "mcp_server_url": fake.mcp_url()})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["mcp_server_url"], fake.mcp_url());
    assert_eq!(created["mcp_resource_on_refresh"], true);
    assert_eq!(created["api_base_url"], fake.mcp_url(), "tokens are for the MCP server");
    assert!(created.get("client_id").is_none_or(Value::is_null), "{created}");
    assert_eq!(created["has_client_secret"], false);

    let (status, started) = consent(&server, "ws-mcp", "fake-mcp").await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let auth_url = started["auth_url"].as_str().expect("auth_url");
    let asked = query(auth_url);
    assert!(
        auth_url.starts_with(&format!("{}/auth/authorize?", fake.base_url)),
        "{auth_url}"
    );
    assert_eq!(asked["client_id"], "mcp-client-1", "the registered client");
    assert_eq!(asked["resource"], fake.mcp_url());
    assert_eq!(asked["scope"], "mcp:read", "the server's scopes_supported");
    assert_eq!(asked["code_challenge_method"], "S256");
    let registration = &fake.registrations()[0];
    assert_eq!(
        registration["redirect_uris"][0],
        format!("{}/auth/callback", server.broker_url.trim_end_matches('/'))
    );

    let landed = authorize(auth_url, |callback| callback).await;
    assert!(landed.contains("status=success"), "{landed}");
    let exchange = &fake.token_requests()[0];
    assert_eq!(exchange["grant_type"], "authorization_code");
    assert_eq!(exchange["resource"], fake.mcp_url());
    assert_eq!(
        exchange[BASIC_CLIENT], "mcp-client-1:mcp-secret-1",
        "client_secret_basic, the registered secret"
    );
    assert!(exchange.contains_key("code_verifier"));

    let agent_key = server.agent_key(Some(vec!["ws-mcp", "ws-mcp-2"])).await;
    let (status, envelope) = send(
        raw()
            .get(format!(
                "{}/v1/resolve?workspace_id=ws-mcp&provider=fake-mcp",
                server.gateway_url
            ))
            .bearer_auth(&agent_key),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{envelope}");
    let token = envelope["credentials"]["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    assert_eq!(envelope["api_base_url"], fake.mcp_url());
    assert_eq!(envelope["strategy"]["type"], "oauth2");
    assert!(
        envelope["api_origins"]
            .as_array()
            .expect("origins")
            .contains(&json!(fake.base_url))
    );
    assert!(
        !envelope.to_string().contains("mcp-secret"),
        "the registered client stays in the Broker"
    );
    assert!(
        !envelope.to_string().contains("mcp-refresh"),
        "so does the refresh token"
    );
    let mcp = raw()
        .post(fake.mcp_url())
        .bearer_auth(&token)
        .send()
        .await
        .expect("MCP call");
    assert_eq!(mcp.status(), StatusCode::OK, "the MCP server takes the token");

    // A refresh names the resource and uses the grant's client.
    let connection_id = envelope["connection_id"].as_str().expect("id");
    let (status, refreshed) = send(
        raw()
            .post(format!("{}/v1/refresh/{connection_id}", server.gateway_url))
            .bearer_auth(&agent_key),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    assert_ne!(refreshed["credentials"]["access_token"], json!(token));
    let refresh = fake.token_requests().pop().expect("a refresh");
    assert_eq!(refresh["grant_type"], "refresh_token");
    assert_eq!(refresh["resource"], fake.mcp_url());
    assert_eq!(refresh[BASIC_CLIENT], "mcp-client-1:mcp-secret-1");

    // Another workspace: the same client, no second registration.
    let (_, second) = consent(&server, "ws-mcp-2", "fake-mcp").await;
    assert_eq!(
        query(second["auth_url"].as_str().expect("auth_url"))["client_id"],
        "mcp-client-1"
    );
    assert_eq!(fake.registrations().len(), 1);

    // A callback naming another issuer, or none when the server says it always names itself.
    let wrong = authorize(second["auth_url"].as_str().expect("auth_url"), |mut callback| {
        let kept: Vec<(String, String)> = callback
            .query_pairs()
            .into_owned()
            .filter(|(name, _)| name != "iss")
            .collect();
        callback
            .query_pairs_mut()
            .clear()
            .extend_pairs(kept)
            .append_pair("iss", "https://evil.example.com");
        callback
    })
    .await;
    assert!(wrong.contains("error=invalid_issuer"), "{wrong}");
    let (_, third) = consent(&server, "ws-mcp-2", "fake-mcp").await;
    let missing = authorize(third["auth_url"].as_str().expect("auth_url"), |mut callback| {
        let kept: Vec<(String, String)> = callback
            .query_pairs()
            .into_owned()
            .filter(|(name, _)| name != "iss")
            .collect();
        callback.query_pairs_mut().clear().extend_pairs(kept);
        callback
    })
    .await;
    assert!(missing.contains("error=invalid_issuer"), "{missing}");

    // An authorization server that rejects `resource` on refresh: switched off per provider.
    let (status, patched) = send(
        raw()
            .patch(format!("{}/v1/providers/fake-mcp", server.broker_url))
            .bearer_auth(&server.admin_key)
            .json(&json!({"mcp_resource_on_refresh": false})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["mcp_resource_on_refresh"], false);
    let (status, _) = send(
        raw()
            .post(format!("{}/v1/refresh/{connection_id}", server.gateway_url))
            .bearer_auth(&agent_key),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let refresh = fake.token_requests().pop().expect("a refresh");
    assert_eq!(refresh["grant_type"], "refresh_token");
    assert!(!refresh.contains_key("resource"), "{refresh:?}");

    // The authorization server refuses the client: what was discovered is discovered again.
    let metadata_reads = || {
        fake.requests()
            .iter()
            .filter(|request| request.contains(".well-known/oauth-authorization-server"))
            .count()
    };
    let before = metadata_reads();
    fake.reshape(McpShape {
        token_error: Some("invalid_client".into()),
        ..McpShape::default()
    });
    let (status, refused) = send(
        raw()
            .post(format!("{}/v1/refresh/{connection_id}", server.gateway_url))
            .bearer_auth(&agent_key),
    )
    .await;
    assert!(
        status.is_server_error() || status.is_client_error(),
        "{status}: {refused}"
    );
    fake.reshape(McpShape::default());
    // (The refused connection waits before its next refresh; a consent discovers first.)
    let (status, _) = consent(&server, "ws-mcp-3", "fake-mcp").await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(metadata_reads(), before + 1, "discovered again after the refusal");
    assert_eq!(fake.registrations().len(), 2, "the refused client was registered again");
}

async fn what_an_mcp_provider_refuses(db: TestDatabase) {
    let server = TestServer::start(db).await;
    let fake = FakeMcpServer::start(McpShape::default()).await;
    for (body, field) in [
        (
            json!({"authorization_url": format!("{}/auth/authorize", fake.base_url), "token_url": format!("{}/auth/token", fake.base_url)}),
            "authorization_url",
        ),
        (json!({"client_secret": "orphan"}), "client_secret"),
        (json!({"pkce": false}), "pkce"),
        (
            json!({"token_params": {"resource": "https://elsewhere.example.com"}}),
            "token_params",
        ),
        (json!({"mcp_server_url": "ftp://mcp.example.com/mcp"}), "mcp_server_url"),
        (
            json!({"mcp_server_url": "https://mcp.example.com/mcp?tenant=1"}),
            "mcp_server_url",
        ),
        (
            json!({"mcp_server_url": "https://mcp.example.com/mcp#x"}),
            "mcp_server_url",
        ),
    ] {
        let mut provider = json!({"name": "bad-mcp", "auth_type": "oauth2", "mcp_server_url": fake.mcp_url()});
        for (key, value) in body.as_object().expect("object") {
            provider[key] = value.clone();
        }
        let (status, error) = send(
            raw()
                .post(format!("{}/v1/providers", server.broker_url))
                .bearer_auth(&server.admin_key)
                .json(&provider),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{provider}: {error}");
        assert_eq!(error["code"], "invalid_request");
        assert_eq!(error["field"], field, "{provider}: {error}");
    }
    let (status, error) = send(
        raw()
            .post(format!("{}/v1/providers", server.broker_url))
            .bearer_auth(&server.admin_key)
            .json(&json!({"name": "keyed-mcp", "auth_type": "api_key", "mcp_server_url": fake.mcp_url()})),
    )
    .await;
    assert_eq!(
        (status, error["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("mcp_server_url"))
    );

    // A server whose metadata names another resource: the consent is refused, nothing registered.
    let liar = FakeMcpServer::start(McpShape {
        resource: Some("https://evil.example.com/mcp".into()),
        ..McpShape::default()
    })
    .await;
    let (status, _) = send(
        raw()
            .post(format!("{}/v1/providers", server.broker_url))
            .bearer_auth(&server.admin_key)
            .json(&json!({"name": "liar-mcp", "auth_type": "oauth2", "mcp_server_url": liar.mcp_url()})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, error) = consent(&server, "ws-liar", "liar-mcp").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{error}");
    assert_eq!(error["code"], "provider_misconfigured");
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("evil.example.com"),
        "{error}"
    );
    assert!(liar.registrations().is_empty());
}

/// A step-up the provider keeps refusing ends: three consents in a row asking for scopes it does
/// not grant, then `scope_not_granted`, whatever is asked, until a consent is granted in full.
async fn a_refused_step_up_is_bounded(db: TestDatabase) {
    let server = TestServer::start(db).await;
    let fake = FakeMcpServer::start(McpShape::default()).await;
    let (status, _) = send(
        raw()
            .post(format!("{}/v1/providers", server.broker_url))
            .bearer_auth(&server.admin_key)
            .json(&json!({"name": "stingy-mcp", "auth_type": "oauth2", "mcp_server_url": fake.mcp_url()})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, first) = consent(&server, "ws-stingy", "stingy-mcp").await;
    let landed = authorize(first["auth_url"].as_str().expect("auth_url"), |callback| callback).await;
    assert!(landed.contains("status=success"), "{landed}");
    let connection_id = first["connection_id"].as_str().expect("id").to_owned();
    // From now on the server grants only what the connection already has.
    fake.reshape(McpShape {
        granted_scope: Some("mcp:read".into()),
        ..McpShape::default()
    });
    let step_up = |scopes: Value| {
        send(
            raw()
                .post(format!("{}/v1/consents", server.broker_url))
                .bearer_auth(&server.admin_key)
                .json(
                    &json!({"workspace_id": "ws-stingy", "provider": "stingy-mcp", "connection_id": connection_id,
                              "scopes": scopes, "return_url": "http://127.0.0.1:9/done"}),
                ),
        )
    };
    for attempt in 1..=3 {
        let (status, started) = step_up(json!(["mcp:write"])).await;
        assert_eq!(status, StatusCode::CREATED, "attempt {attempt}: {started}");
        let asked = query(started["auth_url"].as_str().expect("auth_url"));
        assert_eq!(asked["scope"], "mcp:read mcp:write", "the union");
        let landed = authorize(started["auth_url"].as_str().expect("auth_url"), |callback| callback).await;
        assert!(landed.contains("status=success"), "{landed}");
    }
    let (status, refused) = step_up(json!(["mcp:write"])).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["code"], "scope_not_granted");
    assert_eq!(refused["connection_id"], json!(connection_id));
    // Asking for something else in between does not reset the count...
    let (status, other) = step_up(json!(["mcp:admin"])).await;
    assert_eq!(
        (status, other["code"].clone()),
        (StatusCode::CONFLICT, json!("scope_not_granted"))
    );
    // ...a consent granted all it asked for does (here a plain re-consent for the defaults).
    let (status, plain) = send(
        raw()
            .post(format!("{}/v1/consents", server.broker_url))
            .bearer_auth(&server.admin_key)
            .json(
                &json!({"workspace_id": "ws-stingy", "provider": "stingy-mcp", "connection_id": connection_id,
                          "return_url": "http://127.0.0.1:9/done"}),
            ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{plain}");
    let landed = authorize(plain["auth_url"].as_str().expect("auth_url"), |callback| callback).await;
    assert!(landed.contains("status=success"), "{landed}");
    let (status, again) = step_up(json!(["mcp:admin"])).await;
    assert_eq!(status, StatusCode::CREATED, "after a granted consent: {again}");
}

/// The catalog's MCP templates: created with the server's URL, they discover the rest.
async fn an_mcp_template_with_its_servers_url(db: TestDatabase) {
    let server = TestServer::start(db).await;
    let fake = FakeMcpServer::start(McpShape::default()).await;
    let (status, error) = send(
        raw()
            .post(format!("{}/v1/providers", server.broker_url))
            .bearer_auth(&server.admin_key)
            .json(&json!({"template": "linear-mcp"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["field"], "mcp_server_url");
    let (status, created) = send(
        raw()
            .post(format!("{}/v1/providers", server.broker_url))
            .bearer_auth(&server.admin_key)
            .json(&json!({"template": "linear-mcp", "mcp_server_url": fake.mcp_url()})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["name"], "linear-mcp");
    assert_eq!(created["display_name"], "Linear (MCP)");
    assert!(
        created["authorization_url"].is_null(),
        "the server's metadata names it: {created}"
    );
    let (status, started) = consent(&server, "ws-linear", "linear-mcp").await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let landed = authorize(started["auth_url"].as_str().expect("auth_url"), |callback| callback).await;
    assert!(landed.contains("status=success"), "{landed}");
}

/// Nexus's Client ID Metadata Document: its id is its own URL, its redirect URI the callback.
async fn the_client_metadata_document(db: TestDatabase) {
    let server = TestServer::start(db).await;
    let response = raw()
        .get(format!("{}/auth/client-metadata.json", server.broker_url))
        .send()
        .await
        .expect("document");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    let document: Value = response.json().await.expect("JSON");
    let base = server.broker_url.trim_end_matches('/');
    assert_eq!(document["client_id"], format!("{base}/auth/client-metadata.json"));
    assert_eq!(document["redirect_uris"], json!([format!("{base}/auth/callback")]));
    assert_eq!(document["token_endpoint_auth_method"], "none");
    assert_eq!(document["grant_types"], json!(["authorization_code", "refresh_token"]));
    let wrong = raw()
        .post(format!("{}/auth/client-metadata.json", server.broker_url))
        .send()
        .await
        .expect("post");
    assert_eq!(wrong.status(), StatusCode::METHOD_NOT_ALLOWED);
}

database_tests!(
    an_mcp_server_registered_by_url,
    what_an_mcp_provider_refuses,
    an_mcp_template_with_its_servers_url,
    a_refused_step_up_is_bounded,
    the_client_metadata_document
);
