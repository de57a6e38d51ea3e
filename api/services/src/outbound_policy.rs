//! Where Nexus may send requests (code exchanges carry the client secret): in production only
//! https, and, for endpoints an OIDC discovery document names, never a loopback or private
//! address unless the issuer itself is one. The plain-http-on-loopback exception exists for
//! development only.

use nexus_domain::ServiceError;
use nexus_domain::provider::{ProviderSpec, is_loopback};
use std::net::IpAddr;
use url::{Host, Url};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// Development: plain http to loopback providers is allowed.
    pub allow_loopback_http: bool,
}

impl OutboundPolicy {
    pub const DEVELOPMENT: Self = Self {
        allow_loopback_http: true,
    };
    pub const PRODUCTION: Self = Self {
        allow_loopback_http: false,
    };

    /// Checks the endpoints a provider registration names (where Nexus itself will connect).
    pub fn check_provider(&self, spec: &ProviderSpec) -> Result<(), ServiceError> {
        // A templated URL's scheme is fixed by the template (a parameter cannot change it).
        let mut endpoints: Vec<(&str, &Url)> = Vec::new();
        if let Some(oauth) = &spec.oauth {
            endpoints.extend(oauth.authorization_url.iter().map(|u| ("authorization_url", u.shape())));
            endpoints.extend(oauth.token_url.iter().map(|u| ("token_url", u.shape())));
            endpoints.extend(oauth.issuer.iter().map(|u| ("issuer", u.shape())));
            endpoints.extend(oauth.revocation_url.iter().map(|u| ("revocation_url", u.shape())));
            endpoints.extend(oauth.mcp.iter().map(|m| ("mcp_server_url", &m.server_url)));
        }
        endpoints.extend(spec.verification.iter().map(|v| ("verification_url", v.url.shape())));
        for (field, url) in endpoints {
            if url.scheme() != "https" && !self.allow_loopback_http {
                return Err(ServiceError::invalid(
                    field,
                    "must use https (plain http to loopback is allowed in development mode only)",
                ));
            }
        }
        Ok(())
    }
}

/// A loopback, private, link-local or unique-local address (or `localhost`, or a name under
/// `.localhost`, with or without a trailing dot).
pub fn is_internal(url: &Url) -> bool {
    if is_loopback(url) {
        return true;
    }
    let ip = match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
        Some(Host::Domain(domain)) => {
            let name = domain.trim_end_matches('.').to_ascii_lowercase();
            return name == "localhost" || name.ends_with(".localhost");
        }
        None => return false,
    };
    is_internal_ip(ip)
}

/// A loopback, private, link-local, unique-local, unspecified, broadcast, multicast or reserved
/// address, or an IPv6 address that carries one of those IPv4 addresses (mapped, compatible,
/// NAT64, 6to4).
pub fn is_internal_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => {
            let [first, second, third, _] = ip.octets();
            ip.is_loopback()
                || ip.is_private()
                || ip.is_link_local()
                || ip.is_broadcast()
                || ip.is_multicast()
                || first == 0
                // 240.0.0.0/4, reserved
                || first >= 240
                // 100.64.0.0/10, shared address space (carrier NAT, some cloud metadata services)
                || (first == 100 && (second & 0xc0) == 64)
                // 192.0.0.0/24, IETF protocol assignments
                || (first == 192 && second == 0 && third == 0)
                // 198.18.0.0/15, benchmarking
                || (first == 198 && (second & 0xfe) == 18)
        }
        IpAddr::V6(ip) => {
            if let Some(v4) = ip.to_ipv4_mapped() {
                return is_internal_ip(IpAddr::V4(v4));
            }
            let segments = ip.segments();
            let embedded = |high: u16, low: u16| std::net::Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
            // 64:ff9b::/96 and 64:ff9b:1::/48, NAT64: the IPv4 address is in the last 32 bits.
            if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] || segments[..2] == [0x64, 0xff9b] {
                return is_internal_ip(IpAddr::V4(embedded(segments[6], segments[7])));
            }
            // ::a.b.c.d, IPv4-compatible (deprecated, still routed by some stacks).
            if segments[..6] == [0, 0, 0, 0, 0, 0] && !ip.is_loopback() && !ip.is_unspecified() {
                return is_internal_ip(IpAddr::V4(embedded(segments[6], segments[7])));
            }
            // 2002::/16, 6to4: the IPv4 address follows the prefix.
            if segments[0] == 0x2002 {
                return is_internal_ip(IpAddr::V4(embedded(segments[1], segments[2])));
            }
            let first = segments[0];
            ip.is_loopback()
                || ip.is_unspecified()
                || ip.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

/// Why a discovered endpoint's addresses were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressCheckError {
    /// It resolves inside while the issuer does not: the provider is misconfigured (or hostile).
    Inside(String),
    /// The name did not resolve in time: try again later.
    Unresolved,
}

/// How long a discovery waits for a name to resolve.
const RESOLVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

async fn resolves_inside(host: &str, port: u16) -> Result<bool, AddressCheckError> {
    let addresses = tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, port)))
        .await
        .map_err(|_| AddressCheckError::Unresolved)?
        .map_err(|_| AddressCheckError::Unresolved)?;
    Ok(addresses.into_iter().any(|address| is_internal_ip(address.ip())))
}

/// Where a discovered endpoint's name was found, when it passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// Outside, for an issuer outside: connections must find it outside too.
    Outside,
    /// A literal address, or inside with an issuer inside (a private IdP): nothing to keep.
    Unconstrained,
}

/// A discovered endpoint Nexus will connect to, by the addresses its name resolves to now: an
/// issuer outside must not name a host that resolves inside (a name alone does not tell). An
/// issuer whose own name resolves inside (a private IdP) may name hosts inside. This is checked
/// when the document is fetched; `Outbound::check_discovered_addresses` then keeps a name found
/// outside there, so the connection itself is refused if it resolves inside later.
pub async fn check_discovered_addresses(name: &str, endpoint: &Url, issuer: &Url) -> Result<Found, AddressCheckError> {
    if is_internal(issuer) {
        return Ok(Found::Unconstrained);
    }
    let Some(Host::Domain(host)) = endpoint.host() else {
        // Literal addresses were checked by `check_discovered`.
        return Ok(Found::Unconstrained);
    };
    if !resolves_inside(host, endpoint.port_or_known_default().unwrap_or(443)).await? {
        return Ok(Found::Outside);
    }
    if let Some(Host::Domain(issuer_host)) = issuer.host()
        && resolves_inside(issuer_host, issuer.port_or_known_default().unwrap_or(443)).await?
    {
        return Ok(Found::Unconstrained);
    }
    Err(AddressCheckError::Inside(format!(
        "{name}'s host {host} resolves to a loopback or private address while the issuer does not"
    )))
}

/// The endpoint `name` of a discovered document, whose absence is an error (`document` names the
/// document in the message).
pub fn required_endpoint(document: &str, name: &str, value: Option<String>, anchor: &Url) -> Result<Url, String> {
    let value = value.ok_or_else(|| format!("{document} has no {name}"))?;
    discovered_endpoint(name, &value, anchor)
}

/// The endpoint `name` of a discovered document, when it names one.
pub fn optional_endpoint(name: &str, value: Option<String>, anchor: &Url) -> Result<Option<Url>, String> {
    value.map(|value| discovered_endpoint(name, &value, anchor)).transpose()
}

/// A URL a discovered document names: a valid endpoint URL, under `check_discovered`'s rules
/// against `anchor` (the issuer, or the MCP server, the document belongs to).
fn discovered_endpoint(name: &str, value: &str, anchor: &Url) -> Result<Url, String> {
    let url = nexus_domain::provider::parse_endpoint_url(name, value).map_err(|e| e.to_string())?;
    check_discovered(name, &url, anchor)?;
    Ok(url)
}

/// An endpoint from `issuer`'s discovery document: https, and internal only when the issuer is
/// (a third-party document must not send the code exchange, with the client secret, inside).
pub fn check_discovered(name: &str, endpoint: &Url, issuer: &Url) -> Result<(), String> {
    let issuer_internal = is_internal(issuer);
    if endpoint.scheme() != "https" && !(issuer.scheme() == "http" && issuer_internal && is_loopback(endpoint)) {
        return Err(format!("{name} must use https"));
    }
    if is_internal(endpoint) && !issuer_internal {
        return Err(format!(
            "{name} points at a loopback or private address while the issuer does not"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(raw: &str) -> Url {
        Url::parse(raw).expect("url")
    }

    #[test]
    fn discovered_endpoints_stay_outside_unless_the_issuer_is_inside() {
        let public = url("https://idp.example.com");
        assert!(check_discovered("token_endpoint", &url("https://idp.example.com/token"), &public).is_ok());
        assert!(check_discovered("token_endpoint", &url("https://other.example.net/token"), &public).is_ok());
        for inside in [
            "http://127.0.0.1:9/token",
            "https://127.0.0.1/token",
            "https://10.0.0.5/token",
            "https://192.168.1.2/token",
            "https://169.254.169.254/token",
            "https://[::1]/token",
            "https://[fd00::1]/token",
            "https://localhost/token",
            "http://idp.example.com/token",
        ] {
            assert!(
                check_discovered("token_endpoint", &url(inside), &public).is_err(),
                "{inside}"
            );
        }
        for inside in [
            "https://localhost./token",
            "https://idp.localhost/token",
            "https://[::ffff:10.0.0.1]/token",
            "https://[::10.0.0.1]/token",
            "https://[2002:a00:1::]/token",
            "https://[64:ff9b:1::a00:1]/token",
            "https://[ff02::1]/token",
            "https://224.0.0.1/token",
            "https://240.0.0.1/token",
            "https://198.18.0.1/token",
            "https://192.0.0.8/token",
        ] {
            assert!(
                check_discovered("token_endpoint", &url(inside), &public).is_err(),
                "{inside}"
            );
        }
        let local = url("http://127.0.0.1:4000");
        assert!(check_discovered("token_endpoint", &url("http://127.0.0.1:4000/token"), &local).is_ok());
        assert!(check_discovered("token_endpoint", &url("http://10.0.0.5/token"), &local).is_err());
    }

    #[tokio::test]
    async fn a_public_issuer_cannot_name_a_host_that_resolves_inside() {
        // A literal public address: nothing here asks a DNS server beyond the local resolver.
        let public = url("https://192.0.2.10");
        // `localhost` resolves to loopback through the system resolver, like any name would.
        let error = check_discovered_addresses("token_endpoint", &url("https://localhost:9443/token"), &public)
            .await
            .expect_err("resolves to loopback");
        assert!(
            matches!(&error, AddressCheckError::Inside(message) if message.contains("loopback or private")),
            "{error:?}"
        );
        assert!(
            check_discovered_addresses(
                "token_endpoint",
                &url("https://localhost:9443/token"),
                &url("https://localhost:8443")
            )
            .await
            .is_ok(),
            "an issuer whose name resolves inside may name hosts inside"
        );
        assert!(
            check_discovered_addresses(
                "token_endpoint",
                &url("https://localhost:9443/token"),
                &url("http://127.0.0.1:4000")
            )
            .await
            .is_ok(),
            "an issuer inside may name hosts inside"
        );
    }
}
