//! Provider-shaped fakes on 127.0.0.1: an authorization endpoint that sends the user straight
//! back with a code, and a token endpoint that answers the way one family of real providers
//! does (RFC 6749, Slack, Salesforce, GitHub, Notion, tokens that never expire), recording every
//! request so a test can check what Nexus sent. Every path answers, whatever the host: a `GET`
//! is an authorization request, a `POST` a token request, so a template's URLs keep their paths
//! when only their scheme, host and port are moved to the fake.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::Data;
use poem::{EndpointExt, Request, Response, Route, Server, handler};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

pub const FAKE_CLIENT_ID: &str = "fake-client";
pub const FAKE_CLIENT_SECRET: &str = "fake-client-secret";

/// How a family of providers answers a token request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// RFC 6749: `expires_in` (a string on refreshes, as some providers send it), a rotating
    /// refresh token.
    Standard,
    /// Slack's `oauth.v2.access` with token rotation: `ok`, the bot token at the top level, the
    /// user token under `authed_user`; a refresh answers at the top level.
    Slack,
    /// Salesforce: `instance_url`, `issued_at` and `signature`, no `expires_in`.
    Salesforce,
    /// GitHub's OAuth apps: no `expires_in`, no refresh token, comma-joined scopes, and a code
    /// used twice answered with a form-encoded error and HTTP 200.
    GitHub,
    /// Notion: a JSON body with the client in HTTP Basic (anything else is refused), no expiry.
    Notion,
    /// A token without `expires_in` or a refresh token (monday.com, Intercom, Todoist).
    NoExpiry,
}

/// One token request as the fake received it.
#[derive(Debug, Clone)]
pub struct FakeTokenRequest {
    pub path: String,
    pub content_type: Option<String>,
    /// The body's fields, from a form or a JSON object.
    pub fields: BTreeMap<String, String>,
    /// Whether the body was JSON.
    pub json: bool,
    /// The client as HTTP Basic said, when it did.
    pub basic_client: Option<(String, String)>,
}

#[derive(Debug)]
struct FakeState {
    family: Family,
    authorizations: Vec<BTreeMap<String, String>>,
    token_requests: Vec<FakeTokenRequest>,
    codes_used: Vec<String>,
    issued: u64,
    /// Where Salesforce says the org lives.
    instance_url: String,
}

/// A running fake. Dropping it leaves the server task to end with the test.
#[derive(Debug, Clone)]
pub struct FakeProvider {
    pub base_url: String,
    pub family: Family,
    state: Arc<Mutex<FakeState>>,
}

fn json_response(status: u16, body: Value) -> Response {
    Response::builder()
        .status(poem::http::StatusCode::from_u16(status).unwrap_or(poem::http::StatusCode::INTERNAL_SERVER_ERROR))
        .content_type("application/json")
        .body(body.to_string())
}

/// `(client_id, client_secret)` from `Authorization: Basic`, percent-decoded (RFC 6749 2.3.1).
fn basic_client(req: &Request) -> Option<(String, String)> {
    let value = req.headers().get("authorization")?.to_str().ok()?;
    let decoded = STANDARD.decode(value.strip_prefix("Basic ")?).ok()?;
    let (id, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((decode(id), decode(secret)))
}

fn fields_of(body: &[u8]) -> (BTreeMap<String, String>, bool) {
    if let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) {
        let fields = object
            .into_iter()
            .map(|(key, value)| (key, value.as_str().map_or_else(|| value.to_string(), str::to_owned)))
            .collect();
        return (fields, true);
    }
    (url::form_urlencoded::parse(body).into_owned().collect(), false)
}

/// Any path: `GET` authorizes, `POST` answers a token request.
#[handler]
fn any(req: &Request, body: Vec<u8>, state: Data<&Arc<Mutex<FakeState>>>) -> Response {
    if req.method() == poem::http::Method::POST {
        token_answer(req, &body, state.0)
    } else {
        authorize_answer(req, state.0)
    }
}

fn authorize_answer(req: &Request, state: &Arc<Mutex<FakeState>>) -> Response {
    let query: BTreeMap<String, String> = url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    let mut state = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    state.authorizations.push(query.clone());
    let (Some(redirect_uri), Some(request_state)) = (query.get("redirect_uri"), query.get("state")) else {
        return json_response(400, json!({"error": "invalid_request"}));
    };
    let code = format!("fake-code-{}", state.authorizations.len());
    let mut back = url::Url::parse(redirect_uri).expect("redirect_uri is a URL");
    back.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", request_state);
    Response::builder()
        .status(poem::http::StatusCode::FOUND)
        .header("location", back.as_str())
        .finish()
}

fn token_answer(req: &Request, body: &[u8], state: &Arc<Mutex<FakeState>>) -> Response {
    let (fields, json) = fields_of(body);
    let request = FakeTokenRequest {
        path: req.uri().path().to_owned(),
        content_type: req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        fields: fields.clone(),
        json,
        basic_client: basic_client(req),
    };
    let mut state = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let family = state.family;
    let client = request
        .basic_client
        .clone()
        .or_else(|| Some((fields.get("client_id")?.clone(), fields.get("client_secret")?.clone())));
    state.token_requests.push(request.clone());
    let authenticated = client == Some((FAKE_CLIENT_ID.to_owned(), FAKE_CLIENT_SECRET.to_owned()));
    let notion_shaped = request.json && request.basic_client.is_some();
    if !authenticated || (family == Family::Notion && !notion_shaped) {
        return match family {
            Family::Slack => json_response(200, json!({"ok": false, "error": "invalid_client_id"})),
            _ => json_response(401, json!({"error": "invalid_client"})),
        };
    }
    state.issued += 1;
    let n = state.issued;
    let grant = fields.get("grant_type").map(String::as_str).unwrap_or_default();
    if grant == "authorization_code" {
        let code = fields.get("code").cloned().unwrap_or_default();
        if state.codes_used.contains(&code) {
            return match family {
                Family::GitHub => Response::builder()
                    .content_type("application/x-www-form-urlencoded; charset=utf-8")
                    .body("error=bad_verification_code&error_description=The+code+passed+is+incorrect+or+expired."),
                Family::Slack => json_response(200, json!({"ok": false, "error": "invalid_code"})),
                _ => json_response(400, json!({"error": "invalid_grant"})),
            };
        }
        state.codes_used.push(code);
    }
    let refresh = grant == "refresh_token";
    match family {
        Family::Standard => {
            // Refreshes say `expires_in` as a string, as a few providers do.
            let expires_in = if refresh { json!("3600") } else { json!(3600) };
            json_response(
                200,
                json!({"access_token": format!("std-access-{n}"), "token_type": "Bearer", "expires_in": expires_in,
                       "refresh_token": format!("std-refresh-{n}"), "scope": "read write"}),
            )
        }
        Family::Slack
            if refresh
                && fields
                    .get("refresh_token")
                    .is_some_and(|t| t.starts_with("xoxe-1-user-")) =>
        {
            json_response(
                200,
                json!({"ok": true, "access_token": format!("xoxp-refreshed-{n}"), "token_type": "user",
                       "refresh_token": format!("xoxe-1-user-{n}"), "expires_in": 43200, "scope": "search:read"}),
            )
        }
        Family::Slack if refresh => json_response(
            200,
            json!({"ok": true, "access_token": format!("xoxb-refreshed-{n}"), "token_type": "bot",
                   "refresh_token": format!("xoxe-1-{n}"), "expires_in": 43200, "scope": "channels:read,chat:write"}),
        ),
        Family::Slack => json_response(
            200,
            json!({"ok": true, "app_id": "A1", "access_token": format!("xoxb-{n}"), "token_type": "bot",
                   "refresh_token": format!("xoxe-1-bot-{n}"), "expires_in": 43200,
                   "scope": "channels:read,chat:write", "bot_user_id": "U0BOT",
                   "team": {"id": "T1", "name": "Acme"},
                   "authed_user": {"id": "U1", "scope": "channels:read,search:read", "access_token": format!("xoxp-{n}"),
                                   "token_type": "user", "refresh_token": format!("xoxe-1-user-{n}"), "expires_in": 43200}}),
        ),
        Family::Salesforce => {
            let mut body = json!({"access_token": format!("00D-sf-{n}"), "instance_url": state.instance_url,
                                  "id": "https://login.salesforce.com/id/00D/005", "token_type": "Bearer",
                                  "issued_at": "1733580000000", "signature": "c2ln", "scope": "api refresh_token"});
            if !refresh {
                body["refresh_token"] = json!(format!("5Aep-sf-{n}"));
            }
            json_response(200, body)
        }
        Family::GitHub => json_response(
            200,
            json!({"access_token": format!("gho_{n}"), "token_type": "bearer", "scope": "repo,read:user"}),
        ),
        Family::Notion => json_response(
            200,
            json!({"access_token": format!("ntn_{n}"), "token_type": "bearer", "bot_id": "b1",
                   "workspace_id": "w1", "workspace_name": "Acme", "owner": {"type": "user"}}),
        ),
        Family::NoExpiry => json_response(
            200,
            json!({"access_token": format!("forever-{n}"), "token_type": "Bearer", "scope": "me:read boards:read"}),
        ),
    }
}

impl FakeProvider {
    /// Starts a fake of `family`; Salesforce's `instance_url` is the fake's own `/sf` path until
    /// [`FakeProvider::set_instance_url`] says otherwise.
    pub async fn start(family: Family) -> Self {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind the fake provider");
        let port = acceptor
            .local_addr()
            .first()
            .and_then(|addr| addr.as_socket_addr().map(|a| a.port()))
            .expect("fake provider port");
        let base_url = format!("http://127.0.0.1:{port}");
        let state = Arc::new(Mutex::new(FakeState {
            family,
            authorizations: Vec::new(),
            token_requests: Vec::new(),
            codes_used: Vec::new(),
            issued: 0,
            instance_url: format!("{base_url}/sf"),
        }));
        let app = Route::new().at("/*path", any).data(state.clone());
        tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
        Self {
            base_url,
            family,
            state,
        }
    }

    /// Where Salesforce-shaped answers say the org lives.
    pub fn set_instance_url(&self, url: &str) {
        url.clone_into(&mut self.lock().instance_url);
    }

    /// The fake's port (a template's URLs are moved here, on whatever `localhost` name).
    pub fn port(&self) -> u16 {
        url::Url::parse(&self.base_url)
            .ok()
            .and_then(|url| url.port())
            .unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The query of every authorization request, in order.
    pub fn authorizations(&self) -> Vec<BTreeMap<String, String>> {
        self.lock().authorizations.clone()
    }

    /// Every token request, in order.
    pub fn token_requests(&self) -> Vec<FakeTokenRequest> {
        self.lock().token_requests.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
