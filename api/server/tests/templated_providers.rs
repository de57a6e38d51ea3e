//! Providers whose URLs come from connection parameters, end to end: create from the catalog (a
//! fixed template and a templated one), then a full consent against a real OpenID provider whose
//! issuer host is built from a parameter (`http://{tenant}.localhost:PORT`, which resolves to
//! 127.0.0.1 for Nexus and for the user's browser), a refresh and a resolve through it (with the
//! filled `api_base_url`), and values that try another host refused on both APIs, naming the
//! parameter. In both Gateway modes: the split Gateway forwards the values to the Broker.

mod common;

use common::oidc::{CLIENT_SECRET, OidcProvider, consent_as_user};
use common::{Mode, TestServer, raw};
use nexus_client::broker::types as broker;
use nexus_test_utils::{TestDatabase, database_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// What an attacker might send as a tenant to move the consent, the code or the token elsewhere.
const HOSTILE_TENANTS: [&str; 7] = [
    "evil.com/x",
    "a.b",
    "%2e",
    "user@evil.com",
    "acme:8443",
    "..",
    "acme.localhost.evil.com",
];

async fn register(server: &TestServer, body: Value) -> broker::Provider {
    let body: broker::ProviderCreate = serde_json::from_value(body).expect("provider body");
    server
        .broker()
        .provider_create()
        .body(body)
        .send()
        .await
        .expect("register provider")
        .into_inner()
}

async fn post(url: String, key: &str, body: &Value) -> (StatusCode, Value) {
    let response = raw()
        .post(url)
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn templated_issuer_consent(db: TestDatabase, mode: Mode) {
    let server = TestServer::start_in(db, mode).await;
    let callback = format!("{}/auth/callback", server.broker_url);
    let oidc = OidcProvider::start_on(&callback, "acme.localhost");
    let port = url::Url::parse(&oidc.issuer).expect("issuer").port().expect("port");

    // From the catalog: a fixed template, and a templated one that keeps its placeholders.
    let github = register(
        &server,
        json!({"template": "github", "client_id": "gh-client", "client_secret": "gh-secret"}),
    )
    .await;
    assert_eq!(
        github.token_url.as_deref(),
        Some("https://github.com/login/oauth/access_token")
    );
    assert!(github.connection_params.is_empty());
    let okta = register(
        &server,
        json!({"template": "okta-preview", "client_id": "okta-client", "client_secret": "okta-secret"}),
    )
    .await;
    assert_eq!(
        okta.authorization_url.as_deref(),
        Some("https://{subdomain}.oktapreview.com/oauth2/v1/authorize")
    );
    assert_eq!(okta.connection_params[0].name.as_str(), "subdomain");
    // Its consent goes to the customer's own host (explicit endpoints: nothing is fetched).
    let body = json!({"workspace_id": "ws-o", "provider": "okta-preview",
                      "return_url": "http://127.0.0.1:9/done", "connection_params": {"subdomain": "acme"}});
    let (status, started) = post(format!("{}/v1/consents", server.broker_url), &server.admin_key, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    assert!(
        started["auth_url"]
            .as_str()
            .is_some_and(|url| url.starts_with("https://acme.oktapreview.com/oauth2/v1/authorize?")),
        "{started}"
    );

    // A provider whose issuer host is a parameter.
    let issuer = format!("http://{{tenant}}.localhost:{port}");
    register(
        &server,
        json!({
            "name": "tenant-idp", "auth_type": "oauth2", "client_id": "nexus", "client_secret": CLIENT_SECRET,
            "issuer": issuer, "token_endpoint_auth_method": "client_secret_basic",
            "scopes": ["openid", "offline_access", "email"], "authorization_params": {"prompt": "consent"},
            "api_base_url": format!("http://{{tenant}}.localhost:{port}/api/v1"),
            "api_origins": [format!("http://*.{{tenant}}.localhost:{port}")],
            "connection_params": [{"name": "tenant", "description": "Your tenant's name",
                                   "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"}],
            // `.localhost` is one label: the tenant host's domain is declared.
            "allowed_host_suffixes": ["localhost"]
        }),
    )
    .await;

    // Values that would move the host are refused on both APIs, naming the parameter, and
    // leave nothing behind.
    let agent_key = server.agent_key(Some(vec!["ws-t"])).await;
    for tenant in HOSTILE_TENANTS {
        let body = json!({"workspace_id": "ws-t", "provider": "tenant-idp",
                          "return_url": "http://127.0.0.1:9/done", "connection_params": {"tenant": tenant}});
        let (status, error) = post(format!("{}/v1/consents", server.broker_url), &server.admin_key, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{tenant}: {error}");
        assert_eq!(error["field"], "connection_params.tenant", "{tenant}: {error}");
        let (status, error) = post(
            format!("{}/v1/request-connection", server.gateway_url),
            &agent_key,
            &body,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "gateway {tenant}: {error}");
        assert_eq!(error["field"], "connection_params.tenant", "gateway {tenant}: {error}");
    }
    for (params, field) in [
        (json!({}), "connection_params.tenant"),
        (json!({"tenant": "acme", "region": "eu"}), "connection_params.region"),
    ] {
        let body = json!({"workspace_id": "ws-t", "provider": "tenant-idp",
                          "return_url": "http://127.0.0.1:9/done", "connection_params": params});
        let (status, error) = post(format!("{}/v1/consents", server.broker_url), &server.admin_key, &body).await;
        assert_eq!(
            (status, error["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some(field)),
            "{error}"
        );
    }
    let connections = server
        .broker()
        .connection_list()
        .send()
        .await
        .expect("list")
        .into_inner();
    assert!(
        connections.items.iter().all(|c| c.workspace_id != "ws-t"),
        "a refused request stores nothing"
    );

    // The consent itself, through the agent's Gateway: the user goes to acme.localhost.
    let body = json!({"workspace_id": "ws-t", "provider": "tenant-idp",
                      "return_url": "http://127.0.0.1:9/done", "connection_params": {"tenant": "acme"}});
    let (status, requested) = post(
        format!("{}/v1/request-connection", server.gateway_url),
        &agent_key,
        &body,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{requested}");
    let auth_url = requested["auth_url"].as_str().expect("auth_url");
    assert!(
        auth_url.starts_with(&format!("http://acme.localhost:{port}/")),
        "{auth_url}"
    );
    let landed = consent_as_user(auth_url, &callback).await;
    assert!(landed.as_str().contains("status=success"), "{landed}");
    let id = requested["connection_id"].as_str().expect("connection_id").to_owned();

    let view = server
        .broker()
        .connection_view()
        .connection_id(id.as_str())
        .send()
        .await
        .expect("view")
        .into_inner();
    assert_eq!(view.status, broker::ConnectionStatus::Active);
    assert_eq!(view.connection_params.get("tenant").map(String::as_str), Some("acme"));

    // Refresh goes to the tenant's token endpoint; the envelope carries the filled base URL.
    server
        .broker()
        .connection_refresh()
        .connection_id(id.as_str())
        .send()
        .await
        .expect("refresh through the templated token endpoint");
    let resolved = raw()
        .get(format!(
            "{}/v1/resolve?workspace_id=ws-t&provider=tenant-idp",
            server.gateway_url
        ))
        .bearer_auth(&agent_key)
        .send()
        .await
        .expect("resolve");
    assert_eq!(resolved.status(), StatusCode::OK);
    let envelope: Value = resolved.json().await.expect("envelope");
    assert_eq!(
        envelope["api_base_url"],
        format!("http://acme.localhost:{port}/api/v1"),
        "{envelope}"
    );
    assert_eq!(
        envelope["api_origins"],
        json!([
            format!("http://acme.localhost:{port}"),
            format!("http://*.acme.localhost:{port}")
        ]),
        "the base URL's origin and the declared one, filled for this tenant: {envelope}"
    );
    let access = envelope["credentials"]["access_token"].as_str().expect("access token");
    assert_eq!(oidc.userinfo(access).await.status(), StatusCode::OK);

    // A re-consent keeps the connection's values: other ones are refused.
    let body = json!({"workspace_id": "ws-t", "provider": "tenant-idp", "connection_id": id,
                      "return_url": "http://127.0.0.1:9/done", "connection_params": {"tenant": "other"}});
    let (status, error) = post(format!("{}/v1/consents", server.broker_url), &server.admin_key, &body).await;
    assert_eq!(
        (status, error["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("connection_params")),
        "{error}"
    );
    let body = json!({"workspace_id": "ws-t", "provider": "tenant-idp", "connection_id": id,
                      "return_url": "http://127.0.0.1:9/done"});
    let (status, again) = post(format!("{}/v1/consents", server.broker_url), &server.admin_key, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert!(
        again["auth_url"]
            .as_str()
            .is_some_and(|url| url.starts_with(&format!("http://acme.localhost:{port}/"))),
        "{again}"
    );
}

/// Declared origins are checked when a provider is created or changed: a clear 400 naming the
/// entry, and nothing stored.
async fn api_origins_are_validated(db: TestDatabase) {
    let server = TestServer::start(db).await;
    let base = json!({"name": "origins", "auth_type": "api_key", "api_base_url": "https://api.example.com"});
    for (origin, why) in [
        ("https://*.com", "public suffix"),
        ("https://*.github.io", "public suffix"),
        ("https://api.example.com/v1", "no path"),
        ("https://api.*.example.com", "wildcard"),
        ("ftp://files.example.com", "http or https"),
        ("https://{tenant}.example.com", "connection_params"),
    ] {
        let mut body = base.clone();
        body["api_origins"] = json!(["https://uploads.example.com", origin]);
        let (status, error) = post(format!("{}/v1/providers", server.broker_url), &server.admin_key, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{origin}: {error}");
        assert_eq!(error["code"], "invalid_request", "{origin}: {error}");
        assert!(
            error["field"]
                .as_str()
                .is_some_and(|field| field.starts_with("api_origins")),
            "{origin}: {error}"
        );
        assert!(
            error["message"].as_str().is_some_and(|m| m.contains(why)),
            "{origin}: {error}"
        );
    }
    let mut body = base.clone();
    body["api_origins"] = json!(["HTTPS://Uploads.Example.com:443", "https://*.googleapis.com"]);
    let (status, created) = post(format!("{}/v1/providers", server.broker_url), &server.admin_key, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["api_origins"],
        json!(["https://uploads.example.com", "https://*.googleapis.com"]),
        "kept in canonical form"
    );
    let list = raw()
        .get(format!("{}/v1/providers", server.broker_url))
        .bearer_auth(&server.admin_key)
        .send()
        .await
        .expect("list")
        .json::<Value>()
        .await
        .expect("JSON");
    assert_eq!(
        list["items"].as_array().map(Vec::len),
        Some(1),
        "only the valid one: {list}"
    );
    server.stop().await;
}

async fn templated_one_process(db: TestDatabase) {
    templated_issuer_consent(db, Mode::OneProcess).await;
}

async fn templated_split(db: TestDatabase) {
    templated_issuer_consent(db, Mode::Split).await;
}

database_tests!(
    #[requires(oidc)]
    templated_one_process,
    #[requires(oidc)]
    templated_split,
    api_origins_are_validated
);
