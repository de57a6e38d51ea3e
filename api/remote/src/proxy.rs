//! The proxy on a split Gateway: each proxied request is streamed to the Broker's
//! `/v1/internal/proxy`, which forwards it with the credential (so a proxied credential never
//! leaves the Broker) and audits it; the provider's answer streams back. The Broker's own errors
//! come back as they came (status, code, message).

use crate::RemoteBroker;
use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use nexus_domain::agent_key::PresentedKey;
use nexus_domain::ports::ServiceResult;
use nexus_domain::proxy::{
    BodyCount, ProxyDestination, ProxyRequest, ProxyResponse, ProxyService, ProxyTarget, drain, drain_bound, limited,
};
use nexus_domain::{ErrorCode, ServiceError};
use progenitor_client::ClientInfo;
use reqwest::header::{AUTHORIZATION, HeaderValue};

/// Marks the provider's answers (the Broker's errors do not carry it).
const PROXIED: &str = "nexus-proxied";

fn header_value(field: &'static str, value: &str) -> ServiceResult<HeaderValue> {
    HeaderValue::from_str(value).map_err(|_| ServiceError::invalid(field, "cannot be sent in a header"))
}

/// The Broker's error body, as a Broker error (its status, code and message kept).
async fn broker_error(response: reqwest::Response) -> ServiceError {
    let status = response.status().as_u16();
    match response.json::<serde_json::Value>().await {
        Ok(body) if status == 403 && body["code"] == ErrorCode::Forbidden.as_str() => ServiceError::Unauthenticated,
        Ok(_) if status == 401 => {
            tracing::error!("the Broker refused this Gateway's service key (NEXUS_BROKER_SERVICE_KEY)");
            ServiceError::BrokerUnavailable
        }
        Ok(body) => ServiceError::Remote {
            status,
            code: body["code"]
                .as_str()
                .and_then(ErrorCode::parse)
                .unwrap_or(ErrorCode::InternalError),
            message: body["message"].as_str().unwrap_or_default().to_owned(),
            field: body["field"].as_str().map(str::to_owned),
            connection_id: body["connection_id"].as_str().and_then(|id| id.parse().ok()),
            retry_after_seconds: None,
        },
        Err(_) => ServiceError::BrokerUnavailable,
    }
}

#[async_trait]
impl ProxyService for RemoteBroker {
    async fn forward(&self, agent: &PresentedKey, request: ProxyRequest) -> ServiceResult<ProxyResponse> {
        let base = self.client.baseurl();
        let mut headers = request.headers;
        // The Broker's client sends this Gateway's service key; the agent's goes beside it.
        headers.remove(AUTHORIZATION);
        headers.insert("x-nexus-agent-key", header_value("Authorization", agent.expose())?);
        for name in [
            "nexus-connection-id",
            "nexus-workspace-id",
            "nexus-provider",
            "nexus-proxy-url",
        ] {
            headers.remove(name);
        }
        match &request.target {
            ProxyTarget::Connection(id) => {
                headers.insert(
                    "nexus-connection-id",
                    header_value("Nexus-Connection-Id", &id.to_string())?,
                );
            }
            ProxyTarget::Resolve { workspace_id, provider } => {
                headers.insert("nexus-workspace-id", header_value("Nexus-Workspace-Id", workspace_id)?);
                headers.insert("nexus-provider", header_value("Nexus-Provider", provider)?);
            }
        }
        let url = match &request.destination {
            ProxyDestination::Path(path) => format!("{base}/v1/internal/proxy{path}"),
            ProxyDestination::Url(url) => {
                headers.insert("nexus-proxy-url", header_value("Nexus-Proxy-Url", url)?);
                format!("{base}/v1/internal/proxy")
            }
        };
        // The Broker refuses a body past the limit by answering before reading it, which a
        // client still sending sees as a broken connection: refuse it here instead.
        let limit = self.proxy_max_body_bytes;
        let declared = headers
            .get(reqwest::header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        if let Some(length) = declared.filter(|length| *length > limit as u64) {
            // Read it (up to a bound) before answering, as the Broker does, so the agent sees
            // the 413 rather than a broken connection.
            if length <= drain_bound(limit) {
                drain(request.body, limit, 0).await;
            }
            return Err(ServiceError::PayloadTooLarge { limit });
        }
        let count = std::sync::Arc::new(BodyCount::default());
        let body = limited(request.body, limit, count.clone());
        let response = self
            .client
            .client()
            .request(request.method, url)
            .headers(headers)
            .body(reqwest::Body::wrap_stream(body))
            .send()
            .await
            .map_err(|_| {
                if count.exceeded() {
                    ServiceError::PayloadTooLarge { limit }
                } else {
                    ServiceError::BrokerUnavailable
                }
            })?;
        if !response.headers().contains_key(PROXIED) {
            return Err(broker_error(response).await);
        }
        let status = response.status();
        let mut headers = response.headers().clone();
        headers.remove(PROXIED);
        Ok(ProxyResponse {
            status,
            headers,
            body: response.bytes_stream().map_err(std::io::Error::other).boxed(),
        })
    }
}
