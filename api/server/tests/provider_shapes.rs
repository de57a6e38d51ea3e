//! The providers agents ask for first, each created from its catalog template and run against a
//! fake of its own token-response family (`nexus_test_utils::provider_fakes`): a consent (the
//! template's endpoints replaced by the fake's through the Broker API's own-endpoint fields,
//! everything else the template's), a refresh where the provider issues refresh tokens, and a
//! resolve through the Gateway. Each checks what Nexus sent (the body format, the client
//! authentication, PKCE, the scope separator, the template's extra parameters) and what the
//! agent got (the token the template keeps, its expiry, the API base).

mod common;

use common::{TestServer, raw};
use nexus_test_utils::provider_fakes::{FAKE_CLIENT_ID, FAKE_CLIENT_SECRET, FakeProvider, Family};
use nexus_test_utils::{TestDatabase, database_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Every name the catalog must run, with the family its token endpoint answers like.
const PROVIDERS: [(&str, Family); 28] = [
    ("slack", Family::Slack),
    ("slack-user", Family::Slack),
    ("notion", Family::Notion),
    ("salesforce", Family::Salesforce),
    ("zendesk", Family::Standard),
    ("linear", Family::Standard),
    ("shopify", Family::Standard),
    ("intercom", Family::NoExpiry),
    ("figma", Family::Standard),
    ("zoom", Family::Standard),
    ("todoist", Family::NoExpiry),
    ("hubspot", Family::Standard),
    ("jira", Family::Standard),
    ("confluence", Family::Standard),
    ("asana", Family::Standard),
    ("google-drive", Family::Standard),
    ("google-mail", Family::Standard),
    ("microsoft", Family::Standard),
    ("github", Family::GitHub),
    ("gitlab", Family::Standard),
    ("airtable", Family::Standard),
    ("dropbox", Family::Standard),
    ("box", Family::Standard),
    ("quickbooks", Family::Standard),
    ("xero", Family::Standard),
    ("pipedrive", Family::Standard),
    ("stripe-app", Family::Standard),
    ("monday", Family::NoExpiry),
];

async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Creates `name` from its template with the fake's endpoints, runs a consent through the fake
/// and returns the connection id.
async fn connect(server: &TestServer, name: &str, fake: &FakeProvider, workspace: &str) -> String {
    let template = nexus_catalog::template(name).unwrap_or_else(|| panic!("the catalog has no `{name}`"));
    assert!(
        template.unsupported().is_empty(),
        "{name}: {:?}",
        template.unsupported()
    );
    let mut body = json!({
        "template": name, "client_id": FAKE_CLIENT_ID, "client_secret": FAKE_CLIENT_SECRET,
        "authorization_url": fake.url("/authorize"), "token_url": fake.url("/token"),
    });
    if template.refresh_url.is_some() {
        body["refresh_url"] = json!(fake.url("/refresh"));
    }
    if fake.family == Family::Salesforce {
        // Salesforce names the org's host in its answer: the fake's own, declared as an origin.
        body["api_origins"] = json!([fake.base_url]);
    } else {
        body["api_base_url"] = json!(fake.url("/api"));
    }
    let (status, created) = send(
        raw()
            .post(format!("{}/v1/providers", server.broker_url))
            .bearer_auth(&server.admin_key)
            .json(&body),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{name}: {created}");

    let (status, consent) = send(
        raw()
            .post(format!("{}/v1/consents", server.broker_url))
            .bearer_auth(&server.admin_key)
            .json(&json!({"workspace_id": workspace, "provider": name, "return_url": "http://127.0.0.1:9/done"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{name}: {consent}");
    let auth_url = consent["auth_url"].as_str().expect("auth_url");
    // The user's browser: to the fake's consent page, which sends it back to Nexus's callback.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("browser");
    let to_nexus = browser.get(auth_url).send().await.expect("authorize");
    assert_eq!(to_nexus.status(), StatusCode::FOUND, "{name}");
    let callback = to_nexus.headers()["location"].to_str().expect("location").to_owned();
    let back = browser.get(&callback).send().await.expect("callback");
    let landed = back.headers()["location"].to_str().expect("return location").to_owned();
    assert!(landed.contains("status=success"), "{name}: {landed}");
    consent["connection_id"].as_str().expect("connection_id").to_owned()
}

/// What the authorization request and the code exchange carried, against the template.
fn check_requests(name: &str, fake: &FakeProvider) {
    let template = nexus_catalog::template(name).expect("template");
    let authorization = fake.authorizations().pop().expect("an authorization request");
    let scope_name = if name == "slack-user" { "user_scope" } else { "scope" };
    if !template.scopes.is_empty() {
        let separator = template.scope_separator.as_deref().unwrap_or(" ");
        assert_eq!(
            authorization.get(scope_name),
            Some(&template.scopes.join(separator)),
            "{name}: {authorization:?}"
        );
    }
    for (key, value) in &template.authorization_params {
        assert_eq!(authorization.get(key), Some(value), "{name}: {key}");
    }
    let pkce = template.pkce != Some(false);
    assert_eq!(authorization.contains_key("code_challenge"), pkce, "{name}");

    let exchange = fake.token_requests().into_iter().next().expect("a code exchange");
    assert_eq!(exchange.fields["grant_type"], "authorization_code", "{name}");
    assert_eq!(exchange.fields.contains_key("code_verifier"), pkce, "{name}");
    assert_eq!(
        exchange.json,
        template.token_request_format.as_deref() == Some("json"),
        "{name}: {:?}",
        exchange.content_type
    );
    let basic = template.token_endpoint_auth_method.as_deref() == Some("client_secret_basic");
    assert_eq!(exchange.basic_client.is_some(), basic, "{name}");
    assert_eq!(exchange.fields.contains_key("client_secret"), !basic, "{name}");
    for (key, value) in &template.token_params {
        assert_eq!(exchange.fields.get(key), Some(value), "{name}: token parameter {key}");
    }
}

async fn resolve(server: &TestServer, agent_key: &str, workspace: &str, name: &str) -> Value {
    let (status, envelope) = send(
        raw()
            .get(format!(
                "{}/v1/resolve?workspace_id={workspace}&provider={name}",
                server.gateway_url
            ))
            .bearer_auth(agent_key),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{name}: {envelope}");
    envelope
}

async fn top_providers_run_against_their_own_shapes(db: TestDatabase) {
    let server = TestServer::start(db).await;
    let agent_key = server.agent_key(None).await;
    for (index, (name, family)) in PROVIDERS.into_iter().enumerate() {
        let fake = FakeProvider::start(family).await;
        let workspace = format!("ws-{index}");
        let id = connect(&server, name, &fake, &workspace).await;
        check_requests(name, &fake);

        let envelope = resolve(&server, &agent_key, &workspace, name).await;
        let token = envelope["credentials"]["access_token"].as_str().expect("access token");
        let expected_prefix = match (family, name) {
            (Family::Slack, "slack-user") => "xoxp-",
            (Family::Slack, _) => "xoxb-",
            (Family::Salesforce, _) => "00D-sf-",
            (Family::GitHub, _) => "gho_",
            (Family::Notion, _) => "ntn_",
            (Family::NoExpiry, _) => "forever-",
            (Family::Standard, _) => "std-access-",
        };
        assert!(token.starts_with(expected_prefix), "{name}: {envelope}");
        assert_eq!(envelope["credentials"]["token_type"], "Bearer", "{name}: {envelope}");
        // The template's strategy (Shopify's `X-Shopify-Access-Token` header), else a bearer.
        let template = nexus_catalog::template(name).expect("template");
        let strategy = template
            .strategy
            .as_ref()
            .map_or(json!("oauth2"), |s| s["type"].clone());
        assert_eq!(envelope["strategy"]["type"], strategy, "{name}: {envelope}");
        let expires = matches!(family, Family::Standard | Family::Slack);
        assert_eq!(
            envelope.get("expires_at").is_some_and(|at| !at.is_null()),
            expires,
            "{name}: a token without expires_in never expires on a timer: {envelope}"
        );
        let base = if family == Family::Salesforce {
            fake.url("/sf")
        } else {
            fake.url("/api")
        };
        assert_eq!(envelope["api_base_url"], base, "{name}: {envelope}");
        // The provider's own headers travel with the credential (Notion's `Notion-Version`).
        for (header, value) in template.api_headers.iter().filter(|(_, v)| !v.contains('{')) {
            assert_eq!(envelope["api_headers"][header], json!(value), "{name}: {envelope}");
        }
        let serialized = envelope.to_string();
        assert!(
            ["std-refresh", "xoxe-", "5Aep-sf"]
                .iter()
                .all(|refresh| !serialized.contains(refresh)),
            "{name}: no refresh token reaches the agent: {envelope}"
        );

        // A refresh, where the provider gives refresh tokens: to the refresh URL, with the
        // template's refresh parameters, and the new token served.
        if !matches!(family, Family::Standard | Family::Slack | Family::Salesforce) {
            continue;
        }
        let (status, refreshed) = send(
            raw()
                .post(format!("{}/v1/connections/{id}/refresh", server.broker_url))
                .bearer_auth(&server.admin_key),
        )
        .await;
        assert!(status.is_success(), "{name}: {status} {refreshed}");
        let refresh = fake.token_requests().pop().expect("a refresh request");
        assert_eq!(refresh.fields["grant_type"], "refresh_token", "{name}");
        let refresh_path = if template.refresh_url.is_some() {
            "/refresh"
        } else {
            "/token"
        };
        assert_eq!(refresh.path, refresh_path, "{name}");
        for (key, value) in &template.refresh_params {
            assert_eq!(refresh.fields.get(key), Some(value), "{name}: refresh parameter {key}");
        }
        let after = resolve(&server, &agent_key, &workspace, name).await;
        let new_token = after["credentials"]["access_token"].as_str().expect("access token");
        assert_ne!(new_token, token, "{name}: the refreshed token is served");
        if family == Family::Salesforce {
            assert_eq!(
                after["api_base_url"], base,
                "{name}: the instance is kept across refreshes"
            );
        }
    }
}

/// Answers that look like success but are not: Slack's `ok: false` with 200 and GitHub's
/// form-encoded error with 200 fail the consent with the provider's code, and store nothing.
async fn errors_with_200_fail_the_consent(db: TestDatabase) {
    let server = TestServer::start(db).await;
    for (index, (name, family, code)) in [
        ("slack", Family::Slack, "invalid_code"),
        ("github", Family::GitHub, "bad_verification_code"),
    ]
    .into_iter()
    .enumerate()
    {
        let fake = FakeProvider::start(family).await;
        let workspace = format!("ws-replay-{index}");
        let id = connect(&server, name, &fake, &workspace).await;
        // The same code again (a replayed callback of a second consent) is refused upstream.
        let (status, consent) = send(
            raw()
                .post(format!("{}/v1/consents", server.broker_url))
                .bearer_auth(&server.admin_key)
                .json(
                    &json!({"workspace_id": workspace, "provider": name, "connection_id": id,
                              "return_url": "http://127.0.0.1:9/done"}),
                ),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{consent}");
        let state = url::Url::parse(consent["auth_url"].as_str().expect("auth_url"))
            .expect("auth url")
            .query_pairs()
            .find(|(key, _)| key == "state")
            .map(|(_, value)| value.into_owned())
            .expect("state");
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("browser");
        let back = browser
            .get(format!(
                "{}/auth/callback?code=fake-code-1&state={state}",
                server.broker_url
            ))
            .send()
            .await
            .expect("callback");
        let landed = back.headers()["location"].to_str().expect("location").to_owned();
        assert!(
            landed.contains("status=error") && landed.contains(code),
            "{name}: {landed}"
        );
        let before = fake.token_requests().len();
        assert!(before >= 2, "{name}: the replayed code reached the provider");
    }
}

database_tests!(
    top_providers_run_against_their_own_shapes,
    errors_with_200_fail_the_consent
);
