//! Token reads. A token expiring within the skew is refreshed (through the [`Refresher`], which
//! makes it one provider call across every process) before it is served; what a failed refresh
//! means for the reader is decided here.
//!
//! [`Refresher`]: crate::refresh::Refresher

use super::stored::Stored;
use super::{CachedEnvelope, ConnectionServiceImpl, EnvelopeKey};
use crate::refresh::{RefreshError, Trigger};
use chrono::{DateTime, Utc};
use nexus_domain::agent_key::Caller;
use nexus_domain::api_extras::fill_extras;
use nexus_domain::audit::{AuditEventType, NewAuditEvent};
use nexus_domain::connection::{CredentialEnvelope, CredentialValues};
use nexus_domain::deadline::{self, READ_REFRESH_BUDGET};
use nexus_domain::error::ConflictReason;
use nexus_domain::provider::ProviderSpec;
use nexus_domain::status::{AuthType, ConnectionStatus};
use nexus_domain::token_lifetime::TokenLifetime;
use nexus_domain::url_template::ConnectionParams;
use nexus_domain::{ConnectionId, ProviderName, Scope, ServiceError, WorkspaceId};
use nexus_repositories::{ConnectionBundle, CredentialRecord};
use std::sync::Arc;
use std::time::Duration;

/// Time kept back from the request's deadline to answer after giving up on the provider.
const ANSWER_MARGIN: Duration = Duration::from_millis(500);

/// The error a token read gets for a connection that is not active; it names the connection, so
/// an agent that resolved by workspace and provider can send the user to re-consent that id.
pub(super) fn unusable(status: ConnectionStatus, id: ConnectionId) -> Option<ServiceError> {
    let conflict = |reason, message: &str| ServiceError::Conflict {
        reason,
        message: format!("connection {id} {message}"),
        connection_id: Some(id),
    };
    match status {
        ConnectionStatus::Active => None,
        ConnectionStatus::Pending => Some(conflict(
            ConflictReason::ConnectionPending,
            "is waiting for the user's consent",
        )),
        ConnectionStatus::AttentionRequired => Some(ServiceError::AttentionRequired { connection_id: id }),
        ConnectionStatus::Revoked => Some(conflict(ConflictReason::ConnectionRevoked, "was revoked")),
        ConnectionStatus::Failed => Some(conflict(
            ConflictReason::ConnectionFailed,
            "failed; start a new consent",
        )),
        ConnectionStatus::Expired => Some(conflict(
            ConflictReason::ConnectionExpired,
            "expired before consent completed",
        )),
    }
}

impl ConnectionServiceImpl {
    /// A fresh cached envelope the caller may see and that is not due for refresh, counted and
    /// audited like any read.
    pub(super) async fn cached(&self, caller: &Caller, key: &EnvelopeKey) -> Option<CredentialEnvelope> {
        let cached = self.cached_envelope(key)?;
        let due = cached.due_from.is_some_and(|from| from <= self.clock.now());
        let envelope = &cached.envelope;
        if due || !caller.can_access(&envelope.workspace_id) {
            return None;
        }
        self.metrics
            .token_get
            .with_label_values(&[envelope.provider.as_str(), "success"])
            .inc();
        self.audit_read(caller, envelope).await;
        Some(envelope.clone())
    }

    /// From when the envelope this process just cached for a connection is due, if it has one.
    pub(super) fn cached_due_from(&self, id: ConnectionId) -> Option<DateTime<Utc>> {
        self.cached_envelope(&EnvelopeKey::Connection(id))?.due_from
    }

    /// The envelope cached under `key`, unless its connection or target changed since it was
    /// read.
    pub(super) fn cached_envelope(&self, key: &EnvelopeKey) -> Option<Arc<CachedEnvelope>> {
        self.envelopes
            .get_valid(key, |stamp, cached| self.epoch.valid(stamp, &cached.depends_on()))
    }

    pub(super) async fn audit_read(&self, caller: &Caller, envelope: &CredentialEnvelope) {
        // The proxy records the call it makes with the credential instead.
        if caller.via_proxy {
            return;
        }
        // The actor (`agent_key:<id>`) names the agent key that read.
        let event = NewAuditEvent::new(AuditEventType::TokenRead, &caller.actor)
            .connection(envelope.connection_id)
            .workspace(envelope.workspace_id.clone());
        self.record(event).await;
    }

    /// Reads a token by connection id, counting it under the provider's name. `read_epoch` is
    /// the cache epoch taken before the bundle was read; `key` is what the caller asked for, from
    /// which a database outage is answered with what was served before ([`Self::or_stale`]).
    pub(super) async fn read_token(
        &self,
        caller: &Caller,
        bundle: Result<ConnectionBundle, ServiceError>,
        read_epoch: u64,
        key: &EnvelopeKey,
    ) -> Result<CredentialEnvelope, ServiceError> {
        let provider_label = bundle
            .as_ref()
            .map_or_else(|_| "unknown".to_owned(), |b| b.provider.provider.spec.name.to_string());
        let result = match bundle {
            Ok(bundle) => self.serve(caller, bundle, false, read_epoch).await,
            Err(error) => Err(error),
        };
        let result = self.or_stale(caller, key, result).await;
        self.count_read(&provider_label, &result);
        result
    }

    /// Resolves a workspace's token after a cache miss: one statement reads what serving needs.
    /// Only a token due for refresh reads the whole connection again, for the refresher.
    pub(super) async fn resolve_token(
        &self,
        caller: &Caller,
        workspace: &WorkspaceId,
        provider: &ProviderName,
    ) -> Result<CredentialEnvelope, ServiceError> {
        let read_epoch = self.epoch.stamp();
        let key = EnvelopeKey::Target(workspace.clone(), provider.clone());
        let read = match self.resolve(caller, workspace, provider).await {
            Ok(read) => read,
            Err(error) => {
                let result = self.or_stale(caller, &key, Err(error)).await;
                self.count_read("unknown", &result);
                return result;
            }
        };
        let spec = &read.provider.provider.spec;
        let due = read
            .credential
            .as_ref()
            .is_some_and(|record| self.due_for_refresh(spec.auth_type, record.lifetime()));
        if due {
            let bundle = self.visible(caller, read.id).await;
            return self.read_token(caller, bundle, read_epoch, &key).await;
        }
        let result = match &read.credential {
            Some(record) => match Stored::open(&self.keyring, read.id, &record.ciphertext) {
                Ok(stored) => {
                    let source = EnvelopeSource {
                        id: read.id,
                        workspace_id: &read.workspace_id,
                        requested_scopes: &read.requested_scopes,
                        granted_scopes: read.granted_scopes.as_deref(),
                        connection_params: &read.connection_params,
                        provider: spec,
                    };
                    Ok(self
                        .deliver(caller, &source, &stored, record.lifetime(), read_epoch)
                        .await)
                }
                Err(error) => Err(error),
            },
            None => Err(without_credential()),
        };
        self.count_read(spec.name.as_str(), &result);
        result
    }

    fn count_read(&self, provider_label: &str, result: &Result<CredentialEnvelope, ServiceError>) {
        let (provider_label, status) = match result {
            Ok(envelope) => (envelope.provider.as_str(), "success"),
            Err(e) => (provider_label, e.code().as_str()),
        };
        self.metrics
            .token_get
            .with_label_values(&[provider_label, status])
            .inc();
    }

    /// Whether a token must be refreshed before it is served: an OAuth2 token expiring within
    /// the skew, and past the middle of its life (`TokenLifetime`).
    fn due_for_refresh(&self, auth_type: AuthType, lifetime: TokenLifetime) -> bool {
        auth_type == AuthType::Oauth2 && lifetime.due(self.clock.now(), self.settings.refresh_skew)
    }

    /// From when a cached envelope is no longer served from memory (a read then refreshes it).
    fn due_from(&self, auth_type: AuthType, lifetime: TokenLifetime) -> Option<DateTime<Utc>> {
        match auth_type {
            AuthType::Oauth2 => lifetime.due_from(self.settings.refresh_skew),
            // Static credentials are never refreshed; one with an expiry is not served past it.
            _ => lifetime.expires_at,
        }
    }

    pub(super) async fn refresh_token(
        &self,
        caller: &Caller,
        id: ConnectionId,
    ) -> Result<CredentialEnvelope, ServiceError> {
        let read_epoch = self.epoch.stamp();
        let bundle = self.visible(caller, id).await?;
        if bundle.provider.provider.spec.auth_type.is_static() {
            return Err(ServiceError::Conflict {
                reason: ConflictReason::NotRefreshable,
                message: "static credentials (API keys, basic auth) cannot be refreshed".to_owned(),
                connection_id: None,
            });
        }
        self.serve(caller, bundle, true, read_epoch).await
    }

    async fn serve(
        &self,
        caller: &Caller,
        bundle: ConnectionBundle,
        force: bool,
        read_epoch: u64,
    ) -> Result<CredentialEnvelope, ServiceError> {
        let connection = &bundle.connection;
        if let Some(error) = unusable(connection.status, connection.id) {
            return Err(error);
        }
        let record = bundle.credential.clone().ok_or_else(without_credential)?;
        let provider = &bundle.provider.provider;
        let (stored, lifetime) = if force || self.due_for_refresh(provider.spec.auth_type, record.lifetime()) {
            self.refreshed(&bundle, &record, force).await?
        } else {
            (
                Stored::open(&self.keyring, connection.id, &record.ciphertext)?,
                record.lifetime(),
            )
        };
        let source = EnvelopeSource {
            id: connection.id,
            workspace_id: &connection.workspace_id,
            requested_scopes: &connection.requested_scopes,
            granted_scopes: connection.granted_scopes.as_deref(),
            connection_params: &connection.connection_params,
            provider: &provider.spec,
        };
        Ok(self.deliver(caller, &source, &stored, lifetime, read_epoch).await)
    }

    /// The envelope of a token about to be served: audited, and cached under both keys unless
    /// the connection or its target was invalidated since `read_epoch` (the stamp taken before
    /// the database read).
    async fn deliver(
        &self,
        caller: &Caller,
        source: &EnvelopeSource<'_>,
        stored: &Stored,
        lifetime: TokenLifetime,
        read_epoch: u64,
    ) -> CredentialEnvelope {
        let provider = source.provider;
        let credentials = stored.shared_values(provider.auth_type);
        let (api_headers, api_query) = (
            CredentialValues(fill_extras(
                &provider.api_headers,
                source.connection_params,
                &credentials.0,
            )),
            CredentialValues(fill_extras(
                &provider.api_query,
                source.connection_params,
                &credentials.0,
            )),
        );
        let envelope = CredentialEnvelope {
            connection_id: source.id,
            workspace_id: source.workspace_id.clone(),
            provider: provider.name.clone(),
            strategy: provider.effective_strategy(),
            credentials,
            expires_at: lifetime.expires_at,
            scopes: source.granted_scopes.unwrap_or(source.requested_scopes).to_vec(),
            // A provider edited since this connection was made may no longer fill: the agent
            // then gets no base URL rather than a wrong one.
            api_base_url: stored
                .instance_url(provider, source.connection_params)
                .or_else(|| provider.api_base_url_for(source.connection_params)),
            api_origins: provider.origins_for(source.connection_params),
            api_headers,
            api_query,
            stale_seconds: None,
        };
        self.audit_read(caller, &envelope).await;
        let shared = Arc::new(CachedEnvelope {
            due_from: self.due_from(provider.auth_type, lifetime),
            envelope,
        });
        // Kept with the stamp taken before the read: an invalidation of this connection or
        // target since then makes both entries stale at their next read.
        self.envelopes
            .fill_stamped(EnvelopeKey::Connection(source.id), read_epoch, shared.clone());
        self.envelopes.fill_stamped(
            EnvelopeKey::Target(source.workspace_id.clone(), provider.name.clone()),
            read_epoch,
            shared.clone(),
        );
        Arc::unwrap_or_clone(shared).envelope
    }

    /// A token inside the skew (or any, when forced) refreshed through the refresher, or the
    /// current one when the refresh failed transiently and it is still valid.
    async fn refreshed(
        &self,
        bundle: &ConnectionBundle,
        record: &CredentialRecord,
        force: bool,
    ) -> Result<(Stored, TokenLifetime), ServiceError> {
        let id = bundle.connection.id;
        let provider = bundle.provider.provider.spec.name.to_string();
        let still_valid = record.expires_at.is_none_or(|at| at > self.clock.now());
        let current = || Ok((Stored::open(&self.keyring, id, &record.ciphertext)?, record.lifetime()));
        let budget = deadline::remaining(READ_REFRESH_BUDGET).saturating_sub(ANSWER_MARGIN);
        let error = match self
            .refresher
            .refresh(bundle, record.version, Trigger::Read, budget)
            .await
        {
            Ok(fresh) => return Ok((fresh.stored, fresh.lifetime)),
            Err(error) => error,
        };
        // Whatever went wrong upstream, a token that still works is served to a plain read.
        let serve_current = still_valid && !force;
        match error {
            RefreshError::GrantRevoked => Err(ServiceError::AttentionRequired { connection_id: id }),
            RefreshError::NoRefreshToken if force => Err(ServiceError::Conflict {
                reason: ConflictReason::NotRefreshable,
                message: "the provider issued no refresh token for this connection".to_owned(),
                connection_id: None,
            }),
            RefreshError::NoRefreshToken if still_valid => current(),
            RefreshError::NoRefreshToken => {
                // Expired with no way to renew it: only a new consent helps.
                self.refresher
                    .mark_attention_required(bundle, record.version, "no_refresh_token")
                    .await;
                Err(ServiceError::AttentionRequired { connection_id: id })
            }
            RefreshError::Misconfigured if serve_current => current(),
            RefreshError::Misconfigured => Err(ServiceError::ProviderMisconfigured {
                provider,
                message: "the provider refused Nexus's client credentials; an operator must fix the provider's \
                          registration (the connection stays active)"
                    .to_owned(),
            }),
            RefreshError::Transient { .. } | RefreshError::Busy if serve_current => current(),
            RefreshError::Transient { retry_after } => Err(upstream_unavailable(provider, retry_after)),
            RefreshError::Busy => Err(upstream_unavailable(provider, None)),
            RefreshError::Gone => Err(ServiceError::Conflict {
                reason: ConflictReason::ConnectionRevoked,
                message: format!("connection {id} was revoked"),
                connection_id: Some(id),
            }),
            RefreshError::Internal(detail) if serve_current => {
                tracing::error!(connection_id = %id, detail, "refresh failed inside Nexus; serving the still-valid token");
                current()
            }
            RefreshError::Internal(detail) => Err(ServiceError::Internal { detail }),
        }
    }
}

/// What an envelope is made of: from a whole connection, or from the resolve read.
struct EnvelopeSource<'a> {
    id: ConnectionId,
    workspace_id: &'a WorkspaceId,
    requested_scopes: &'a [Scope],
    granted_scopes: Option<&'a [Scope]>,
    connection_params: &'a ConnectionParams,
    provider: &'a ProviderSpec,
}

fn without_credential() -> ServiceError {
    ServiceError::internal("reading a token", "active connection without a credential")
}

/// 502 `upstream_unavailable`, with when to try again (at least a second).
fn upstream_unavailable(provider: String, retry_after: Option<Duration>) -> ServiceError {
    let seconds = retry_after
        .map_or(1, |d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
        .max(1);
    ServiceError::Upstream {
        provider,
        retryable: true,
        retry_after_seconds: Some(seconds),
    }
}
