//! The shared origin vectors (`clients/testdata/origins.json`): which URLs a credential may be
//! sent to (`requests`, through `inject` and a caller's narrowing), and redirect chains between
//! two real local servers (`redirects`, through `send`): the credential goes only where the
//! vectors say, in every place its strategy puts it.

use nexus_client::gateway::types::CredentialEnvelope;
use nexus_client::inject::{envelope_from_json, inject};
use nexus_client::send::{no_redirects, send};
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route, handler, web::Data};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

fn vectors() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/origins.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("origins.json")).expect("JSON")
}

fn envelope(strategy: &Value, credentials: &Value, origins: &Value) -> CredentialEnvelope {
    envelope_from_json(&json!({
        "connection_id": "0190a5b2-7c4e-7000-8000-000000000000",
        "workspace_id": "ws-1",
        "provider": "example",
        "strategy": strategy,
        "credentials": credentials,
        "scopes": [],
        "api_origins": origins,
    }))
    .expect("envelope")
}

fn texts(value: &Value) -> Vec<String> {
    value
        .as_array()
        .expect("list")
        .iter()
        .map(|v| v.as_str().expect("text").to_owned())
        .collect()
}

#[test]
fn every_shared_request_is_sent_or_refused_as_the_vectors_say() {
    let vectors = vectors();
    let cases = vectors["requests"].as_array().expect("requests");
    assert!(cases.len() >= 30);
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let url = reqwest::Url::parse(case["url"].as_str().expect("url")).expect("url");
        let envelope = envelope(
            &json!({"type": "oauth2"}),
            &json!({"access_token": "t-1"}),
            &case["api_origins"],
        );
        let injected = inject(&envelope, reqwest::Request::new(reqwest::Method::GET, url.clone()));
        let narrowed_ok = case
            .get("narrowed_to")
            .is_none_or(|narrowed| nexus_client::origins::allows(&texts(narrowed), &url));
        let allowed = injected.is_ok() && narrowed_ok;
        assert_eq!(allowed, case["allowed"].as_bool().expect("allowed"), "{name}");
        if let Err(error) = injected {
            assert_eq!(error.code(), "origin_not_allowed", "{name}");
            assert!(!error.to_string().contains("t-1"), "{name}: no token in the error");
        }
    }
}

/// One request a hop server received.
#[derive(Debug, Clone)]
struct Received {
    server: &'static str,
    hop: usize,
    method: String,
    body: String,
    credential: bool,
}

#[derive(Clone)]
struct Hops {
    case: Arc<Value>,
    /// The origin of each server by name: `allowed`, `foreign`.
    origins: Arc<Mutex<Vec<(&'static str, String)>>>,
    received: Arc<Mutex<Vec<Received>>>,
}

/// Whether the request carries the credential in any place a strategy puts it.
fn carries_credential(request: &Request, credentials: &Value) -> bool {
    let secrets: Vec<&str> = credentials
        .as_object()
        .expect("credentials")
        .values()
        .filter_map(Value::as_str)
        .collect();
    let in_headers = request.headers().iter().any(|(name, value)| {
        let value = value.to_str().unwrap_or_default();
        secrets.iter().any(|secret| value.contains(secret)) || name == "authorization"
    });
    let query = request.uri().query().unwrap_or_default();
    in_headers || secrets.iter().any(|secret| query.contains(secret))
}

fn hop_server(name: &'static str, hops: Hops) -> impl Endpoint {
    #[handler]
    async fn hop(request: &Request, body: String, Data(state): Data<&(&'static str, Hops)>) -> Response {
        let (server, hops) = state;
        let index: usize = request
            .uri()
            .path()
            .trim_start_matches("/hop/")
            .parse()
            .unwrap_or(usize::MAX);
        let chain = hops.case["hops"].as_array().expect("hops");
        hops.received.lock().expect("lock").push(Received {
            server,
            hop: index,
            method: request.method().to_string(),
            body,
            credential: carries_credential(request, &hops.case["credentials"]),
        });
        let Some(this) = chain.get(index) else {
            return poem::http::StatusCode::NOT_FOUND.into_response();
        };
        let status = poem::http::StatusCode::from_u16(this["status"].as_u64().expect("status") as u16).expect("status");
        let mut response = Response::builder().status(status);
        if let Some(next) = chain.get(index + 1) {
            let at = next["at"].as_str().expect("at");
            let origins = hops.origins.lock().expect("lock");
            let origin = &origins.iter().find(|(n, _)| *n == at).expect("server").1;
            // `echo_query`: a path-preserving redirect, repeating what this hop received.
            let query = match (this["echo_query"].as_bool(), request.uri().query()) {
                (Some(true), Some(query)) => format!("?{query}"),
                _ => String::new(),
            };
            response = response.header("location", format!("{origin}/hop/{}{query}", index + 1));
        }
        response.finish()
    }
    Route::new().at("/hop/*", hop).data((name, hops))
}

async fn serve(endpoint: impl Endpoint + 'static) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let acceptor = poem::listener::TcpListener::bind(addr.to_string());
    tokio::spawn(poem::Server::new(acceptor).run(endpoint));
    // The server is listening once a connection is accepted.
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    format!("http://{addr}")
}

#[tokio::test]
async fn every_shared_redirect_chain_keeps_the_credential_in_its_origin() {
    let vectors = vectors();
    let cases = vectors["redirects"].as_array().expect("redirects");
    assert!(cases.len() >= 8);
    let http = no_redirects(reqwest::Client::builder()).build().expect("client");
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let hops = Hops {
            case: Arc::new(case.clone()),
            origins: Arc::default(),
            received: Arc::default(),
        };
        let allowed = serve(hop_server("allowed", hops.clone())).await;
        let foreign = serve(hop_server("foreign", hops.clone())).await;
        hops.origins
            .lock()
            .expect("lock")
            .extend([("allowed", allowed.clone()), ("foreign", foreign)]);
        let envelope = envelope(&case["strategy"], &case["credentials"], &json!([allowed]));
        let method: reqwest::Method = case["method"].as_str().expect("method").parse().expect("method");
        let mut request = reqwest::Request::new(method, format!("{allowed}/hop/0").parse().expect("url"));
        if let Some(body) = case["body"].as_str() {
            *request.body_mut() = Some(body.to_owned().into());
        }
        let sent = send(&http, &envelope, None, request)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let chain = case["hops"].as_array().expect("hops");
        assert_eq!(
            sent.response.status().as_u16(),
            chain.last().expect("hop")["status"].as_u64().expect("status") as u16,
            "{name}: the last hop's answer"
        );
        let received = hops.received.lock().expect("lock").clone();
        assert_eq!(received.len(), chain.len(), "{name}: every hop once: {received:?}");
        for (index, (got, want)) in received.iter().zip(chain).enumerate() {
            assert_eq!(got.hop, index, "{name}");
            assert_eq!(got.server, want["at"].as_str().expect("at"), "{name}: hop {index}");
            assert_eq!(
                got.credential,
                want["credential"].as_bool().expect("credential"),
                "{name}: hop {index}"
            );
            if let Some(method) = want["method"].as_str() {
                assert_eq!(got.method, method, "{name}: hop {index}");
            }
            if let Some(body) = want["body"].as_str() {
                assert_eq!(got.body, body, "{name}: hop {index}");
            }
        }
    }
}

#[tokio::test]
async fn a_request_to_another_origin_sends_nothing() {
    let hops = Hops {
        case: Arc::new(json!({"hops": [{"at": "foreign", "status": 200}], "credentials": {"api_key": "k-9"}})),
        origins: Arc::default(),
        received: Arc::default(),
    };
    let foreign = serve(hop_server("foreign", hops.clone())).await;
    let envelope = envelope(
        &json!({"type": "header", "header_name": "X-API-Key"}),
        &json!({"api_key": "k-9"}),
        &json!(["https://api.example.com"]),
    );
    let http = no_redirects(reqwest::Client::builder()).build().expect("client");
    let request = reqwest::Request::new(reqwest::Method::GET, format!("{foreign}/hop/0").parse().expect("url"));
    let error = send(&http, &envelope, None, request).await.expect_err("refused");
    assert_eq!(error.code(), "origin_not_allowed");
    assert!(
        hops.received.lock().expect("lock").is_empty(),
        "nothing reached the server"
    );
}

#[tokio::test]
async fn a_redirect_loop_ends_with_a_typed_error() {
    let chain: Vec<Value> = (0..12).map(|_| json!({"at": "allowed", "status": 302})).collect();
    let hops = Hops {
        case: Arc::new(json!({"hops": chain, "credentials": {"access_token": "t-loop"}})),
        origins: Arc::default(),
        received: Arc::default(),
    };
    let allowed = serve(hop_server("allowed", hops.clone())).await;
    hops.origins.lock().expect("lock").push(("allowed", allowed.clone()));
    let envelope = envelope(
        &json!({"type": "oauth2"}),
        &json!({"access_token": "t-loop"}),
        &json!([allowed]),
    );
    let http = no_redirects(reqwest::Client::builder()).build().expect("client");
    let request = reqwest::Request::new(reqwest::Method::GET, format!("{allowed}/hop/0").parse().expect("url"));
    let error = send(&http, &envelope, None, request).await.expect_err("too many");
    assert_eq!(error.code(), "too_many_redirects");
    assert_eq!(
        hops.received.lock().expect("lock").len(),
        11,
        "the first request and 10 redirects"
    );
}

#[tokio::test]
async fn a_query_credential_repeated_by_a_redirect_stays_in_its_origin() {
    let hops = Hops {
        case: Arc::new(json!({
            "hops": [
                {"at": "allowed", "status": 302, "echo_query": true},
                {"at": "allowed", "status": 302, "echo_query": true},
                {"at": "foreign", "status": 200}
            ],
            "credentials": {"api_key": "k-echoed"}
        })),
        origins: Arc::default(),
        received: Arc::default(),
    };
    let allowed = serve(hop_server("allowed", hops.clone())).await;
    let foreign = serve(hop_server("foreign", hops.clone())).await;
    hops.origins
        .lock()
        .expect("lock")
        .extend([("allowed", allowed.clone()), ("foreign", foreign)]);
    let envelope = envelope(
        &json!({"type": "query_param", "param_name": "api_key"}),
        &json!({"api_key": "k-echoed"}),
        &json!([allowed]),
    );
    let http = no_redirects(reqwest::Client::builder()).build().expect("client");
    let request = reqwest::Request::new(
        reqwest::Method::GET,
        format!("{allowed}/hop/0?page=2").parse().expect("url"),
    );
    let sent = send(&http, &envelope, None, request).await.expect("sent");
    assert_eq!(sent.response.status().as_u16(), 200);
    let received = hops.received.lock().expect("lock").clone();
    let credentials: Vec<bool> = received.iter().map(|hop| hop.credential).collect();
    assert_eq!(credentials, [true, true, false], "{received:?}");
}
