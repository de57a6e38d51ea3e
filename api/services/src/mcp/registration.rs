//! Who Nexus is at a discovered authorization server, per issuer and never per connection: its
//! Client ID Metadata Document URL when the server accepts one and Nexus has a public https URL,
//! else a client registered by Dynamic Client Registration (RFC 7591), stored once per issuer
//! with its secret sealed, shared by every provider, connection and process, and registered
//! again when its secret expires or Nexus's callback URL changes. A pre-registered client is the
//! provider's own `client_id` and never reaches this module.

use super::discovery::AuthorizationServer;
use crate::oauth::http::{Answer, Outbound};
use crate::oauth::party::GrantClient;
use crate::oauth::token_endpoint::ClientAuthentication;
use crate::repo_errors::internal;
use chrono::{DateTime, Duration as ChronoDuration};
use nexus_crypto::{AssociatedData, Keyring};
use nexus_domain::ServiceError;
use nexus_domain::clock::Clock;
use nexus_domain::ports::ServiceResult;
use nexus_domain::secret::{ExposeSecret, SecretString};
use nexus_repositories::{ClientRegistrationRecord, ClientRegistrationRepository, RepoError};
use serde::Deserialize;
use std::sync::Arc;
use url::Url;
use uuid::Uuid;

/// A registration whose secret expires sooner than this is registered again first.
const EXPIRY_MARGIN_SECONDS: i64 = 300;

pub const KIND_DYNAMIC: &str = "dynamic";
pub const KIND_METADATA_DOCUMENT: &str = "metadata_document";

/// The key a registration's client secret is sealed under, bound to its row.
pub fn secret_aad(id: Uuid) -> AssociatedData {
    AssociatedData::for_row("oauth_client_registrations", &id, "client_secret")
}

/// What to ask a server for: a secret sent with Basic, else in the body, else none. An empty
/// list means RFC 8414's default, `client_secret_basic`.
fn preferred(supported: &[String]) -> ClientAuthentication {
    use ClientAuthentication::{ClientSecretBasic, ClientSecretPost, None};
    if supported.is_empty() {
        return ClientSecretBasic;
    }
    ClientAuthentication::first_supported(&[ClientSecretBasic, ClientSecretPost, None], supported)
        .unwrap_or(ClientSecretBasic)
}

#[derive(Deserialize)]
struct RegistrationAnswer {
    client_id: Option<String>,
    client_secret: Option<String>,
    /// Seconds since the epoch; 0 or absent: never.
    client_secret_expires_at: Option<i64>,
    token_endpoint_auth_method: Option<String>,
}

#[derive(Deserialize)]
struct RegistrationError {
    error: Option<String>,
    error_description: Option<String>,
}

pub struct McpClients {
    repo: Arc<dyn ClientRegistrationRepository>,
    keyring: Arc<Keyring>,
    outbound: Outbound,
    clock: Arc<dyn Clock>,
    /// Nexus's Client ID Metadata Document, when it has a public https URL to serve it at.
    metadata_document_url: Option<Url>,
    /// Initial access tokens for servers that gate registration (RFC 7591 §3), by issuer.
    registration_tokens: std::collections::BTreeMap<String, SecretString>,
}

impl std::fmt::Debug for McpClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpClients")
            .field("metadata_document_url", &self.metadata_document_url)
            .finish_non_exhaustive()
    }
}

impl McpClients {
    pub fn new(
        repo: Arc<dyn ClientRegistrationRepository>,
        keyring: Arc<Keyring>,
        outbound: Outbound,
        clock: Arc<dyn Clock>,
        metadata_document_url: Option<Url>,
    ) -> Self {
        Self {
            repo,
            keyring,
            outbound,
            clock,
            metadata_document_url,
            registration_tokens: std::collections::BTreeMap::new(),
        }
    }

    /// With initial access tokens for the authorization servers (by issuer) that require one to
    /// register a client.
    pub fn with_registration_tokens(mut self, tokens: std::collections::BTreeMap<String, SecretString>) -> Self {
        self.registration_tokens = tokens;
        self
    }

    /// The client for `server`, with `redirect_uri` as its callback: the metadata document when
    /// the server takes one, else the issuer's registration (made now if there is none that
    /// fits).
    pub async fn client_for(
        &self,
        provider: &str,
        server: &AuthorizationServer,
        redirect_uri: &Url,
    ) -> ServiceResult<GrantClient> {
        if server.client_id_metadata_documents
            && let Some(url) = &self.metadata_document_url
        {
            return Ok(GrantClient {
                client_id: url.to_string(),
                client_secret: None,
                authentication: ClientAuthentication::None,
            });
        }
        let stored = self
            .repo
            .find_by_issuer(&server.issuer)
            .await
            .map_err(internal("reading a client registration"))?;
        if let Some(record) = &stored
            && self.fits(record, redirect_uri)
        {
            return self.open(record);
        }
        let Some(endpoint) = &server.registration_endpoint else {
            return Err(ServiceError::misconfigured(
                provider,
                format!(
                    "the authorization server {} offers no dynamic client registration: register a client there and give the provider its client_id and client_secret",
                    server.issuer
                ),
            ));
        };
        let record = self.register(provider, server, endpoint, redirect_uri).await?;
        let kept = match &stored {
            None => match self.repo.insert(&record).await {
                Ok(()) => true,
                Err(RepoError::UniqueViolation(_)) => false,
                Err(error) => return Err(internal("storing a client registration")(error)),
            },
            Some(previous) => self
                .repo
                .replace(previous.id, &record)
                .await
                .map_err(internal("replacing a client registration"))?,
        };
        if kept {
            return self.open(&record);
        }
        // Another process stored its registration first: use that one (ours stays unused at the
        // server, as any abandoned registration does).
        let winner = self
            .repo
            .find_by_issuer(&server.issuer)
            .await
            .map_err(internal("reading a client registration"))?
            .ok_or_else(|| ServiceError::internal("reading a client registration", "the registration vanished"))?;
        self.open(&winner)
    }

    /// Forgets the issuer's registration of `client_id` after the server refused it
    /// (`invalid_client`): the next consent registers again. Failures are logged, not raised.
    pub async fn discard(&self, issuer: &str, client_id: &str) {
        if let Err(error) = self.repo.discard(issuer, client_id).await {
            tracing::warn!(issuer, %error, "a refused client registration could not be discarded");
        }
    }

    fn fits(&self, record: &ClientRegistrationRecord, redirect_uri: &Url) -> bool {
        let soon = self.clock.now() + ChronoDuration::seconds(EXPIRY_MARGIN_SECONDS);
        record.redirect_uri == redirect_uri.as_str()
            && record.kind == KIND_DYNAMIC
            && record.client_secret_expires_at.is_none_or(|expires| expires > soon)
    }

    fn open(&self, record: &ClientRegistrationRecord) -> ServiceResult<GrantClient> {
        let authentication = ClientAuthentication::parse(&record.token_endpoint_auth_method).ok_or_else(|| {
            ServiceError::internal("reading a client registration", "an unknown token endpoint auth method")
        })?;
        let client_secret = record
            .client_secret
            .as_ref()
            .map(|sealed| {
                let plain = self
                    .keyring
                    .decrypt(sealed, &secret_aad(record.id))
                    .map_err(|error| ServiceError::internal("opening a registration's client secret", error))?;
                String::from_utf8(plain)
                    .map(SecretString::from)
                    .map_err(|error| ServiceError::internal("opening a registration's client secret", error))
            })
            .transpose()?;
        Ok(GrantClient {
            client_id: record.client_id.clone(),
            client_secret,
            authentication,
        })
    }

    async fn register(
        &self,
        provider: &str,
        server: &AuthorizationServer,
        endpoint: &Url,
        redirect_uri: &Url,
    ) -> ServiceResult<ClientRegistrationRecord> {
        let asked = preferred(&server.token_endpoint_auth_methods);
        let request = serde_json::json!({
            "client_name": "Nexus",
            "redirect_uris": [redirect_uri.as_str()],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": asked.as_str(),
            "application_type": "web",
        });
        // No `scope`: a server may hold the client to the scopes it registered with, and a later
        // step-up must be able to ask for more (oidc-provider answers `invalid_scope` then).
        let upstream = || ServiceError::upstream(provider);
        let mut call = self
            .outbound
            .client()
            .post(endpoint.clone())
            .header("accept", "application/json")
            .json(&request);
        if let Some(token) = self.registration_tokens.get(&server.issuer) {
            call = call.bearer_auth(token.expose_secret());
        }
        let Answer { status, body, .. } = self.outbound.send(call).await.map_err(|_| upstream())?;
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(upstream());
        }
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(ServiceError::misconfigured(
                provider,
                format!(
                    "the authorization server {} refused to register a client without a valid initial access token (HTTP {}): give one in NEXUS_MCP_REGISTRATION_TOKENS, or register a client there and give the provider its client_id and client_secret",
                    server.issuer,
                    status.as_u16()
                ),
            ));
        }
        if !status.is_success() {
            // RFC 7591 §3.2.2: the error and its description are the server's words, not secrets.
            // The server's words reach the operator (and an agent): bounded, one line, plain.
            let said = serde_json::from_slice::<RegistrationError>(&body)
                .ok()
                .map(|e| {
                    let text = format!(
                        "{} {}",
                        e.error.unwrap_or_default(),
                        e.error_description.unwrap_or_default()
                    );
                    let plain: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
                    format!(": {}", plain.trim())
                })
                .unwrap_or_default();
            return Err(ServiceError::misconfigured(
                provider,
                format!(
                    "the authorization server {} refused the client registration (HTTP {}){}",
                    server.issuer,
                    status.as_u16(),
                    said.trim_end()
                ),
            ));
        }
        let answer: RegistrationAnswer = serde_json::from_slice(&body).map_err(|_| {
            ServiceError::misconfigured(
                provider,
                format!("the registration answer of {} is not valid JSON", server.issuer),
            )
        })?;
        let client_id = answer.client_id.filter(|id| !id.is_empty()).ok_or_else(|| {
            ServiceError::misconfigured(
                provider,
                format!("the registration answer of {} has no client_id", server.issuer),
            )
        })?;
        let secret = answer.client_secret.filter(|secret| !secret.is_empty());
        let authentication = match answer.token_endpoint_auth_method.as_deref() {
            Some(method) => ClientAuthentication::parse(method).ok_or_else(|| {
                ServiceError::misconfigured(
                    provider,
                    format!("the registration answer names an unknown token_endpoint_auth_method `{method}`"),
                )
            })?,
            None if secret.is_none() => ClientAuthentication::None,
            None => asked,
        };
        if authentication != ClientAuthentication::None && secret.is_none() {
            return Err(ServiceError::misconfigured(
                provider,
                format!(
                    "the registration answer of {} has no client_secret for {}",
                    server.issuer,
                    authentication.as_str()
                ),
            ));
        }
        let id = Uuid::new_v4();
        let now = self.clock.now();
        let client_secret = secret
            .as_deref()
            .map(|secret| self.keyring.encrypt(secret.as_bytes(), &secret_aad(id)));
        Ok(ClientRegistrationRecord {
            id,
            issuer: server.issuer.clone(),
            kind: KIND_DYNAMIC.to_owned(),
            redirect_uri: redirect_uri.to_string(),
            client_id,
            client_secret,
            token_endpoint_auth_method: authentication.as_str().to_owned(),
            client_secret_expires_at: answer
                .client_secret_expires_at
                .filter(|at| *at > 0)
                .and_then(|at| DateTime::from_timestamp(at, 0)),
            created_at: now,
            updated_at: now,
        })
    }
}
