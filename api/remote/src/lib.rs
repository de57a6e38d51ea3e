//! A Gateway in its own process: the Gateway's port over the generated Broker client, with a
//! service key. The Gateway holds no database and no encryption key. Each operation is one call
//! to the Broker, carrying the agent's own key, which the Broker authenticates in that same call;
//! every Broker error is passed on unchanged, and a Broker that cannot be reached is
//! `broker_unavailable` (503, retryable).
//!
//! Credentials the Broker served are served again to the same agent key from a short cache
//! ([`cache`]); those reads are reported back to the Broker ([`reads`]), which audits them.

mod cache;
mod convert;
mod errors;
mod proxy;
mod reads;

use async_trait::async_trait;
use cache::{CacheKey, EnvelopeCache, Lifetimes, Served};
use nexus_client::broker::{Client, types};
use nexus_domain::agent_key::PresentedKey;
use nexus_domain::connection::{ConsentRequest, ConsentSpec, CredentialEnvelope};
use nexus_domain::gateway::ConnectionState;
use nexus_domain::ports::{GatewayService, HealthService, ServiceResult};
use nexus_domain::provider::ProviderSummary;
use nexus_domain::secret::{ExposeSecret, SecretString};
use nexus_domain::{ConnectionId, ErrorCode, ServiceError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

pub use errors::remote_error;

/// The Broker, seen from a Gateway.
#[derive(Debug)]
pub struct RemoteBroker {
    client: Client,
    cache: EnvelopeCache,
    reads: reads::ReadTally,
    /// The proxy's body limit (the Broker's too): a larger body is refused here.
    proxy_max_body_bytes: usize,
    /// `nexus_stale_reads_total`, when the process exports metrics.
    stale_reads: std::sync::OnceLock<prometheus::IntCounterVec>,
}

impl RemoteBroker {
    pub fn new(base_url: &str, service_key: &SecretString, proxy_max_body_bytes: usize) -> Result<Arc<Self>, String> {
        let client = nexus_client::broker_client(base_url, service_key.expose_secret()).map_err(|e| e.to_string())?;
        Ok(Arc::new(Self {
            client,
            cache: EnvelopeCache::default(),
            reads: reads::ReadTally::default(),
            proxy_max_body_bytes,
            stale_reads: std::sync::OnceLock::new(),
        }))
    }

    /// Counts reads served stale in `metric` (`nexus_stale_reads_total{provider}`); the first
    /// metric given is kept.
    pub fn count_stale_reads_in(&self, metric: prometheus::IntCounterVec) {
        let _ = self.stale_reads.set(metric);
    }

    /// Reports cached reads to the Broker (and drops expired cache entries) every second until
    /// shutdown. Must run; [`RemoteBroker::close`] sends the last report.
    pub async fn report_reads(&self, mut shutdown: watch::Receiver<bool>) {
        let mut ticker = tokio::time::interval(reads::REPORT_INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {
                    self.cache.evict_expired();
                    let reported = self.reads.report(&self.client).await;
                    self.cache.retire(&reported.retired);
                    self.reads.retired(&reported.retired);
                }
                () = stopped(&mut shutdown) => return,
            }
        }
    }

    /// After the listener has drained: stops serving from the cache and reports what is left.
    pub async fn close(&self) {
        self.reads.close(&self.client).await;
    }

    /// A cached credential for this key and target, counted as a read to report.
    fn cached(&self, key: &CacheKey) -> Option<CredentialEnvelope> {
        let (served, fresh_until) = self.cache.get(key)?;
        // When the tally is closed or full, the read goes to the Broker, which audits it itself.
        self.reads
            .count_fresh(&served.receipt, fresh_until)
            .then_some(served.envelope)
    }

    fn keep(
        &self,
        key: CacheKey,
        credential: types::GatewayCredential,
        generation: u64,
    ) -> ServiceResult<CredentialEnvelope> {
        let mut envelope = convert::envelope(credential.envelope)?;
        envelope.stale_seconds = credential.stale_seconds;
        let served = Served {
            receipt: credential.receipt,
            envelope: envelope.clone(),
        };
        let lifetimes = Lifetimes {
            cache_for: Duration::from_millis(credential.cache_for_ms),
            stale_for: Duration::from_millis(credential.stale_for_ms.unwrap_or(0)),
            age: Duration::from_secs(credential.stale_seconds.unwrap_or(0)),
        };
        self.cache.put(key, served, lifetimes, generation);
        Ok(envelope)
    }

    /// The Broker's answer, or, when it could not answer (unreachable, or its database away),
    /// what it served before for `key`, within the bound it gave. A stale read is counted and
    /// reported like a cached one; one that cannot be tallied is not served.
    fn or_stale(
        &self,
        key: &CacheKey,
        answer: ServiceResult<types::GatewayCredential>,
        generation: u64,
    ) -> ServiceResult<CredentialEnvelope> {
        let error = match answer {
            Ok(credential) => return self.keep(key.clone(), credential, generation),
            Err(error) if broker_cannot_answer(&error) => error,
            Err(error) => {
                // A definite answer (revoked, not found, key refused) ends what was kept; a
                // refused agent key ends everything kept for it.
                if matches!(error, ServiceError::Unauthenticated) {
                    self.cache.forget_agent(key);
                } else if !matches!(
                    error,
                    ServiceError::Upstream { .. } | ServiceError::Remote { status: 500.., .. }
                ) {
                    self.cache.forget(key);
                }
                return Err(error);
            }
        };
        let Some((served, age)) = self.cache.get_stale(key) else {
            return Err(error);
        };
        if !self.reads.count_stale(&served.receipt) {
            return Err(error);
        }
        let mut envelope = served.envelope;
        envelope.stale_seconds = Some(age.as_secs());
        if let Some(metric) = self.stale_reads.get() {
            metric.with_label_values(&[envelope.provider.as_str()]).inc();
        }
        Ok(envelope)
    }
}

/// Resolves once `shutdown` is true (or its sender is gone). Holds no guard across an await.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow_and_update() {
            return;
        }
        if shutdown.changed().await.is_err() {
            return;
        }
    }
}

/// The Broker is unreachable, or answered that its database is away.
fn broker_cannot_answer(error: &ServiceError) -> bool {
    matches!(
        error,
        ServiceError::BrokerUnavailable
            | ServiceError::Remote {
                code: ErrorCode::ServiceUnavailable,
                ..
            }
    )
}

fn key(agent: &PresentedKey) -> String {
    agent.expose().to_owned()
}

#[async_trait]
impl GatewayService for RemoteBroker {
    async fn catalog(&self, agent: &PresentedKey) -> ServiceResult<Vec<ProviderSummary>> {
        let catalog = self
            .client
            .internal_provider_catalog()
            .x_nexus_agent_key(key(agent))
            .send()
            .await
            .map_err(remote_error)?
            .into_inner();
        catalog.items.into_iter().map(convert::summary).collect()
    }

    async fn request_connection(&self, agent: &PresentedKey, request: ConsentRequest) -> ServiceResult<ConsentSpec> {
        let requested = self
            .client
            .internal_connection_request()
            .x_nexus_agent_key(key(agent))
            .body(convert::connection_request(request)?)
            .send()
            .await
            .map_err(remote_error)?
            .into_inner();
        convert::consent_spec(requested)
    }

    async fn check_connection(&self, agent: &PresentedKey, id: ConnectionId) -> ServiceResult<ConnectionState> {
        let check = self
            .client
            .internal_connection_check()
            .x_nexus_agent_key(key(agent))
            .connection_id(id.to_string())
            .send()
            .await
            .map_err(remote_error)?
            .into_inner();
        convert::connection_state(check)
    }

    async fn token(&self, agent: &PresentedKey, id: ConnectionId) -> ServiceResult<CredentialEnvelope> {
        let cache_key = CacheKey::connection(agent, id);
        if let Some(envelope) = self.cached(&cache_key) {
            return Ok(envelope);
        }
        let generation = self.cache.generation();
        let answer = self
            .client
            .internal_token_get()
            .x_nexus_agent_key(key(agent))
            .connection_id(id.to_string())
            .send()
            .await
            .map(progenitor_client::ResponseValue::into_inner)
            .map_err(remote_error);
        self.or_stale(&cache_key, answer, generation)
    }

    async fn resolve(
        &self,
        agent: &PresentedKey,
        workspace_id: &str,
        provider: &str,
    ) -> ServiceResult<CredentialEnvelope> {
        let cache_key = CacheKey::resolve(agent, workspace_id, provider);
        if let Some(envelope) = self.cached(&cache_key) {
            return Ok(envelope);
        }
        let generation = self.cache.generation();
        let answer = self
            .client
            .internal_token_resolve()
            .x_nexus_agent_key(key(agent))
            .workspace_id(workspace_id)
            .provider(provider)
            .send()
            .await
            .map(progenitor_client::ResponseValue::into_inner)
            .map_err(remote_error);
        self.or_stale(&cache_key, answer, generation)
    }

    async fn refresh(&self, agent: &PresentedKey, id: ConnectionId) -> ServiceResult<CredentialEnvelope> {
        let envelope = self
            .client
            .internal_token_refresh()
            .x_nexus_agent_key(key(agent))
            .connection_id(id.to_string())
            .send()
            .await
            .map_err(remote_error)?
            .into_inner();
        // What was cached for this connection is older than what the agent just forced.
        self.cache.forget_connection(id);
        convert::envelope(envelope)
    }
}

#[async_trait]
impl HealthService for RemoteBroker {
    /// Ready when the Broker is ready.
    async fn ready(&self) -> ServiceResult<()> {
        self.client.health_ready().send().await.map_err(remote_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    /// A split Gateway answers what the Broker answers: it must not give up on a read the
    /// Broker is still allowed to spend on a slow provider.
    #[test]
    fn the_broker_client_waits_longer_than_a_read_may_take() {
        assert!(nexus_client::DEFAULT_TIMEOUT >= nexus_domain::deadline::READ_REFRESH_BUDGET + Duration::from_secs(5));
    }
}
