//! The proxy: an agent's request forwarded to its connection's API with the credential applied
//! here, so the agent never holds the secret. The credential is applied by the Rust SDK's own
//! strategy code (`nexus_client::inject`), so the proxy sends exactly what the shared vectors
//! say the SDKs send. A request goes only to the connection's origins and through the outbound
//! address policy; redirects are answered to the agent, never followed; an OAuth2 token the
//! provider answers 401 to is refreshed and the request sent once more (when its body could be
//! kept). Each call is audited and counted.

mod body;
mod headers;
mod metered;
mod target;

use crate::audit::AuditServiceImpl;
use crate::webhooks::TargetPolicy;
use async_trait::async_trait;
use nexus_domain::ServiceError;
use nexus_domain::agent_key::{Caller, PresentedKey};
use nexus_domain::connection::CredentialEnvelope;
use nexus_domain::ports::{AgentKeyService, AuditService, ConnectionService, ServiceResult};
use nexus_domain::proxy::{ProxyRequest, ProxyResponse, ProxyService, ProxyTarget};
use nexus_domain::secret::SecretString;
use nexus_domain::strategy::Strategy;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use body::BUFFERED_BODY_BYTES;

/// What the operator sets (`NEXUS_PROXY_MAX_BODY_BYTES`, `NEXUS_PROXY_TIMEOUT_SECONDS`; private
/// and loopback upstreams in development only).
#[derive(Debug, Clone, Copy)]
pub struct ProxySettings {
    pub max_body_bytes: usize,
    pub timeout: Duration,
    pub allow_private: bool,
}

impl ProxySettings {
    pub const DEFAULT_MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(25);
}

/// `nexus_proxy_requests_total{provider, status_class}` and
/// `nexus_proxy_duration_seconds{provider}` (until the provider's answer began).
#[derive(Debug, Clone)]
pub struct ProxyMetrics {
    requests: IntCounterVec,
    duration: HistogramVec,
}

impl ProxyMetrics {
    pub fn new(registry: &Registry) -> Self {
        let requests = IntCounterVec::new(
            Opts::new(
                "nexus_proxy_requests_total",
                "Requests forwarded by the proxy, by provider and the class of the answer (2xx, 3xx, 4xx, 5xx, or error when Nexus answered itself)",
            ),
            &["provider", "status_class"],
        )
        .unwrap_or_else(|e| panic!("nexus_proxy_requests_total is well-formed: {e}"));
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "nexus_proxy_duration_seconds",
                "Time from a proxied request to the start of the provider's answer",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0,
            ]),
            &["provider"],
        )
        .unwrap_or_else(|e| panic!("nexus_proxy_duration_seconds is well-formed: {e}"));
        for metric in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(duration.clone()),
        ] {
            registry
                .register(metric)
                .unwrap_or_else(|e| panic!("the proxy's metrics are registered once: {e}"));
        }
        Self { requests, duration }
    }
}

/// The proxy over this process's services.
pub struct ProxyServiceImpl {
    agent_keys: Arc<dyn AgentKeyService>,
    connections: Arc<dyn ConnectionService>,
    audit: Arc<dyn AuditService>,
    metrics: ProxyMetrics,
    settings: ProxySettings,
    policy: TargetPolicy,
    http: reqwest::Client,
}

impl std::fmt::Debug for ProxyServiceImpl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyServiceImpl")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl ProxyServiceImpl {
    pub fn new(
        agent_keys: Arc<dyn AgentKeyService>,
        connections: Arc<dyn ConnectionService>,
        audit: Arc<dyn AuditService>,
        metrics: ProxyMetrics,
        settings: ProxySettings,
    ) -> Result<Self, ServiceError> {
        let policy = TargetPolicy {
            allow_private: settings.allow_private,
        };
        let http = policy
            .client_for(settings.timeout, concat!("nexus-proxy/", env!("CARGO_PKG_VERSION")))
            .map_err(|e| ServiceError::internal("building the proxy's HTTP client", e))?;
        Ok(Self {
            agent_keys,
            connections,
            audit,
            metrics,
            settings,
            policy,
            http,
        })
    }

    async fn read(&self, caller: &Caller, target: &ProxyTarget) -> ServiceResult<CredentialEnvelope> {
        match target {
            ProxyTarget::Connection(id) => self.connections.get_token(caller, *id).await,
            ProxyTarget::Resolve { workspace_id, provider } => {
                self.connections
                    .get_token_by_workspace_and_provider(caller, workspace_id, provider)
                    .await
            }
        }
    }

    /// One send of the request with `envelope`'s credential.
    async fn send(
        &self,
        envelope: &CredentialEnvelope,
        method: &http::Method,
        url: &url::Url,
        headers: &http::HeaderMap,
        body: reqwest::Body,
        limit: &body::Limit,
    ) -> ServiceResult<reqwest::Response> {
        let mut request = reqwest::Request::new(method.clone(), url.clone());
        *request.headers_mut() = headers.clone();
        *request.body_mut() = Some(body);
        let request = nexus_client::inject::inject(&sdk_envelope(envelope)?, request).map_err(|error| {
            // The envelope was checked against these origins already: only a credential that
            // cannot be applied (a missing field) lands here.
            ServiceError::ProviderMisconfigured {
                provider: envelope.provider.to_string(),
                message: format!("its credential cannot be applied ({})", error.code()),
            }
        })?;
        let upstream = |retryable| ServiceError::Upstream {
            provider: envelope.provider.to_string(),
            retryable,
            retry_after_seconds: None,
        };
        self.http.execute(request).await.map_err(|error| {
            if limit.exceeded() {
                ServiceError::PayloadTooLarge {
                    limit: self.settings.max_body_bytes,
                }
            } else if crate::resolver::refused_inside(&error) {
                target::refused_address(url)
            } else {
                upstream(error.is_timeout() || error.is_connect())
            }
        })
    }
}

/// The envelope as the SDK's strategy code takes it (the Gateway's JSON shape).
fn sdk_envelope(envelope: &CredentialEnvelope) -> ServiceResult<nexus_client::gateway::types::CredentialEnvelope> {
    let value = serde_json::json!({
        "connection_id": envelope.connection_id.to_string(),
        "workspace_id": envelope.workspace_id.to_string(),
        "provider": envelope.provider.to_string(),
        "strategy": envelope.strategy,
        "credentials": envelope.credentials.0,
        "scopes": [],
        "api_origins": envelope.api_origins.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "api_headers": envelope.api_headers.0,
        "api_query": envelope.api_query.0,
    });
    nexus_client::inject::envelope_from_json(&value)
        .map_err(|error| ServiceError::internal("reading an envelope for the proxy", error.code()))
}

#[async_trait]
impl ProxyService for ProxyServiceImpl {
    async fn forward(&self, agent: &PresentedKey, request: ProxyRequest) -> ServiceResult<ProxyResponse> {
        let principal = self
            .agent_keys
            .authenticate(&SecretString::from(agent.expose().to_owned()))
            .await?;
        let caller = Caller::proxy_for(&principal);
        let envelope = self.read(&caller, &request.target).await?;
        let provider = envelope.provider.to_string();
        let started = Instant::now();
        let call = metered::Call {
            audit: self.audit.clone(),
            metrics: self.metrics.clone(),
            actor: caller.actor.clone(),
            connection_id: envelope.connection_id,
            workspace_id: envelope.workspace_id.clone(),
            provider: provider.clone(),
            method: request.method.to_string(),
        };
        let result = self.forward_read(&caller, envelope, request, &call).await;
        self.metrics
            .duration
            .with_label_values(&[provider.as_str()])
            .observe(started.elapsed().as_secs_f64());
        match result {
            Ok(response) => Ok(response),
            Err((error, url)) => {
                call.finish(url.as_ref(), None, 0, 0, Some(&error)).await;
                Err(error)
            }
        }
    }
}

impl ProxyServiceImpl {
    /// Everything after the read; an error carries the URL it was for, when there was one.
    async fn forward_read(
        &self,
        caller: &Caller,
        envelope: CredentialEnvelope,
        request: ProxyRequest,
        call: &metered::Call,
    ) -> Result<ProxyResponse, (ServiceError, Option<url::Url>)> {
        let url = target::resolve(&envelope, &request.destination).map_err(|e| (e, None))?;
        let with_url = |error: ServiceError| (error, Some(url.clone()));
        target::check_address(&self.policy, &url).map_err(with_url)?;
        let headers = headers::forwarded(&request.headers);
        let signed = matches!(envelope.strategy, Strategy::AwsSigv4 { .. });
        let prepared = body::prepare(
            request.body,
            &request.headers,
            &request.method,
            self.settings.max_body_bytes,
            signed,
        )
        .await
        .map_err(with_url)?;
        let limit = prepared.limit().clone();
        let request_bytes = prepared.known_length();
        let mut response = self
            .send(&envelope, &request.method, &url, &headers, prepared.body(), &limit)
            .await
            .map_err(with_url)?;
        if response.status() == http::StatusCode::UNAUTHORIZED
            && matches!(envelope.strategy, Strategy::Oauth2)
            && let Some(again) = prepared.replay()
        {
            let refreshed = self
                .connections
                .refresh_token(caller, envelope.connection_id)
                .await
                .map_err(with_url)?;
            response = self
                .send(&refreshed, &request.method, &url, &headers, again, &limit)
                .await
                .map_err(with_url)?;
        }
        let status = response.status();
        let response_headers = headers::returned(response.headers());
        let body = call
            .clone()
            .meter(url, status, request_bytes.unwrap_or_else(|| limit.sent()), response);
        Ok(ProxyResponse {
            status,
            headers: response_headers,
            body,
        })
    }
}

/// Records a proxied call's audit event in the background (from a finished or dropped stream).
async fn record(audit: Arc<dyn AuditService>, event: nexus_domain::audit::NewAuditEvent) {
    AuditServiceImpl::record_or_log(audit.as_ref(), event).await;
}
