//! A small mock OAuth provider on 127.0.0.1 for the fault cases a real provider will not
//! produce on demand: 5xx, 429 with `Retry-After`, slow answers, `invalid_grant`, malformed
//! JSON, reset connections, discovery documents without a token endpoint, refresh tokens that
//! do not rotate, `client_secret_basic`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::Data;
use poem::{EndpointExt, Request, Response, Route, Server, handler};
use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const CLIENT_ID: &str = "mock-client";
pub const CLIENT_SECRET: &str = "mock-client-secret";

/// What the token endpoint does with the next request.
#[derive(Debug, Clone)]
pub enum TokenReply {
    /// 200 with tokens. `refresh_token: None` models a provider that does not rotate it.
    Tokens {
        access_token: String,
        refresh_token: Option<String>,
        expires_in: Option<i64>,
    },
    /// An OAuth error body with this status (`invalid_grant` with 400, say).
    Error { status: u16, error: String },
    /// A bare status, such as 503.
    Status(u16),
    /// 200 with a body that is not JSON.
    Malformed,
    /// 429 with this `Retry-After` value.
    RateLimited(String),
    /// 200 with an OAuth error body (as GitHub answers a dead refresh token).
    ErrorWithOk(String),
    /// Waits, then answers with the inner reply.
    Slow(Duration, Box<TokenReply>),
    /// A redirect to another token endpoint (which must not be followed).
    Redirect,
    /// 200 with tokens and this `id_token`.
    WithIdToken(String),
}

/// One request the token endpoint received.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub form: BTreeMap<String, String>,
    pub authorization: Option<String>,
    pub accept: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    replies: VecDeque<TokenReply>,
    default_reply: Option<TokenReply>,
    requests: Vec<TokenRequest>,
    revocations: Vec<BTreeMap<String, String>>,
    revocation_status: u16,
    discovery: Option<Value>,
    basic_auth: bool,
    issued: u64,
    redirect_followed: bool,
    /// Refresh grants get fresh tokens living this long (ahead of the reply queue).
    refresh_expires_in: Option<i64>,
    /// Code exchanges issue a refresh token unique to the exchange.
    unique_refresh_tokens: bool,
    /// Requests to the verification endpoint.
    verifications: u64,
}

/// A running mock provider. Dropping it leaves the server task to end with the test.
#[derive(Debug, Clone)]
pub struct MockProvider {
    pub base_url: String,
    /// A token endpoint that accepts the connection, reads the request and resets it.
    pub reset_url: String,
    state: Arc<Mutex<State>>,
}

/// Accepts connections, reads what arrives, and closes with a reset (SO_LINGER 0).
async fn start_resetter() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the resetting endpoint");
    let addr = listener.local_addr().expect("resetter address");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                use tokio::io::AsyncReadExt;
                let mut buffer = [0u8; 4096];
                let _ = tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buffer)).await;
                let _ = stream.set_zero_linger();
                drop(stream);
            });
        }
    });
    format!("http://{addr}/token")
}

fn form_of(body: &[u8]) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn json_response(status: u16, body: Value) -> Response {
    Response::builder()
        .status(poem::http::StatusCode::from_u16(status).unwrap_or(poem::http::StatusCode::INTERNAL_SERVER_ERROR))
        .content_type("application/json")
        .body(body.to_string())
}

fn client_authenticated(state: &State, request: &TokenRequest) -> bool {
    if state.basic_auth {
        let expected = format!("Basic {}", STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}")));
        request.authorization.as_deref() == Some(expected.as_str()) && !request.form.contains_key("client_secret")
    } else {
        request.form.get("client_id").map(String::as_str) == Some(CLIENT_ID)
            && request.form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET)
    }
}

fn render(reply: TokenReply) -> Result<Response, (Duration, TokenReply)> {
    match reply {
        TokenReply::Tokens {
            access_token,
            refresh_token,
            expires_in,
        } => {
            let mut body = json!({"access_token": access_token, "token_type": "bearer", "scope": "read write"});
            if let Some(refresh) = refresh_token {
                body["refresh_token"] = json!(refresh);
            }
            if let Some(expires_in) = expires_in {
                body["expires_in"] = json!(expires_in);
            }
            Ok(json_response(200, body))
        }
        TokenReply::Error { status, error } => Ok(json_response(
            status,
            json!({"error": error, "error_description": "secret provider detail that must not be echoed"}),
        )),
        TokenReply::Status(status) => Ok(json_response(status, json!({"message": "provider internal detail"}))),
        TokenReply::Malformed => Ok(Response::builder().content_type("application/json").body("<html>oops")),
        TokenReply::RateLimited(retry_after) => Ok(Response::builder()
            .status(poem::http::StatusCode::TOO_MANY_REQUESTS)
            .header("retry-after", retry_after)
            .content_type("application/json")
            .body(json!({"message": "slow down"}).to_string())),
        TokenReply::ErrorWithOk(error) => Ok(json_response(200, json!({"error": error}))),
        TokenReply::Slow(delay, inner) => Err((delay, *inner)),
        TokenReply::Redirect => Ok(Response::builder()
            .status(poem::http::StatusCode::TEMPORARY_REDIRECT)
            .header("location", "/token-elsewhere")
            .finish()),
        TokenReply::WithIdToken(id_token) => Ok(json_response(
            200,
            json!({"access_token": "mock-access", "token_type": "Bearer", "expires_in": 3600, "id_token": id_token}),
        )),
    }
}

fn request_grant(request: Option<&TokenRequest>) -> String {
    request
        .and_then(|r| r.form.get("grant_type").cloned())
        .unwrap_or_default()
}

/// A reply without a delay.
fn render_now(reply: TokenReply) -> Response {
    render(reply).unwrap_or_else(|_| json_response(500, json!({})))
}

#[handler]
async fn token(req: &Request, body: Vec<u8>, state: Data<&Arc<Mutex<State>>>) -> Response {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let request = TokenRequest {
        form: form_of(&body),
        authorization: header("authorization"),
        accept: header("accept"),
    };
    let reply = {
        let mut state = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let authenticated = client_authenticated(&state, &request);
        state.requests.push(request);
        if !authenticated {
            return json_response(401, json!({"error": "invalid_client"}));
        }
        state.issued += 1;
        let issued = state.issued;
        let grant = request_grant(state.requests.last());
        if let (Some(expires_in), "refresh_token") = (state.refresh_expires_in, grant.as_str()) {
            return render_now(TokenReply::Tokens {
                access_token: format!("mock-access-{issued}"),
                refresh_token: Some(format!("mock-refresh-{issued}")),
                expires_in: Some(expires_in),
            });
        }
        if state.unique_refresh_tokens && grant == "authorization_code" {
            return render_now(TokenReply::Tokens {
                access_token: format!("mock-access-{issued}"),
                refresh_token: Some(format!("mock-refresh-{issued}")),
                expires_in: match state.default_reply {
                    Some(TokenReply::Tokens { expires_in, .. }) => expires_in,
                    _ => Some(3600),
                },
            });
        }
        state
            .replies
            .pop_front()
            .or_else(|| state.default_reply.clone())
            .unwrap_or(TokenReply::Tokens {
                access_token: format!("mock-access-{issued}"),
                refresh_token: Some(format!("mock-refresh-{issued}")),
                expires_in: Some(3600),
            })
    };
    let mut reply = reply;
    loop {
        match render(reply) {
            Ok(response) => return response,
            Err((delay, inner)) => {
                tokio::time::sleep(delay).await;
                reply = inner;
            }
        }
    }
}

#[handler]
async fn revoke(body: Vec<u8>, state: Data<&Arc<Mutex<State>>>) -> Response {
    let mut state = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    state.revocations.push(form_of(&body));
    Response::builder()
        .status(poem::http::StatusCode::from_u16(state.revocation_status).unwrap_or(poem::http::StatusCode::OK))
        .finish()
}

#[handler]
fn discovery(state: Data<&Arc<Mutex<State>>>) -> Response {
    let state = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    match &state.discovery {
        Some(document) => json_response(200, document.clone()),
        None => json_response(404, json!({})),
    }
}

/// An empty key set: no id_token can verify against it.
#[handler]
fn jwks() -> Response {
    json_response(200, json!({"keys": []}))
}

/// Where a redirecting token endpoint points; reaching it means a redirect was followed.
#[handler]
fn token_elsewhere(state: Data<&Arc<Mutex<State>>>) -> Response {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .redirect_followed = true;
    json_response(
        200,
        json!({"access_token": "followed-a-redirect", "token_type": "Bearer"}),
    )
}

/// An application's landing page, where a finished consent or capture returns the user.
#[handler]
fn app_landing() -> Response {
    Response::builder()
        .content_type("text/html; charset=utf-8")
        .body("<!doctype html><title>Connected</title><p>Back in the app.</p>")
}

#[handler]
fn authorize() -> &'static str {
    "the consent page (tests call the callback directly)"
}

/// Accepts `X-API-Key: good-key` (or `?api_key=good-key`), refuses anything else.
#[handler]
fn verify(req: &Request, state: Data<&Arc<Mutex<State>>>) -> Response {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .verifications += 1;
    let header_ok = req.headers().get("x-api-key").and_then(|v| v.to_str().ok()) == Some("good-key");
    let query_ok = req.uri().query().is_some_and(|q| q.contains("api_key=good-key"));
    let status = if header_ok || query_ok { 200 } else { 401 };
    json_response(status, json!({}))
}

impl MockProvider {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State {
            revocation_status: 200,
            ..State::default()
        }));
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind the mock provider");
        let addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .expect("mock provider address");
        let app = Route::new()
            .at("/authorize", poem::get(authorize))
            .at("/app/done", poem::get(app_landing))
            .at("/token", poem::post(token))
            .at("/revoke", poem::post(revoke))
            .at("/verify", poem::get(verify).post(verify).head(verify))
            .at("/.well-known/openid-configuration", poem::get(discovery))
            .at("/jwks", poem::get(jwks))
            .at("/token-elsewhere", poem::post(token_elsewhere).get(token_elsewhere))
            .data(state.clone());
        tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
        Self {
            base_url: format!("http://{addr}"),
            reset_url: start_resetter().await,
            state,
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Queues replies for the next token requests (then the default applies).
    pub fn reply(&self, reply: TokenReply) {
        self.with(|s| s.replies.push_back(reply));
    }

    /// The reply once the queue is empty.
    pub fn default_reply(&self, reply: TokenReply) {
        self.with(|s| s.default_reply = Some(reply));
    }

    /// Refresh grants get new tokens (access and refresh) living `expires_in` seconds, whatever
    /// the reply queue holds.
    pub fn refresh_reply_issues(&self, expires_in: i64) {
        self.with(|s| s.refresh_expires_in = Some(expires_in));
    }

    /// Code exchanges issue a refresh token of their own (`mock-refresh-N`), lifetimes as the
    /// default reply says.
    pub fn issue_unique_refresh_tokens(&self) {
        self.with(|s| s.unique_refresh_tokens = true);
    }

    /// Require `client_secret_basic` instead of `client_secret_post`.
    pub fn require_basic_auth(&self) {
        self.with(|s| s.basic_auth = true);
    }

    pub fn set_discovery(&self, document: Value) {
        self.with(|s| s.discovery = Some(document));
    }

    pub fn fail_revocation(&self, status: u16) {
        self.with(|s| s.revocation_status = status);
    }

    /// Requests the verification endpoint received so far.
    pub fn verification_count(&self) -> u64 {
        self.with(|s| s.verifications)
    }

    /// Refresh-token grants received so far.
    pub fn refresh_count(&self) -> usize {
        self.with(|s| {
            s.requests
                .iter()
                .filter(|r| r.form.get("grant_type").map(String::as_str) == Some("refresh_token"))
                .count()
        })
    }

    pub fn token_requests(&self) -> Vec<TokenRequest> {
        self.with(|s| s.requests.clone())
    }

    /// Whether anyone followed the token endpoint's redirect.
    pub fn redirect_followed(&self) -> bool {
        self.with(|s| s.redirect_followed)
    }

    pub fn revocations(&self) -> Vec<BTreeMap<String, String>> {
        self.with(|s| s.revocations.clone())
    }
}
