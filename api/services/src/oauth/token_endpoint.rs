//! The provider's token endpoint: authorization-code exchange, refresh, and revocation
//! (RFC 6749, RFC 7009). Requests are form-encoded with `Accept: application/json`, and the
//! client authenticates as the provider is configured, on every call. Provider response bodies
//! are parsed, never echoed.

use super::http::{Outbound, OutboundError};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use nexus_domain::provider::TokenEndpointAuthMethod;
use nexus_domain::secret::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
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

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenEndpointError {
    /// The provider refused (a 4xx): `invalid_grant`, `invalid_client`, ... Not worth retrying.
    #[error("the provider rejected the request: {error}")]
    Rejected { error: String },
    /// The provider could not answer (5xx, timeout, network, malformed body). Worth retrying.
    #[error("the provider is unavailable: {reason}")]
    Unavailable { reason: String },
}

/// The client credentials used against one provider's token endpoint.
#[derive(Debug)]
pub struct ClientAuth<'a> {
    pub client_id: &'a str,
    pub client_secret: &'a SecretString,
    pub method: TokenEndpointAuthMethod,
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

    fn request(&self, url: &Url, auth: &ClientAuth<'_>, mut form: Vec<(&str, String)>) -> reqwest::RequestBuilder {
        let mut request = self
            .outbound
            .client()
            .post(url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        match auth.method {
            TokenEndpointAuthMethod::ClientSecretBasic => {
                // RFC 6749 section 2.3.1: both parts form-urlencoded before base64.
                let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
                let credentials = format!(
                    "{}:{}",
                    encode(auth.client_id),
                    encode(auth.client_secret.expose_secret())
                );
                let mut value =
                    reqwest::header::HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(credentials)))
                        .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static("Basic"));
                value.set_sensitive(true);
                request = request.header(reqwest::header::AUTHORIZATION, value);
            }
            TokenEndpointAuthMethod::ClientSecretPost => {
                form.push(("client_id", auth.client_id.to_owned()));
                form.push(("client_secret", auth.client_secret.expose_secret().to_owned()));
            }
        }
        request.form(&form)
    }

    async fn token_call(
        &self,
        url: &Url,
        auth: &ClientAuth<'_>,
        form: Vec<(&str, String)>,
    ) -> Result<TokenResponse, TokenEndpointError> {
        let (status, body) = self
            .outbound
            .send(self.request(url, auth, form))
            .await
            .map_err(|e| match e {
                OutboundError::Timeout => TokenEndpointError::Unavailable {
                    reason: "timeout".into(),
                },
                OutboundError::Transport(reason) => TokenEndpointError::Unavailable { reason },
            })?;
        let parsed: Option<Map<String, Value>> = serde_json::from_slice(&body).ok();
        if status.is_server_error() {
            return Err(TokenEndpointError::Unavailable {
                reason: format!("HTTP {}", status.as_u16()),
            });
        }
        if status.is_client_error() {
            let error = parsed
                .as_ref()
                .and_then(|fields| fields.get("error"))
                .and_then(Value::as_str)
                .map_or_else(|| format!("http_{}", status.as_u16()), sanitize_error_code);
            return Err(TokenEndpointError::Rejected { error });
        }
        if !status.is_success() {
            return Err(TokenEndpointError::Unavailable {
                reason: format!("unexpected HTTP {}", status.as_u16()),
            });
        }
        let fields = parsed.ok_or_else(|| TokenEndpointError::Unavailable {
            reason: "the token response is not a JSON object".into(),
        })?;
        // Some providers answer 200 with an error body.
        if let Some(error) = fields.get("error").and_then(Value::as_str) {
            return Err(TokenEndpointError::Rejected {
                error: sanitize_error_code(error),
            });
        }
        match fields.get("access_token") {
            Some(Value::String(token)) if !token.is_empty() => Ok(TokenResponse { fields }),
            _ => Err(TokenEndpointError::Unavailable {
                reason: "the token response has no access_token".into(),
            }),
        }
    }

    pub async fn exchange_code(
        &self,
        url: &Url,
        auth: &ClientAuth<'_>,
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
        self.token_call(url, auth, form).await
    }

    pub async fn refresh(
        &self,
        url: &Url,
        auth: &ClientAuth<'_>,
        refresh_token: &str,
    ) -> Result<TokenResponse, TokenEndpointError> {
        let form = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh_token.to_owned()),
        ];
        self.token_call(url, auth, form).await
    }

    /// RFC 7009 revocation. Success is any 2xx.
    pub async fn revoke(
        &self,
        url: &Url,
        auth: &ClientAuth<'_>,
        token: &str,
        hint: &str,
    ) -> Result<(), TokenEndpointError> {
        let form = vec![("token", token.to_owned()), ("token_type_hint", hint.to_owned())];
        let (status, _) = self
            .outbound
            .send(self.request(url, auth, form))
            .await
            .map_err(|e| TokenEndpointError::Unavailable { reason: e.to_string() })?;
        if status.is_success() {
            Ok(())
        } else if status.is_client_error() {
            Err(TokenEndpointError::Rejected {
                error: format!("http_{}", status.as_u16()),
            })
        } else {
            Err(TokenEndpointError::Unavailable {
                reason: format!("HTTP {}", status.as_u16()),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_error_codes_are_sanitized() {
        assert_eq!(sanitize_error_code("invalid_grant"), "invalid_grant");
        assert_eq!(sanitize_error_code("<script>"), "provider_error");
        assert_eq!(sanitize_error_code(&"a".repeat(65)), "provider_error");
    }
}
