//! Stale-if-error: when the database cannot answer a token read, the envelope this process last
//! served for the same request is served again from memory, if it was read from the database no
//! longer than `stale_if_error` ago, nothing this process saw since (a refresh, a revocation, a
//! provider edit) invalidated it, and its credential stays valid beyond the refresh skew. Such an
//! answer carries its age (`Nexus-Stale`), is counted in `nexus_stale_reads_total` and audited
//! like any read. Nothing is refreshed meanwhile: a rotated refresh token could not be stored.
//!
//! A definite answer from the database (not found, revoked, waiting on consent) forgets what
//! was cached for the request, so a revocation seen before an outage is never served around.

use super::{CachedEnvelope, ConnectionServiceImpl, EnvelopeKey};
use nexus_domain::ServiceError;
use nexus_domain::agent_key::Caller;
use nexus_domain::connection::CredentialEnvelope;
use std::sync::Arc;
use std::time::Duration;

impl ConnectionServiceImpl {
    /// `result`, or, when it is a database outage, the envelope last served for `key` if it may
    /// still be served.
    pub(super) async fn or_stale(
        &self,
        caller: &Caller,
        key: &EnvelopeKey,
        result: Result<CredentialEnvelope, ServiceError>,
    ) -> Result<CredentialEnvelope, ServiceError> {
        let error = match result {
            Ok(envelope) => return Ok(envelope),
            Err(error @ ServiceError::Unavailable { .. }) => error,
            Err(error) => {
                self.forget_on_definite_answer(caller, key, &error);
                return Err(error);
            }
        };
        let Some((cached, age)) = self.stale_envelope(caller, key) else {
            return Err(error);
        };
        let mut envelope = cached.envelope.clone();
        envelope.stale_seconds = Some(age.as_secs());
        self.metrics
            .stale_reads
            .with_label_values(&[envelope.provider.as_str()])
            .inc();
        self.audit_read(caller, &envelope).await;
        Ok(envelope)
    }

    /// The envelope cached under `key` that may be served stale to `caller`, and its age.
    fn stale_envelope(&self, caller: &Caller, key: &EnvelopeKey) -> Option<(Arc<CachedEnvelope>, Duration)> {
        let bound = self.settings.stale_if_error;
        if bound.is_zero() {
            return None;
        }
        let (cached, age) = self.envelopes.get_stale(key, bound, |stamp, cached| {
            self.epoch.valid(stamp, &cached.depends_on())
        })?;
        let envelope = &cached.envelope;
        // Valid beyond the skew: a token that would be refreshed now is not served from memory.
        let usable_until = envelope.expires_at.map(|at| at - self.settings.refresh_skew);
        let still_usable = usable_until.is_none_or(|until| until > self.clock.now());
        (still_usable && caller.can_access(&envelope.workspace_id)).then_some((cached, age))
    }

    /// After the database said the request cannot be served (not found, not active), what was
    /// cached for it must not be served during a later outage. A "not found" only counts when
    /// the caller may see the cached envelope's workspace, so that a key restricted elsewhere
    /// cannot make others' reads go to the database.
    fn forget_on_definite_answer(&self, caller: &Caller, key: &EnvelopeKey, error: &ServiceError) {
        let definite = matches!(
            error,
            ServiceError::NotFound { .. } | ServiceError::Conflict { .. } | ServiceError::AttentionRequired { .. }
        );
        if !definite {
            return;
        }
        let Some((cached, _)) = self.envelopes.get_stale(key, Duration::MAX, |_, _| true) else {
            return;
        };
        if caller.can_access(&cached.envelope.workspace_id) {
            self.epoch.invalidate(&cached.depends_on());
        }
    }
}
