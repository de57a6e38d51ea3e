//! The providers agents ask for first, each created from its catalog template and run against a
//! fake of its own token-response family (`nexus_test_utils::provider_fakes`): the template as
//! the catalog has it, with only its URLs' scheme, host and port moved to the fake
//! (`https://{subdomain}.zendesk.com/oauth/tokens` becomes
//! `http://{subdomain}.zendesk-com.localhost:PORT/oauth/tokens`, a name Nexus resolves to this
//! machine), then a consent, a refresh where the provider issues refresh tokens, and a resolve
//! through the Gateway. Each checks what Nexus sent (the paths, the body format, the client
//! authentication, PKCE, the scope separator, the template's extra parameters) and what the
//! agent got (the token the template keeps, its expiry, the API base, the API headers).

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

/// A host moved under `localhost`: fixed labels joined with `-` (`api.notion.com` becomes
/// `api-notion-com.localhost`), placeholder and wildcard labels kept (`{subdomain}.zendesk.com`
/// becomes `{subdomain}.zendesk-com.localhost`).
fn moved_host(host: &str) -> String {
    let mut labels: Vec<String> = Vec::new();
    let mut fixed: Vec<&str> = Vec::new();
    for label in host.split('.') {
        if label.contains('{') || label == "*" {
            if !fixed.is_empty() {
                labels.push(fixed.join("-"));
                fixed.clear();
            }
            labels.push(label.to_owned());
        } else {
            fixed.push(label);
        }
    }
    if !fixed.is_empty() {
        labels.push(fixed.join("-"));
    }
    labels.push("localhost".to_owned());
    labels.join(".")
}

/// A template URL with its scheme, host and port moved to the fake; path and query unchanged.
fn moved(url: &str, port: u16) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split);
    let host = authority.rsplit_once(':').map_or(authority, |(host, _)| host);
    format!("http://{}:{port}{tail}", moved_host(host))
}

/// The template's fields as a provider body, every URL moved to the fake.
fn moved_template(name: &str, port: u16) -> Value {
    let template = nexus_catalog::template(name).unwrap_or_else(|| panic!("the catalog has no `{name}`"));
    assert!(
        template.unsupported().is_empty(),
        "{name}: {:?}",
        template.unsupported()
    );
    let mut body = serde_json::to_value(template).expect("template JSON");
    let fields = body.as_object_mut().expect("object");
    let categories = fields.remove("categories").expect("categories");
    fields.insert("category".to_owned(), categories[0].clone());
    for field in ["authorization_url", "token_url", "refresh_url", "api_base_url"] {
        if let Some(Value::String(url)) = fields.get(field) {
            let url = moved(url, port);
            fields.insert(field.to_owned(), json!(url));
        }
    }
    if let Some(Value::Object(overrides)) = fields.remove("overrides") {
        let moved_overrides: serde_json::Map<String, Value> = overrides
            .into_iter()
            .map(|(field, url)| (field, json!(moved(url.as_str().expect("URL"), port))))
            .collect();
        fields.insert("url_overrides".to_owned(), Value::Object(moved_overrides));
    }
    if let Some(Value::Array(origins)) = fields.get_mut("api_origins") {
        for origin in origins.iter_mut() {
            *origin = json!(moved(origin.as_str().expect("origin"), port));
        }
    }
    if let Some(Value::Array(suffixes)) = fields.get_mut("allowed_host_suffixes") {
        for suffix in suffixes.iter_mut() {
            *suffix = json!(moved_host(suffix.as_str().expect("suffix")));
        }
    }
    fields.insert("client_id".to_owned(), json!(FAKE_CLIENT_ID));
    fields.insert("client_secret".to_owned(), json!(FAKE_CLIENT_SECRET));
    body
}

/// Values for the template's required connection parameters (a choice when it has some).
fn connection_params(name: &str) -> serde_json::Map<String, Value> {
    let template = nexus_catalog::template(name).expect("template");
    template
        .connection_params
        .iter()
        .filter(|param| !param.optional && param.default.is_none())
        .map(|param| {
            (
                param.name.clone(),
                json!(param.choices.first().map_or("acme", String::as_str)),
            )
        })
        .collect()
}

/// `url` with its placeholders filled with `params`, as Nexus serializes it.
fn filled(url: &str, params: &serde_json::Map<String, Value>) -> String {
    let mut url = url.to_owned();
    for (name, value) in params {
        url = url.replace(&format!("{{{name}}}"), value.as_str().expect("text"));
    }
    String::from(url::Url::parse(&url).expect("a filled URL"))
}

/// Creates `name` from its moved template, runs a consent through the fake and returns the
/// connection id.
async fn connect(server: &TestServer, name: &str, fake: &FakeProvider, workspace: &str) -> String {
    let body = moved_template(name, fake.port());
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
            .json(
                &json!({"workspace_id": workspace, "provider": name, "return_url": "http://127.0.0.1:9/done",
                          "connection_params": connection_params(name)}),
            ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{name}: {consent}");
    // The user's browser, at the fake's consent page (its `localhost` name is this machine),
    // which sends it back to Nexus's callback.
    let mut auth_url = url::Url::parse(consent["auth_url"].as_str().expect("auth_url")).expect("auth url");
    assert!(
        auth_url.host_str().is_some_and(|host| host.ends_with(".localhost")),
        "{name}: {auth_url}"
    );
    auth_url.set_host(Some("127.0.0.1")).expect("loopback");
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
    let token_path = url::Url::parse(&moved(template.token_url.as_deref().expect("token_url"), fake.port()))
        .expect("token URL")
        .path()
        .to_owned();
    assert_eq!(exchange.path, token_path, "{name}");
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
        // Salesforce names the org's host in its answer: one under the template's API origins.
        fake.set_instance_url(&format!("http://acme.my-salesforce-com.localhost:{}/", fake.port()));
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
        let moved_base = template.api_base_url.as_deref().map(|url| moved(url, fake.port()));
        let base = match (family, moved_base) {
            (Family::Salesforce, _) => json!(format!("http://acme.my-salesforce-com.localhost:{}/", fake.port())),
            (_, Some(url)) => json!(filled(&url, &connection_params(name))),
            (_, None) => Value::Null,
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

        if !expires {
            // No expiry: nothing refreshes it on a timer (the background refresher has had the
            // time of the checks above); only the agent's request after a provider 401 does.
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            assert_eq!(fake.token_requests().len(), 1, "{name}: only the code exchange");
        }
        // A refresh, where the provider gives refresh tokens: to the refresh URL, with the
        // template's refresh parameters, and the new token served.
        if !matches!(family, Family::Standard | Family::Slack | Family::Salesforce) {
            continue;
        }
        // The agent's path after a provider 401: the Gateway's forced refresh.
        let (status, refreshed) = send(
            raw()
                .post(format!("{}/v1/refresh/{id}", server.gateway_url))
                .bearer_auth(&agent_key),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{name}: {refreshed}");
        let refresh = fake.token_requests().pop().expect("a refresh request");
        assert_eq!(refresh.fields["grant_type"], "refresh_token", "{name}");
        let refresh_url = template.refresh_url.as_deref().or(template.token_url.as_deref());
        let refresh_path = url::Url::parse(&moved(refresh_url.expect("a refresh URL"), fake.port()))
            .expect("refresh URL")
            .path()
            .to_owned();
        assert_eq!(refresh.path, refresh_path, "{name}: a refresh URL of its own is used");
        for (key, value) in &template.refresh_params {
            assert_eq!(refresh.fields.get(key), Some(value), "{name}: refresh parameter {key}");
        }
        let new_token = refreshed["credentials"]["access_token"].as_str().expect("access token");
        assert_ne!(new_token, token, "{name}: the refreshed token is returned");
        if family == Family::Slack {
            // The refresh token of the token the template keeps: the user's, or the bot's.
            let (sent, kept) = if name == "slack-user" {
                ("xoxe-1-user-", "xoxp-")
            } else {
                ("xoxe-1-bot-", "xoxb-")
            };
            assert!(
                refresh.fields["refresh_token"].starts_with(sent),
                "{name}: {:?}",
                refresh.fields
            );
            assert!(new_token.starts_with(kept), "{name}: {new_token}");
        }
        let after = resolve(&server, &agent_key, &workspace, name).await;
        assert_eq!(after["credentials"]["access_token"], new_token, "{name}: and served");
        assert_eq!(
            after.get("expires_at").is_some_and(|at| !at.is_null()),
            expires,
            "{name}: a refresh's `expires_in` (a string from the standard fake) is read: {after}"
        );
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
        let agent_key = server.agent_key(None).await;
        let before = resolve(&server, &agent_key, &workspace, name).await;
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
        assert_eq!(
            fake.token_requests().len(),
            2,
            "{name}: the replayed code reached the provider"
        );
        // The failed re-consent changed nothing: the connection keeps its credential.
        let after = resolve(&server, &agent_key, &workspace, name).await;
        assert_eq!(after["credentials"], before["credentials"], "{name}");
        let (status, view) = send(
            raw()
                .get(format!("{}/v1/connections/{id}", server.broker_url))
                .bearer_auth(&server.admin_key),
        )
        .await;
        assert_eq!(
            (status, view["status"].as_str()),
            (StatusCode::OK, Some("active")),
            "{name}: {view}"
        );
    }
}

database_tests!(
    top_providers_run_against_their_own_shapes,
    errors_with_200_fail_the_consent
);
