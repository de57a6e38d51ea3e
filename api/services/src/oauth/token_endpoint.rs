//! The provider's token endpoint: authorization-code exchange, refresh, and revocation
//! (RFC 6749, RFC 7009). Requests are form-encoded (or JSON, where the provider wants it) with
//! `Accept: application/json`, and the client authenticates as the provider is configured, on
//! every call. Provider response bodies are parsed (JSON, or a form-encoded body as GitHub may
//! send), never echoed; Slack's envelope (`ok`, `authed_user`) is unwrapped here. Every failure
//! is classified by whose doing it is: the user's (the grant is gone), the operator's (the
//! provider registration is wrong), or nobody's (transient).

use super::http::{Outbound, OutboundError};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use nexus_domain::provider::{OAuthSettings, TokenEndpointAuthMethod};
use nexus_domain::secret::{ExposeSecret, SecretString};
use nexus_domain::token_request::{TokenRequestFormat, TokenResponseShape};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;
use url::Url;

/// A successful token response, kept whole (it is stored encrypted as it came).
#[derive(Clone)]
pub struct TokenResponse {
    pub fields: Map<String, Value>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl TokenResponse {
    pub fn str(&self, field: &str) -> Option<&str> {
        self.fields.get(field).and_then(Value::as_str)
    }

    /// `expires_in` in seconds, as a number or a numeric string.
    pub fn expires_in(&self) -> Option<i64> {
        match self.fields.get("expires_in")? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum TokenEndpointError {
    /// `invalid_grant`: the grant itself is gone (revoked, expired, unknown, consent withdrawn).
    /// Only the user can fix it, by consenting again.
    #[error("the provider says the grant is gone: {error}")]
    GrantRevoked { error: String },
    /// The provider refused Nexus itself (`invalid_client`, `unauthorized_client`, a bare 401,
    /// any other OAuth error about the request): the operator must fix the provider.
    #[error("the provider refused the client: {error}")]
    Misconfigured { error: String },
    /// The provider could not answer now (429, 5xx, `temporarily_unavailable`, timeout, reset,
    /// malformed body). Worth retrying, not before `retry_after` when the provider said so.
    #[error("the provider is unavailable: {reason}")]
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
}

impl TokenEndpointError {
    /// A short code for audit events and metric labels (bounded: never provider text).
    pub fn code(&self) -> &str {
        match self {
            Self::GrantRevoked { error } | Self::Misconfigured { error } => error,
            Self::Transient { .. } => "upstream_unavailable",
        }
    }

    fn transient(reason: impl Into<String>) -> Self {
        Self::Transient {
            reason: reason.into(),
            retry_after: None,
        }
    }
}

/// Classifies an OAuth `error` code (RFC 6749 section 5.2) by whose doing it is.
fn classify_error_code(code: &str) -> TokenEndpointError {
    match code {
        // GitHub answers a dead refresh token with `bad_refresh_token`, an old code with
        // `bad_verification_code`; Slack says `invalid_refresh_token`, `token_revoked`,
        // `token_expired`, `invalid_code` or `code_already_used`.
        "invalid_grant"
        | "bad_refresh_token"
        | "bad_verification_code"
        | "invalid_refresh_token"
        | "token_revoked"
        | "token_expired"
        | "invalid_code"
        | "code_already_used" => TokenEndpointError::GrantRevoked { error: code.to_owned() },
        // Slack's own words for "not now".
        "temporarily_unavailable"
        | "server_error"
        | "slow_down"
        | "ratelimited"
        | "internal_error"
        | "service_unavailable"
        | "fatal_error"
        | "request_timeout" => TokenEndpointError::transient(code),
        _ => TokenEndpointError::Misconfigured { error: code.to_owned() },
    }
}

/// A response body as fields: a JSON object, or a form-encoded body (GitHub without JSON, and
/// some older providers) when it holds `access_token` or `error`.
fn parse_body(body: &[u8]) -> Option<Map<String, Value>> {
    if let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) {
        return Some(fields);
    }
    let text = std::str::from_utf8(body).ok()?.trim();
    let fields: Map<String, Value> = url::form_urlencoded::parse(text.as_bytes())
        .map(|(key, value)| (key.into_owned(), Value::String(value.into_owned())))
        .collect();
    (fields.contains_key("access_token") || fields.contains_key("error")).then_some(fields)
}

/// Slack's answer as a token response: `ok: false` is an error whatever the status, and the
/// user token (under `authed_user`) replaces the bot token when the provider keeps user tokens.
/// A code exchange that gives no user token to a provider keeping user tokens is refused (the
/// app asked for no user scopes): the bot token is never stored in its place. A refresh of a
/// user token answers at the top level. Slack's `token_type` (`bot`, `user`) is a bearer's.
fn unwrap_slack(
    mut fields: Map<String, Value>,
    shape: TokenResponseShape,
    refresh: bool,
) -> Result<Map<String, Value>, TokenEndpointError> {
    if fields.get("ok") == Some(&Value::Bool(false)) {
        let code = fields
            .get("error")
            .and_then(Value::as_str)
            .map_or_else(|| "provider_error".to_owned(), sanitize_error_code);
        return Err(classify_error_code(&code));
    }
    if shape == TokenResponseShape::SlackUser {
        match fields.remove("authed_user") {
            Some(Value::Object(user)) if user.get("access_token").is_some() => {
                for token_field in ["access_token", "refresh_token", "expires_in", "scope", "token_type"] {
                    fields.remove(token_field);
                }
                fields.extend(user);
            }
            _ if !refresh => {
                return Err(TokenEndpointError::Misconfigured {
                    error: "slack_user_token_missing".to_owned(),
                });
            }
            _ => {}
        }
    }
    fields.insert("token_type".to_owned(), Value::String("Bearer".to_owned()));
    Ok(fields)
}

/// `Retry-After` as delay-seconds or an HTTP date (RFC 9110 section 10.2.3), capped at a day.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    let delay = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => httpdate::parse_http_date(value)
            .ok()?
            .duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    };
    Some(delay.min(Duration::from_secs(86_400)))
}

/// How a client authenticates at a token endpoint (RFC 6749 §2.3.1, RFC 8414's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuthentication {
    ClientSecretBasic,
    ClientSecretPost,
    /// A public client (a metadata document, or a registration without a secret): its
    /// `client_id` in the body, PKCE for proof.
    None,
}

impl ClientAuthentication {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::None => "none",
        }
    }

    /// The first of `candidates` an authorization server lists among the methods it supports.
    pub fn first_supported(candidates: &[Self], supported: &[String]) -> Option<Self> {
        candidates
            .iter()
            .copied()
            .find(|method| supported.iter().any(|s| s == method.as_str()))
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "client_secret_basic" => Some(Self::ClientSecretBasic),
            "client_secret_post" => Some(Self::ClientSecretPost),
            "none" => Some(Self::None),
            _ => None,
        }
    }
}

impl From<TokenEndpointAuthMethod> for ClientAuthentication {
    fn from(method: TokenEndpointAuthMethod) -> Self {
        match method {
            TokenEndpointAuthMethod::ClientSecretBasic => Self::ClientSecretBasic,
            TokenEndpointAuthMethod::ClientSecretPost => Self::ClientSecretPost,
        }
    }
}

/// The client credentials used against one provider's token endpoint.
#[derive(Debug)]
pub struct ClientAuth<'a> {
    pub client_id: &'a str,
    /// `None` only for a public client (`ClientAuthentication::None`).
    pub client_secret: Option<&'a SecretString>,
    pub method: ClientAuthentication,
}

impl ClientAuth<'_> {
    /// A confidential method needs its secret: without it nothing is sent (never an empty one).
    fn check(&self) -> Result<(), TokenEndpointError> {
        if self.method != ClientAuthentication::None && self.client_secret.is_none() {
            return Err(TokenEndpointError::Misconfigured {
                error: "client_secret_missing".to_owned(),
            });
        }
        Ok(())
    }
}

/// How one provider's token endpoint is spoken to: its body format, the shape of its answers,
/// and the extra parameters (already filled for the connection) this call adds.
#[derive(Debug, Clone, Copy)]
pub struct TokenDialect<'a> {
    pub format: TokenRequestFormat,
    pub response: TokenResponseShape,
    pub extra_params: &'a BTreeMap<String, String>,
    /// A refresh (Slack answers one at the top level), not a code exchange.
    pub refresh: bool,
    /// The resource indicator (RFC 8707) the token is for: an MCP server's URL.
    pub resource: Option<&'a str>,
}

impl<'a> TokenDialect<'a> {
    /// The authorization-code exchange of a provider whose settings are filled for the connection.
    pub fn exchange(oauth: &'a OAuthSettings) -> Self {
        Self {
            format: oauth.token_request_format,
            response: oauth.token_response,
            extra_params: &oauth.token_params,
            refresh: false,
            resource: None,
        }
    }

    /// The same request for `resource` (RFC 8707).
    pub fn for_resource(self, resource: Option<&'a str>) -> Self {
        Self { resource, ..self }
    }

    /// A refresh, with the provider's refresh parameters.
    pub fn refresh(oauth: &'a OAuthSettings) -> Self {
        Self {
            extra_params: &oauth.refresh_params,
            refresh: true,
            ..Self::exchange(oauth)
        }
    }
}

#[derive(Debug, Clone)]
pub struct TokenEndpoint {
    outbound: Outbound,
}

/// A short, safe error code from a provider's `error` field (never its description).
pub fn sanitize_error_code(raw: &str) -> String {
    let ok = !raw.is_empty() && raw.len() <= 64 && raw.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    if ok {
        raw.to_owned()
    } else {
        "provider_error".to_owned()
    }
}

impl TokenEndpoint {
    pub fn new(outbound: Outbound) -> Self {
        Self { outbound }
    }

    fn request(
        &self,
        url: &Url,
        auth: &ClientAuth<'_>,
        format: TokenRequestFormat,
        mut form: Vec<(&str, String)>,
    ) -> reqwest::RequestBuilder {
        let mut request = self
            .outbound
            .client()
            .post(url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        // `check` refused a confidential method without its secret before this.
        let secret = auth
            .client_secret
            .map(|s| s.expose_secret().to_owned())
            .unwrap_or_default();
        match auth.method {
            ClientAuthentication::ClientSecretBasic => {
                // RFC 6749 section 2.3.1: both parts form-urlencoded before base64.
                let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
                let credentials = format!("{}:{}", encode(auth.client_id), encode(&secret));
                let mut value =
                    reqwest::header::HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(credentials)))
                        .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static("Basic"));
                value.set_sensitive(true);
                request = request.header(reqwest::header::AUTHORIZATION, value);
            }
            ClientAuthentication::ClientSecretPost => {
                form.push(("client_id", auth.client_id.to_owned()));
                form.push(("client_secret", secret));
            }
            ClientAuthentication::None => form.push(("client_id", auth.client_id.to_owned())),
        }
        match format {
            TokenRequestFormat::Form => request.form(&form),
            TokenRequestFormat::Json => {
                let body: Map<String, Value> = form
                    .into_iter()
                    .map(|(key, value)| (key.to_owned(), Value::String(value)))
                    .collect();
                request.json(&body)
            }
        }
    }

    async fn token_call(
        &self,
        url: &Url,
        auth: &ClientAuth<'_>,
        dialect: TokenDialect<'_>,
        mut form: Vec<(&str, String)>,
    ) -> Result<TokenResponse, TokenEndpointError> {
        form.extend(
            dialect
                .extra_params
                .iter()
                .map(|(key, value)| (key.as_str(), value.clone())),
        );
        if let Some(resource) = dialect.resource {
            form.push(("resource", resource.to_owned()));
        }
        auth.check()?;
        let answer = self
            .outbound
            .send(self.request(url, auth, dialect.format, form))
            .await
            .map_err(|e| match e {
                OutboundError::Timeout => TokenEndpointError::transient("timeout"),
                OutboundError::Transport(reason) => TokenEndpointError::transient(reason),
            })?;
        let status = answer.status;
        let parsed = parse_body(&answer.body);
        let error_code = parsed
            .as_ref()
            .and_then(|fields| fields.get("error"))
            .and_then(Value::as_str)
            .map(sanitize_error_code);
        let http = |status: reqwest::StatusCode| format!("http_{}", status.as_u16());
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS
            || status == reqwest::StatusCode::REQUEST_TIMEOUT
            || status.is_server_error()
        {
            return Err(TokenEndpointError::Transient {
                reason: http(status),
                retry_after: retry_after(&answer.headers),
            });
        }
        if status.is_client_error() {
            // An OAuth error says whose doing it is; a bare 4xx (401 without a body, 404 from a
            // wrong URL) is a registration to fix, never the user's withdrawal.
            return Err(match error_code {
                Some(code) => match classify_error_code(&code) {
                    TokenEndpointError::Transient { reason, .. } => TokenEndpointError::Transient {
                        reason,
                        retry_after: retry_after(&answer.headers),
                    },
                    other => other,
                },
                None => TokenEndpointError::Misconfigured { error: http(status) },
            });
        }
        if !status.is_success() {
            // A redirect (never followed) or an informational status: the URL is wrong.
            return Err(TokenEndpointError::Misconfigured { error: http(status) });
        }
        let mut fields =
            parsed.ok_or_else(|| TokenEndpointError::transient("the token response is not a JSON object"))?;
        if dialect.response.is_slack() {
            fields = unwrap_slack(fields, dialect.response, dialect.refresh)?;
        }
        // Some providers answer 200 with an error body (GitHub, form-encoded or JSON).
        if let Some(code) = error_code {
            return Err(classify_error_code(&code));
        }
        match fields.get("access_token") {
            Some(Value::String(token)) if !token.is_empty() => Ok(TokenResponse { fields }),
            _ => Err(TokenEndpointError::transient("the token response has no access_token")),
        }
    }

    pub async fn exchange_code(
        &self,
        url: &Url,
        auth: &ClientAuth<'_>,
        dialect: TokenDialect<'_>,
        code: &str,
        redirect_uri: &Url,
        code_verifier: Option<&SecretString>,
    ) -> Result<TokenResponse, TokenEndpointError> {
        let mut form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("redirect_uri", redirect_uri.to_string()),
        ];
        if let Some(verifier) = code_verifier {
            form.push(("code_verifier", verifier.expose_secret().to_owned()));
        }
        self.token_call(url, auth, dialect, form).await
    }

    pub async fn refresh(
        &self,
        url: &Url,
        auth: &ClientAuth<'_>,
        dialect: TokenDialect<'_>,
        refresh_token: &str,
    ) -> Result<TokenResponse, TokenEndpointError> {
        let form = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh_token.to_owned()),
        ];
        self.token_call(url, auth, dialect, form).await
    }

    /// RFC 7009 revocation. Success is any 2xx.
    pub async fn revoke(
        &self,
        url: &Url,
        auth: &ClientAuth<'_>,
        token: &str,
        hint: &str,
    ) -> Result<(), TokenEndpointError> {
        auth.check()?;
        let form = vec![("token", token.to_owned()), ("token_type_hint", hint.to_owned())];
        let status = self
            .outbound
            .send(self.request(url, auth, TokenRequestFormat::Form, form))
            .await
            .map_err(|e| TokenEndpointError::transient(e.to_string()))?
            .status;
        if status.is_success() {
            Ok(())
        } else if status.is_client_error() {
            Err(TokenEndpointError::Misconfigured {
                error: format!("http_{}", status.as_u16()),
            })
        } else {
            Err(TokenEndpointError::transient(format!("http_{}", status.as_u16())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_invalid_grant_is_the_users_doing() {
        assert!(matches!(
            classify_error_code("invalid_grant"),
            TokenEndpointError::GrantRevoked { .. }
        ));
        assert!(matches!(
            classify_error_code("invalid_client"),
            TokenEndpointError::Misconfigured { .. }
        ));
        assert!(matches!(
            classify_error_code("unauthorized_client"),
            TokenEndpointError::Misconfigured { .. }
        ));
        assert!(matches!(
            classify_error_code("temporarily_unavailable"),
            TokenEndpointError::Transient { .. }
        ));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::RETRY_AFTER, "7".parse().expect("header"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        let later = std::time::SystemTime::now() + Duration::from_secs(120);
        headers.insert(
            reqwest::header::RETRY_AFTER,
            httpdate::fmt_http_date(later).parse().expect("header"),
        );
        let delay = retry_after(&headers).expect("a date parses");
        assert!(
            delay > Duration::from_secs(110) && delay <= Duration::from_secs(120),
            "{delay:?}"
        );
        headers.insert(reqwest::header::RETRY_AFTER, "soon".parse().expect("header"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn slack_envelopes_and_form_bodies_are_read() {
        let body = br#"{"ok": true, "access_token": "xoxb-1", "token_type": "bot", "scope": "chat:write",
            "authed_user": {"id": "U1", "access_token": "xoxp-1", "token_type": "user", "scope": "search:read"}}"#;
        let fields = parse_body(body).expect("json");
        let bot = unwrap_slack(fields.clone(), TokenResponseShape::SlackBot, false).expect("bot");
        assert_eq!(bot["access_token"], "xoxb-1");
        assert_eq!(bot["token_type"], "Bearer");
        let user = unwrap_slack(fields, TokenResponseShape::SlackUser, false).expect("user");
        assert_eq!(
            (user["access_token"].as_str(), user["scope"].as_str()),
            (Some("xoxp-1"), Some("search:read"))
        );
        let refused = parse_body(br#"{"ok": false, "error": "invalid_refresh_token"}"#).expect("json");
        assert!(matches!(
            unwrap_slack(refused, TokenResponseShape::SlackBot, true),
            Err(TokenEndpointError::GrantRevoked { .. })
        ));
        // A code exchange without a user token never stores the bot's in its place.
        let bot_only =
            parse_body(br#"{"ok": true, "access_token": "xoxb-2", "authed_user": {"id": "U1"}}"#).expect("json");
        assert!(matches!(
            unwrap_slack(bot_only.clone(), TokenResponseShape::SlackUser, false),
            Err(TokenEndpointError::Misconfigured { .. })
        ));
        let user_refresh = unwrap_slack(bot_only, TokenResponseShape::SlackUser, true).expect("a refresh");
        assert_eq!(user_refresh["access_token"], "xoxb-2");
        let github = parse_body(b"error=bad_verification_code&error_description=The+code+is+wrong").expect("form");
        assert_eq!(github["error"], "bad_verification_code");
        assert!(parse_body(b"<html>busy</html>").is_none());
    }

    #[test]
    fn provider_error_codes_are_sanitized() {
        assert_eq!(sanitize_error_code("invalid_grant"), "invalid_grant");
        assert_eq!(sanitize_error_code("<script>"), "provider_error");
        assert_eq!(sanitize_error_code(&"a".repeat(65)), "provider_error");
    }
}
