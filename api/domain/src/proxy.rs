//! The proxy's port: an agent's request to a provider's API, forwarded by Nexus with the
//! credential applied server-side, so the agent never holds the secret. What may be forwarded
//! where (the connection's origins, the outbound address policy) is the implementation's check.

use crate::agent_key::PresentedKey;
use crate::ids::ConnectionId;
use crate::ports::ServiceResult;
use bytes::Bytes;
use futures::stream::BoxStream;

/// A body, streamed.
pub type BodyStream = BoxStream<'static, Result<Bytes, std::io::Error>>;

/// Whose credential a proxied request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyTarget {
    /// The workspace's newest active connection to the provider.
    Resolve { workspace_id: String, provider: String },
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

/// Forwards agents' requests with their connection's credential.
#[async_trait::async_trait]
pub trait ProxyService: Send + Sync {
    async fn forward(&self, agent: &PresentedKey, request: ProxyRequest) -> ServiceResult<ProxyResponse>;
}
