//! Every operation of both specs has a row here, and each row is tried with no key, a wrong key
//! and the other API's key. A new endpoint without a row fails `every_operation_has_a_row`.

mod common;

use common::{TestServer, raw};
use nexus_test_utils::TestDatabase;
use reqwest::{Method, StatusCode};
use std::collections::BTreeSet;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Api {
    Broker,
    Gateway,
}

/// The key an operation takes; every other key must be refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Key {
    Admin,
    Agent,
    Service,
    Public,
}

struct Row {
    api: Api,
    operation_id: &'static str,
    method: Method,
    path: &'static str,
    key: Key,
}

fn row(api: Api, operation_id: &'static str, method: Method, path: &'static str) -> Row {
    let key = if api == Api::Broker { Key::Admin } else { Key::Agent };
    Row {
        api,
        operation_id,
        method,
        path,
        key,
    }
}

fn internal(operation_id: &'static str, method: Method, path: &'static str) -> Row {
    Row {
        key: Key::Service,
        ..row(Api::Broker, operation_id, method, path)
    }
}

fn public(api: Api, operation_id: &'static str, path: &'static str) -> Row {
    Row {
        key: Key::Public,
        ..row(api, operation_id, Method::GET, path)
    }
}

const SAMPLE_ID: &str = "0190a5b2-7c4e-7000-8000-000000000000";

fn matrix() -> Vec<Row> {
    use Api::{Broker, Gateway};
    vec![
        row(Broker, "provider_create", Method::POST, "/v1/providers"),
        row(Broker, "provider_list", Method::GET, "/v1/providers"),
        row(Broker, "provider_view", Method::GET, "/v1/providers/github"),
        row(Broker, "provider_update", Method::PATCH, "/v1/providers/github"),
        row(Broker, "provider_delete", Method::DELETE, "/v1/providers/github"),
        row(Broker, "template_list", Method::GET, "/v1/catalog"),
        row(Broker, "template_view", Method::GET, "/v1/catalog/github"),
        row(Broker, "consent_create", Method::POST, "/v1/consents"),
        row(Broker, "connection_list", Method::GET, "/v1/connections"),
        row(
            Broker,
            "connection_view",
            Method::GET,
            "/v1/connections/0190a5b2-7c4e-7000-8000-000000000000",
        ),
        row(
            Broker,
            "connection_token_get",
            Method::GET,
            "/v1/connections/0190a5b2-7c4e-7000-8000-000000000000/token",
        ),
        row(
            Broker,
            "connection_token_resolve",
            Method::GET,
            "/v1/token?workspace_id=w&provider=p",
        ),
        row(
            Broker,
            "connection_refresh",
            Method::POST,
            "/v1/connections/0190a5b2-7c4e-7000-8000-000000000000/refresh",
        ),
        row(
            Broker,
            "connection_revoke",
            Method::DELETE,
            "/v1/connections/0190a5b2-7c4e-7000-8000-000000000000",
        ),
        row(Broker, "agent_key_create", Method::POST, "/v1/agent-keys"),
        row(Broker, "agent_key_list", Method::GET, "/v1/agent-keys"),
        row(
            Broker,
            "agent_key_delete",
            Method::DELETE,
            "/v1/agent-keys/0190a5b2-7c4e-7000-8000-000000000000",
        ),
        row(Broker, "audit_event_list", Method::GET, "/v1/audit-events"),
        row(Broker, "background_task_list", Method::GET, "/v1/background-tasks"),
        row(
            Broker,
            "background_task_activate",
            Method::POST,
            "/v1/background-tasks/audit_flush/activate",
        ),
        row(Broker, "webhook_create", Method::POST, "/v1/webhooks"),
        row(Broker, "webhook_list", Method::GET, "/v1/webhooks"),
        row(
            Broker,
            "webhook_view",
            Method::GET,
            "/v1/webhooks/0190a5b2-7c4e-7000-8000-000000000000",
        ),
        row(
            Broker,
            "webhook_update",
            Method::PATCH,
            "/v1/webhooks/0190a5b2-7c4e-7000-8000-000000000000",
        ),
        row(
            Broker,
            "webhook_delete",
            Method::DELETE,
            "/v1/webhooks/0190a5b2-7c4e-7000-8000-000000000000",
        ),
        row(
            Broker,
            "webhook_rotate_secret",
            Method::POST,
            "/v1/webhooks/0190a5b2-7c4e-7000-8000-000000000000/rotate-secret",
        ),
        row(
            Broker,
            "webhook_delivery_list",
            Method::GET,
            "/v1/webhooks/0190a5b2-7c4e-7000-8000-000000000000/deliveries",
        ),
        row(
            Broker,
            "webhook_redeliver",
            Method::POST,
            "/v1/webhooks/0190a5b2-7c4e-7000-8000-000000000000/deliveries/0190a5b2-7c4e-7000-8000-000000000000/redeliver",
        ),
        internal("internal_provider_catalog", Method::GET, "/v1/internal/providers"),
        internal(
            "internal_connection_request",
            Method::POST,
            "/v1/internal/request-connection",
        ),
        internal(
            "internal_connection_check",
            Method::GET,
            "/v1/internal/connections/0190a5b2-7c4e-7000-8000-000000000000",
        ),
        internal(
            "internal_token_get",
            Method::GET,
            "/v1/internal/token/0190a5b2-7c4e-7000-8000-000000000000",
        ),
        internal(
            "internal_token_refresh",
            Method::POST,
            "/v1/internal/refresh/0190a5b2-7c4e-7000-8000-000000000000",
        ),
        internal(
            "internal_token_resolve",
            Method::GET,
            "/v1/internal/resolve?workspace_id=w&provider=p",
        ),
        internal("internal_reads_report", Method::POST, "/v1/internal/reads"),
        public(Broker, "health_live", "/healthz"),
        public(Broker, "health_ready", "/readyz"),
        row(Gateway, "provider_catalog", Method::GET, "/v1/providers"),
        row(Gateway, "proxy_get", Method::GET, "/v1/proxy/user/repos"),
        row(Gateway, "proxy_post", Method::POST, "/v1/proxy/user/repos"),
        row(Gateway, "proxy_put", Method::PUT, "/v1/proxy/user/repos"),
        row(Gateway, "proxy_patch", Method::PATCH, "/v1/proxy/user/repos"),
        row(Gateway, "proxy_delete", Method::DELETE, "/v1/proxy/user/repos"),
        row(Gateway, "connection_request", Method::POST, "/v1/request-connection"),
        row(
            Gateway,
            "connection_check",
            Method::GET,
            "/v1/check-connection/0190a5b2-7c4e-7000-8000-000000000000",
        ),
        row(
            Gateway,
            "token_get",
            Method::GET,
            "/v1/token/0190a5b2-7c4e-7000-8000-000000000000",
        ),
        row(
            Gateway,
            "token_refresh",
            Method::POST,
            "/v1/refresh/0190a5b2-7c4e-7000-8000-000000000000",
        ),
        row(
            Gateway,
            "token_resolve",
            Method::GET,
            "/v1/resolve?workspace_id=w&provider=p",
        ),
        public(Gateway, "health_live", "/healthz"),
        public(Gateway, "health_ready", "/readyz"),
    ]
}

fn spec_operations(spec: &str) -> BTreeSet<String> {
    let value: serde_json::Value = serde_json::from_str(spec).expect("spec");
    value["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("item").values())
        .filter_map(|op| op["operationId"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn every_operation_has_a_row() {
    let rows = matrix();
    for (api, spec) in [
        (Api::Broker, nexus_http::broker_spec()),
        (Api::Gateway, nexus_http::gateway_spec()),
    ] {
        let covered: BTreeSet<String> = rows
            .iter()
            .filter(|r| r.api == api)
            .map(|r| r.operation_id.to_owned())
            .collect();
        assert_eq!(covered, spec_operations(&spec), "the auth matrix and the spec disagree");
    }
    assert!(SAMPLE_ID.parse::<uuid::Uuid>().is_ok());
}

async fn expect_unauthenticated(response: reqwest::Response, what: &str) {
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
    assert_eq!(
        response.headers().get("www-authenticate").and_then(|v| v.to_str().ok()),
        Some("Bearer"),
        "{what}"
    );
    let body: serde_json::Value = response.json().await.expect("json body");
    assert_eq!(body["code"], "unauthenticated", "{what}: {body}");
    assert!(
        body["request_id"].as_str().is_some_and(|id| !id.is_empty()),
        "{what}: {body}"
    );
}

async fn matrix_on(db: TestDatabase) {
    let server = TestServer::start(db).await;
    let agent_key = server.agent_key(None).await;
    let keys = [
        (Key::Admin, server.admin_key.clone()),
        (Key::Agent, agent_key),
        (Key::Service, server.service_key.clone()),
    ];
    for row in matrix() {
        let base = match row.api {
            Api::Broker => &server.broker_url,
            Api::Gateway => &server.gateway_url,
        };
        let url = format!("{base}{}", row.path);
        // A well-formed request: an agent key is checked with the operation, after its input
        // is parsed, so a malformed one would be refused for its input first.
        let body = match row.path {
            path if path.ends_with("request-connection") => {
                serde_json::json!({"workspace_id": "w", "provider": "p", "return_url": "http://127.0.0.1:9/done"})
            }
            path if path.ends_with("/reads") => serde_json::json!({"reads": []}),
            _ => serde_json::json!({}),
        };
        let request = |key: Option<&str>| {
            let mut builder = raw().request(row.method.clone(), &url).json(&body);
            if row.path.starts_with("/v1/proxy/") {
                // The connection a proxied call is for (without it, the request is malformed).
                builder = builder.header("Nexus-Workspace-Id", "w").header("Nexus-Provider", "p");
            }
            match key {
                Some(key) => builder.bearer_auth(key),
                None => builder,
            }
        };
        let what = format!("{} {}", row.method, row.path);
        if row.key == Key::Public {
            let response = request(None).send().await.expect("send");
            assert_eq!(response.status(), StatusCode::OK, "{what} is public");
            continue;
        }
        expect_unauthenticated(request(None).send().await.expect("send"), &format!("{what}, no key")).await;
        expect_unauthenticated(
            request(Some("nxa_AAAAAAAA_wrongwrongwrongwrongwrongwrongwrongwro"))
                .send()
                .await
                .expect("send"),
            &format!("{what}, wrong key"),
        )
        .await;
        for (kind, key) in keys.iter().filter(|(kind, _)| *kind != row.key) {
            expect_unauthenticated(
                request(Some(key)).send().await.expect("send"),
                &format!("{what}, {kind:?} key instead of {:?}", row.key),
            )
            .await;
        }
        let (_, right_key) = keys.iter().find(|(kind, _)| *kind == row.key).expect("the row's key");
        let basic = raw()
            .request(row.method.clone(), &url)
            .basic_auth("user", Some(right_key))
            .send()
            .await
            .expect("send");
        expect_unauthenticated(basic, &format!("{what}, basic auth")).await;
        let accepted = request(Some(right_key)).send().await.expect("send");
        assert_ne!(
            accepted.status(),
            StatusCode::UNAUTHORIZED,
            "{what}: the right key is accepted"
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_matrix_sqlite() {
    matrix_on(TestDatabase::sqlite().await).await;
}

#[nexus_test_utils::requires(postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_matrix_postgres() {
    if let Some(db) = TestDatabase::postgres().await {
        matrix_on(db).await;
    }
}
