//! One refresh task: take the lease (or use the claimed one), re-read under it, call the
//! provider with bounded retries, classify what went wrong, and store the answer with a fenced
//! write that is retried until it lands.

use super::backoff::{backoff_after_failures, jittered, retry_wait};
use super::{Fresh, Job, LEASE_WAIT, MAX_ATTEMPTS, Outcome, PROVIDER_CALL_LEASE, RefreshError, Refresher};
use crate::audit::AuditServiceImpl;
use crate::cache::Invalidation;
use crate::connections::Stored;
use crate::oauth::{ClientSource, TokenDialect, TokenEndpointError, TokenResponse};
use nexus_domain::ConnectionId;
use nexus_domain::ServiceError;
use nexus_domain::agent_key::Actor;
use nexus_domain::audit::{AuditEventType, NewAuditEvent};
use nexus_domain::token_lifetime::TokenLifetime;
use nexus_domain::token_lifetime::half_life;
use nexus_repositories::{ConnectionBundle, CredentialRecord, NewCredential, RefreshFailure, RefreshLease};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// The background refresher leaves a connection alone this long after a transient failure
/// (doubling with each failure in a row), and longer after the provider refused the client.
const TRANSIENT_BACKOFF: Duration = Duration::from_secs(30);
const MISCONFIGURED_BACKOFF: Duration = Duration::from_secs(300);
/// A connection whose provider issued no refresh token is not looked at again for this long.
const NO_REFRESH_TOKEN_BACKOFF: Duration = Duration::from_secs(86_400);
/// Failed refreshes in a row (each already retried within its attempt) before subscribers hear
/// of it: one blip is noise, three in a row (minutes apart, with backoff) is an outage.
pub const REFRESH_FAILED_EVENT_AFTER: u32 = 3;

/// The answer to everyone waiting, sent once: as soon as there is a credential to serve, which
/// may be before it is stored.
struct Answer(Option<oneshot::Sender<Outcome>>);

impl Answer {
    fn send(&mut self, outcome: Outcome) {
        if let Some(sender) = self.0.take() {
            // Nobody listening (every caller went away) is fine: the work is done regardless.
            let _ = sender.send(outcome);
        }
    }
}

/// Removes the task's entry from the in-flight map when the task ends, however it ends.
struct Forget<'a> {
    refresher: &'a Refresher,
    id: ConnectionId,
    task: u64,
}

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        self.refresher.forget(self.id, self.task);
    }
}

impl Refresher {
    pub(super) async fn run(&self, job: Job, answer: oneshot::Sender<Outcome>) {
        let mut answer = Answer(Some(answer));
        let id = job.bundle.connection.id;
        // However this task ends (a panic included), later callers start afresh: until then
        // they were given its answer, or the credential held in memory while its write was
        // retried.
        let _forget = Forget {
            refresher: self,
            id,
            task: job.task,
        };
        let lease = match job.claimed.clone() {
            Some(lease) => lease,
            None => match self.acquire(id, job.seen_version, job.deadline).await {
                Ok(lease) => lease,
                Err(outcome) => return answer.send(outcome),
            },
        };
        let outcome = self.under_lease(&job, &lease, &mut answer).await;
        if let Err(error) = &outcome {
            self.cool_down(id, error);
        }
        let refreshed = outcome.is_ok();
        self.forget(id, job.task);
        answer.send(outcome);
        self.release(id, &lease.owner, refreshed).await;
    }

    /// Takes the lease, or returns the newer credential another process stored while we waited.
    /// Waiters only read the database: they never call the provider.
    async fn acquire(&self, id: ConnectionId, seen_version: i64, deadline: Instant) -> Result<RefreshLease, Outcome> {
        let give_up = deadline.min(Instant::now() + LEASE_WAIT);
        loop {
            let lease = self.new_lease();
            match self.deps.leases.take_lease(id, &lease).await {
                Ok(true) => return Ok(lease),
                Ok(false) => {}
                Err(e) => return Err(Err(RefreshError::internal("taking a refresh lease", e))),
            }
            match self.deps.connections.credential(id).await {
                Ok(Some(latest)) if latest.version != seen_version => return Err(self.open(id, &latest)),
                Ok(Some(_)) => {}
                Ok(None) => return Err(Err(RefreshError::Gone)),
                Err(e) => return Err(Err(RefreshError::internal("reading a credential", e))),
            }
            if Instant::now() >= give_up {
                return Err(Err(RefreshError::Busy));
            }
            tokio::time::sleep(jittered(Duration::from_millis(100))).await;
        }
    }

    async fn under_lease(&self, job: &Job, lease: &RefreshLease, answer: &mut Answer) -> Outcome {
        let id = job.bundle.connection.id;
        // Under the lease, the credential as it is now: the holder before us may have refreshed
        // already. A claimed job's bundle was read under its lease; a reader's must be re-read.
        let current = match (&job.claimed, &job.bundle.credential) {
            (Some(_), Some(read_under_lease)) => read_under_lease.clone(),
            _ => match self.deps.connections.credential(id).await {
                Ok(Some(current)) => current,
                Ok(None) => return Err(RefreshError::Gone),
                Err(e) => return Err(RefreshError::internal("reading a credential", e)),
            },
        };
        if current.version != job.seen_version {
            return self.open(id, &current);
        }
        let stored = Stored::open(&self.deps.keyring, id, &current.ciphertext)
            .map_err(|e| RefreshError::internal("opening a stored credential", e))?;
        let Some(refresh_token) = stored.refresh_token().map(str::to_owned) else {
            self.back_off(id, current.version, NO_REFRESH_TOKEN_BACKOFF, None, "no_refresh_token")
                .await;
            return Err(RefreshError::NoRefreshToken);
        };
        let grant = ClientSource::Grant {
            client: stored.grant_client(),
            issuer: stored.grant_issuer(),
        };
        let response = match self.call_with_retries(job, lease, &grant, &refresh_token).await {
            Ok(response) => response,
            Err(error) => return self.failed(&job.bundle, current.version, error).await,
        };
        let now = self.deps.clock.now();
        if let Some(expires_at) = current.expires_at {
            let before_expiry = (expires_at - now).num_milliseconds().max(0) as f64 / 1000.0;
            self.deps.metrics.refresh_lag.observe(before_expiry);
        }
        let expires_at = Stored::expiry(&response, now);
        let fresh = Fresh {
            lifetime: TokenLifetime {
                expires_at,
                refresh_not_before: half_life(now, expires_at),
            },
            stored: Stored::from_token_response(response, Some(&stored)),
        };
        self.persist(&job.bundle, &current, lease, fresh, answer).await
    }

    /// Calls the provider until it answers, says something final, or the budget runs out.
    async fn call_with_retries(
        &self,
        job: &Job,
        lease: &RefreshLease,
        grant: &ClientSource<'_>,
        refresh_token: &str,
    ) -> Result<TokenResponse, TokenEndpointError> {
        let id = job.bundle.connection.id;
        let provider = job.bundle.provider.provider.spec.name.as_str();
        let mut attempt = 0;
        loop {
            attempt += 1;
            // From here the provider may rotate the refresh token: hold the lease long enough
            // that nobody presents the old one before the answer is stored. Without the lease,
            // do not call at all.
            if !self.renew(id, lease, PROVIDER_CALL_LEASE).await {
                return Err(TokenEndpointError::Transient {
                    reason: "the refresh lease was lost".to_owned(),
                    retry_after: None,
                });
            }
            let (reason, retry_after) = match self.call_provider(&job.bundle, grant, refresh_token).await {
                Err(TokenEndpointError::Transient { reason, retry_after }) => (reason, retry_after),
                other => return other,
            };
            let wait = retry_wait(attempt, retry_after);
            if attempt >= MAX_ATTEMPTS || Instant::now() + wait >= job.deadline {
                return Err(TokenEndpointError::Transient { reason, retry_after });
            }
            tracing::info!(provider, connection_id = %id, attempt, wait_ms = wait.as_millis() as u64, reason, "refresh failed upstream; retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// One refresh call to the provider's token endpoint, by the client the grant was made with
    /// (`grant`: Nexus's registered client, else the provider's own), at the authorization server
    /// it was made at.
    async fn call_provider(
        &self,
        bundle: &ConnectionBundle,
        grant: &ClientSource<'_>,
        refresh_token: &str,
    ) -> Result<TokenResponse, TokenEndpointError> {
        let provider = &bundle.provider.provider;
        let name = provider.spec.name.as_str();
        let misconfigured = |error: &str| TokenEndpointError::Misconfigured {
            error: error.to_owned(),
        };
        let started = std::time::Instant::now();
        let result = async {
            let spec = provider
                .spec
                .for_connection(&bundle.connection.connection_params)
                .map_err(|_| misconfigured("connection_params_invalid"))?;
            let oauth = spec.oauth.as_ref().ok_or_else(|| misconfigured("not_oauth2"))?;
            let party = self
                .deps
                .parties
                .party(&bundle.provider, &spec, grant.clone())
                .await
                .map_err(|e| match e {
                    ServiceError::ProviderMisconfigured { .. } => misconfigured("discovery_invalid"),
                    _ => TokenEndpointError::Transient {
                        reason: "discovery unavailable".to_owned(),
                        retry_after: None,
                    },
                })?;
            // A refresh URL of its own (Figma's), filled for the connection like the token URL.
            let refresh_url = oauth
                .refresh_url
                .as_ref()
                .and_then(|url| url.fixed())
                .unwrap_or(&party.endpoints.token_url);
            let dialect = TokenDialect::refresh(oauth).for_resource(party.resource_for(true));
            let answer = self
                .deps
                .token_endpoint
                .refresh(refresh_url, &party.client.auth(), dialect, refresh_token)
                .await;
            if let Err(TokenEndpointError::Misconfigured { .. }) = &answer {
                // Discovered again next time; a refused registered client is registered again.
                self.deps.parties.refused(&spec, Some(&party)).await;
            }
            answer
        }
        .await;
        self.deps
            .metrics
            .refresh_duration
            .with_label_values(&[name])
            .observe(started.elapsed().as_secs_f64());
        self.deps
            .metrics
            .refreshes
            .with_label_values(&[name, if result.is_ok() { "success" } else { "error" }])
            .inc();
        result
    }

    /// What a failed refresh does to the connection: only a revoked grant costs the consent, and
    /// only the grant the refresh presented: when a consent stored a newer credential while the
    /// provider was answering, the newer credential is the outcome.
    async fn failed(&self, bundle: &ConnectionBundle, seen_version: i64, error: TokenEndpointError) -> Outcome {
        let connection = &bundle.connection;
        let provider = bundle.provider.provider.spec.name.as_str();
        let (reason, outcome) = match &error {
            TokenEndpointError::GrantRevoked { error } => {
                if !self.mark_attention_required(bundle, seen_version, error).await
                    && let Ok(Some(newer)) = self.deps.connections.credential(connection.id).await
                    && newer.version != seen_version
                {
                    tracing::info!(connection_id = %connection.id, "the provider refused a grant that a newer consent replaced");
                    return self.open(connection.id, &newer);
                }
                ("grant_revoked", RefreshError::GrantRevoked)
            }
            TokenEndpointError::Misconfigured { .. } => {
                self.back_off(
                    connection.id,
                    seen_version,
                    MISCONFIGURED_BACKOFF,
                    None,
                    "provider_misconfigured",
                )
                .await;
                ("provider_misconfigured", RefreshError::Misconfigured)
            }
            TokenEndpointError::Transient { retry_after, .. } => {
                self.back_off(
                    connection.id,
                    seen_version,
                    TRANSIENT_BACKOFF,
                    *retry_after,
                    "upstream_unavailable",
                )
                .await;
                (
                    "upstream_unavailable",
                    RefreshError::Transient {
                        retry_after: *retry_after,
                    },
                )
            }
        };
        tracing::warn!(provider, connection_id = %connection.id, reason, code = error.code(), "token refresh failed");
        self.deps
            .metrics
            .refresh_failures
            .with_label_values(&[provider, reason])
            .inc();
        self.record(
            NewAuditEvent::new(AuditEventType::TokenRefreshFailed, &Actor::System)
                .provider(connection.provider_id)
                .connection(connection.id)
                .workspace(connection.workspace_id.clone())
                .data(serde_json::json!({"reason": reason, "error": error.code()})),
        )
        .await;
        Err(outcome)
    }

    /// Stores the refreshed credential: fenced on the version read and on our lease, retried
    /// until it lands. After a failed write the credential is served from memory (everyone in
    /// this process awaiting the refresh gets it) while the write is retried, and the lease is
    /// kept so no other process refreshes with the refresh token the provider just retired.
    async fn persist(
        &self,
        bundle: &ConnectionBundle,
        read: &CredentialRecord,
        lease: &RefreshLease,
        fresh: Fresh,
        answer: &mut Answer,
    ) -> Outcome {
        let id = bundle.connection.id;
        let credential = NewCredential {
            ciphertext: fresh.stored.seal(&self.deps.keyring, id),
            expires_at: fresh.lifetime.expires_at,
            refresh_not_before: fresh.lifetime.refresh_not_before,
        };
        let mut delay = Duration::from_millis(100);
        let mut failures = 0u32;
        loop {
            let now = self.deps.clock.now();
            match self
                .deps
                .leases
                .store_refreshed(id, read.version, &lease.owner, &credential, now)
                .await
            {
                Ok(true) => {
                    // This connection's cached envelopes only (its targets' depend on it too).
                    self.deps.epoch.invalidate(&[Invalidation::Connection(id)]);
                    if failures > 0 {
                        tracing::warn!(connection_id = %id, failures, "the refreshed credential is stored at last");
                    }
                    self.record(
                        NewAuditEvent::new(AuditEventType::TokenRefreshed, &Actor::System)
                            .provider(bundle.connection.provider_id)
                            .connection(id)
                            .workspace(bundle.connection.workspace_id.clone()),
                    )
                    .await;
                    return Ok(fresh);
                }
                Ok(false) => match self.deps.connections.credential(id).await {
                    Ok(Some(latest)) if latest.version != read.version => {
                        // Our lease lapsed and another holder stored a newer credential: theirs wins.
                        tracing::warn!(connection_id = %id, "a newer credential was stored while this refresh held a lapsed lease");
                        return self.open(id, &latest);
                    }
                    Ok(None) => return Err(RefreshError::Gone),
                    // Same version, but the lease is someone else's: take it back once it is free.
                    Ok(Some(_)) => {
                        let _ = self
                            .deps
                            .leases
                            .take_lease(id, &self.extended(lease, PROVIDER_CALL_LEASE))
                            .await;
                    }
                    Err(error) => {
                        tracing::error!(connection_id = %id, %error, "re-reading a credential after a fenced write failed")
                    }
                },
                Err(error) => {
                    failures += 1;
                    tracing::error!(
                        connection_id = %id, failures, %error,
                        "STORING A REFRESHED CREDENTIAL FAILED; it is served from memory and the write is retried"
                    );
                    answer.send(Ok(fresh.clone()));
                }
            }
            tokio::time::sleep(jittered(delay)).await;
            delay = (delay * 2).min(Duration::from_secs(5));
            self.renew(id, lease, PROVIDER_CALL_LEASE).await;
        }
    }

    /// The provider says the grant is gone: the user must consent again, unless the credential
    /// moved on from `seen_version` meanwhile (a re-consent completed while the refresh with the
    /// old grant was in flight).
    /// `true` when the connection was marked.
    pub(crate) async fn mark_attention_required(
        &self,
        bundle: &ConnectionBundle,
        seen_version: i64,
        error: &str,
    ) -> bool {
        let connection = &bundle.connection;
        match self
            .deps
            .connections
            .require_attention(connection.id, seen_version, error, self.deps.clock.now())
            .await
        {
            Ok(true) => {
                self.deps.epoch.invalidate(&[Invalidation::Connection(connection.id)]);
                self.record(
                    NewAuditEvent::new(AuditEventType::ConnectionAttentionRequired, &Actor::System)
                        .provider(connection.provider_id)
                        .connection(connection.id)
                        .workspace(connection.workspace_id.clone())
                        .data(serde_json::json!({"error": error})),
                )
                .await;
                true
            }
            Ok(false) => false,
            Err(e) => {
                tracing::error!(connection_id = %connection.id, error = %e, "marking attention_required failed");
                false
            }
        }
    }

    /// Tells the background refresher to leave the connection alone for a while; the
    /// `REFRESH_FAILED_EVENT_AFTER`th failure in a row raises `connection.refresh_failed`.
    async fn back_off(
        &self,
        id: ConnectionId,
        seen_version: i64,
        base: Duration,
        retry_after: Option<Duration>,
        reason: &str,
    ) {
        let now = self.deps.clock.now();
        let retry_at = move |failures: u32| {
            let wait = backoff_after_failures(failures, base, retry_after);
            now + chrono::TimeDelta::from_std(wait).unwrap_or(chrono::TimeDelta::hours(1))
        };
        let failure = RefreshFailure {
            reason,
            notify_after: REFRESH_FAILED_EVENT_AFTER,
            at: now,
            credential_version: seen_version,
        };
        if let Err(error) = self.deps.leases.record_failure(id, &retry_at, failure).await {
            tracing::warn!(connection_id = %id, %error, "recording a refresh failure failed");
        }
    }

    /// `lease`, held for `duration` from the database's now at each take or renewal.
    pub(super) fn extended(&self, lease: &RefreshLease, duration: Duration) -> RefreshLease {
        RefreshLease {
            owner: lease.owner.clone(),
            hold: duration,
        }
    }

    /// Extends our lease; `false` when someone else holds it now, and when the renewal could not
    /// be made: without a lease known to be held, no provider call is made (another process may
    /// be presenting the same refresh token).
    async fn renew(&self, id: ConnectionId, lease: &RefreshLease, duration: Duration) -> bool {
        match self.deps.leases.renew_lease(id, &self.extended(lease, duration)).await {
            Ok(held) => held,
            Err(error) => {
                tracing::warn!(connection_id = %id, %error, "renewing a refresh lease failed; not calling the provider");
                false
            }
        }
    }

    async fn record(&self, event: NewAuditEvent) {
        AuditServiceImpl::record_or_log(self.deps.audit.as_ref(), event).await;
    }
}
