//! Where webhooks may go: http(s) URLs without credentials, and (unless the operator allows
//! it) never a loopback, private or link-local address. Checked when an endpoint is saved and
//! again on every delivery, by the resolver the delivery connects through, so a name that
//! resolves elsewhere later (DNS rebinding) is refused at the moment it matters.

use crate::outbound_policy::is_internal_ip;
use crate::resolver::{FilteringResolver, OutsideNames, ResolveFailure};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use url::{Host, Url};

/// The address a webhook URL names or resolves to is inside (loopback, private, link-local).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{host} is a loopback, private or link-local address (set NEXUS_WEBHOOK_ALLOW_PRIVATE=true to allow it)")]
pub struct InternalAddress {
    pub host: String,
}

/// The operator's choice: may webhooks reach addresses inside?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetPolicy {
    pub allow_private: bool,
}

impl TargetPolicy {
    /// Checks a URL's host when an endpoint is saved: a literal address, or what the name
    /// resolves to now. A name that does not resolve yet is accepted (deliveries retry).
    pub async fn check(&self, url: &Url) -> Result<(), InternalAddress> {
        if self.allow_private {
            return Ok(());
        }
        let inside = InternalAddress {
            host: url.host_str().unwrap_or_default().to_owned(),
        };
        match url.host() {
            Some(Host::Ipv4(ip)) if is_internal_ip(IpAddr::V4(ip)) => Err(inside),
            Some(Host::Ipv6(ip)) if is_internal_ip(IpAddr::V6(ip)) => Err(inside),
            Some(Host::Domain(name)) => {
                let port = url.port_or_known_default().unwrap_or(443);
                match self.resolver().resolve_host(name, port).await {
                    Err(ResolveFailure::Inside(_)) => Err(inside),
                    Ok(_) | Err(ResolveFailure::Lookup(_)) => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }

    /// Whether a literal address in the URL may be connected to (the client's resolver is only
    /// asked for names).
    pub fn check_literal(&self, url: &Url) -> Result<(), InternalAddress> {
        let ip = match url.host() {
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
            _ => return Ok(()),
        };
        if !self.allow_private && is_internal_ip(ip) {
            return Err(InternalAddress { host: ip.to_string() });
        }
        Ok(())
    }

    /// The resolver every delivery connects through (the one all outbound clients share).
    fn resolver(&self) -> FilteringResolver {
        FilteringResolver {
            allow_inside: self.allow_private,
            outside_names: OutsideNames::default(),
        }
    }

    /// The client deliveries go through: no redirects, no proxies, deadlines, and a resolver
    /// that refuses names resolving inside.
    pub fn client(&self, timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
        self.client_for(timeout, concat!("nexus-webhooks/", env!("CARGO_PKG_VERSION")))
    }

    /// The same client, for another sender (the proxy) naming itself in `User-Agent`.
    pub fn client_for(&self, timeout: Duration, user_agent: &'static str) -> Result<reqwest::Client, reqwest::Error> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(self.resolver()))
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .user_agent(user_agent)
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolver::refused_inside;

    fn url(raw: &str) -> Url {
        Url::parse(raw).expect("url")
    }

    #[tokio::test]
    async fn inside_addresses_are_refused_unless_allowed() {
        let production = TargetPolicy { allow_private: false };
        for inside in [
            "http://127.0.0.1:9/hook",
            "http://10.1.2.3/hook",
            "http://169.254.169.254/latest",
            "http://[::1]/hook",
            "http://localhost:8080/hook",
        ] {
            assert!(production.check(&url(inside)).await.is_err(), "{inside}");
        }
        assert!(production.check(&url("https://192.0.2.10/hook")).await.is_ok());
        assert!(production.check_literal(&url("http://127.0.0.1/")).is_err());
        let development = TargetPolicy { allow_private: true };
        assert!(development.check(&url("http://127.0.0.1:9/hook")).await.is_ok());
        assert!(development.check_literal(&url("http://127.0.0.1/")).is_ok());
    }

    #[tokio::test]
    async fn the_delivery_client_refuses_a_name_that_resolves_inside() {
        let client = TargetPolicy { allow_private: false }
            .client(Duration::from_secs(2))
            .expect("client");
        let error = client
            .post("http://localhost:9/hook")
            .send()
            .await
            .expect_err("refused before connecting");
        assert!(refused_inside(&error), "{error:?}");
    }
}
