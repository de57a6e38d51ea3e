//! End to end through the generated Rust client: providers, agent keys, the Gateway catalog,
//! secrets at rest, and bad input. Each scenario runs on SQLite and on PostgreSQL.

mod common;

use common::{TestServer, oauth_provider, raw};
use nexus_client::broker::types as broker;
use nexus_test_utils::{TestDatabase, database_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};

const SECRET: &str = "gh-client-secret-5f3a9c";

async fn provider_appears_in_catalog_without_its_secret(db: TestDatabase) {
    let server = TestServer::start(db).await;
    let body: broker::ProviderCreate = serde_json::from_value(oauth_provider("github", SECRET)).expect("body");
    let created = server
        .broker()
        .provider_create()
        .body(body)
        .send()
        .await
        .expect("create")
        .into_inner();
    assert!(created.has_client_secret);
    assert_eq!(created.name, "github");

    let agent_key = server.agent_key(None).await;
    let catalog = server
        .gateway(&agent_key)
        .provider_catalog()
        .send()
        .await
        .expect("catalog")
        .into_inner();
    assert_eq!(catalog.items.len(), 1);
    assert_eq!(catalog.items[0].name, "github");
    assert_eq!(catalog.items[0].default_scopes, ["repo", "read:user"]);

    // No answer ever carries the secret: not the catalog, not the operator views.
    for (url, key) in [
        (format!("{}/v1/providers", server.gateway_url), &agent_key),
        (format!("{}/v1/providers", server.broker_url), &server.admin_key),
        (format!("{}/v1/providers/github", server.broker_url), &server.admin_key),
    ] {
        let text = raw()
            .get(&url)
            .bearer_auth(key)
            .send()
            .await
            .expect("get")
            .text()
            .await
            .expect("text");
        assert!(text.contains("github"), "{url}: {text}");
        assert!(!text.contains(SECRET), "{url} leaked the client secret");
    }

    // Nor is it readable at rest.
    match &server.db.sqlite_path {
        Some(path) => {
            for file in [path.clone(), path.with_extension("db-wal")] {
                let bytes = std::fs::read(&file).unwrap_or_default();
                assert!(
                    !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
                    "{}",
                    file.display()
                );
            }
        }
        None => {
            use sea_orm::{ConnectionTrait, Statement};
            let conn = server.db.connect().await;
            let rows = conn
                .query_all_raw(Statement::from_string(
                    conn.get_database_backend(),
                    "SELECT row_to_json(p)::text AS row FROM providers p".to_owned(),
                ))
                .await
                .expect("query");
            assert_eq!(rows.len(), 1);
            for row in rows {
                let text: String = row.try_get("", "row").expect("row text");
                assert!(text.contains("github") && !text.contains(SECRET), "{text}");
            }
        }
    }
    server.stop().await;
}

async fn providers_round_trip_by_id_and_name(db: TestDatabase) {
    let server = TestServer::start(db).await;
    let client = server.broker();
    let body: broker::ProviderCreate = serde_json::from_value(oauth_provider("github", SECRET)).expect("body");
    let created = client
        .provider_create()
        .body(body)
        .send()
        .await
        .expect("create")
        .into_inner();

    let by_id = client
        .provider_view()
        .provider(created.id.to_string())
        .send()
        .await
        .expect("by id")
        .into_inner();
    let by_name = client
        .provider_view()
        .provider("github")
        .send()
        .await
        .expect("by name")
        .into_inner();
    assert_eq!(by_id, created);
    assert_eq!(by_name, created);

    let patch: broker::ProviderUpdate = serde_json::from_value(json!({
        "description": "Code hosting",
        "clear": ["api_base_url"],
        "strategy": {"type": "header", "header_name": "Authorization", "value_prefix": "token ", "credential_field": "access_token"}
    }))
    .expect("patch");
    let updated = client
        .provider_update()
        .provider("github")
        .body(patch)
        .send()
        .await
        .expect("update")
        .into_inner();
    assert_eq!(updated.description.as_deref(), Some("Code hosting"));
    assert_eq!(updated.api_base_url, None);
    assert!(updated.has_client_secret, "an update without a secret keeps it");
    assert!(updated.updated_at > created.updated_at);
    let strategy = serde_json::to_value(&updated.strategy).expect("strategy");
    assert_eq!(strategy["type"], "header");

    let static_body: broker::ProviderCreate = serde_json::from_value(json!({
        "name": "openai", "auth_type": "api_key",
        "strategy": {"type": "header", "header_name": "Authorization", "value_prefix": "Bearer "}
    }))
    .expect("body");
    let openai = client
        .provider_create()
        .body(static_body)
        .send()
        .await
        .expect("create api_key")
        .into_inner();
    assert!(!openai.has_client_secret);
    assert_eq!(
        openai.credential_schema.as_ref().map(|s| s["required"].clone()),
        Some(json!(["api_key"]))
    );

    let list = client.provider_list().send().await.expect("list").into_inner();
    assert_eq!(
        list.items.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        ["github", "openai"]
    );

    client
        .provider_delete()
        .provider("github")
        .send()
        .await
        .expect("delete");
    let gone = client
        .provider_view()
        .provider("github")
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(gone.status(), Some(StatusCode::NOT_FOUND));
    let again = client
        .provider_delete()
        .provider("github")
        .send()
        .await
        .expect_err("twice");
    assert_eq!(again.status(), Some(StatusCode::NOT_FOUND));

    let audit = client
        .audit_event_list()
        .event_type("provider_created")
        .send()
        .await
        .expect("audit")
        .into_inner();
    assert_eq!(audit.items.len(), 2);
    assert!(audit.items.iter().all(|e| e.actor.starts_with("admin:")));
    assert!(!serde_json::to_string(&audit).expect("json").contains(SECRET));
    server.stop().await;
}

async fn agent_keys_are_shown_once_and_stop_working_when_deleted(db: TestDatabase) {
    let server = TestServer::start(db).await;
    let client = server.broker();
    let created = client
        .agent_key_create()
        .body(broker::AgentKeyCreate {
            name: "support-mcp".parse().expect("a valid name"),
            workspace_ids: vec!["ws-1".parse().expect("workspace")],
            all_workspaces: None,
            proxy_only: None,
        })
        .send()
        .await
        .expect("create")
        .into_inner();
    assert!(created.key.starts_with(&created.prefix));
    let listed = client.agent_key_list().send().await.expect("list").into_inner();
    assert_eq!(listed.items.len(), 1);
    let listed_text = serde_json::to_string(&listed).expect("json");
    assert!(!listed_text.contains(&created.key), "the key is shown only once");

    let gateway = server.gateway(&created.key);
    gateway.provider_catalog().send().await.expect("works before deletion");
    client
        .agent_key_delete()
        .agent_key_id(created.id.to_string())
        .send()
        .await
        .expect("delete");
    let refused = gateway.provider_catalog().send().await.expect_err("deleted key");
    assert_eq!(refused.status(), Some(StatusCode::UNAUTHORIZED));
    let again = client
        .agent_key_delete()
        .agent_key_id(created.id.to_string())
        .send()
        .await
        .expect_err("twice");
    assert_eq!(again.status(), Some(StatusCode::NOT_FOUND));
    server.stop().await;
}

async fn post(server: &TestServer, path: &str, body: impl Into<reqwest::Body>) -> (StatusCode, Value) {
    let response = raw()
        .post(format!("{}{path}", server.broker_url))
        .bearer_auth(&server.admin_key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("send");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn bad_input_gets_a_stable_code_and_changes_nothing(db: TestDatabase) {
    let server = TestServer::start(db).await;
    let (status, _) = post(&server, "/v1/providers", oauth_provider("github", SECRET).to_string()).await;
    assert_eq!(status, StatusCode::CREATED);

    let mut missing_urls = oauth_provider("gitlab", SECRET);
    missing_urls.as_object_mut().expect("object").remove("token_url");
    let mut unknown_field = oauth_provider("gitlab", SECRET);
    unknown_field["colour"] = json!("blue");
    let mut wrong_type = oauth_provider("gitlab", SECRET);
    wrong_type["scopes"] = json!("repo");
    let mut bad_scope = oauth_provider("gitlab", SECRET);
    bad_scope["scopes"] = json!(["two words"]);
    let mut reserved_param = oauth_provider("gitlab", SECRET);
    reserved_param["authorization_params"] = json!({"state": "fixed"});
    let cases: Vec<(&str, String, StatusCode, &str, Option<&str>)> = vec![
        (
            "malformed JSON",
            "{\"name\":".into(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            None,
        ),
        (
            "unknown field",
            unknown_field.to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            None,
        ),
        (
            "wrong type",
            wrong_type.to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            None,
        ),
        (
            "not kebab",
            oauth_provider("Git_Lab", SECRET).to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            Some("name"),
        ),
        (
            "missing token_url",
            missing_urls.to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            Some("token_url"),
        ),
        (
            "bad scope",
            bad_scope.to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            Some("scopes"),
        ),
        (
            "reserved param",
            reserved_param.to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            Some("authorization_params"),
        ),
        (
            "null for an optional field",
            json!({"name": "nully", "auth_type": "api_key", "display_name": null}).to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            Some("display_name"),
        ),
        (
            "a number where text belongs",
            json!({"name": "numbered", "auth_type": "api_key", "display_name": 5}).to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            None,
        ),
        (
            "duplicate",
            oauth_provider("github", "other").to_string(),
            StatusCode::CONFLICT,
            "provider_exists",
            None,
        ),
        (
            "too large",
            format!("{{\"name\":\"{}\"}}", "x".repeat(70 * 1024)),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            None,
        ),
    ];
    for (case, body, status, code, field) in cases {
        let (got_status, got) = post(&server, "/v1/providers", body).await;
        assert_eq!(got_status, status, "{case}: {got}");
        assert_eq!(got["code"], code, "{case}: {got}");
        assert!(
            got["request_id"].as_str().is_some_and(|id| !id.is_empty()),
            "{case}: {got}"
        );
        assert!(got["message"].as_str().is_some_and(|m| !m.is_empty()), "{case}: {got}");
        if let Some(field) = field {
            assert_eq!(got["field"], field, "{case}: {got}");
        }
    }
    // The unknown field and the wrong type are named in the message.
    let (_, got) = post(&server, "/v1/providers", unknown_field.to_string()).await;
    assert!(got["message"].as_str().is_some_and(|m| m.contains("colour")), "{got}");
    // A value of the wrong type is never quoted back (a secret sent as a list, say).
    let mut secret_as_list = oauth_provider("gitlab", SECRET);
    secret_as_list["client_secret"] = json!(["sk-never-echoed-0123"]);
    let (status, got) = post(&server, "/v1/providers", secret_as_list.to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!got.to_string().contains("sk-never-echoed-0123"), "{got}");
    assert!(got["message"].as_str().is_some_and(|m| m.contains("string")), "{got}");
    let bad_limit = raw()
        .get(format!("{}/v1/connections?limit=sk-not-a-number", server.broker_url))
        .bearer_auth(&server.admin_key)
        .send()
        .await
        .expect("send");
    assert_eq!(bad_limit.status(), StatusCode::BAD_REQUEST);
    let got: Value = bad_limit.json().await.expect("JSON");
    assert_eq!(got["field"], "limit", "{got}");
    assert!(!got.to_string().contains("sk-not-a-number"), "{got}");

    // Bodies sent without Content-Length (chunked) are limited too.
    let chunks = futures::stream::iter(vec![Ok::<_, std::io::Error>(vec![b' '; 80 * 1024])]);
    let (status, got) = post(&server, "/v1/providers", reqwest::Body::wrap_stream(chunks)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{got}");

    let client = server.broker();
    let bad_id = raw()
        .delete(format!("{}/v1/agent-keys/not-a-uuid", server.broker_url))
        .bearer_auth(&server.admin_key)
        .send()
        .await
        .expect("send");
    assert_eq!(bad_id.status(), StatusCode::BAD_REQUEST);
    let body: Value = bad_id.json().await.expect("json");
    assert_eq!(body["code"], "invalid_request");
    assert_eq!(body["field"], "agent_key_id", "{body}");

    let unknown = client
        .provider_view()
        .provider("no-such-provider")
        .send()
        .await
        .expect_err("404");
    assert_eq!(unknown.status(), Some(StatusCode::NOT_FOUND));
    // The schema carries the name pattern: the generated client refuses before sending, and the
    // server refuses what another client sends anyway.
    let invalid_ref = client
        .provider_view()
        .provider("NOT VALID")
        .send()
        .await
        .expect_err("refused by the client");
    assert!(
        matches!(invalid_ref, progenitor_client::Error::InvalidRequest(_)),
        "{invalid_ref}"
    );
    let sent_anyway = raw()
        .get(format!("{}/v1/providers/NOT%20VALID", server.broker_url))
        .bearer_auth(&server.admin_key)
        .send()
        .await
        .expect("send");
    assert_eq!(sent_anyway.status(), StatusCode::BAD_REQUEST);
    let bad_patch: nexus_client::broker::types::ProviderUpdate =
        serde_json::from_value(json!({"token_url": "http://example.com/token"})).expect("patch");
    let refused = client
        .provider_update()
        .provider("github")
        .body(bad_patch)
        .send()
        .await
        .expect_err("https");
    assert_eq!(refused.status(), Some(StatusCode::BAD_REQUEST));

    // Nothing above changed the data.
    let list = client.provider_list().send().await.expect("list").into_inner();
    assert_eq!(list.items.len(), 1);
    assert_eq!(
        list.items[0].token_url.as_deref(),
        Some("https://github.com/login/oauth/access_token")
    );
    server.stop().await;
}

database_tests!(
    provider_appears_in_catalog_without_its_secret,
    providers_round_trip_by_id_and_name,
    agent_keys_are_shown_once_and_stop_working_when_deleted,
    bad_input_gets_a_stable_code_and_changes_nothing,
);
