//! A fake remote MCP server and its authorization server on one port, shaped by [`McpShape`]:
//! the 401 challenge, where the protected resource metadata and the authorization server
//! metadata are published (and what they say), Dynamic Client Registration, an authorization
//! endpoint that approves at once, a token endpoint that checks `resource`, and a protected
//! endpoint at `/mcp`. Every request is recorded.

use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::Data;
use poem::{EndpointExt, Request, Response, Route, Server, handler};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Where the protected resource metadata is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceMetadataAt {
    /// `/.well-known/oauth-protected-resource/mcp`.
    PathInserted,
    /// `/.well-known/oauth-protected-resource`.
    Root,
    /// Only where the challenge's `resource_metadata` says: `/custom/prm`.
    Custom,
    Nowhere,
}

/// Where the authorization server (issuer `{base}/auth`) publishes its metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerMetadataAt {
    /// RFC 8414: `/.well-known/oauth-authorization-server/auth`.
    OAuth,
    /// `/.well-known/openid-configuration/auth`.
    OpenIdInserted,
    /// `/auth/.well-known/openid-configuration`.
    OpenIdAppended,
}

#[derive(Debug, Clone)]
pub struct McpShape {
    /// The 401 carries `resource_metadata` (and `scope`, when `challenge_scope` is set).
    pub challenge_names_metadata: bool,
    pub challenge_scope: Option<String>,
    pub resource_metadata_at: ResourceMetadataAt,
    /// The resource the metadata names (`None`: the server's own `/mcp` URL).
    pub resource: Option<String>,
    pub scopes_supported: Vec<String>,
    pub server_metadata_at: ServerMetadataAt,
    /// The issuer the metadata echoes (`None`: the right one).
    pub echoed_issuer: Option<String>,
    pub code_challenge_methods: Vec<String>,
    pub iss_parameter: bool,
    /// A status every discovery document answers with instead (a failing server).
    pub metadata_status: Option<u16>,
    pub client_id_metadata_documents: bool,
    pub token_endpoint_auth_methods: Vec<String>,
    /// A status the registration endpoint answers with instead (401: an initial access token
    /// is required).
    pub registration_status: Option<u16>,
    /// `client_secret_expires_at` of each registration (0: never).
    pub secret_expires_at: i64,
    /// An OAuth error every token request gets instead (with HTTP 401), such as `invalid_client`.
    pub token_error: Option<String>,
    /// The `scope` every token answer grants (`None`: what was asked for).
    pub granted_scope: Option<String>,
    /// The initial access token registration requires (RFC 7591 §3; `None`: open).
    pub registration_token: Option<String>,
}

impl Default for McpShape {
    fn default() -> Self {
        Self {
            challenge_names_metadata: true,
            challenge_scope: None,
            resource_metadata_at: ResourceMetadataAt::PathInserted,
            resource: None,
            scopes_supported: vec!["mcp:read".into()],
            server_metadata_at: ServerMetadataAt::OAuth,
            echoed_issuer: None,
            code_challenge_methods: vec!["S256".into()],
            iss_parameter: true,
            metadata_status: None,
            client_id_metadata_documents: false,
            token_endpoint_auth_methods: vec!["client_secret_basic".into(), "client_secret_post".into(), "none".into()],
            registration_status: None,
            secret_expires_at: 0,
            token_error: None,
            granted_scope: None,
            registration_token: None,
        }
    }
}

#[derive(Debug, Default)]
struct McpState {
    shape: Option<McpShape>,
    base_url: String,
    requests: Vec<String>,
    registrations: Vec<Value>,
    authorizations: Vec<BTreeMap<String, String>>,
    token_requests: Vec<BTreeMap<String, String>>,
}

/// A running fake MCP server; clones share its state.
#[derive(Debug, Clone)]
pub struct FakeMcpServer {
    pub base_url: String,
    state: Arc<Mutex<McpState>>,
}

fn json_response(status: u16, body: &Value) -> Response {
    Response::builder()
        .status(poem::http::StatusCode::from_u16(status).unwrap_or(poem::http::StatusCode::INTERNAL_SERVER_ERROR))
        .content_type("application/json")
        .body(body.to_string())
}

fn not_found() -> Response {
    json_response(404, &json!({"error": "not_found"}))
}

/// The name under which a token request's HTTP Basic `client_id:client_secret` is recorded.
pub const BASIC_CLIENT: &str = "(basic)";

fn basic_credentials(req: &Request) -> Option<String> {
    use base64::Engine;
    let value = req.headers().get("authorization")?.to_str().ok()?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.strip_prefix("Basic ")?)
        .ok()?;
    String::from_utf8(decoded).ok()
}

#[handler]
fn any(req: &Request, body: Vec<u8>, state: Data<&Arc<Mutex<McpState>>>) -> Response {
    let mut state = state.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let path = req.uri().path().to_owned();
    state.requests.push(format!("{} {path}", req.method()));
    let shape = state.shape.clone().unwrap_or_default();
    let base = state.base_url.clone();
    let issuer = format!("{base}/auth");
    let prm_path = match shape.resource_metadata_at {
        ResourceMetadataAt::PathInserted => Some("/.well-known/oauth-protected-resource/mcp"),
        ResourceMetadataAt::Root => Some("/.well-known/oauth-protected-resource"),
        ResourceMetadataAt::Custom => Some("/custom/prm"),
        ResourceMetadataAt::Nowhere => None,
    };
    let as_path = match shape.server_metadata_at {
        ServerMetadataAt::OAuth => "/.well-known/oauth-authorization-server/auth",
        ServerMetadataAt::OpenIdInserted => "/.well-known/openid-configuration/auth",
        ServerMetadataAt::OpenIdAppended => "/auth/.well-known/openid-configuration",
    };
    if let Some(status) = shape.metadata_status
        && path.contains(".well-known")
    {
        return json_response(status, &json!({"error": "unavailable"}));
    }
    match path.as_str() {
        "/mcp" => {
            let authorized = req
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("Bearer mcp-access-"));
            if authorized {
                return json_response(200, &json!({"jsonrpc": "2.0", "id": 0, "result": {}}));
            }
            let mut challenge = String::from("Bearer");
            let mut params = Vec::new();
            if shape.challenge_names_metadata
                && let Some(prm) = prm_path
            {
                params.push(format!("resource_metadata=\"{base}{prm}\""));
            }
            if let Some(scope) = &shape.challenge_scope {
                params.push(format!("scope=\"{scope}\""));
            }
            if !params.is_empty() {
                challenge.push(' ');
                challenge.push_str(&params.join(", "));
            }
            Response::builder()
                .status(poem::http::StatusCode::UNAUTHORIZED)
                .header("www-authenticate", challenge)
                .finish()
        }
        p if Some(p) == prm_path => {
            // A custom location is only found through the challenge; the fake never lists it.
            json_response(
                200,
                &json!({
                    "resource": shape.resource.clone().unwrap_or_else(|| format!("{base}/mcp")),
                    "authorization_servers": [issuer],
                    "scopes_supported": shape.scopes_supported,
                }),
            )
        }
        p if p == as_path => json_response(
            200,
            &json!({
                "issuer": shape.echoed_issuer.clone().unwrap_or(issuer),
                "authorization_endpoint": format!("{base}/auth/authorize"),
                "token_endpoint": format!("{base}/auth/token"),
                "registration_endpoint": format!("{base}/auth/register"),
                "code_challenge_methods_supported": shape.code_challenge_methods,
                "token_endpoint_auth_methods_supported": shape.token_endpoint_auth_methods,
                "client_id_metadata_document_supported": shape.client_id_metadata_documents,
                "authorization_response_iss_parameter_supported": shape.iss_parameter,
                "response_types_supported": ["code"],
            }),
        ),
        "/auth/register" => {
            let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            state.registrations.push(request.clone());
            let presented = req.headers().get("authorization").and_then(|v| v.to_str().ok());
            if let Some(token) = &shape.registration_token
                && presented != Some(format!("Bearer {token}").as_str())
            {
                return json_response(401, &json!({"error": "invalid_token"}));
            }
            if let Some(status) = shape.registration_status {
                return json_response(
                    status,
                    &json!({"error": "invalid_client_metadata", "error_description": "refused by the fake"}),
                );
            }
            let number = state.registrations.len();
            let method = request["token_endpoint_auth_method"]
                .as_str()
                .unwrap_or("client_secret_basic")
                .to_owned();
            let mut answer = request;
            answer["client_id"] = json!(format!("mcp-client-{number}"));
            if method != "none" {
                answer["client_secret"] = json!(format!("mcp-secret-{number}"));
                answer["client_secret_expires_at"] = json!(shape.secret_expires_at);
            }
            json_response(201, &answer)
        }
        "/auth/authorize" => {
            let query: BTreeMap<String, String> =
                url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
                    .into_owned()
                    .collect();
            state.authorizations.push(query.clone());
            let (Some(redirect_uri), Some(request_state)) = (query.get("redirect_uri"), query.get("state")) else {
                return json_response(400, &json!({"error": "invalid_request"}));
            };
            let mut back = url::Url::parse(redirect_uri).expect("redirect_uri is a URL");
            back.query_pairs_mut()
                .append_pair("code", &format!("mcp-code-{}", state.authorizations.len()))
                .append_pair("state", request_state)
                .append_pair("iss", &format!("{base}/auth"));
            Response::builder()
                .status(poem::http::StatusCode::FOUND)
                .header("location", back.as_str())
                .finish()
        }
        "/auth/token" => {
            let mut fields: BTreeMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
            // The client's HTTP Basic credentials, decoded, under a name no form field has.
            if let Some(pair) = basic_credentials(req) {
                fields.insert(BASIC_CLIENT.to_owned(), pair);
            }
            state.token_requests.push(fields.clone());
            if let Some(error) = &shape.token_error {
                return json_response(401, &json!({"error": error}));
            }
            // A code is exchanged for the MCP server only; a refresh may leave `resource` out.
            let resource = fields.get("resource").map(String::as_str);
            let code_grant = fields.get("grant_type").map(String::as_str) == Some("authorization_code");
            if resource.is_some_and(|r| r != format!("{base}/mcp")) || (code_grant && resource.is_none()) {
                return json_response(400, &json!({"error": "invalid_target"}));
            }
            let number = state.token_requests.len();
            // What the last authorization asked for (a refresh keeps it), unless the shape grants less.
            let asked = state
                .authorizations
                .last()
                .and_then(|query| query.get("scope").cloned());
            let granted = shape.granted_scope.clone().or(asked).unwrap_or_default();
            json_response(
                200,
                &json!({
                    "access_token": format!("mcp-access-{number}"),
                    "token_type": "Bearer",
                    "expires_in": 3600,
                    "refresh_token": format!("mcp-refresh-{number}"),
                    "scope": granted,
                }),
            )
        }
        _ => not_found(),
    }
}

impl FakeMcpServer {
    pub async fn start(shape: McpShape) -> Self {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind the fake MCP server");
        let port = acceptor
            .local_addr()
            .first()
            .and_then(|addr| addr.as_socket_addr().map(|a| a.port()))
            .expect("fake MCP server port");
        let base_url = format!("http://127.0.0.1:{port}");
        let state = Arc::new(Mutex::new(McpState {
            shape: Some(shape),
            base_url: base_url.clone(),
            ..McpState::default()
        }));
        let app = Route::new().at("/*path", any).at("/", any).data(state.clone());
        tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
        Self { base_url, state }
    }

    /// The MCP endpoint, the server's canonical URL.
    pub fn mcp_url(&self) -> String {
        format!("{}/mcp", self.base_url)
    }

    pub fn issuer(&self) -> String {
        format!("{}/auth", self.base_url)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, McpState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `METHOD /path` of every request, in order.
    pub fn requests(&self) -> Vec<String> {
        self.lock().requests.clone()
    }

    pub fn registrations(&self) -> Vec<Value> {
        self.lock().registrations.clone()
    }

    pub fn authorizations(&self) -> Vec<BTreeMap<String, String>> {
        self.lock().authorizations.clone()
    }

    pub fn token_requests(&self) -> Vec<BTreeMap<String, String>> {
        self.lock().token_requests.clone()
    }

    /// Changes the shape (the next requests see it).
    pub fn reshape(&self, shape: McpShape) {
        self.lock().shape = Some(shape);
    }
}
