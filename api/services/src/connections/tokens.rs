//! Token reads and refresh. A token expiring within the skew is refreshed before it is served;
//! concurrent refreshes of one connection collapse into one provider call (a lock per connection
//! in this process, a lease in the database across processes); the new credential is persisted,
//! with an optimistic version check, before anyone sees it.

use super::stored::Stored;
use super::{ConnectionServiceImpl, EnvelopeKey, client_auth};
use crate::oauth::TokenEndpointError;
use crate::repo_errors::internal;
use chrono::TimeDelta;
use nexus_domain::agent_key::{Actor, Caller};
use nexus_domain::audit::{AuditEventType, NewAuditEvent};
use nexus_domain::connection::CredentialEnvelope;
use nexus_domain::error::ConflictReason;
use nexus_domain::status::{AuthType, ConnectionStatus};
use nexus_domain::{ConnectionId, ResourceKind, ServiceError};
use nexus_repositories::{ConnectionBundle, CredentialRecord, NewCredential};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a refresh lease is held at most (a crashed holder's lease lapses after this).
const LEASE_SECONDS: i64 = 30;
/// How long to wait for another process's refresh before giving up.
const LEASE_WAIT: Duration = Duration::from_secs(10);

/// The error a token read gets for a connection that is not active.
fn unusable(status: ConnectionStatus, id: ConnectionId) -> Option<ServiceError> {
    let conflict = |reason, message: &str| ServiceError::Conflict {
        reason,
        message: format!("connection {id} {message}"),
    };
    match status {
        ConnectionStatus::Active => None,
        ConnectionStatus::Pending => Some(conflict(
            ConflictReason::ConnectionPending,
            "is waiting for the user's consent",
        )),
        ConnectionStatus::AttentionRequired => Some(ServiceError::AttentionRequired),
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
        let envelope = self.envelopes.get(key, self.epoch.current())?;
        let due = envelope
            .expires_at
            .is_some_and(|at| at - self.settings.refresh_skew <= self.clock.now());
        if due || !caller.can_access(&envelope.workspace_id) {
            return None;
        }
        self.metrics
            .token_get
            .with_label_values(&[envelope.provider.as_str(), "success"])
            .inc();
        self.audit_read(caller, &envelope).await;
        Some(envelope)
    }

    async fn audit_read(&self, caller: &Caller, envelope: &CredentialEnvelope) {
        // The actor (`agent_key:<id>`) names the agent key that read.
        let event = NewAuditEvent::new(AuditEventType::TokenRead, &caller.actor)
            .connection(envelope.connection_id)
            .workspace(envelope.workspace_id.clone());
        self.record(event).await;
    }

    /// Reads a token (get or resolve), counting it under the provider's name.
    pub(super) async fn read_token(
        &self,
        caller: &Caller,
        bundle: Result<ConnectionBundle, ServiceError>,
    ) -> Result<CredentialEnvelope, ServiceError> {
        let provider_label = bundle
            .as_ref()
            .map_or_else(|_| "unknown".to_owned(), |b| b.provider.provider.spec.name.to_string());
        let result = match bundle {
            Ok(bundle) => self.serve(caller, bundle, false).await,
            Err(error) => Err(error),
        };
        let status = match &result {
            Ok(_) => "success",
            Err(e) => e.code().as_str(),
        };
        self.metrics
            .token_get
            .with_label_values(&[&provider_label, status])
            .inc();
        result
    }

    pub(super) async fn forced_refresh(
        &self,
        caller: &Caller,
        id: ConnectionId,
    ) -> Result<CredentialEnvelope, ServiceError> {
        let bundle = self.visible(caller, id).await?;
        if bundle.provider.provider.spec.auth_type.is_static() {
            return Err(ServiceError::Conflict {
                reason: ConflictReason::NotRefreshable,
                message: "static credentials (API keys, basic auth) cannot be refreshed".to_owned(),
            });
        }
        self.serve(caller, bundle, true).await
    }

    async fn serve(
        &self,
        caller: &Caller,
        bundle: ConnectionBundle,
        force: bool,
    ) -> Result<CredentialEnvelope, ServiceError> {
        let connection = &bundle.connection;
        if let Some(error) = unusable(connection.status, connection.id) {
            return Err(error);
        }
        let record = bundle
            .credential
            .clone()
            .ok_or_else(|| ServiceError::internal("reading a token", "active connection without a credential"))?;
        let provider = &bundle.provider.provider;
        let now = self.clock.now();
        let (stored, expires_at) = if provider.spec.auth_type == AuthType::Oauth2
            && (force
                || record
                    .expires_at
                    .is_some_and(|at| at - self.settings.refresh_skew <= now))
        {
            self.refresh_collapsed(&bundle, &record, force).await?
        } else {
            (
                Stored::open(&self.keyring, connection.id, &record.ciphertext)?,
                record.expires_at,
            )
        };
        let envelope = CredentialEnvelope {
            connection_id: connection.id,
            workspace_id: connection.workspace_id.clone(),
            provider: provider.spec.name.clone(),
            strategy: provider.spec.effective_strategy(),
            credentials: stored.shared_values(provider.spec.auth_type),
            expires_at,
            scopes: connection
                .granted_scopes
                .clone()
                .unwrap_or_else(|| connection.requested_scopes.clone()),
        };
        self.audit_read(caller, &envelope).await;
        let epoch = self.epoch.current();
        self.envelopes
            .put(EnvelopeKey::Connection(connection.id), epoch, envelope.clone());
        self.envelopes.put(
            EnvelopeKey::Target(connection.workspace_id.clone(), provider.spec.name.clone()),
            epoch,
            envelope.clone(),
        );
        Ok(envelope)
    }

    fn refresh_lock(&self, id: ConnectionId) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .refresh_locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        locks.retain(|_, lock| Arc::strong_count(lock) > 1);
        locks.entry(id).or_default().clone()
    }

    fn open_record(
        &self,
        id: ConnectionId,
        record: &CredentialRecord,
    ) -> Result<(Stored, Option<chrono::DateTime<chrono::Utc>>), ServiceError> {
        Ok((Stored::open(&self.keyring, id, &record.ciphertext)?, record.expires_at))
    }

    async fn current_credential(&self, id: ConnectionId) -> Result<CredentialRecord, ServiceError> {
        self.connections
            .credential(id)
            .await
            .map_err(internal("reading a credential"))?
            .ok_or_else(|| ServiceError::not_found(ResourceKind::Connection, id))
    }

    /// Refreshes once for everyone waiting. Whoever finds a newer version than the one they
    /// started from returns it instead of calling the provider again.
    async fn refresh_collapsed(
        &self,
        bundle: &ConnectionBundle,
        seen: &CredentialRecord,
        force: bool,
    ) -> Result<(Stored, Option<chrono::DateTime<chrono::Utc>>), ServiceError> {
        let id = bundle.connection.id;
        let lock = self.refresh_lock(id);
        let _guard = lock.lock().await;
        let current = self.current_credential(id).await?;
        if current.version != seen.version {
            return self.open_record(id, &current);
        }
        let stored = Stored::open(&self.keyring, id, &current.ciphertext)?;
        let now = self.clock.now();
        let still_valid = current.expires_at.is_none_or(|at| at > now);
        let Some(refresh_token) = stored.refresh_token().map(str::to_owned) else {
            if force {
                return Err(ServiceError::Conflict {
                    reason: ConflictReason::NotRefreshable,
                    message: "the provider issued no refresh token for this connection".to_owned(),
                });
            }
            if still_valid {
                return Ok((stored, current.expires_at));
            }
            return Err(self.needs_attention(bundle, "no_refresh_token").await);
        };

        // Across processes: one lease holder refreshes; the others wait for its result.
        let owner = &self.settings.instance_id;
        let waited = Instant::now();
        loop {
            let now = self.clock.now();
            let leased = self
                .connections
                .try_lease(id, owner, now + TimeDelta::seconds(LEASE_SECONDS), now)
                .await
                .map_err(internal("taking a refresh lease"))?;
            if leased {
                break;
            }
            let latest = self.current_credential(id).await?;
            if latest.version != current.version {
                return self.open_record(id, &latest);
            }
            if waited.elapsed() > LEASE_WAIT {
                return if still_valid && !force {
                    Ok((stored, current.expires_at))
                } else {
                    Err(ServiceError::Upstream {
                        provider: bundle.provider.provider.spec.name.to_string(),
                        retryable: true,
                    })
                };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let result = self.call_refresh(bundle, &stored, &current, &refresh_token).await;
        if let Err(error) = self.connections.release_lease(id, owner).await {
            tracing::warn!(connection_id = %id, %error, "releasing a refresh lease failed; it lapses by itself");
        }
        match result {
            Ok(fresh) => Ok(fresh),
            Err(TokenEndpointError::Rejected { error }) => Err(self.needs_attention(bundle, &error).await),
            Err(TokenEndpointError::Unavailable { reason }) => {
                tracing::warn!(provider = %bundle.provider.provider.spec.name, connection_id = %id, reason, "refresh failed upstream");
                if still_valid && !force {
                    Ok((stored, current.expires_at))
                } else {
                    Err(ServiceError::Upstream {
                        provider: bundle.provider.provider.spec.name.to_string(),
                        retryable: true,
                    })
                }
            }
        }
    }

    /// One refresh call to the provider, persisted before it is returned.
    async fn call_refresh(
        &self,
        bundle: &ConnectionBundle,
        stored: &Stored,
        current: &CredentialRecord,
        refresh_token: &str,
    ) -> Result<(Stored, Option<chrono::DateTime<chrono::Utc>>), TokenEndpointError> {
        let provider = &bundle.provider.provider;
        let id = bundle.connection.id;
        let name = provider.spec.name.as_str().to_owned();
        let unavailable = |reason: &str| TokenEndpointError::Unavailable {
            reason: reason.to_owned(),
        };
        let started = Instant::now();
        let result = async {
            let oauth = provider
                .spec
                .oauth
                .as_ref()
                .ok_or_else(|| unavailable("not an oauth2 provider"))?;
            let endpoints = self
                .discovery
                .endpoints(&name, oauth)
                .await
                .map_err(|e| unavailable(&e.to_string()))?;
            let secret = self
                .client_secret(&bundle.provider)
                .map_err(|e| unavailable(&e.to_string()))?;
            let auth = client_auth(provider, &secret).map_err(|e| unavailable(&e.to_string()))?;
            self.token_endpoint
                .refresh(&endpoints.token_url, &auth, refresh_token)
                .await
        }
        .await;
        self.metrics
            .refresh_duration
            .with_label_values(&[&name])
            .observe(started.elapsed().as_secs_f64());
        self.metrics
            .refreshes
            .with_label_values(&[name.as_str(), if result.is_ok() { "success" } else { "error" }])
            .inc();
        let response = match result {
            Ok(response) => response,
            Err(error) => {
                let reason = match &error {
                    TokenEndpointError::Rejected { error } => error.clone(),
                    TokenEndpointError::Unavailable { .. } => "upstream_unavailable".to_owned(),
                };
                self.record(
                    NewAuditEvent::new(AuditEventType::TokenRefreshFailed, &Actor::System)
                        .provider(provider.id)
                        .connection(id)
                        .workspace(bundle.connection.workspace_id.clone())
                        .data(serde_json::json!({"error": reason})),
                )
                .await;
                return Err(error);
            }
        };
        let now = self.clock.now();
        let expires_at = Stored::expiry(&response, now);
        let fresh = Stored::from_token_response(response, Some(stored));
        let credential = NewCredential {
            ciphertext: fresh.seal(&self.keyring, id),
            expires_at,
        };
        let persisted = self
            .connections
            .replace_credential(id, current.version, &credential, now)
            .await
            .map_err(|e| unavailable(&format!("persisting the refreshed credential: {e}")))?;
        self.epoch.bump();
        if !persisted {
            // Someone else wrote a newer credential meanwhile: theirs is the one to serve.
            let latest = self
                .current_credential(id)
                .await
                .map_err(|e| unavailable(&e.to_string()))?;
            return self.open_record(id, &latest).map_err(|e| unavailable(&e.to_string()));
        }
        self.record(
            NewAuditEvent::new(AuditEventType::TokenRefreshed, &Actor::System)
                .provider(provider.id)
                .connection(id)
                .workspace(bundle.connection.workspace_id.clone()),
        )
        .await;
        Ok((fresh, expires_at))
    }

    /// The provider refused the refresh: the user must consent again.
    async fn needs_attention(&self, bundle: &ConnectionBundle, error: &str) -> ServiceError {
        let connection = &bundle.connection;
        match self
            .connections
            .transition(
                connection.id,
                &[ConnectionStatus::Active],
                ConnectionStatus::AttentionRequired,
                Some(error),
                self.clock.now(),
            )
            .await
        {
            Ok(true) => {
                self.epoch.bump();
                self.record(
                    NewAuditEvent::new(AuditEventType::ConnectionAttentionRequired, &Actor::System)
                        .provider(connection.provider_id)
                        .connection(connection.id)
                        .workspace(connection.workspace_id.clone())
                        .data(serde_json::json!({"error": error})),
                )
                .await;
            }
            Ok(false) => {}
            Err(e) => {
                tracing::error!(connection_id = %connection.id, error = %e, "marking attention_required failed")
            }
        }
        ServiceError::AttentionRequired
    }
}
