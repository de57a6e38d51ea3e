//! The provider catalog on the Broker: templates listed and viewed (through the generated
//! client, so the answers are proven against the spec), and providers created from a template,
//! with the operator's fields winning and templates Nexus cannot run yet refused with a reason.

mod common;

use common::{TestServer, raw};
use nexus_test_utils::{TestDatabase, database_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn post_provider(server: &TestServer, body: Value) -> (StatusCode, Value) {
    let response = raw()
        .post(format!("{}/v1/providers", server.broker_url))
        .bearer_auth(&server.admin_key)
        .json(&body)
        .send()
        .await
        .expect("POST /v1/providers");
    let status = response.status();
    (status, response.json().await.expect("JSON"))
}

async fn templates_are_listed_and_viewed(db: TestDatabase) {
    let server = TestServer::start(db).await;
    let broker = server.broker();
    let all = broker.template_list().send().await.expect("template_list").into_inner();
    assert!(all.items.len() >= 600, "{} templates", all.items.len());
    let github = all.items.iter().find(|t| t.name.as_str() == "github").expect("github");
    assert!(github.unsupported.is_empty(), "{:?}", github.unsupported);
    let crm = broker
        .template_list()
        .category("crm")
        .send()
        .await
        .expect("by category")
        .into_inner();
    assert!(!crm.items.is_empty() && crm.items.len() < all.items.len());
    assert!(crm.items.iter().all(|t| t.categories.iter().any(|c| c == "crm")));
    let basic = broker
        .template_list()
        .auth_type(nexus_client::broker::types::AuthType::BasicAuth)
        .send()
        .await
        .expect("by auth type")
        .into_inner();
    assert!(!basic.items.is_empty());
    assert!(
        basic
            .items
            .iter()
            .all(|t| t.auth_type == nexus_client::broker::types::AuthType::BasicAuth)
    );

    let zendesk = broker
        .template_view()
        .name("zendesk")
        .send()
        .await
        .expect("template_view")
        .into_inner();
    assert_eq!(zendesk.connection_params[0].name, "subdomain");
    assert!(
        zendesk
            .authorization_url
            .as_deref()
            .is_some_and(|url| url.contains("{subdomain}.zendesk.com"))
    );
    assert!(zendesk.unsupported.is_empty(), "{:?}", zendesk.unsupported);
    let registered = broker
        .template_view()
        .name("amplitude-mcp")
        .send()
        .await
        .expect("template_view")
        .into_inner();
    assert!(
        registered.unsupported.is_empty(),
        "a remote MCP server runs as an MCP provider: {:?}",
        registered.unsupported
    );
    let slack = broker
        .template_view()
        .name("slack")
        .send()
        .await
        .expect("template_view")
        .into_inner();
    assert_eq!(
        slack.token_response,
        Some(nexus_client::broker::types::TokenResponseShape::SlackBot)
    );
    assert_eq!(slack.scope_separator.as_deref(), Some(","));

    let missing = raw()
        .get(format!("{}/v1/catalog/no-such-template", server.broker_url))
        .bearer_auth(&server.admin_key)
        .send()
        .await
        .expect("GET");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let body: Value = missing.json().await.expect("JSON");
    assert_eq!(body["code"], "template_not_found");
    server.stop().await;
}

async fn providers_are_created_from_templates(db: TestDatabase) {
    let server = TestServer::start(db).await;
    // The template fills in the name, the auth type and the endpoints.
    let (status, github) = post_provider(
        &server,
        json!({"template": "github", "client_id": "client-1", "client_secret": "secret-1"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{github}");
    assert_eq!(github["name"], "github");
    assert_eq!(github["auth_type"], "oauth2");
    assert_eq!(github["authorization_url"], "https://github.com/login/oauth/authorize");
    assert_eq!(github["token_url"], "https://github.com/login/oauth/access_token");
    assert!(github.get("client_secret").is_none(), "{github}");

    // The operator's fields win, and a second provider can come from the same template.
    let (status, work) = post_provider(
        &server,
        json!({"template": "github", "name": "github-work", "display_name": "GitHub (work)",
               "scopes": ["repo"], "client_id": "client-2", "client_secret": "secret-2"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{work}");
    assert_eq!(work["name"], "github-work");
    assert_eq!(work["display_name"], "GitHub (work)");
    assert_eq!(work["scopes"], json!(["repo"]));

    // An API-key template brings its strategy and credential form.
    let (status, openai) = post_provider(&server, json!({"template": "openai"})).await;
    assert_eq!(status, StatusCode::CREATED, "{openai}");
    assert_eq!(openai["strategy"]["type"], "header");
    assert_eq!(openai["strategy"]["value_prefix"], "Bearer ");

    // Linear joins scopes with commas: the template says so, the view shows it, and the consent
    // asks for `read,write`.
    let (status, linear) = post_provider(
        &server,
        json!({"template": "linear", "client_id": "c", "client_secret": "s", "scopes": ["read", "write"]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{linear}");
    assert_eq!(linear["scope_separator"], ",", "{linear}");
    let consent = server
        .admin_post(
            "/v1/consents",
            json!({"workspace_id": "ws-linear", "provider": "linear", "return_url": "http://127.0.0.1:9/done"}),
        )
        .await;
    let auth_url = url::Url::parse(consent["auth_url"].as_str().expect("auth_url")).expect("url");
    let scope = auth_url
        .query_pairs()
        .find(|(k, _)| k == "scope")
        .map(|(_, v)| v.into_owned());
    assert_eq!(scope.as_deref(), Some("read,write"), "{auth_url}");
    let (status, refused) = post_provider(
        &server,
        json!({"name": "semicolons", "auth_type": "oauth2", "client_id": "c", "client_secret": "s",
               "authorization_url": "https://a.example.com/auth", "token_url": "https://a.example.com/token",
               "scope_separator": ";"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["field"], "scope_separator", "{refused}");
    let (status, keyed) = post_provider(
        &server,
        json!({"name": "keyed-sep", "auth_type": "api_key", "scope_separator": ","}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "an API-key provider has no scopes to join: {keyed}"
    );

    // A remote MCP server's template needs the server's URL: refused with the reason without
    // it, and nothing is stored.
    let (status, registered) = post_provider(
        &server,
        json!({"template": "amplitude-mcp", "client_id": "c", "client_secret": "s"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{registered}");
    assert_eq!(registered["code"], "invalid_request");
    assert_eq!(registered["field"], "mcp_server_url");
    assert!(
        registered["message"]
            .as_str()
            .is_some_and(|m| m.contains("remote MCP server") && m.contains("https://mcp.amplitude.com")),
        "{registered}"
    );
    let (status, unknown) = post_provider(&server, json!({"template": "no-such-template"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{unknown}");
    assert_eq!(
        (&unknown["code"], &unknown["field"]),
        (&json!("invalid_request"), &json!("template"))
    );
    let (status, mismatch) = post_provider(&server, json!({"template": "github", "auth_type": "api_key"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{mismatch}");
    assert_eq!(mismatch["field"], "auth_type");
    // The operator's own authorization URL never pairs with the template's token URL.
    let (status, half) = post_provider(
        &server,
        json!({"template": "github", "name": "ghe", "client_id": "c", "client_secret": "s",
               "authorization_url": "https://ghe.example.com/login/oauth/authorize"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{half}");
    assert_eq!(half["field"], "token_url", "{half}");
    // Without a template, the name and the auth type are required.
    let (status, nameless) = post_provider(&server, json!({"auth_type": "api_key"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{nameless}");
    assert_eq!(nameless["field"], "name");
    let (status, typeless) = post_provider(&server, json!({"name": "typeless"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{typeless}");
    assert_eq!(typeless["field"], "auth_type");
    let names: Vec<String> = server.admin_get("/v1/providers").await["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(names, ["github", "github-work", "linear", "openai"]);
    server.stop().await;
}

database_tests!(templates_are_listed_and_viewed, providers_are_created_from_templates);
