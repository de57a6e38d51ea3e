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
        let mut endpoints: Vec<(&str, &Url)> = Vec::new();
        if let Some(oauth) = &spec.oauth {
            endpoints.extend(oauth.authorization_url.iter().map(|u| ("authorization_url", u)));
            endpoints.extend(oauth.token_url.iter().map(|u| ("token_url", u)));
            endpoints.extend(oauth.issuer.iter().map(|u| ("issuer", u)));
            endpoints.extend(oauth.revocation_url.iter().map(|u| ("revocation_url", u)));
        }
        endpoints.extend(spec.verification.iter().map(|v| ("verification_url", &v.url)));
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

/// A loopback, private, link-local or unique-local address (or `localhost`).
pub fn is_internal(url: &Url) -> bool {
    if is_loopback(url) {
        return true;
    }
    let ip = match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
        _ => return false,
    };
    match ip {
        IpAddr::V4(ip) => ip.is_private() || ip.is_link_local() || ip.is_unspecified() || ip.is_broadcast(),
        IpAddr::V6(ip) => {
            let first = ip.segments()[0];
            ip.is_unspecified() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
    }
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
        let local = url("http://127.0.0.1:4000");
        assert!(check_discovered("token_endpoint", &url("http://127.0.0.1:4000/token"), &local).is_ok());
        assert!(check_discovered("token_endpoint", &url("http://10.0.0.5/token"), &local).is_err());
    }
}
