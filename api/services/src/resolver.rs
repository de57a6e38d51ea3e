//! The one name resolver every outbound client connects through (providers, discovered
//! endpoints, webhooks, the proxy). `localhost` and every name under it answer loopback without
//! asking anyone (RFC 6761 section 6.3, as browsers do). An answer with a loopback, private or
//! link-local address is refused when the client may not reach inside, or when the name was
//! found outside by a discovery (`keep_outside`): a name that resolves elsewhere later (DNS
//! rebinding) is refused at the moment of the connection, not only when it was checked.

use crate::outbound_policy::is_internal_ip;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How long a name may take to resolve.
pub const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// A name resolved to a loopback, private or link-local address where that is not allowed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{host} resolves to a loopback, private or link-local address")]
pub struct ResolvedInside {
    pub host: String,
}

/// Whether a name is `localhost` or under it (with or without the final dot).
pub fn is_localhost_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// The names a discovery found outside, shared by every clone of a client's resolver. It grows
/// with the hosts of discovered endpoints: per provider, and per tenant for a templated issuer
/// (a few dozen bytes each, for the life of the process).
#[derive(Debug, Clone, Default)]
pub struct OutsideNames(Arc<RwLock<HashSet<String>>>);

impl OutsideNames {
    /// From now on `host` may only resolve outside.
    pub fn keep_outside(&self, host: &str) {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let mut names = self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        names.insert(host);
    }

    fn contains(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let names = self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        names.contains(&host)
    }
}

/// The resolver: the system's (bounded in time), filtered as the module says.
#[derive(Debug, Clone, Default)]
pub struct FilteringResolver {
    /// Whether names may resolve inside at all (providers the operator configured: yes;
    /// webhooks and the proxy: only when the operator allows it).
    pub allow_inside: bool,
    pub outside_names: OutsideNames,
}

impl FilteringResolver {
    /// Every address of `host`; refused when any is inside and that is not allowed (a name with
    /// one address inside and one outside would let the connection choose).
    pub async fn resolve_host(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, ResolveFailure> {
        let addresses: Vec<SocketAddr> = if is_localhost_name(host) {
            [IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)]
                .into_iter()
                .map(|ip| SocketAddr::new(ip, port))
                .collect()
        } else {
            tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, port)))
                .await
                .map_err(|_| {
                    ResolveFailure::Lookup(std::io::Error::new(std::io::ErrorKind::TimedOut, "resolving timed out"))
                })?
                .map_err(ResolveFailure::Lookup)?
                .collect()
        };
        let inside_refused = !self.allow_inside || self.outside_names.contains(host);
        if inside_refused && addresses.iter().any(|address| is_internal_ip(address.ip())) {
            return Err(ResolveFailure::Inside(ResolvedInside { host: host.to_owned() }));
        }
        Ok(addresses)
    }
}

/// Why a name gave no address to connect to.
#[derive(Debug)]
pub enum ResolveFailure {
    Inside(ResolvedInside),
    Lookup(std::io::Error),
}

impl Resolve for FilteringResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let resolver = self.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            match resolver.resolve_host(&host, 0).await {
                Ok(addresses) => {
                    let addrs: Addrs = Box::new(addresses.into_iter());
                    Ok(addrs)
                }
                Err(ResolveFailure::Inside(error)) => Err(Box::new(error) as Box<dyn std::error::Error + Send + Sync>),
                Err(ResolveFailure::Lookup(error)) => Err(Box::new(error) as Box<dyn std::error::Error + Send + Sync>),
            }
        })
    }
}

/// Whether a request failed because the resolver refused an inside address.
pub fn refused_inside(error: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if cause.downcast_ref::<ResolvedInside>().is_some() {
            return true;
        }
        source = cause.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_under_localhost_are_loopback_without_asking_dns() {
        let resolver = FilteringResolver {
            allow_inside: true,
            ..FilteringResolver::default()
        };
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

    #[tokio::test]
    async fn a_name_kept_outside_is_refused_when_it_resolves_inside() {
        let resolver = FilteringResolver {
            allow_inside: true,
            ..FilteringResolver::default()
        };
        assert!(resolver.resolve_host("idp.localhost", 443).await.is_ok());
        resolver.outside_names.keep_outside("IDP.localhost.");
        assert!(matches!(
            resolver.resolve_host("idp.localhost", 443).await,
            Err(ResolveFailure::Inside(ResolvedInside { host })) if host == "idp.localhost"
        ));
        // Other names are as they were, and a clone shares the set.
        assert!(resolver.resolve_host("other.localhost", 443).await.is_ok());
        assert!(resolver.clone().resolve_host("idp.localhost", 443).await.is_err());
    }

    #[tokio::test]
    async fn a_client_that_may_not_reach_inside_refuses_every_inside_name() {
        let resolver = FilteringResolver::default();
        assert!(matches!(
            resolver.resolve_host("localhost", 80).await,
            Err(ResolveFailure::Inside(_))
        ));
    }
}
