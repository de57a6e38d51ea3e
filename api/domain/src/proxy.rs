//! The proxy's port: an agent's request to a provider's API, forwarded by Nexus with the
//! credential applied server-side, so the agent never holds the secret. What may be forwarded
//! where (the connection's origins, the outbound address policy) is the implementation's check.

use crate::agent_key::PresentedKey;
use crate::ids::ConnectionId;
use crate::ports::ServiceResult;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// A body, streamed.
pub type BodyStream = BoxStream<'static, Result<Bytes, std::io::Error>>;

/// Whose credential a proxied request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyTarget {
    /// The workspace's newest active connection to the provider.
    Resolve {
        workspace_id: String,
        provider: String,
    },
    Connection(ConnectionId),
}

/// Where the request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyDestination {
    /// A path and query under the connection's `api_base_url` (`/repos/o/r?page=2`).
    Path(String),
    /// An absolute URL within the connection's origins.
    Url(String),
}

/// An agent's request, as the Gateway received it (its own credentials and hop-by-hop headers
/// are still in `headers`: the proxy removes them).
pub struct ProxyRequest {
    pub target: ProxyTarget,
    pub destination: ProxyDestination,
    pub method: http::Method,
    pub headers: http::HeaderMap,
    pub body: BodyStream,
}

impl std::fmt::Debug for ProxyRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyRequest")
            .field("target", &self.target)
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

/// The provider's answer, streamed back (hop-by-hop headers and cookies removed).
pub struct ProxyResponse {
    pub status: http::StatusCode,
    pub headers: http::HeaderMap,
    pub body: BodyStream,
}

impl std::fmt::Debug for ProxyResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyResponse")
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// What a limited body has passed on, and whether it went past its limit.
#[derive(Debug, Default)]
pub struct BodyCount {
    sent: AtomicU64,
    exceeded: AtomicBool,
}

impl BodyCount {
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    pub fn exceeded(&self) -> bool {
        self.exceeded.load(Ordering::Relaxed)
    }
}

/// How much of a refused body is still read so that its sender sees the answer (a client still
/// sending when a server answers and closes sees a broken connection instead): four times the
/// limit, at least 16 MiB. Past that, the connection is closed.
pub fn drain_bound(max: usize) -> u64 {
    (max as u64).saturating_mul(4).max(16 * 1024 * 1024)
}

/// Reads and drops what is left of a refused body, up to [`drain_bound`].
pub async fn drain(mut body: BodyStream, max: usize, already: u64) {
    let mut read = already;
    while read <= drain_bound(max)
        && let Some(Ok(chunk)) = body.next().await
    {
        read += chunk.len() as u64;
    }
}

/// `body`, passed on until it goes past `max` bytes: then the rest is drained and the stream
/// ends with an error (the request it feeds is aborted), and `count` says it was exceeded.
pub fn limited(body: BodyStream, max: usize, count: Arc<BodyCount>) -> BodyStream {
    futures::stream::unfold(Some(body), move |body| {
        let count = count.clone();
        async move {
            let mut body = body?;
            let chunk = match body.next().await? {
                Ok(chunk) => chunk,
                Err(error) => return Some((Err(error), None)),
            };
            let total = count.sent.fetch_add(chunk.len() as u64, Ordering::Relaxed) + chunk.len() as u64;
            if total <= max as u64 {
                return Some((Ok(chunk), Some(body)));
            }
            count.exceeded.store(true, Ordering::Relaxed);
            drain(body, max, total).await;
            Some((
                Err(std::io::Error::other("the request body exceeds the proxy's limit")),
                None,
            ))
        }
    })
    .boxed()
}

/// Forwards agents' requests with their connection's credential.
#[async_trait::async_trait]
pub trait ProxyService: Send + Sync {
    async fn forward(&self, agent: &PresentedKey, request: ProxyRequest) -> ServiceResult<ProxyResponse>;
}
