//! Starting a consent (OAuth2, PKCE S256, signed single-use state) or a capture (static
//! credentials, Nexus's hosted form), for a new connection or an existing one.

use super::stored::pkce_aad;
use super::{ConnectionServiceImpl, endpoint_url, parse_workspace};
use crate::oauth::{ClientSource, OAuthParty};
use crate::repo_errors::internal;
use chrono::TimeDelta;
use nexus_crypto::{Pkce, random_token};
use nexus_domain::agent_key::Caller;
use nexus_domain::audit::{AuditEventType, NewAuditEvent};
use nexus_domain::connection::{CONSENT_WINDOW_SECONDS, Connection, ConsentRequest, ConsentSpec, scope_union};
use nexus_domain::provider::{ProviderRef, ProviderSpec, RESERVED_AUTHORIZATION_PARAMS};
use nexus_domain::secret::ExposeSecret;
use nexus_domain::status::{AuthType, ConnectionStatus};
use nexus_domain::token_request::TokenResponseShape;
use nexus_domain::url_template::check_values;
use nexus_domain::{ConnectionId, ResourceKind, Scope, ServiceError};
use nexus_repositories::{ConnectionBundle, PendingConsent};
use url::Url;

impl ConnectionServiceImpl {
    pub(super) async fn create_consent_spec(
        &self,
        caller: &Caller,
        request: ConsentRequest,
    ) -> Result<ConsentSpec, ServiceError> {
        let workspace = parse_workspace(&request.workspace_id)?;
        if !caller.can_access(&workspace) {
            // Outside the caller's workspaces nothing exists, not even the right to start.
            return Err(ServiceError::not_found(ResourceKind::Connection, &workspace));
        }
        let provider_ref = ProviderRef::parse(&request.provider)?;
        let provider = self
            .providers
            .find(&provider_ref)
            .await
            .map_err(internal("reading a provider"))?
            .ok_or_else(|| ServiceError::not_found(ResourceKind::Provider, &provider_ref))?;
        // An empty list means the provider's defaults, as an absent one does: generated clients
        // cannot tell the two apart on the wire, so a split Gateway and one process must agree.
        let mut scopes = match &request.scopes {
            None => provider.provider.spec.scopes.clone(),
            Some(raw) if raw.is_empty() => provider.provider.spec.scopes.clone(),
            Some(raw) if raw.len() > 100 => {
                return Err(ServiceError::invalid("scopes", "at most 100 scopes"));
            }
            Some(raw) => raw
                .iter()
                .map(|s| Scope::parse(s).map_err(|m| ServiceError::invalid("scopes", m)))
                .collect::<Result<Vec<_>, _>>()?,
        };
        let return_url = self.settings.return_urls.check(&request.return_url)?;

        let now = self.clock.now();
        let expires_at = now + TimeDelta::seconds(CONSENT_WINDOW_SECONDS);
        let declared = &provider.provider.spec.connection_params;
        let incremental = request.connection_id.is_some() && request.scopes.as_ref().is_some_and(|raw| !raw.is_empty());
        let mut step_ups = 0;
        let (connection_id, connection_params) = match request.connection_id {
            Some(id) => {
                let existing = self.visible(caller, id).await?;
                let same_target = existing.connection.workspace_id == workspace
                    && existing.connection.provider_id == provider.provider.id;
                if !same_target {
                    return Err(ServiceError::invalid(
                        "connection_id",
                        "belongs to another workspace or provider",
                    ));
                }
                // The parameters name the account's home (a subdomain): a re-consent keeps
                // them, so its tokens can never be sent to another host.
                // Naming scopes makes it an incremental consent: the grant only grows. Without
                // them it asks for the provider's defaults, as a first consent would.
                let granted = existing
                    .connection
                    .granted_scopes
                    .as_deref()
                    .unwrap_or(&existing.connection.requested_scopes);
                if incremental {
                    scopes = scope_union(granted, &scopes);
                    step_ups = step_ups_after(&existing, granted, &scopes)?;
                } else {
                    step_ups = carried_step_ups(&existing, granted);
                }
                let kept = existing.connection.connection_params;
                if !request.connection_params.is_empty() && check_values(declared, &request.connection_params)? != kept
                {
                    return Err(ServiceError::invalid(
                        "connection_params",
                        "are fixed when a connection is created; start a new connection for other values",
                    ));
                }
                (id, kept)
            }
            None => (ConnectionId::new(), check_values(declared, &request.connection_params)?),
        };
        let connection_params_audit = serde_json::json!(connection_params);
        let nonce = random_token();
        let spec = &provider.provider.spec;
        let resolved = spec
            .for_connection(&connection_params)
            .map_err(nexus_domain::provider::UnresolvedUrl::into_invalid)?;
        let (auth_url, pkce_verifier) = match spec.auth_type {
            AuthType::Oauth2 => {
                let pkce = spec.oauth.as_ref().is_some_and(|o| o.pkce).then(Pkce::generate);
                let redirect_uri = self.redirect_uri();
                let source = ClientSource::Consent {
                    redirect_uri: &redirect_uri,
                    issuer: None,
                };
                let party = self.parties.party(&provider, &resolved, source).await?;
                let state = self.sign_state(connection_id, &nonce, party.issuer.clone());
                if scopes.is_empty() {
                    // An MCP server's own scopes: its challenge's, else its metadata's (none: none).
                    scopes = party
                        .discovered_scopes
                        .iter()
                        .filter_map(|scope| Scope::parse(scope).ok())
                        .collect();
                }
                let url = self
                    .authorization_url(&resolved, &party, &scopes, &state, &nonce, pkce.as_ref(), incremental)
                    .await?;
                let sealed = pkce.map(|p| {
                    self.keyring
                        .encrypt(p.verifier.expose_secret().as_bytes(), &pkce_aad(connection_id))
                });
                (url, sealed)
            }
            AuthType::ApiKey | AuthType::BasicAuth | AuthType::AwsSigv4 => {
                let state = self.sign_state(connection_id, &nonce, None);
                let mut url = endpoint_url(&self.settings.public_url, &["auth", "capture"]);
                url.query_pairs_mut().append_pair("state", &state);
                (url, None)
            }
        };
        let state = auth_url
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let consent = PendingConsent {
            nonce,
            pkce_verifier,
            return_url,
            expires_at,
        };
        if request.connection_id.is_some() {
            let started = self
                .connections
                .begin_reconsent(connection_id, &consent, &scopes, step_ups, now)
                .await
                .map_err(internal("starting a re-consent"))?;
            if !started {
                return Err(ServiceError::Conflict {
                    reason: nexus_domain::error::ConflictReason::ConnectionRevoked,
                    message: "a revoked connection cannot be consented again; start a new one".to_owned(),
                    connection_id: None,
                });
            }
        } else {
            let connection = Connection {
                id: connection_id,
                workspace_id: workspace.clone(),
                provider_id: provider.provider.id,
                provider_name: spec.name.clone(),
                status: ConnectionStatus::Pending,
                requested_scopes: scopes.clone(),
                granted_scopes: None,
                error: None,
                consent_expires_at: Some(expires_at),
                return_url: Some(consent.return_url.clone()),
                connection_params,
                created_at: now,
                updated_at: now,
                activated_at: None,
            };
            self.connections
                .insert_pending(&connection, &consent)
                .await
                .map_err(internal("storing a pending connection"))?;
        }
        self.metrics.consents.with_label_values(&[spec.name.as_str()]).inc();
        self.record(
            NewAuditEvent::new(AuditEventType::ConsentCreated, &caller.actor)
                .provider(provider.provider.id)
                .connection(connection_id)
                .workspace(workspace)
                .data(serde_json::json!({
                    "provider": spec.name,
                                        "reconsent": request.connection_id.is_some(),
                    "scopes": scopes,
                    // Where the connection lives (a subdomain, a region): never a secret.
                    "connection_params": connection_params_audit,
                })),
        )
        .await;
        Ok(ConsentSpec {
            connection_id,
            auth_url,
            state,
            expires_at,
        })
    }

    /// The provider's authorization URL: its own query kept, the standard parameters added, then
    /// the provider's extra parameters (and, for an `incremental` consent, its incremental ones,
    /// which win), none of which can ever replace a security parameter.
    #[allow(clippy::too_many_arguments)] // each is one part of the request
    async fn authorization_url(
        &self,
        spec: &ProviderSpec,
        party: &OAuthParty,
        scopes: &[Scope],
        state: &str,
        nonce: &str,
        pkce: Option<&Pkce>,
        incremental: bool,
    ) -> Result<Url, ServiceError> {
        let oauth = spec
            .oauth
            .as_ref()
            .ok_or_else(|| ServiceError::internal("consent", "oauth2 provider without settings"))?;
        let mut url = party.endpoints.authorization_url.clone();
        let existing: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !RESERVED_AUTHORIZATION_PARAMS.contains(&k.as_ref()))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        {
            let mut query = url.query_pairs_mut();
            query.clear();
            query.extend_pairs(existing);
            query.append_pair("response_type", "code");
            query.append_pair("client_id", &party.client.client_id);
            query.append_pair("redirect_uri", self.redirect_uri().as_str());
            if !scopes.is_empty() {
                let separator = oauth.scope_separator.to_string();
                let joined = scopes.iter().map(Scope::as_str).collect::<Vec<_>>().join(&separator);
                // Slack asks for a user token's scopes as `user_scope` (`scope` is the bot's).
                let name = if oauth.token_response == TokenResponseShape::SlackUser {
                    "user_scope"
                } else {
                    "scope"
                };
                query.append_pair(name, &joined);
            }
            query.append_pair("state", state);
            if let Some(pkce) = pkce {
                query.append_pair("code_challenge", &pkce.challenge);
                query.append_pair("code_challenge_method", Pkce::METHOD);
            }
            if scopes.iter().any(|s| s.as_str() == "openid") {
                query.append_pair("nonce", nonce);
            }
            if let Some(resource) = &party.resource {
                query.append_pair("resource", resource);
            }
            let mut extra = oauth.authorization_params.clone();
            if incremental {
                extra.extend(oauth.incremental_authorization_params.clone());
            }
            for (key, value) in &extra {
                if !RESERVED_AUTHORIZATION_PARAMS.contains(&key.as_str()) {
                    query.append_pair(key, value);
                }
            }
        }
        Ok(url)
    }
}

/// Consents in a row that may ask a provider for scopes the grant lacks without being granted
/// them (a step-up the user or the provider's policy keeps refusing ends with
/// `scope_not_granted`, until a consent is granted all it asked for).
pub const MAX_STEP_UPS: u32 = 3;

/// The step-ups counted so far: none when the last consent's ask was granted in full (a
/// success starts the count again), else the connection's count. A plain re-consent keeps it,
/// so a refused step-up cannot be reset by asking for something else in between.
fn carried_step_ups(existing: &ConnectionBundle, granted: &[Scope]) -> u32 {
    let last_granted = existing
        .connection
        .requested_scopes
        .iter()
        .all(|scope| granted.contains(scope));
    if last_granted { 0 } else { existing.scope_step_ups }
}

/// How many consents in a row, this one included, have asked for scopes the grant lacks; beyond
/// `MAX_STEP_UPS`, `scope_not_granted`.
fn step_ups_after(existing: &ConnectionBundle, granted: &[Scope], wanted: &[Scope]) -> Result<u32, ServiceError> {
    let carried = carried_step_ups(existing, granted);
    if wanted.iter().all(|scope| granted.contains(scope)) {
        return Ok(carried);
    }
    let step_ups = carried + 1;
    if step_ups > MAX_STEP_UPS {
        return Err(ServiceError::Conflict {
            reason: nexus_domain::error::ConflictReason::ScopeNotGranted,
            message: format!(
                "{MAX_STEP_UPS} consents in a row asked for scopes the provider did not grant: stop asking (the user or the provider's policy refuses them)"
            ),
            connection_id: Some(existing.connection.id),
        });
    }
    Ok(step_ups)
}
