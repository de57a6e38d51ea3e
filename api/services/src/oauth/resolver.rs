//! The outbound client's name resolver: the system's, except that `localhost` and every name
//! under it answer loopback without asking anyone (RFC 6761 section 6.3, as browsers do), so a
//! provider on `{tenant}.localhost` behaves the same for Nexus and for the user's browser.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

#[derive(Debug, Clone, Copy, Default)]
pub struct LocalhostAwareResolver;

/// Whether a name is `localhost` or under it (with or without the final dot).
pub fn is_localhost_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

impl Resolve for LocalhostAwareResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            if is_localhost_name(&host) {
                let loopback: Addrs = Box::new(
                    [IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)]
                        .into_iter()
                        .map(|ip| SocketAddr::new(ip, 0)),
                );
                return Ok(loopback);
            }
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_under_localhost_are_loopback_without_asking_dns() {
        let resolver = LocalhostAwareResolver;
        for name in ["localhost", "acme.localhost", "a.b.localhost."] {
            let addrs: Vec<SocketAddr> = resolver
                .resolve(name.parse().expect("name"))
                .await
                .expect("resolves")
                .collect();
            assert!(
                addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty(),
                "{name}"
            );
        }
        assert!(!is_localhost_name("localhost.evil.example"));
    }
}
