//! The one outbound HTTP client: TLS (rustls, ring), connect and total timeouts, no redirects
//! (a token endpoint that redirects is refused, not followed), and every call bounded by the
//! inbound request's deadline. Dropping the future (the caller went away) cancels the call.

use crate::outbound_policy::{AddressCheckError, Found, check_discovered_addresses};
use crate::resolver::{FilteringResolver, OutsideNames};
use nexus_domain::deadline;
use std::time::Duration;
use url::Url;

#[derive(Debug, Clone)]
pub struct Outbound {
    client: reqwest::Client,
    timeout: Duration,
    /// The names discovered endpoints were found at outside: the client's resolver refuses to
    /// connect to them inside.
    outside_names: OutsideNames,
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
        let outside_names = OutsideNames::default();
        // Providers the operator configured may be inside (a private IdP); names a discovery
        // found outside must stay there.
        let resolver = FilteringResolver {
            allow_inside: true,
            outside_names: outside_names.clone(),
        };
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve the names itself, past the resolver's checks.
            .no_proxy()
            .dns_resolver(std::sync::Arc::new(resolver))
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .timeout(timeout)
            .user_agent(concat!("nexus/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientBuildError(error_chain(&e)))?;
        Ok(Self {
            client,
            timeout,
            outside_names,
        })
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Checks a discovered endpoint's addresses (`outbound_policy::check_discovered_addresses`);
    /// a name found outside is kept there, so every later connection to it is refused if it
    /// resolves inside by then (DNS rebinding).
    pub async fn check_discovered_addresses(
        &self,
        name: &str,
        endpoint: &Url,
        anchor: &Url,
    ) -> Result<(), AddressCheckError> {
        if check_discovered_addresses(name, endpoint, anchor).await? == Found::Outside
            && let Some(url::Host::Domain(host)) = endpoint.host()
        {
            self.outside_names.keep_outside(host);
        }
        Ok(())
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
    } else if crate::resolver::refused_inside(error) {
        "refused: the name now resolves to a loopback or private address"
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

#[cfg(test)]
mod tests {
    use super::*;

    /// DNS rebinding: a name a discovery found outside that resolves inside by the time Nexus
    /// connects is refused by the connection itself, through the real client. (`*.localhost`
    /// always answers loopback, so it stands for a name whose answer changed.)
    #[tokio::test]
    async fn a_name_found_outside_is_refused_when_it_resolves_inside_at_connection() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("listener");
        let port = listener.local_addr().expect("address").port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    let mut buffer = [0u8; 1024];
                    let _ = socket.read(&mut buffer).await;
                    let _ = socket
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                        .await;
                });
            }
        });
        let outbound = Outbound::new(Duration::from_secs(5)).expect("client");
        let url = format!("http://rebound.localhost:{port}/token");
        let answer = outbound
            .send(outbound.client().get(&url))
            .await
            .expect("reached before");
        assert_eq!(answer.body, b"ok");

        outbound.outside_names.keep_outside("rebound.localhost");
        let error = outbound
            .clone()
            .send(outbound.client().get(&url))
            .await
            .expect_err("refused once the name must stay outside");
        assert!(
            error.to_string().contains("resolves to a loopback or private address"),
            "{error}"
        );
        // Names nobody found outside still reach the operator's own endpoints inside.
        let other = format!("http://other.localhost:{port}/token");
        assert!(outbound.send(outbound.client().get(&other)).await.is_ok());
    }
}
