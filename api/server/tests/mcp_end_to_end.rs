//! A remote MCP server built with the official TypeScript SDK, protected by a real
//! authorization server (npm `oidc-provider` with open dynamic registration and resource
//! indicators), both started here on 127.0.0.1 (`tests/oidc/mcp-server.mjs`), registered in
//! Nexus by its URL only, on SQLite and PostgreSQL. A user consents in headless Chromium; the
//! agent resolves the token and calls a tool; the token expires and is refreshed with the
//! resource; a tool needing a scope not granted answers 403, the step-up adds it, the call
//! succeeds.

mod common;

use common::oidc::oidc_dir;
use common::{TestServer, browser, raw};
use nexus_test_utils::{TestDatabase, database_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The MCP server and its authorization server, stopped when dropped.
struct McpFixture {
    child: Child,
    issuer: String,
    mcp_url: String,
}

impl McpFixture {
    /// Fails where the npm fixtures are not installed (the test is marked `#[requires(oidc)]`).
    fn start() -> Self {
        let sdk = oidc_dir()
            .join("node_modules")
            .join("@modelcontextprotocol")
            .join("sdk");
        assert!(
            sdk.exists(),
            "the MCP fixtures are not installed: npm ci --prefix api/server/tests/oidc"
        );
        let mut child = Command::new("node")
            .arg("mcp-server.mjs")
            .current_dir(oidc_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start node mcp-server.mjs");
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        stdout.read_line(&mut line).expect("the fixture's first line");
        // Whatever it prints later is read (a closed pipe would end it at its next write).
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let started: Value = serde_json::from_str(&line).expect("a JSON line");
        Self {
            child,
            issuer: started["issuer"].as_str().expect("issuer").to_owned(),
            mcp_url: started["mcp_url"].as_str().expect("mcp_url").to_owned(),
        }
    }
}

impl Drop for McpFixture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// One JSON-RPC request to the MCP server with `token`: the status, the challenge, the answer.
async fn mcp(url: &str, token: &str, id: u64, method: &str, params: Value) -> (StatusCode, String, Value) {
    let response = raw()
        .post(url)
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
        .send()
        .await
        .expect("MCP request");
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, challenge, response.json().await.unwrap_or(Value::Null))
}

/// A tool call's text, after an `initialize` (the server is stateless: each request stands alone).
async fn call_tool(url: &str, token: &str, tool: &str) -> (StatusCode, String, String) {
    let init =
        json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "agent", "version": "1"}});
    let (status, challenge, _) = mcp(url, token, 1, "initialize", init).await;
    if status != StatusCode::OK {
        return (status, challenge, String::new());
    }
    let (status, challenge, answer) = mcp(url, token, 2, "tools/call", json!({"name": tool, "arguments": {}})).await;
    let text = answer["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (status, challenge, text)
}

async fn resolve(server: &TestServer, agent_key: &str) -> Value {
    let (status, envelope) = send(
        raw()
            .get(format!(
                "{}/v1/resolve?workspace_id=ws-e2e&provider=e2e-mcp",
                server.gateway_url
            ))
            .bearer_auth(agent_key),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{envelope}");
    envelope
}

fn token(envelope: &Value) -> String {
    envelope["credentials"]["access_token"]
        .as_str()
        .expect("a token")
        .to_owned()
}

/// The user completes `auth_url` in Chromium; Nexus sends the browser back to `done`.
async fn consent_in_chromium(auth_url: &str, done: &str) {
    let run = browser::drive("consent", auth_url, done, &[]).await;
    assert!(run.url.contains("status=success"), "{run:?}");
    assert!(run.violations.is_empty(), "{:?}", run.violations);
}

async fn an_mcp_server_end_to_end(db: TestDatabase) {
    browser::require_chromium();
    let fixture = McpFixture::start();
    let server = TestServer::start(db).await;
    let done = format!("{}/healthz", server.broker_url.trim_end_matches('/'));
    let (status, created) = send(
        raw()
            .post(format!("{}/v1/providers", server.broker_url))
            .bearer_auth(&server.admin_key)
            .json(&json!({"name": "e2e-mcp", "auth_type": "oauth2", "mcp_server_url": fixture.mcp_url})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let agent_key = server.agent_key(Some(vec!["ws-e2e"])).await;

    // The agent asks for a connection; the user consents at the real authorization server.
    let (status, requested) = send(
        raw()
            .post(format!("{}/v1/request-connection", server.gateway_url))
            .bearer_auth(&agent_key)
            .json(&json!({"workspace_id": "ws-e2e", "provider": "e2e-mcp", "return_url": done})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{requested}");
    let auth_url = requested["auth_url"].as_str().expect("auth_url");
    assert!(auth_url.starts_with(&fixture.issuer), "{auth_url}");
    assert!(auth_url.contains("resource="), "{auth_url}");
    consent_in_chromium(auth_url, &done).await;

    // The agent resolves the token and calls a tool with it.
    let envelope = resolve(&server, &agent_key).await;
    assert_eq!(envelope["api_base_url"], fixture.mcp_url);
    let first = token(&envelope);
    let (status, _, text) = call_tool(&fixture.mcp_url, &first, "whoami").await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(text.contains("mcp:read"), "{text}");

    // The token expires: short-lived tokens from now on, and one through a forced refresh.
    let ttl = |seconds: u32| {
        raw()
            .post(format!("{}/test/access-ttl?seconds={seconds}", fixture.issuer))
            .send()
    };
    assert_eq!(ttl(2).await.expect("ttl").status(), StatusCode::NO_CONTENT);
    let connection_id = envelope["connection_id"].as_str().expect("id").to_owned();
    let (status, refreshed) = send(
        raw()
            .post(format!("{}/v1/refresh/{connection_id}", server.gateway_url))
            .bearer_auth(&agent_key),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    let short = token(&refreshed);
    assert_ne!(short, first);
    // Until the MCP server refuses it (the condition, not a fixed wait).
    let mut expired = false;
    for _ in 0..50 {
        let (status, challenge, _) = call_tool(&fixture.mcp_url, &short, "whoami").await;
        if status == StatusCode::UNAUTHORIZED {
            assert!(challenge.contains("resource_metadata="), "{challenge}");
            expired = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(expired, "the short-lived token never expired");
    assert_eq!(ttl(3600).await.expect("ttl").status(), StatusCode::NO_CONTENT);
    // The agent reads again: Nexus refreshes the expired token (with the resource) and serves it.
    let fresh = token(&resolve(&server, &agent_key).await);
    assert_ne!(fresh, short);
    let (status, _, text) = call_tool(&fixture.mcp_url, &fresh, "whoami").await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let refreshes: Value = raw()
        .get(format!("{}/test/refreshes", fixture.issuer))
        .send()
        .await
        .expect("refreshes")
        .json()
        .await
        .expect("JSON");
    let refreshes = refreshes.as_array().expect("a list");
    assert!(refreshes.len() >= 2, "{refreshes:?}");
    assert!(
        refreshes
            .iter()
            .all(|refresh| refresh["resource"] == json!(fixture.mcp_url)),
        "every refresh names the MCP server: {refreshes:?}"
    );

    // A tool needing a scope the grant lacks: 403, the step-up adds it, the call succeeds.
    let (status, challenge, _) = call_tool(&fixture.mcp_url, &fresh, "admin").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(challenge.contains("insufficient_scope"), "{challenge}");
    let (status, step_up) = send(
        raw()
            .post(format!("{}/v1/request-connection", server.gateway_url))
            .bearer_auth(&agent_key)
            .json(
                &json!({"workspace_id": "ws-e2e", "provider": "e2e-mcp", "connection_id": connection_id,
                          "scopes": ["mcp:write"], "return_url": done}),
            ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{step_up}");
    assert_eq!(step_up["connection_id"], json!(connection_id), "the same connection");
    let step_up_url = step_up["auth_url"].as_str().expect("auth_url");
    let asked: std::collections::BTreeMap<String, String> = url::Url::parse(step_up_url)
        .expect("url")
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(
        asked["scope"], "mcp:read mcp:write",
        "the union of the grant and the challenge"
    );
    consent_in_chromium(step_up_url, &done).await;
    let wider = token(&resolve(&server, &agent_key).await);
    let (status, _, text) = call_tool(&fixture.mcp_url, &wider, "admin").await;
    assert_eq!((status, text.as_str()), (StatusCode::OK, "admin done"));
}

database_tests!(
    #[requires(chromium, oidc)]
    an_mcp_server_end_to_end
);
