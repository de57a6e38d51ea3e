//! The proxy (`/v1/proxy`), as an agent meets it, in one process and with a split Gateway, on
//! both databases: the credential is applied server-side with each strategy and reaches a local
//! API (the agent's own key, cookies and hop-by-hop headers do not), bodies stream both ways, a
//! foreign origin, a path out of the base and an off-origin redirect are refused, oversized
//! bodies are 413, every call is audited and counted, a `proxy_only` key reads no credential,
//! and an OAuth2 token the API refuses is refreshed once at the real OpenID provider.

mod common;

use common::oidc::{CLIENT_SECRET, OidcProvider, consent_as_user};
use common::{Mode, TestServer, raw};
use futures::StreamExt;
use nexus_test_utils::{TestDatabase, database_tests};
use poem::http::StatusCode;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// What the local API saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    query: Option<String>,
    method: String,
    headers: Vec<(String, String)>,
    body_length: usize,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value.as_str())
    }
}

/// A local API: records every request and answers by path. `/big` streams 3 MiB; `/away`
/// redirects to `foreign`; `/refuse-first` answers 401 to the first bearer token it sees.
struct Upstream {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    _stop: tokio::sync::watch::Sender<bool>,
}

async fn upstream(foreign: Option<String>) -> Upstream {
    let listener = nexus_server::listen::bind("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("bind");
    let base = format!("http://{}", listener.addr);
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let tokens: Arc<Mutex<Vec<String>>> = Arc::default();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let recorded = seen.clone();
    let endpoint = poem::endpoint::make(move |mut req: poem::Request| {
        let recorded = recorded.clone();
        let tokens = tokens.clone();
        let foreign = foreign.clone();
        async move {
            let body = req.take_body().into_bytes().await.unwrap_or_default();
            let entry = Seen {
                path: req.uri().path().to_owned(),
                query: req.uri().query().map(str::to_owned),
                method: req.method().to_string(),
                headers: req
                    .headers()
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_owned()))
                    .collect(),
                body_length: body.len(),
            };
            recorded.lock().expect("lock").push(entry.clone());
            let response = match entry.path.as_str() {
                "/api/big" => {
                    let chunks = futures::stream::iter((0..48).map(|_| Ok::<_, std::io::Error>(vec![b'x'; 64 * 1024])));
                    poem::Response::builder()
                        .content_type("application/octet-stream")
                        .body(poem::Body::from_bytes_stream(chunks.map(|c| c.map(bytes::Bytes::from))))
                }
                "/api/away" => poem::Response::builder()
                    .status(StatusCode::FOUND)
                    .header("location", format!("{}/stolen", foreign.unwrap_or_default()))
                    .finish(),
                "/api/refuse-first" => {
                    let token = entry.header("authorization").unwrap_or_default().to_owned();
                    let mut tokens = tokens.lock().expect("lock");
                    let first = tokens.is_empty();
                    tokens.push(token);
                    if first {
                        poem::Response::builder()
                            .status(StatusCode::UNAUTHORIZED)
                            .body("expired")
                    } else {
                        poem::Response::builder()
                            .content_type("application/json")
                            .body("{\"ok\":true}")
                    }
                }
                "/api/limited" => poem::Response::builder()
                    .status(StatusCode::TOO_MANY_REQUESTS)
                    .header("retry-after", "7")
                    .body("slow down"),
                "/api/slow" => {
                    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
                    poem::Response::builder().body("late")
                }
                "/api/missing" => poem::Response::builder()
                    .status(StatusCode::NOT_FOUND)
                    .content_type("text/html")
                    .body("<h1>not here</h1>"),
                _ => poem::Response::builder()
                    .header("set-cookie", "session=upstream")
                    .header("x-upstream", "yes")
                    .content_type("application/json")
                    .body(json!({"path": entry.path, "bytes": entry.body_length}).to_string()),
            };
            Ok::<_, poem::Error>(response)
        }
    });
    tokio::spawn(nexus_server::listen::serve(listener, endpoint, stopped));
    Upstream {
        base,
        seen,
        _stop: stop,
    }
}

fn proxied(server: &TestServer, key: &str, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    raw()
        .request(method, format!("{}/v1/proxy{path}", server.gateway_url))
        .bearer_auth(key)
}

/// A GET sent byte for byte (no client normalises its path): the status line.
async fn raw_get(base: &str, path: &str, key: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let authority = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(authority).await.expect("connect");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer {key}\r\n\
         Nexus-Workspace-Id: ws-p\r\nNexus-Provider: keyed\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The audit events of a type, once one of them satisfies `wanted` (proxied calls are tallied
/// when their answer has streamed, and written every second), or whatever there is after 5 s.
async fn audit_events(server: &TestServer, event_type: &str, wanted: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut items = Vec::new();
    for _ in 0..50 {
        let events = server
            .admin_get(&format!("/v1/audit-events?event_type={event_type}"))
            .await;
        items = events["items"].as_array().cloned().unwrap_or_default();
        if items.iter().any(&wanted) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    items
}

async fn strategies_bodies_and_boundaries(db: TestDatabase, mode: Mode) {
    let server = TestServer::start_with(db, mode, |common| common.proxy_max_body_bytes = 4 * 1024 * 1024).await;
    let foreign = upstream(None).await;
    let api = upstream(Some(foreign.base.clone())).await;
    let base = format!("{}/api", api.base);
    for provider in [
        json!({"name": "keyed", "auth_type": "api_key", "api_base_url": base}),
        json!({"name": "queried", "auth_type": "api_key", "api_base_url": base,
               "strategy": {"type": "query_param", "param_name": "key", "credential_field": "api_key"},
               "api_headers": {"Notion-Version": "2022-06-28"}, "api_query": {"account": "42"}}),
        json!({"name": "basic", "auth_type": "basic_auth", "api_base_url": base}),
    ] {
        server.admin_post("/v1/providers", provider).await;
    }
    server
        .admin_post(
            "/v1/providers",
            json!({"name": "aws-like", "auth_type": "aws_sigv4", "api_base_url": base,
                   "strategy": {"type": "aws_sigv4", "service": "execute-api", "region": "eu-west-1"}}),
        )
        .await;
    server.connect_api_key("ws-p", "keyed", "sk-proxy-keyed").await;
    server.connect_api_key("ws-p", "queried", "sk-proxy-queried").await;
    let consent = server
        .admin_post(
            "/v1/consents",
            json!({"workspace_id": "ws-p", "provider": "basic", "return_url": "http://127.0.0.1:9/done"}),
        )
        .await;
    let captured = raw()
        .post(format!("{}/auth/capture", server.broker_url))
        .json(&json!({"state": consent["state"], "credentials": {"username": "ada", "password": "pw-proxy-basic"}}))
        .send()
        .await
        .expect("capture");
    assert_eq!(captured.status(), StatusCode::OK);
    let consent = server
        .admin_post(
            "/v1/consents",
            json!({"workspace_id": "ws-p", "provider": "aws-like", "return_url": "http://127.0.0.1:9/done"}),
        )
        .await;
    let captured = raw()
        .post(format!("{}/auth/capture", server.broker_url))
        .json(&json!({"state": consent["state"],
                      "credentials": {"access_key_id": "AKIDPROXYEXAMPLE", "secret_access_key": "aws-secret-proxy"}}))
        .send()
        .await
        .expect("capture");
    assert_eq!(captured.status(), StatusCode::OK);
    let key = server.agent_key(Some(vec!["ws-p"])).await;
    let at = |provider: &str, request: reqwest::RequestBuilder| {
        request
            .header("Nexus-Workspace-Id", "ws-p")
            .header("Nexus-Provider", provider)
    };

    // A GET with each strategy: the credential arrives where the strategy puts it; the agent's
    // key, its cookie and Nexus's headers do not.
    let answer = at(
        "keyed",
        proxied(&server, &key, reqwest::Method::GET, "/items?page=2&q=secret-query"),
    )
    .header("cookie", "agent-session=1")
    .send()
    .await
    .expect("proxied");
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()["nexus-proxied"], "true");
    assert_eq!(answer.headers()["x-upstream"], "yes");
    assert!(answer.headers().get("set-cookie").is_none(), "no cookie comes back");
    assert_eq!(answer.json::<Value>().await.expect("JSON")["path"], "/api/items");
    let seen = api.seen.lock().expect("lock").last().cloned().expect("a request");
    assert_eq!(seen.header("x-api-key"), Some("sk-proxy-keyed"));
    assert_eq!(seen.query.as_deref(), Some("page=2&q=secret-query"));
    for absent in ["authorization", "cookie", "nexus-workspace-id", "nexus-provider"] {
        assert!(seen.header(absent).is_none(), "{absent} was not forwarded: {seen:?}");
    }
    let answer = at("queried", proxied(&server, &key, reqwest::Method::GET, "/items"))
        .send()
        .await
        .expect("proxied");
    assert_eq!(answer.status(), StatusCode::OK);
    let seen = api.seen.lock().expect("lock").last().cloned().expect("a request");
    // The provider's own headers and query parameters go with the credential.
    assert_eq!(seen.query.as_deref(), Some("account=42&key=sk-proxy-queried"));
    assert_eq!(seen.header("notion-version"), Some("2022-06-28"));
    let answer = at("basic", proxied(&server, &key, reqwest::Method::GET, "/items"))
        .send()
        .await
        .expect("proxied");
    assert_eq!(answer.status(), StatusCode::OK);
    let seen = api.seen.lock().expect("lock").last().cloned().expect("a request");
    assert_eq!(seen.header("authorization"), Some("Basic YWRhOnB3LXByb3h5LWJhc2lj"));

    // AWS Signature Version 4, signed by Nexus over the body it forwards.
    let answer = at("aws-like", proxied(&server, &key, reqwest::Method::POST, "/items"))
        .json(&json!({"signed": true}))
        .send()
        .await
        .expect("proxied");
    assert_eq!(answer.status(), StatusCode::OK);
    let seen = api.seen.lock().expect("lock").last().cloned().expect("a request");
    let signature = seen.header("authorization").unwrap_or_default();
    assert!(
        signature.starts_with("AWS4-HMAC-SHA256 Credential=AKIDPROXYEXAMPLE/")
            && signature.contains("/eu-west-1/execute-api/aws4_request"),
        "{signature}"
    );
    assert!(seen.header("x-amz-date").is_some(), "{seen:?}");
    assert_eq!(seen.body_length, 15);
    assert!(!signature.contains("aws-secret-proxy"));

    // Bodies: a small POST kept whole, a 3 MiB upload streamed (no length), a 3 MiB download
    // streamed back.
    let answer = at("keyed", proxied(&server, &key, reqwest::Method::POST, "/items"))
        .json(&json!({"name": "new"}))
        .send()
        .await
        .expect("proxied");
    assert_eq!(answer.json::<Value>().await.expect("JSON")["bytes"], 14);
    let chunks = futures::stream::iter((0..48).map(|_| Ok::<_, std::io::Error>(vec![b'u'; 64 * 1024])));
    let answer = at("keyed", proxied(&server, &key, reqwest::Method::PUT, "/upload"))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .expect("proxied");
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.json::<Value>().await.expect("JSON")["bytes"], 48 * 64 * 1024);
    let seen = api.seen.lock().expect("lock").last().cloned().expect("a request");
    assert_eq!(
        (seen.method.as_str(), seen.header("x-api-key")),
        ("PUT", Some("sk-proxy-keyed"))
    );
    let answer = at("keyed", proxied(&server, &key, reqwest::Method::GET, "/big"))
        .send()
        .await
        .expect("proxied");
    assert_eq!(answer.bytes().await.expect("body").len(), 48 * 64 * 1024);

    // The provider's own errors come back as they are (not rewritten into Nexus's shape).
    let answer = at("keyed", proxied(&server, &key, reqwest::Method::GET, "/missing"))
        .send()
        .await
        .expect("proxied");
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    assert_eq!(answer.headers()["nexus-proxied"], "true");
    assert_eq!(answer.text().await.expect("text"), "<h1>not here</h1>");

    // Boundaries: nothing reaches the foreign server, and each refusal is a typed error.
    let before = api.seen.lock().expect("lock").len();
    let refused = at("keyed", proxied(&server, &key, reqwest::Method::GET, ""))
        .header("Nexus-Proxy-Url", format!("{}/collect", foreign.base))
        .send()
        .await
        .expect("refused");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        refused.json::<Value>().await.expect("JSON")["code"],
        "origin_not_allowed"
    );
    // HTTP clients remove dot segments before sending: raw requests keep them, and never get
    // past the base path (the router or the proxy answers them; the API is not called).
    for climbing in [
        "/v1/proxy/../admin",
        "/v1/proxy/%2e%2e/admin",
        "/v1/proxy/a/%2E%2E/%2e%2e/admin",
    ] {
        let status_line = raw_get(&server.gateway_url, climbing, &key).await;
        assert!(
            status_line.starts_with("HTTP/1.1 404") || status_line.starts_with("HTTP/1.1 400"),
            "{climbing}: {status_line}"
        );
    }
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let away = at(
        "keyed",
        no_redirects
            .get(format!("{}/v1/proxy/away", server.gateway_url))
            .bearer_auth(&key),
    )
    .send()
    .await
    .expect("redirect");
    assert_eq!(
        away.status(),
        StatusCode::FOUND,
        "the redirect is the agent's to see, not followed"
    );
    // Straight to the Gateway: it answers before reading a body it refuses, which a proxy in
    // between (the tests' JSON guard) would report as a broken connection.
    let direct = |method: reqwest::Method, path: &str| {
        raw()
            .request(method, format!("{}/v1/proxy{path}", server.gateway_direct_url))
            .bearer_auth(&key)
    };
    let large = at("keyed", direct(reqwest::Method::POST, "/items"))
        .body(vec![b'l'; 5 * 1024 * 1024])
        .send()
        .await
        .expect("too large");
    let status = large.status();
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{:?}", large.text().await);
    let chunks = futures::stream::iter((0..80).map(|_| Ok::<_, std::io::Error>(vec![b'c'; 64 * 1024])));
    let streamed_large = at("keyed", direct(reqwest::Method::PUT, "/upload"))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .expect("too large, streamed");
    let status = streamed_large.status();
    assert_eq!(
        status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{:?}",
        streamed_large.text().await
    );
    let unnamed = proxied(&server, &key, reqwest::Method::GET, "/items")
        .send()
        .await
        .expect("no target");
    assert_eq!(unnamed.status(), StatusCode::BAD_REQUEST);
    let outside = proxied(&server, &key, reqwest::Method::GET, "/items")
        .header("Nexus-Workspace-Id", "ws-other")
        .header("Nexus-Provider", "keyed")
        .send()
        .await
        .expect("outside the key");
    assert_eq!(outside.status(), StatusCode::NOT_FOUND);
    let anonymous = raw()
        .get(format!("{}/v1/proxy/items", server.gateway_url))
        .header("Nexus-Workspace-Id", "ws-p")
        .header("Nexus-Provider", "keyed")
        .send()
        .await
        .expect("no key");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(
        foreign.seen.lock().expect("lock").is_empty(),
        "nothing reached the foreign server"
    );
    // Of these, only the off-origin redirect reached the API (and the streamed upload, cut at
    // the limit: a streamed body has left before its end is known).
    let reached: Vec<String> = api.seen.lock().expect("lock")[before..]
        .iter()
        .map(|seen| seen.path.clone())
        .collect();
    assert!(reached.contains(&"/api/away".to_owned()), "{reached:?}");
    assert!(
        reached.iter().all(|path| path == "/api/away" || path == "/api/upload"),
        "{reached:?}"
    );

    // Every call is audited: method, origin, path without query values, status, bytes; never
    // a secret.
    let is_upload = |event: &Value| event["data"]["path"] == "/api/upload" && event["data"]["status"] == 200;
    let events = audit_events(&server, "proxy_call", is_upload).await;
    let first = events
        .iter()
        .find(|event| event["data"]["path"] == "/api/items?page=&q=")
        .unwrap_or_else(|| panic!("the first call: {events:?}"));
    assert_eq!(first["data"]["method"], "GET");
    assert_eq!(first["data"]["status"], 200);
    assert_eq!(first["data"]["origin"], api.base);
    assert!(
        first["actor"]
            .as_str()
            .is_some_and(|actor| actor.starts_with("agent_key:")),
        "{first}"
    );
    let upload = events.iter().find(|event| is_upload(event)).expect("the upload");
    assert_eq!(upload["data"]["request_bytes"], 48 * 64 * 1024);
    let text = serde_json::to_string(&events).expect("JSON");
    for secret in [
        "sk-proxy-keyed",
        "sk-proxy-queried",
        "pw-proxy-basic",
        "secret-query",
        "aws-secret-proxy",
    ] {
        assert!(!text.contains(secret), "no secret in the audit trail");
    }
    assert!(
        server.admin_get("/v1/audit-events?event_type=token_read").await["items"]
            .as_array()
            .is_some_and(Vec::is_empty),
        "the proxy's reads are audited as calls, not as token reads"
    );
    let metrics = raw()
        .get(format!("{}/metrics", server.broker_url))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    if mode == Mode::OneProcess {
        assert!(
            metrics.contains("nexus_proxy_requests_total{provider=\"keyed\",status_class=\"2xx\"}"),
            "counted by provider and class"
        );
    }
    server.stop().await;
}

async fn a_proxy_only_key_reads_no_credential(db: TestDatabase, mode: Mode) {
    let server = TestServer::start_in(db, mode).await;
    let api = upstream(None).await;
    server
        .admin_post(
            "/v1/providers",
            json!({"name": "keyed", "auth_type": "api_key", "api_base_url": format!("{}/api", api.base)}),
        )
        .await;
    let connection_id = server.connect_api_key("ws-q", "keyed", "sk-proxy-only").await;
    let created = server
        .admin_post(
            "/v1/agent-keys",
            json!({"name": "secretless", "workspace_ids": ["ws-q"], "proxy_only": true}),
        )
        .await;
    assert_eq!(created["proxy_only"], true);
    let key = created["key"].as_str().expect("key").to_owned();
    for (method, path) in [
        (
            reqwest::Method::GET,
            "/v1/resolve?workspace_id=ws-q&provider=keyed".to_owned(),
        ),
        (reqwest::Method::GET, format!("/v1/token/{connection_id}")),
        (reqwest::Method::POST, format!("/v1/refresh/{connection_id}")),
    ] {
        let answer = raw()
            .request(method, format!("{}{path}", server.gateway_url))
            .bearer_auth(&key)
            .send()
            .await
            .expect("refused");
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{path}");
        let body = answer.text().await.expect("text");
        assert!(body.contains("proxy_only_key"), "{path}: {body}");
        assert!(!body.contains("sk-proxy-only"));
    }
    let check = raw()
        .get(format!("{}/v1/check-connection/{connection_id}", server.gateway_url))
        .bearer_auth(&key)
        .send()
        .await
        .expect("check");
    assert_eq!(
        check.status(),
        StatusCode::OK,
        "a proxy_only key still checks its connections"
    );
    let answer = proxied(&server, &key, reqwest::Method::GET, "/me")
        .header("Nexus-Connection-Id", connection_id.as_str())
        .send()
        .await
        .expect("proxied");
    assert_eq!(answer.status(), StatusCode::OK);
    let seen = api.seen.lock().expect("lock").last().cloned().expect("a request");
    assert_eq!(
        seen.header("x-api-key"),
        Some("sk-proxy-only"),
        "the credential went, not to the agent"
    );
    server.stop().await;
}

/// An OAuth2 connection at the real OpenID provider: the API refuses the first token, the proxy
/// refreshes once and sends the request again with the new one.
async fn a_refused_token_is_refreshed_once(db: TestDatabase, mode: Mode) {
    let server = TestServer::start_in(db, mode).await;
    let callback = format!("{}/auth/callback", server.broker_url);
    let oidc = OidcProvider::start(&callback);
    let api = upstream(None).await;
    server
        .admin_post(
            "/v1/providers",
            json!({"name": "oidc-proxy", "auth_type": "oauth2", "client_id": "nexus", "client_secret": CLIENT_SECRET,
                   "issuer": oidc.issuer, "token_endpoint_auth_method": "client_secret_basic",
                   "scopes": ["openid", "offline_access", "email"], "authorization_params": {"prompt": "consent"},
                   "api_base_url": format!("{}/api", api.base)}),
        )
        .await;
    let consent = server
        .admin_post(
            "/v1/consents",
            json!({"workspace_id": "ws-o", "provider": "oidc-proxy", "return_url": "http://127.0.0.1:9/done"}),
        )
        .await;
    let landed = consent_as_user(consent["auth_url"].as_str().expect("auth_url"), &callback).await;
    assert!(landed.as_str().contains("status=success"), "{landed}");
    let key = server.agent_key(Some(vec!["ws-o"])).await;
    let answer = proxied(&server, &key, reqwest::Method::POST, "/refuse-first")
        .header("Nexus-Workspace-Id", "ws-o")
        .header("Nexus-Provider", "oidc-proxy")
        .json(&json!({"kept": "for the second send"}))
        .send()
        .await
        .expect("proxied");
    assert_eq!(answer.status(), StatusCode::OK, "refreshed and sent again");
    let seen: Vec<Seen> = api.seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 2, "sent twice: {seen:?}");
    let tokens: Vec<&str> = seen.iter().filter_map(|s| s.header("authorization")).collect();
    assert_eq!(tokens.len(), 2);
    assert_ne!(tokens[0], tokens[1], "the second send carries the refreshed token");
    assert_eq!(seen[1].body_length, seen[0].body_length, "the body went both times");
    let fresh = tokens[1].strip_prefix("Bearer ").expect("bearer");
    assert_eq!(
        oidc.userinfo(fresh).await.status(),
        StatusCode::OK,
        "a token the provider accepts"
    );
    server.stop().await;
}

/// Production: the proxy sends only https, and never to a loopback or private address, even
/// when the provider's own base URL names one.
async fn production_refuses_inside_upstreams(db: TestDatabase) {
    let server = TestServer::start_with(db, Mode::OneProcess, |common| {
        common.production = true;
        common.public_url = Some("https://nexus.example.com".to_owned());
        common.allowed_return_urls = Some("app.example.com".to_owned());
    })
    .await;
    let api = upstream(None).await;
    let port = api.base.rsplit(':').next().expect("port").to_owned();
    for (name, base) in [
        ("plain", format!("{}/api", api.base)),
        ("loopback", format!("https://127.0.0.1:{port}/api")),
        ("named", format!("https://localhost:{port}/api")),
        ("private", "https://10.0.0.8/api".to_owned()),
    ] {
        server
            .admin_post(
                "/v1/providers",
                json!({"name": name, "auth_type": "api_key", "api_base_url": base}),
            )
            .await;
        let consent = server
            .admin_post(
                "/v1/consents",
                json!({"workspace_id": "ws-prod", "provider": name, "return_url": "https://app.example.com/done"}),
            )
            .await;
        let captured = raw()
            .post(format!("{}/auth/capture", server.broker_url))
            .json(&json!({"state": consent["state"], "credentials": {"api_key": "sk-prod"}}))
            .send()
            .await
            .expect("capture");
        assert_eq!(captured.status(), StatusCode::OK, "{name}");
    }
    let key = server.agent_key(Some(vec!["ws-prod"])).await;
    for name in ["plain", "loopback", "named", "private"] {
        let refused = proxied(&server, &key, reqwest::Method::GET, "/items")
            .header("Nexus-Workspace-Id", "ws-prod")
            .header("Nexus-Provider", name)
            .send()
            .await
            .expect("refused");
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{name}");
        let body: Value = refused.json().await.expect("JSON");
        assert_eq!(body["code"], "origin_not_allowed", "{name}: {body}");
    }
    assert!(
        api.seen.lock().expect("lock").is_empty(),
        "nothing reached the inside address"
    );
    server.stop().await;
}

/// The provider failing: its own 429 (and `Retry-After`) reaches the agent as it was; a
/// provider that does not answer within `NEXUS_PROXY_TIMEOUT_SECONDS`, or refuses the
/// connection, is Nexus's 502 `upstream_unavailable`, promptly.
async fn a_failing_provider(db: TestDatabase, mode: Mode) {
    let server = TestServer::start_with(db, mode, |common| common.proxy_timeout_seconds = 1).await;
    let api = upstream(None).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let refused_base = format!("http://{}/api", closed.local_addr().expect("addr"));
    drop(closed);
    for (name, base) in [("flaky", format!("{}/api", api.base)), ("gone", refused_base)] {
        server
            .admin_post(
                "/v1/providers",
                json!({"name": name, "auth_type": "api_key", "api_base_url": base}),
            )
            .await;
        server.connect_api_key("ws-f", name, "sk-fault").await;
    }
    let key = server.agent_key(Some(vec!["ws-f"])).await;
    let call = |provider: &str, path: &str| {
        proxied(&server, &key, reqwest::Method::GET, path)
            .header("Nexus-Workspace-Id", "ws-f")
            .header("Nexus-Provider", provider)
            .send()
    };
    let limited = call("flaky", "/limited").await.expect("answered");
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers()["retry-after"], "7");
    assert_eq!(limited.headers()["nexus-proxied"], "true");
    for (provider, path) in [("flaky", "/slow"), ("gone", "/items")] {
        let started = std::time::Instant::now();
        let failed = call(provider, path).await.expect("answered");
        assert_eq!(failed.status(), StatusCode::BAD_GATEWAY, "{provider}");
        assert!(failed.headers().get("nexus-proxied").is_none(), "Nexus's own answer");
        let body: Value = failed.json().await.expect("JSON");
        assert_eq!(body["code"], "upstream_unavailable", "{provider}: {body}");
        assert!(!body.to_string().contains("sk-fault"));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(3),
            "{provider}: within the deadline"
        );
    }
    server.stop().await;
}

async fn failing_provider_one_process(db: TestDatabase) {
    a_failing_provider(db, Mode::OneProcess).await;
}

async fn failing_provider_split(db: TestDatabase) {
    a_failing_provider(db, Mode::Split).await;
}

async fn strategies_one_process(db: TestDatabase) {
    strategies_bodies_and_boundaries(db, Mode::OneProcess).await;
}

async fn strategies_split(db: TestDatabase) {
    strategies_bodies_and_boundaries(db, Mode::Split).await;
}

async fn proxy_only_one_process(db: TestDatabase) {
    a_proxy_only_key_reads_no_credential(db, Mode::OneProcess).await;
}

async fn proxy_only_split(db: TestDatabase) {
    a_proxy_only_key_reads_no_credential(db, Mode::Split).await;
}

async fn refresh_on_401_one_process(db: TestDatabase) {
    a_refused_token_is_refreshed_once(db, Mode::OneProcess).await;
}

async fn refresh_on_401_split(db: TestDatabase) {
    a_refused_token_is_refreshed_once(db, Mode::Split).await;
}

database_tests!(
    strategies_one_process,
    strategies_split,
    proxy_only_one_process,
    proxy_only_split,
    #[requires(oidc)]
    refresh_on_401_one_process,
    #[requires(oidc)]
    refresh_on_401_split,
    production_refuses_inside_upstreams,
    failing_provider_one_process,
    failing_provider_split
);
