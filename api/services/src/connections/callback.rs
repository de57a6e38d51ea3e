//! The OAuth callback: verify and consume the state, exchange the code, verify the id_token,
//! store the whole token response encrypted, activate, and say where the browser goes next.

use super::ConnectionServiceImpl;
use super::stored::{Stored, pkce_aad};
use crate::oauth::token_endpoint::sanitize_error_code;
use crate::oauth::{ClientSource, GrantClient, TokenResponse};
use crate::repo_errors::internal;
use chrono::{DateTime, Utc};
use nexus_domain::ConnectionId;
use nexus_domain::agent_key::Actor;
use nexus_domain::audit::{AuditEventType, NewAuditEvent};
use nexus_domain::connection::{CallbackParams, CompletedFlow, merge_query};
use nexus_domain::secret::SecretString;
use nexus_domain::status::{AuthType, ConnectionStatus};
use nexus_domain::{Scope, ServiceError};
use nexus_repositories::{ClaimedConsent, NewCredential, RepoError};
use std::time::Instant;

/// Who a grant was made with, kept with it: the client when Nexus registered it, and an MCP
/// server's authorization server.
#[derive(Debug, Clone, Copy)]
struct GrantOrigin<'a> {
    client: Option<&'a GrantClient>,
    issuer: Option<&'a str>,
}

/// Why a valid callback did not produce a credential, as a short code for the return URL.
struct Failure(String);

impl ConnectionServiceImpl {
    pub(super) async fn exchange_code_for_tokens(&self, params: CallbackParams) -> Result<CompletedFlow, ServiceError> {
        let raw_state = params.state.as_deref().ok_or(ServiceError::InvalidState {
            reason: "the state is missing",
        })?;
        let state = self.verify_state(raw_state)?;
        // Checked before the nonce is taken: a capture link sent here with a code stays usable.
        // A capture form's Cancel comes here too (`error=access_denied`, no code).
        let is_static = self
            .connections
            .find(state.connection_id)
            .await
            .map_err(internal("reading a connection"))?
            .is_some_and(|bundle| bundle.provider.provider.spec.auth_type != AuthType::Oauth2);
        if is_static && params.error.is_none() {
            return Err(ServiceError::InvalidState {
                reason: "this state belongs to a credential capture, not an OAuth consent",
            });
        }
        let claimed = self
            .connections
            .claim_consent(state.connection_id, &state.nonce, self.clock.now())
            .await
            .map_err(internal("claiming a consent"))?
            .ok_or(ServiceError::InvalidState {
                reason: "the consent was already completed or has expired",
            })?;
        let provider_name = claimed.provider.provider.spec.name.as_str().to_owned();
        let outcome = match (&params.error, &params.code) {
            (Some(error), _) => Err(Failure(sanitize_error_code(error))),
            (None, None) => Err(Failure("missing_code".to_owned())),
            (None, Some(code)) => {
                let started = Instant::now();
                let result = self
                    .exchange(
                        &claimed,
                        code,
                        &state.nonce,
                        state.issuer.as_deref(),
                        params.iss.as_deref(),
                    )
                    .await;
                self.metrics
                    .exchange_duration
                    .with_label_values(&[&provider_name])
                    .observe(started.elapsed().as_secs_f64());
                let status = if result.is_ok() { "success" } else { "error" };
                self.metrics
                    .exchanges
                    .with_label_values(&[&provider_name, status])
                    .inc();
                result
            }
        };
        let connection = &claimed.connection;
        let (succeeded, error) = match outcome {
            Ok(()) => {
                self.record(
                    NewAuditEvent::new(AuditEventType::ConnectionActivated, &Actor::Anonymous)
                        .provider(connection.provider_id)
                        .connection(connection.id)
                        .workspace(connection.workspace_id.clone())
                        .data(serde_json::json!({"via": "oauth_callback"})),
                )
                .await;
                (true, None)
            }
            Err(Failure(error)) => {
                // A fresh connection fails; a re-consent leaves the existing credential as it was.
                let now = self.clock.now();
                self.connections
                    .transition(
                        connection.id,
                        &[ConnectionStatus::Pending],
                        ConnectionStatus::Failed,
                        Some(&error),
                        now,
                    )
                    .await
                    .map_err(internal("marking a connection failed"))?;
                self.record(
                    NewAuditEvent::new(AuditEventType::ConnectionFailed, &Actor::Anonymous)
                        .provider(connection.provider_id)
                        .connection(connection.id)
                        .workspace(connection.workspace_id.clone())
                        .data(serde_json::json!({"error": error})),
                )
                .await;
                (false, Some(error))
            }
        };
        let id = connection.id.to_string();
        let mut pairs = vec![
            ("status", if succeeded { "success" } else { "error" }),
            ("connection_id", id.as_str()),
            ("provider", provider_name.as_str()),
        ];
        if let Some(error) = error.as_deref() {
            pairs.push(("error", error));
        }
        Ok(CompletedFlow {
            connection_id: connection.id,
            provider: claimed.provider.provider.spec.name.clone(),
            redirect_to: merge_query(&claimed.return_url, &pairs),
            succeeded,
        })
    }

    /// `issuer`: the MCP authorization server the consent started at (from the signed state);
    /// `iss`: the one the authorization response names (RFC 9207).
    async fn exchange(
        &self,
        claimed: &ClaimedConsent,
        code: &str,
        nonce: &str,
        issuer: Option<&str>,
        iss: Option<&str>,
    ) -> Result<(), Failure> {
        let provider = &claimed.provider.provider;
        let connection = &claimed.connection;
        let log_failure = |what: &str, error: &dyn std::fmt::Display| {
            tracing::warn!(provider = %provider.spec.name, connection_id = %connection.id, %error, "{what}");
        };
        let spec = provider
            .spec
            .for_connection(&connection.connection_params)
            .map_err(|e| {
                log_failure("the provider's URLs cannot be filled for this connection", &e);
                Failure("provider_misconfigured".into())
            })?;
        let oauth = spec
            .oauth
            .as_ref()
            .ok_or_else(|| Failure("provider_misconfigured".into()))?;
        let redirect_uri = self.redirect_uri();
        let source = ClientSource::Consent {
            redirect_uri: &redirect_uri,
            issuer,
        };
        let party = self
            .parties
            .party(&claimed.provider, &spec, source)
            .await
            .map_err(|e| {
                log_failure("endpoint discovery or client registration failed", &e);
                Failure(e.code().as_str().to_owned())
            })?;
        // RFC 9207: a response that names its issuer must name the one discovered (compared as
        // strings, exactly), and a server that says it always names itself must.
        match (&party.issuer, iss) {
            (Some(expected), Some(iss)) if iss != expected => {
                log_failure("the authorization response names another issuer", &iss);
                return Err(Failure("invalid_issuer".into()));
            }
            (Some(_), None) if party.iss_required => {
                log_failure("the authorization response has no iss", &"RFC 9207");
                return Err(Failure("invalid_issuer".into()));
            }
            _ => {}
        }
        let endpoints = &party.endpoints;
        let verifier = claimed
            .pkce_verifier
            .as_ref()
            .map(|sealed| {
                self.keyring
                    .decrypt(sealed, &pkce_aad(connection.id))
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .map(SecretString::from)
                    .ok_or_else(|| Failure("internal_error".into()))
            })
            .transpose()?;
        let dialect = crate::oauth::TokenDialect::exchange(oauth).for_resource(party.resource_for(false));
        let exchanged = self
            .token_endpoint
            .exchange_code(
                &endpoints.token_url,
                &party.client.auth(),
                dialect,
                code,
                &redirect_uri,
                verifier.as_ref(),
            )
            .await;
        let response = match exchanged {
            Ok(response) => response,
            Err(error) => {
                log_failure("code exchange failed", &error);
                if matches!(error, crate::oauth::TokenEndpointError::Misconfigured { .. }) {
                    // Discovered again, and a registered client registered again, next time.
                    self.parties.refused(&spec, Some(&party)).await;
                }
                return Err(Failure(error.code().to_owned()));
            }
        };

        // An id_token is verified against the provider's issuer when it has one (configured or
        // discovered): signature, `iss`, `aud`, expiry, nonce. A provider without an issuer
        // gives Nexus nothing to verify it against; Nexus never reads its claims either (the
        // connection's identity is the workspace the consent was started for), so it is then
        // neither checked nor a reason to fail the consent.
        let openid = connection.requested_scopes.iter().any(|s| s.as_str() == "openid");
        if let (true, Some(id_token), Some(_)) = (openid, response.str("id_token"), &endpoints.issuer) {
            let (Some(issuer), Some(jwks_uri)) = (&endpoints.issuer, &endpoints.jwks_uri) else {
                log_failure(
                    "id_token cannot be verified",
                    &"the provider has no issuer with a jwks_uri",
                );
                return Err(Failure("id_token_unverifiable".into()));
            };
            let jwks = self
                .discovery
                .jwks(provider.spec.name.as_str(), jwks_uri)
                .await
                .map_err(|e| {
                    log_failure("fetching the JWKS failed", &e);
                    Failure("upstream_unavailable".into())
                })?;
            let Some(secret) = &party.client.client_secret else {
                log_failure("id_token cannot be verified", &"the client has no secret");
                return Err(Failure("id_token_unverifiable".into()));
            };
            crate::oauth::id_token::verify(id_token, &jwks, issuer, &party.client.client_id, secret, nonce).map_err(
                |e| {
                    log_failure("id_token rejected", &e);
                    Failure("invalid_id_token".into())
                },
            )?;
        }

        let now = self.clock.now();
        // What the provider granted; when it does not say, what was asked for (RFC 6749 5.1:
        // `scope` may be left out when it equals the request).
        let granted: Vec<Scope> = response.str("scope").map_or_else(
            || connection.requested_scopes.clone(),
            |raw| raw.split([' ', ',']).filter_map(|s| Scope::parse(s).ok()).collect(),
        );
        let grant = GrantOrigin {
            client: party.registered.then_some(&party.client),
            issuer: party.issuer.as_deref(),
        };
        self.store_consented(connection.id, response, grant, &granted, now)
            .await
            .map_err(|e| {
                log_failure("storing the credential failed", &e);
                Failure("internal_error".into())
            })?;
        self.invalidate(connection);
        Ok(())
    }

    /// Stores a consent's token response and activates the connection. A re-consent answered
    /// without a refresh token keeps the stored one: Google without `prompt=consent`, Zoho, and
    /// Okta or Auth0 without `offline_access` issue one only on the first consent, and dropping
    /// it would send the user back to consent at the next expiry. The merged credential is
    /// written only over the one it was taken from; if a refresh rotated it meanwhile, the merge
    /// is made again with the rotated one.
    async fn store_consented(
        &self,
        id: ConnectionId,
        response: TokenResponse,
        grant: GrantOrigin<'_>,
        granted: &[Scope],
        now: DateTime<Utc>,
    ) -> Result<(), RepoError> {
        let expires_at = Stored::expiry(&response, now);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let previous = if response.fields.contains_key("refresh_token") {
                None
            } else {
                self.connections.credential(id).await?.and_then(|record| {
                    Stored::open(&self.keyring, id, &record.ciphertext)
                        .ok()
                        .filter(|stored| stored.refresh_token().is_some())
                        // A refresh token belongs to the client it was issued to: a grant now
                        // made by another (re-registered) client does not keep it.
                        .filter(|stored| {
                            stored.grant_client().map(|c| c.client_id) == grant.client.map(|c| c.client_id.clone())
                        })
                        .map(|stored| (record.version, stored))
                })
            };
            let stored = Stored::from_token_response(response.clone(), previous.as_ref().map(|(_, kept)| kept))
                .with_grant_origin(grant.client, grant.issuer);
            let credential = NewCredential::issued(stored.seal(&self.keyring, id), now, expires_at);
            let replacing = previous.as_ref().map(|(version, _)| *version);
            match self
                .connections
                .activate(id, &credential, replacing, Some(granted), "consent_completed", now)
                .await
            {
                Err(RepoError::Conflict(_)) if replacing.is_some() && attempt < MERGE_ATTEMPTS => {}
                result => return result,
            }
        }
    }
}

/// Times a re-consent merges its answer with a stored refresh token that keeps being rotated.
const MERGE_ATTEMPTS: u32 = 3;
