//! Hosted flows in a real browser (headless Chromium): a person pastes an API key into Nexus's
//! capture form and lands back in the app; a person signs in and consents at a real OpenID
//! provider and lands back in the app. Both under the strict Content Security Policy, which
//! Chromium applies to the redirect that follows a form post.

mod common;

use common::browser::{drive, require_chromium};
use common::oidc::{CLIENT_SECRET, OidcProvider};
use common::{TestServer, raw};
use nexus_test_utils::mock_provider::MockProvider;
use nexus_test_utils::{TestDatabase, database_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn query(url: &str) -> std::collections::BTreeMap<String, String> {
    url::Url::parse(url).expect("url").query_pairs().into_owned().collect()
}

async fn capture_form_in_a_real_browser(db: TestDatabase) {
    require_chromium();
    let server = TestServer::start(db).await;
    let app = MockProvider::start().await;
    let return_url = app.url("/app/done");
    server
        .admin_post(
            "/v1/providers",
            json!({"name": "openai", "display_name": "OpenAI", "auth_type": "api_key"}),
        )
        .await;
    let consent = server
        .admin_post(
            "/v1/consents",
            json!({"workspace_id": "ws-browser", "provider": "openai", "return_url": format!("{return_url}?from=app")}),
        )
        .await;
    let form_url = consent["auth_url"].as_str().expect("auth_url");

    // The policy stays strict: nothing loads, nothing frames the page, and the form may lead
    // only here and to this consent's return origin.
    let page = raw().get(form_url).send().await.expect("form");
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .expect("policy")
        .to_owned();
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(
        policy.contains(&format!("form-action 'self' {}", app.base_url)),
        "{policy}"
    );
    assert!(!policy.contains('*'), "{policy}");

    let run = drive(
        "capture",
        form_url,
        &return_url,
        &["api_key=sk-typed-in-chromium".to_owned()],
    )
    .await;
    assert!(run.violations.is_empty(), "CSP violations: {:?}", run.violations);
    assert!(
        run.url.starts_with(&return_url),
        "ended on {} after {:?}",
        run.url,
        run.pages
    );
    let landed = query(&run.url);
    assert_eq!(landed.get("status").map(String::as_str), Some("success"), "{}", run.url);
    assert_eq!(landed.get("from").map(String::as_str), Some("app"));
    assert_eq!(
        landed.get("connection_id").map(String::as_str),
        consent["connection_id"].as_str()
    );

    let key = server.agent_key(None).await;
    let resolved: Value = raw()
        .get(format!(
            "{}/v1/resolve?workspace_id=ws-browser&provider=openai",
            server.gateway_url
        ))
        .bearer_auth(&key)
        .send()
        .await
        .expect("resolve")
        .json()
        .await
        .expect("JSON");
    assert_eq!(resolved["credentials"]["api_key"], "sk-typed-in-chromium");
    server.stop().await;
}

async fn oauth_consent_in_a_real_browser(db: TestDatabase) {
    require_chromium();
    let server = TestServer::start(db).await;
    let callback = format!("{}/auth/callback", server.broker_url);
    let oidc = OidcProvider::start(&callback);
    let app = MockProvider::start().await;
    let return_url = app.url("/app/done");
    server
        .admin_post(
            "/v1/providers",
            json!({
                "name": "oidc-browser",
                "auth_type": "oauth2",
                "client_id": "nexus",
                "client_secret": CLIENT_SECRET,
                "issuer": oidc.issuer,
                "token_endpoint_auth_method": "client_secret_basic",
                "scopes": ["openid", "offline_access"],
                "authorization_params": {"prompt": "consent"},
                "incremental_authorization_params": {"include_granted_scopes": "true"}
            }),
        )
        .await;
    let consent = server
        .admin_post(
            "/v1/consents",
            json!({"workspace_id": "ws-browser", "provider": "oidc-browser", "return_url": return_url}),
        )
        .await;
    let run = drive(
        "consent",
        consent["auth_url"].as_str().expect("auth_url"),
        &return_url,
        &[],
    )
    .await;
    assert!(run.violations.is_empty(), "CSP violations: {:?}", run.violations);
    assert!(
        run.url.starts_with(&return_url),
        "ended on {} after {:?}",
        run.url,
        run.pages
    );
    let landed = query(&run.url);
    assert_eq!(landed.get("status").map(String::as_str), Some("success"), "{}", run.url);
    assert!(
        run.pages.iter().any(|p| p.starts_with(&oidc.issuer)),
        "the user went through the provider's pages: {:?}",
        run.pages
    );

    let token: Value = server
        .admin_get(&format!(
            "/v1/connections/{}/token",
            consent["connection_id"].as_str().expect("id")
        ))
        .await;
    let access = token["credentials"]["access_token"].as_str().expect("access token");
    assert_eq!(oidc.userinfo(access).await.status(), StatusCode::OK);
    let id = consent["connection_id"].as_str().expect("id");
    let me: Value = oidc.userinfo(access).await.json().await.expect("userinfo");
    assert!(me.get("email").is_none(), "not granted email yet: {me}");

    // An incremental consent of the same connection, through the provider's pages again: the
    // union of the grant and `email`, with the provider's incremental parameter.
    let more = server
        .admin_post(
            "/v1/consents",
            json!({"workspace_id": "ws-browser", "provider": "oidc-browser", "connection_id": id,
                   "scopes": ["email"], "return_url": return_url}),
        )
        .await;
    assert_eq!(more["connection_id"], json!(id), "the same connection");
    let auth_url = more["auth_url"].as_str().expect("auth_url");
    assert!(auth_url.contains("include_granted_scopes=true"), "{auth_url}");
    let run = drive("consent", auth_url, &return_url, &[]).await;
    assert!(run.violations.is_empty(), "CSP violations: {:?}", run.violations);
    assert_eq!(
        query(&run.url).get("status").map(String::as_str),
        Some("success"),
        "{} after {:?}",
        run.url,
        run.pages
    );
    let viewed: Value = server.admin_get(&format!("/v1/connections/{id}")).await;
    let granted: Vec<&str> = viewed["granted_scopes"]
        .as_array()
        .map(|scopes| scopes.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(
        ["openid", "offline_access", "email"]
            .iter()
            .all(|s| granted.contains(s)),
        "the grant grew: {viewed}"
    );
    let token: Value = server.admin_get(&format!("/v1/connections/{id}/token")).await;
    let access = token["credentials"]["access_token"].as_str().expect("access token");
    let me: Value = oidc.userinfo(access).await.json().await.expect("userinfo");
    assert!(me.get("email").is_some(), "the new token reaches email: {me}");
    server.stop().await;
}

/// Cancel on the capture form takes the user back to the app with `access_denied`, and the link
/// no longer works.
async fn capture_cancel_in_a_real_browser(db: TestDatabase) {
    require_chromium();
    let server = TestServer::start(db).await;
    let app = MockProvider::start().await;
    let return_url = app.url("/app/done");
    server
        .admin_post(
            "/v1/providers",
            json!({"name": "openai", "display_name": "OpenAI", "description": "Models behind an API key",
                   "auth_type": "api_key", "logo_url": app.url("/app/logo.png"),
                   "docs_url": "https://platform.example.com/api-keys"}),
        )
        .await;
    let consent = server
        .admin_post(
            "/v1/consents",
            json!({"workspace_id": "ws-browser", "provider": "openai", "return_url": return_url}),
        )
        .await;
    let form_url = consent["auth_url"].as_str().expect("auth_url");
    let html = raw()
        .get(form_url)
        .send()
        .await
        .expect("form")
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("Models behind an API key"),
        "the provider's description is shown"
    );
    assert!(html.contains("prefers-color-scheme:dark"), "dark mode");
    assert!(
        html.contains("https://platform.example.com/api-keys"),
        "where to find the key"
    );
    assert!(html.contains(&app.url("/app/logo.png")), "the logo");
    let run = drive("cancel", form_url, &return_url, &[]).await;
    assert!(run.violations.is_empty(), "CSP violations: {:?}", run.violations);
    let landed = query(&run.url);
    assert_eq!(landed.get("status").map(String::as_str), Some("error"), "{}", run.url);
    assert_eq!(landed.get("error").map(String::as_str), Some("access_denied"));
    assert_eq!(
        raw().get(form_url).send().await.expect("form").status(),
        StatusCode::BAD_REQUEST
    );
    let view: Value = server
        .admin_get(&format!(
            "/v1/connections/{}",
            consent["connection_id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(view["status"], "failed", "{view}");
    server.stop().await;
}

/// A provider made from a catalog template links the provider's own documentation on the
/// capture form, or none: never an integration platform's page. Shown in Chromium under the
/// form's CSP, and cancelled back to the app.
async fn template_help_links_in_a_real_browser(db: TestDatabase) {
    require_chromium();
    let server = TestServer::start(db).await;
    let app = MockProvider::start().await;
    let return_url = app.url("/app/done");
    for (template, link) in [
        (
            "openai",
            Some("https://platform.openai.com/docs/api-reference/authentication"),
        ),
        ("a-leads", None),
    ] {
        server.admin_post("/v1/providers", json!({"template": template})).await;
        let consent = server
            .admin_post(
                "/v1/consents",
                json!({"workspace_id": format!("ws-{template}"), "provider": template, "return_url": return_url}),
            )
            .await;
        let form_url = consent["auth_url"].as_str().expect("auth_url");
        let html = raw()
            .get(form_url)
            .send()
            .await
            .expect("form")
            .text()
            .await
            .expect("html");
        assert!(!html.contains("nango.dev"), "{template}: no third party's page");
        match link {
            Some(link) => assert!(html.contains(link), "{template}: the provider's own docs"),
            None => assert!(!html.contains("Where do I find my key?"), "{template}: no link at all"),
        }
        let run = drive("cancel", form_url, &return_url, &[]).await;
        assert!(
            run.violations.is_empty(),
            "{template}: CSP violations: {:?}",
            run.violations
        );
        assert_eq!(
            query(&run.url).get("error").map(String::as_str),
            Some("access_denied"),
            "{template}: {}",
            run.url
        );
    }
    server.stop().await;
}

database_tests!(
    #[requires(chromium)]
    capture_form_in_a_real_browser,
    #[requires(chromium)]
    capture_cancel_in_a_real_browser,
    #[requires(chromium)]
    template_help_links_in_a_real_browser,
    #[requires(chromium, oidc)]
    oauth_consent_in_a_real_browser,
);
