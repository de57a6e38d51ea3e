//! The one outbound HTTP client: TLS (rustls, ring), connect and total timeouts, no redirects
//! (a token endpoint that redirects is refused, not followed), and every call bounded by the
//! inbound request's deadline. Dropping the future (the caller went away) cancels the call.

use nexus_domain::deadline;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Outbound {
    client: reqwest::Client,
    timeout: Duration,
}

/// Why an outbound call produced no response.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("timed out")]
    Timeout,
    #[error("request failed: {0}")]
    Transport(String),
}

/// The client could not be built: in practice, no TLS root certificates could be loaded.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the outbound HTTPS client ({0}); is a CA bundle installed (/etc/ssl/certs, or SSL_CERT_FILE)?")]
pub struct ClientBuildError(String);

/// A provider's answer: status, headers and the (bounded) body.
#[derive(Debug)]
pub struct Answer {
    pub status: reqwest::StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

/// Largest provider response read, in bytes.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;

impl Outbound {
    /// Builds the client. It fails (rather than panics) when the TLS roots cannot be loaded, such
    /// as in an image without a CA bundle: the caller turns that into a start-up error.
    pub fn new(timeout: Duration) -> Result<Self, ClientBuildError> {
        // One crypto provider for the process; a second install is a harmless no-op.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(std::sync::Arc::new(super::resolver::LocalhostAwareResolver))
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .timeout(timeout)
            .user_agent(concat!("nexus/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientBuildError(error_chain(&e)))?;
        Ok(Self { client, timeout })
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends and reads the body (bounded), within the request deadline.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<Answer, OutboundError> {
        let budget = deadline::remaining(self.timeout);
        let call = async {
            let response = request
                .send()
                .await
                .map_err(|e| OutboundError::Transport(describe(&e)))?;
            let status = response.status();
            let headers = response.headers().clone();
            let mut body = Vec::new();
            let mut response = response;
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| OutboundError::Transport(describe(&e)))?
            {
                if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                    return Err(OutboundError::Transport("response too large".to_owned()));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Answer { status, headers, body })
        };
        tokio::time::timeout(budget, call)
            .await
            .map_err(|_| OutboundError::Timeout)?
    }
}

/// The error and its sources on one line (a builder error carries no request data).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A transport error without its URL (which may carry query parameters).
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connection failed"
    } else if error.is_redirect() {
        "redirect refused"
    } else if error.is_body() || error.is_decode() {
        "body error"
    } else {
        "request error"
    };
    kind.to_owned()
}
