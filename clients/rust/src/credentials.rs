//! Credentials through the Gateway, cached, and a reqwest wrapper that applies them.
//!
//! [`Credentials`] resolves a [`Target`] to an envelope and keeps it until it is within `skew` of
//! `expires_at` (an envelope without expiry, an API key, is kept `static_max_age`, so a revoked
//! connection is noticed). Concurrent misses for one target make one Gateway call.
//! [`CredentialClient`] applies the credential to each request and, when the provider answers
//! 401 to an OAuth2 token, forces one refresh (`POST /v1/refresh/{id}`) and retries once. It
//! sends only to the envelope's `api_origins` (narrowed further with
//! [`CredentialClient::with_origins`]) and follows redirects itself ([`crate::send`]): the
//! credential never crosses to another origin. Errors
//! are [`SdkError`]: the Gateway's own (`attention_required` carries the connection id to send
//! the user back to), an unreachable Gateway, or the credential's (see [`InjectError`]).
//!
//! A read may name the scopes its calls need ([`Credentials::get_scoped`],
//! [`CredentialClient::with_scopes`]): a connection without them is
//! [`SdkError::InsufficientScope`], and [`Credentials::request_scopes`] starts the incremental
//! consent that adds them under the same connection id.

use crate::gateway::{Client, types};
use crate::inject::{InjectError, envelope_from_json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What to resolve.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// The workspace's newest active connection to the provider.
    Resolve { workspace_id: String, provider: String },
    /// One connection.
    Connection(uuid::Uuid),
}

/// The connection lacks scopes a read named: start an incremental consent of `connection_id`
/// for `missing_scopes` with [`Credentials::request_scopes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingScopes {
    pub connection_id: uuid::Uuid,
    pub missing_scopes: Vec<String>,
    pub message: String,
    pub request_id: String,
}

/// Why a credential could not be had or applied. Never holds a key or a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdkError {
    /// The Gateway's answer: its stable code, message and request id, and what it is about.
    #[error("{code}: {message} (request {request_id})")]
    Nexus {
        status: u16,
        code: String,
        message: String,
        request_id: String,
        field: Option<String>,
        connection_id: Option<uuid::Uuid>,
    },
    /// `insufficient_scope`: the connection lacks scopes the read named.
    #[error("insufficient_scope: {} (request {})", .0.message, .0.request_id)]
    InsufficientScope(MissingScopes),
    #[error("gateway_unreachable: the Gateway could not be reached")]
    GatewayUnreachable,
    #[error("api_unreachable: the API the request is for could not be reached")]
    ApiUnreachable,
    #[error("unexpected_response: the Gateway answered HTTP {0} without a Nexus error body")]
    UnexpectedResponse(u16),
    #[error("unexpected_response: the Gateway answered with a body that is not JSON")]
    NotJson,
    #[error(transparent)]
    Credential(#[from] InjectError),
    #[error("request_not_retryable: the request's body cannot be sent twice")]
    NotRetryable,
    #[error("too_many_redirects: the API redirected more than 10 times")]
    TooManyRedirects,
}

impl SdkError {
    /// The stable code (the Gateway's, or the SDK's own).
    pub fn code(&self) -> &str {
        match self {
            Self::Nexus { code, .. } => code,
            Self::InsufficientScope(_) => "insufficient_scope",
            Self::GatewayUnreachable => "gateway_unreachable",
            Self::ApiUnreachable => "api_unreachable",
            Self::UnexpectedResponse(_) | Self::NotJson => "unexpected_response",
            Self::Credential(error) => error.code(),
            Self::NotRetryable => "request_not_retryable",
            Self::TooManyRedirects => "too_many_redirects",
        }
    }
}

/// A Gateway error body as the SDK's error (`insufficient_scope` with what is missing).
fn from_error_body(status: u16, body: types::Error) -> SdkError {
    if let ("insufficient_scope", Some(connection_id)) = (body.code.as_str(), body.connection_id) {
        return SdkError::InsufficientScope(MissingScopes {
            connection_id,
            missing_scopes: body.missing_scopes,
            message: body.message,
            request_id: body.request_id,
        });
    }
    SdkError::Nexus {
        status,
        code: body.code,
        message: body.message,
        request_id: body.request_id,
        field: body.field,
        connection_id: body.connection_id,
    }
}

fn from_gateway(error: progenitor_client::Error<types::Error>) -> SdkError {
    match error {
        progenitor_client::Error::ErrorResponse(response) => {
            let status = response.status().as_u16();
            from_error_body(status, response.into_inner())
        }
        // A body that does not parse: not JSON at all (a proxy's error page), a strategy from a
        // newer server, or a malformed envelope.
        progenitor_client::Error::InvalidResponsePayload(bytes, _) => {
            match serde_json::from_slice::<serde_json::Value>(&bytes) {
                Ok(value) => match envelope_from_json(&value) {
                    Err(error) => SdkError::Credential(error),
                    Ok(_) => SdkError::Credential(InjectError::MalformedEnvelope),
                },
                Err(_) => SdkError::NotJson,
            }
        }
        progenitor_client::Error::UnexpectedResponse(response) => {
            SdkError::UnexpectedResponse(response.status().as_u16())
        }
        _ => SdkError::GatewayUnreachable,
    }
}

struct Entry {
    envelope: types::CredentialEnvelope,
    fresh_until: chrono::DateTime<chrono::Utc>,
}

/// A target and the scopes its reads name (comma-separated, as the Gateway takes them).
type Key = (Target, String);

fn key_of(target: &Target, scopes: &[&str]) -> Key {
    (target.clone(), scopes.join(","))
}

/// Resolves and caches credential envelopes through the Gateway.
pub struct Credentials {
    gateway: Client,
    skew: chrono::TimeDelta,
    static_max_age: chrono::TimeDelta,
    entries: Mutex<HashMap<Key, Entry>>,
    /// One lock per target: concurrent misses wait for the first one's answer.
    loading: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<()>>>>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("skew", &self.skew)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Over a Gateway client (`crate::gateway_client` with the agent key): a 60 s skew, and
    /// credentials without expiry kept 60 s.
    pub fn new(gateway: Client) -> Self {
        Self::with_timing(gateway, Duration::from_secs(60), Duration::from_secs(60))
    }

    pub fn with_timing(gateway: Client, skew: Duration, static_max_age: Duration) -> Self {
        let delta = |d: Duration| chrono::TimeDelta::from_std(d).unwrap_or(chrono::TimeDelta::MAX);
        Self {
            gateway,
            skew: delta(skew),
            static_max_age: delta(static_max_age),
            entries: Mutex::new(HashMap::new()),
            loading: Mutex::new(HashMap::new()),
        }
    }

    fn fresh(&self, target: &Key) -> Option<types::CredentialEnvelope> {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries
            .get(target)
            .filter(|entry| entry.fresh_until > chrono::Utc::now())
            .map(|entry| entry.envelope.clone())
    }

    fn keep(&self, target: &Key, envelope: types::CredentialEnvelope) -> types::CredentialEnvelope {
        let fresh_until = match envelope.expires_at {
            Some(expires_at) => expires_at - self.skew,
            None => chrono::Utc::now() + self.static_max_age,
        };
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(
                target.clone(),
                Entry {
                    envelope: envelope.clone(),
                    fresh_until,
                },
            );
        envelope
    }

    fn lock_for(&self, target: &Key) -> Arc<tokio::sync::Mutex<()>> {
        self.loading
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(target.clone())
            .or_default()
            .clone()
    }

    /// The target's credential, from the cache while it is fresh.
    pub async fn get(&self, target: &Target) -> Result<types::CredentialEnvelope, SdkError> {
        self.get_scoped(target, &[]).await
    }

    /// The target's credential if its connection was granted every one of `scopes`;
    /// [`SdkError::InsufficientScope`] names those it lacks.
    pub async fn get_scoped(&self, target: &Target, scopes: &[&str]) -> Result<types::CredentialEnvelope, SdkError> {
        let key = key_of(target, scopes);
        if let Some(envelope) = self.fresh(&key) {
            return Ok(envelope);
        }
        let lock = self.lock_for(&key);
        let _loading = lock.lock().await;
        if let Some(envelope) = self.fresh(&key) {
            return Ok(envelope);
        }
        let named = (!scopes.is_empty()).then(|| key.1.clone());
        let envelope = match target {
            Target::Resolve { workspace_id, provider } => {
                let mut call = self
                    .gateway
                    .token_resolve()
                    .workspace_id(workspace_id.as_str())
                    .provider(provider.as_str());
                if let Some(scopes) = named {
                    call = call.scopes(scopes);
                }
                call.send().await.map_err(from_gateway)?.into_inner()
            }
            Target::Connection(id) => {
                let mut call = self.gateway.token_get().connection_id(id.to_string());
                if let Some(scopes) = named {
                    call = call.scopes(scopes);
                }
                call.send().await.map_err(from_gateway)?.into_inner()
            }
        };
        Ok(self.keep(&key, envelope))
    }

    /// Starts the incremental consent `missing` calls for: the same connection, asking for its
    /// missing scopes on top of its grant. Send the user to the answer's `auth_url`; until they
    /// finish, the connection keeps serving its old grant.
    pub async fn request_scopes(
        &self,
        missing: &MissingScopes,
        workspace_id: &str,
        provider: &str,
        return_url: &str,
    ) -> Result<types::ConnectionRequested, SdkError> {
        let refused = |field: &str| SdkError::Nexus {
            status: 400,
            code: "invalid_request".to_owned(),
            message: format!("{field} is not valid for a connection request"),
            request_id: String::new(),
            field: Some(field.to_owned()),
            connection_id: Some(missing.connection_id),
        };
        let scopes = missing
            .missing_scopes
            .iter()
            .map(|scope| scope.parse().map_err(|_| refused("scopes")))
            .collect::<Result<Vec<types::ConnectionRequestScopesItem>, SdkError>>()?;
        let body = types::ConnectionRequest {
            connection_id: Some(missing.connection_id),
            connection_params: Default::default(),
            provider: provider.parse().map_err(|_| refused("provider"))?,
            return_url: return_url.parse().map_err(|_| refused("return_url"))?,
            scopes,
            workspace_id: workspace_id.parse().map_err(|_| refused("workspace_id"))?,
        };
        Ok(self
            .gateway
            .connection_request()
            .body(body)
            .send()
            .await
            .map_err(from_gateway)?
            .into_inner())
    }

    /// A forced refresh of `stale` (unless another caller already replaced it).
    pub async fn refresh(
        &self,
        target: &Target,
        stale: &types::CredentialEnvelope,
    ) -> Result<types::CredentialEnvelope, SdkError> {
        self.refresh_scoped(target, &[], stale).await
    }

    async fn refresh_scoped(
        &self,
        target: &Target,
        scopes: &[&str],
        stale: &types::CredentialEnvelope,
    ) -> Result<types::CredentialEnvelope, SdkError> {
        let key = key_of(target, scopes);
        let lock = self.lock_for(&key);
        let _loading = lock.lock().await;
        if let Some(current) = self.fresh(&key).filter(|current| current != stale) {
            return Ok(current);
        }
        let envelope = self
            .gateway
            .token_refresh()
            .connection_id(stale.connection_id.to_string())
            .send()
            .await
            .map_err(from_gateway)?
            .into_inner();
        Ok(self.keep(&key, envelope))
    }
}

/// A reqwest client that sends each request with a target's credential applied, only to the
/// origins the credential may go to.
#[derive(Debug, Clone)]
pub struct CredentialClient {
    http: reqwest::Client,
    credentials: Arc<Credentials>,
    target: Target,
    scopes: Vec<String>,
    origins: Option<Vec<String>>,
    /// Send through the Gateway's proxy: the credential never reaches this process.
    proxy: bool,
}

impl CredentialClient {
    /// Over a client built from `http` (timeouts, TLS, a proxy: the caller's), which is made to
    /// follow no redirect itself: this client follows them, and keeps the credential in its
    /// origin.
    pub fn new(
        http: reqwest::ClientBuilder,
        credentials: Arc<Credentials>,
        target: Target,
    ) -> Result<Self, crate::ClientBuildError> {
        Ok(Self {
            http: crate::send::no_redirects(http).build()?,
            credentials,
            target,
            scopes: Vec::new(),
            origins: None,
            proxy: false,
        })
    }

    /// Sends every request through the Gateway's proxy (`/v1/proxy`): Nexus applies the
    /// credential and forwards the request, so this process never holds it (the only mode a
    /// `proxy_only` agent key allows). Redirects come back as they are; a refresh on a
    /// provider's 401 happens in Nexus.
    pub fn through_proxy(mut self) -> Self {
        self.proxy = true;
        self
    }

    /// Reads only a credential granted every one of `scopes` (else
    /// [`SdkError::InsufficientScope`]).
    pub fn with_scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = scopes.iter().map(|scope| (*scope).to_owned()).collect();
        self
    }

    /// Sends only to these origins (patterns as in the envelope's `api_origins`) among those
    /// the credential may go to: a narrowing, never a widening.
    pub fn with_origins(mut self, origins: &[&str]) -> Self {
        self.origins = Some(origins.iter().map(|origin| (*origin).to_owned()).collect());
        self
    }

    /// Sends `request` with the credential; on a provider's 401 to an OAuth2 token, refreshes
    /// once and sends it again.
    pub async fn execute(&self, request: reqwest::Request) -> Result<reqwest::Response, SdkError> {
        if self.proxy {
            return self.execute_through_proxy(request).await;
        }
        let retry = request.try_clone();
        let scopes: Vec<&str> = self.scopes.iter().map(String::as_str).collect();
        let envelope = self.credentials.get_scoped(&self.target, &scopes).await?;
        let narrowed = self.origins.as_deref();
        let sent = crate::send::send(&self.http, &envelope, narrowed, request).await?;
        let oauth2 = matches!(envelope.strategy, types::Strategy::Oauth2Strategy(_));
        if sent.response.status() != reqwest::StatusCode::UNAUTHORIZED || !oauth2 || !sent.carried_credential {
            return Ok(sent.response);
        }
        let retry = retry.ok_or(SdkError::NotRetryable)?;
        let refreshed = self
            .credentials
            .refresh_scoped(&self.target, &scopes, &envelope)
            .await?;
        Ok(crate::send::send(&self.http, &refreshed, narrowed, retry)
            .await?
            .response)
    }

    async fn execute_through_proxy(&self, mut request: reqwest::Request) -> Result<reqwest::Response, SdkError> {
        use progenitor_client::ClientInfo;
        if !self.scopes.is_empty() {
            // The proxy does not check a grant's scopes: refusing is better than ignoring them.
            return Err(SdkError::Nexus {
                status: 400,
                code: "invalid_request".to_owned(),
                message: "scopes cannot be required through the proxy: drop with_scopes or through_proxy".to_owned(),
                request_id: String::new(),
                field: Some("scopes".to_owned()),
                connection_id: None,
            });
        }
        if let Some(origins) = &self.origins
            && !crate::origins::allows(origins, request.url())
        {
            let origin = request.url().origin().ascii_serialization();
            return Err(SdkError::Credential(InjectError::OriginNotAllowed(origin)));
        }
        let gateway = &self.credentials.gateway;
        // The error names the header, never its value (a URL's query can carry anything).
        let header = |name: &str, value: &str| {
            reqwest::header::HeaderValue::from_str(value)
                .map_err(|_| SdkError::Credential(InjectError::InvalidHeader(name.to_owned())))
        };
        let mut headers = request.headers().clone();
        // The Gateway client sends the agent key; the caller's own `Authorization` stays here.
        headers.remove(reqwest::header::AUTHORIZATION);
        headers.insert("nexus-proxy-url", header("Nexus-Proxy-Url", request.url().as_str())?);
        match &self.target {
            Target::Resolve { workspace_id, provider } => {
                headers.insert("nexus-workspace-id", header("Nexus-Workspace-Id", workspace_id)?);
                headers.insert("nexus-provider", header("Nexus-Provider", provider)?);
            }
            Target::Connection(id) => {
                headers.insert("nexus-connection-id", header("Nexus-Connection-Id", &id.to_string())?);
            }
        }
        let method = request.method().clone();
        let mut forwarded = gateway
            .client()
            .request(method, format!("{}/v1/proxy", gateway.baseurl()))
            .headers(headers);
        if let Some(body) = request.body_mut().take() {
            forwarded = forwarded.body(body);
        }
        let response = forwarded.send().await.map_err(|_| SdkError::GatewayUnreachable)?;
        if response.headers().contains_key("nexus-proxied") || response.status().as_u16() < 400 {
            return Ok(response);
        }
        Err(proxy_error(response).await)
    }
}

/// Nexus's own answer to a proxied request (no `Nexus-Proxied`): its typed error.
async fn proxy_error(response: reqwest::Response) -> SdkError {
    let status = response.status().as_u16();
    match response.json::<types::Error>().await {
        Ok(body) => from_error_body(status, body),
        Err(_) => SdkError::UnexpectedResponse(status),
    }
}
