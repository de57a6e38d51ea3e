//! A proxied call's answer streamed back to the agent, counted as it goes: when the stream ends
//! (or the agent goes away) the call is audited (agent key, connection, method, origin, path
//! without query values, status, bytes; never a body or a header value) and counted.

use super::ProxyMetrics;
use futures::StreamExt;
use nexus_domain::agent_key::Actor;
use nexus_domain::audit::{AuditEventType, NewAuditEvent};
use nexus_domain::ports::AuditService;
use nexus_domain::proxy::BodyStream;
use nexus_domain::{ConnectionId, ServiceError, WorkspaceId};
use std::sync::Arc;
use url::Url;

/// What the audit event and the metrics need to know of a call.
#[derive(Clone)]
pub(super) struct Call {
    pub(super) audit: Arc<dyn AuditService>,
    pub(super) metrics: ProxyMetrics,
    pub(super) actor: Actor,
    pub(super) connection_id: ConnectionId,
    pub(super) workspace_id: WorkspaceId,
    pub(super) provider: String,
    pub(super) method: String,
}

/// `/v1/files?page=&q=`: the path, and the query's names without their values.
fn path_without_values(url: &Url) -> String {
    let names: Vec<String> = url.query_pairs().map(|(name, _)| format!("{name}=")).collect();
    if names.is_empty() {
        url.path().to_owned()
    } else {
        format!("{}?{}", url.path(), names.join("&"))
    }
}

fn status_class(status: Option<http::StatusCode>) -> &'static str {
    match status.map(|s| s.as_u16() / 100) {
        Some(2) => "2xx",
        Some(3) => "3xx",
        Some(4) => "4xx",
        Some(5) => "5xx",
        Some(_) => "other",
        None => "error",
    }
}

impl Call {
    fn event(
        &self,
        url: Option<&Url>,
        status: Option<http::StatusCode>,
        request_bytes: u64,
        response_bytes: u64,
        error: Option<&ServiceError>,
    ) -> NewAuditEvent {
        let mut data = serde_json::json!({
            "provider": self.provider,
            "method": self.method,
            "request_bytes": request_bytes,
            "response_bytes": response_bytes,
        });
        if let Some(url) = url {
            data["origin"] = url.origin().ascii_serialization().into();
            data["path"] = path_without_values(url).into();
        }
        if let Some(status) = status {
            data["status"] = status.as_u16().into();
        }
        if let Some(error) = error {
            data["error"] = error.code().as_str().into();
        }
        NewAuditEvent::new(AuditEventType::ProxyCall, &self.actor)
            .connection(self.connection_id)
            .workspace(self.workspace_id.clone())
            .data(data)
    }

    /// Audits and counts a call that is over.
    pub(super) async fn finish(
        &self,
        url: Option<&Url>,
        status: Option<http::StatusCode>,
        request_bytes: u64,
        response_bytes: u64,
        error: Option<&ServiceError>,
    ) {
        self.metrics
            .requests
            .with_label_values(&[self.provider.as_str(), status_class(status)])
            .inc();
        let event = self.event(url, status, request_bytes, response_bytes, error);
        super::record(self.audit.clone(), event).await;
    }

    /// The answer's body, streamed: the call is audited once it has all gone (or the agent
    /// stopped reading).
    pub(super) fn meter(
        self,
        url: Url,
        status: http::StatusCode,
        request_bytes: u64,
        response: reqwest::Response,
    ) -> BodyStream {
        let finish = Finish {
            call: Some(self),
            url,
            status,
            request_bytes,
            response_bytes: 0,
        };
        let stream = response.bytes_stream();
        futures::stream::unfold((stream, finish), |(mut stream, mut finish)| async move {
            match stream.next().await {
                Some(Ok(chunk)) => {
                    finish.response_bytes += chunk.len() as u64;
                    Some((Ok(chunk), (stream, finish)))
                }
                Some(Err(error)) => Some((Err(std::io::Error::other(error)), (stream, finish))),
                None => None,
            }
        })
        .boxed()
    }
}

/// Audits the call when dropped: after the last chunk, or when the agent hung up.
struct Finish {
    call: Option<Call>,
    url: Url,
    status: http::StatusCode,
    request_bytes: u64,
    response_bytes: u64,
}

impl Drop for Finish {
    fn drop(&mut self) {
        let Some(call) = self.call.take() else {
            return;
        };
        let (url, status, request_bytes, response_bytes) =
            (self.url.clone(), self.status, self.request_bytes, self.response_bytes);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                call.finish(Some(&url), Some(status), request_bytes, response_bytes, None)
                    .await;
            });
        }
    }
}
