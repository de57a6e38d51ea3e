//! The hosted capture flow through the real HTML form, as a browser would use it: fetch the page,
//! read its form, post it (including a mistake and a replay), and the JSON variant for SDKs.

mod common;

use common::{TestServer, raw};
use nexus_client::broker::types as broker;
use nexus_test_utils::{TestDatabase, database_tests};
use reqwest::StatusCode;
use std::collections::BTreeMap;

/// The form a page serves: where it posts and its inputs (name -> type, value).
struct ParsedForm {
    action: String,
    inputs: BTreeMap<String, (String, String)>,
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].replace("&amp;", "&").replace("&quot;", "\""))
}

fn parse_form(html: &str) -> ParsedForm {
    let form_tag = &html[html.find("<form").expect("a form")..];
    let action = attribute(&form_tag[..form_tag.find('>').expect("tag end")], "action").expect("action");
    let inputs = form_tag
        .split("<input")
        .skip(1)
        .map(|rest| &rest[..rest.find('>').expect("input end")])
        .map(|tag| {
            let name = attribute(tag, "name").expect("input name");
            let kind = attribute(tag, "type").unwrap_or_else(|| "text".into());
            (name, (kind, attribute(tag, "value").unwrap_or_default()))
        })
        .collect();
    ParsedForm { action, inputs }
}

fn no_redirects() -> reqwest::Client {
    common::install_tls_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn start_capture(server: &TestServer, provider: &str) -> broker::ConsentCreated {
    let body = broker::ConsentCreate {
        connection_params: Default::default(),
        workspace_id: "ws-1".parse().expect("workspace"),
        provider: provider.parse().expect("provider"),
        scopes: Vec::new(),
        return_url: "http://localhost:3000/done?tab=keys"
            .parse()
            .expect("a valid return URL"),
        connection_id: None,
    };
    server
        .broker()
        .consent_create()
        .body(body)
        .send()
        .await
        .expect("consent")
        .into_inner()
}

async fn capture_through_the_html_form(db: TestDatabase) {
    let server = TestServer::start(db).await;
    let client = server.broker();
    let provider: broker::ProviderCreate = serde_json::from_value(serde_json::json!({
        "name": "acme-api", "display_name": "Acme <API>", "auth_type": "api_key",
        "credential_schema": {"type": "object", "required": ["api_key"], "properties": {
            "api_key": {"type": "string", "title": "API key", "format": "password", "description": "From Settings > API"},
            "account": {"type": "string", "title": "Account name"}
        }}
    }))
    .expect("provider");
    client.provider_create().body(provider).send().await.expect("provider");

    let consent = start_capture(&server, "acme-api").await;
    assert!(
        consent
            .auth_url
            .starts_with(&format!("{}/auth/capture?state=", server.broker_url))
    );
    let browser = no_redirects();
    let page = browser.get(&consent.auth_url).send().await.expect("form page");
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    let html = page.text().await.expect("html");
    assert!(html.contains("Acme &lt;API&gt;"), "escaped display name");
    assert!(
        !html.contains("<script") && !html.contains("src=\"http"),
        "no scripts or external assets"
    );
    assert!(html.contains("<label for=\"field-api_key\">"), "labelled inputs");
    let form = parse_form(&html);
    assert_eq!(form.inputs["api_key"].0, "password", "secrets are password inputs");
    assert_eq!(form.inputs["account"].0, "text");
    assert_eq!(form.inputs["state"].0, "hidden");
    assert_eq!(
        form.action,
        format!("{}/auth/capture", server.broker_url),
        "posts to the public URL"
    );
    let action = form.action.clone();

    // A missing required field: the form comes back with the message, the typed values kept.
    let state = form.inputs["state"].1.clone();
    let mistake = browser
        .post(&action)
        .form(&[("state", state.as_str()), ("api_key", ""), ("account", "team-7")])
        .send()
        .await
        .expect("post");
    assert_eq!(mistake.status(), StatusCode::BAD_REQUEST);
    let html = mistake.text().await.expect("html");
    assert!(
        html.contains("is required") && html.contains("aria-invalid=\"true\""),
        "{html}"
    );
    let again = parse_form(&html);
    assert_eq!(again.inputs["account"].1, "team-7", "non-secret values are kept");
    assert_eq!(again.inputs["api_key"].1, "", "secrets are never echoed");

    let done = browser
        .post(&action)
        .form(&[
            ("state", state.as_str()),
            ("api_key", "sk-live-123"),
            ("account", "team-7"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(done.status(), StatusCode::FOUND);
    let location = url::Url::parse(done.headers()["location"].to_str().expect("location")).expect("url");
    let query: BTreeMap<String, String> = location.query_pairs().into_owned().collect();
    assert_eq!(query.get("tab").map(String::as_str), Some("keys"));
    assert_eq!(query.get("status").map(String::as_str), Some("success"));
    assert_eq!(query.get("provider").map(String::as_str), Some("acme-api"));
    assert_eq!(query.get("connection_id"), Some(&consent.connection_id.to_string()));

    let replay = browser
        .post(&action)
        .form(&[("state", state.as_str()), ("api_key", "sk-overwrite")])
        .send()
        .await
        .expect("post");
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert!(replay.headers().get("location").is_none());
    assert!(replay.text().await.expect("html").contains("cannot be used"));

    // The JSON variant, for SDKs: a second connection in the same workspace.
    let second = start_capture(&server, "acme-api").await;
    let described: serde_json::Value = browser
        .get(&second.auth_url)
        .header("accept", "application/json")
        .send()
        .await
        .expect("json form")
        .json()
        .await
        .expect("json");
    assert_eq!(described["provider"], "acme-api");
    assert_eq!(described["schema"]["required"], serde_json::json!(["api_key"]));
    let unknown = browser
        .post(format!("{}/auth/capture", server.broker_url))
        .json(&serde_json::json!({"state": second.state, "credentials": {"api_key": "k", "colour": "blue"}}))
        .send()
        .await
        .expect("post json");
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = unknown.json().await.expect("json error");
    assert_eq!(body["code"], "invalid_request");
    assert_eq!(body["field"], "colour");
    let wrong_type = browser
        .post(format!("{}/auth/capture", server.broker_url))
        .json(&serde_json::json!({"state": second.state, "credentials": {"api_key": 987_654_321}}))
        .send()
        .await
        .expect("post json");
    assert_eq!(wrong_type.status(), StatusCode::BAD_REQUEST);
    assert!(
        !wrong_type.text().await.expect("body").contains("987654321"),
        "submitted values are never echoed"
    );
    let captured: serde_json::Value = browser
        .post(format!("{}/auth/capture", server.broker_url))
        .json(&serde_json::json!({"state": second.state, "credentials": {"api_key": "sk-second"}}))
        .send()
        .await
        .expect("post json")
        .json()
        .await
        .expect("json");
    assert_eq!(captured["status"], "active");

    // The newest active connection wins a resolve.
    let resolved = client
        .connection_token_resolve()
        .workspace_id("ws-1")
        .provider("acme-api")
        .send()
        .await
        .expect("resolve")
        .into_inner();
    assert_eq!(resolved.connection_id, second.connection_id);
    assert_eq!(resolved.credentials["api_key"], "sk-second");
    let first = client
        .connection_token_get()
        .connection_id(consent.connection_id.to_string())
        .send()
        .await
        .expect("first")
        .into_inner();
    assert_eq!(first.credentials["api_key"], "sk-live-123");
    assert_eq!(first.credentials["account"], "team-7");
    let strategy = serde_json::to_value(&first.strategy).expect("strategy");
    assert_eq!(strategy["type"], "api_key");

    let not_refreshable = client
        .connection_refresh()
        .connection_id(consent.connection_id.to_string())
        .send()
        .await
        .expect_err("static");
    assert_eq!(not_refreshable.status(), Some(StatusCode::CONFLICT));

    // A capture state on the OAuth callback, and states that are not ours: 400, no redirect.
    for url in [
        format!("{}/auth/callback?state={}&code=x", server.broker_url, second.state),
        format!("{}/auth/callback?state=forged.state&code=x", server.broker_url),
        format!("{}/auth/callback?code=x", server.broker_url),
        format!("{}/auth/capture?state=forged.state", server.broker_url),
    ] {
        let response = browser.get(&url).send().await.expect("get");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{url}");
        assert!(response.headers().get("location").is_none(), "{url}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .expect("ct")
                .starts_with("text/html")
        );
    }

    // An unknown connection, a pending one, and a revoked one through the API.
    let unknown = client
        .connection_token_get()
        .connection_id(uuid::Uuid::new_v4().to_string())
        .send()
        .await
        .expect_err("404");
    assert_eq!(unknown.status(), Some(StatusCode::NOT_FOUND));
    let pending = start_capture(&server, "acme-api").await;
    let response = raw()
        .get(format!(
            "{}/v1/connections/{}/token",
            server.broker_url, pending.connection_id
        ))
        .bearer_auth(&server.admin_key)
        .send()
        .await
        .expect("token");
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(
        response.json::<serde_json::Value>().await.expect("json")["code"],
        "connection_pending"
    );
    client
        .connection_revoke()
        .connection_id(consent.connection_id.to_string())
        .send()
        .await
        .expect("revoke");
    let response = raw()
        .get(format!(
            "{}/v1/connections/{}/token",
            server.broker_url, consent.connection_id
        ))
        .bearer_auth(&server.admin_key)
        .send()
        .await
        .expect("token");
    assert_eq!(
        response.json::<serde_json::Value>().await.expect("json")["code"],
        "connection_revoked"
    );
    server.stop().await;
}

/// AWS-style providers: the strategy (service, region) is required, Nexus makes no verification
/// request for them, the hosted form asks for the access key pair, and the envelope carries the
/// `aws_sigv4` strategy for the SDKs to sign with.
async fn aws_sigv4_providers(db: TestDatabase) {
    let server = TestServer::start(db).await;
    let post = |body: serde_json::Value| {
        raw()
            .post(format!("{}/v1/providers", server.broker_url))
            .bearer_auth(&server.admin_key)
            .json(&body)
            .send()
    };
    let refused = post(serde_json::json!({"name": "aws-api", "auth_type": "aws_sigv4"}))
        .await
        .expect("send");
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.json::<serde_json::Value>().await.expect("json")["field"],
        "strategy"
    );
    let strategy = serde_json::json!({"type": "aws_sigv4", "service": "execute-api", "region": "eu-west-1"});
    let with_verification = post(serde_json::json!({
        "name": "aws-api", "auth_type": "aws_sigv4", "strategy": strategy,
        "verification": {"url": "https://api.example.com/me"}
    }))
    .await
    .expect("send");
    assert_eq!(with_verification.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        with_verification.json::<serde_json::Value>().await.expect("json")["field"],
        "verification"
    );
    let created = post(serde_json::json!({"name": "aws-api", "auth_type": "aws_sigv4", "strategy": strategy}))
        .await
        .expect("send");
    assert_eq!(created.status(), StatusCode::CREATED);
    let provider: serde_json::Value = created.json().await.expect("json");
    assert_eq!(provider["strategy"], strategy);
    assert_eq!(
        provider["credential_schema"]["required"],
        serde_json::json!(["access_key_id", "secret_access_key"])
    );

    let consent = server
        .admin_post(
            "/v1/consents",
            serde_json::json!({"workspace_id": "ws-aws", "provider": "aws-api", "return_url": "http://127.0.0.1:9/done"}),
        )
        .await;
    let form = raw()
        .get(consent["auth_url"].as_str().expect("auth_url"))
        .send()
        .await
        .expect("form")
        .text()
        .await
        .expect("html");
    for field in ["access_key_id", "secret_access_key", "session_token"] {
        assert!(form.contains(&format!("name=\"{field}\"")), "the form asks for {field}");
    }
    let captured = raw()
        .post(format!("{}/auth/capture", server.broker_url))
        .json(&serde_json::json!({"state": consent["state"], "credentials": {
            "access_key_id": "AKIDEXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        }}))
        .send()
        .await
        .expect("capture");
    assert_eq!(captured.status(), StatusCode::OK);
    let key = server.agent_key(Some(vec!["ws-aws"])).await;
    let envelope: serde_json::Value = raw()
        .get(format!(
            "{}/v1/resolve?workspace_id=ws-aws&provider=aws-api",
            server.gateway_url
        ))
        .bearer_auth(&key)
        .send()
        .await
        .expect("resolve")
        .json()
        .await
        .expect("json");
    assert_eq!(envelope["strategy"], strategy);
    assert_eq!(envelope["credentials"]["access_key_id"], "AKIDEXAMPLE");
    server.stop().await;
}

database_tests!(capture_through_the_html_form, aws_sigv4_providers);
