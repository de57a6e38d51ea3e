//! Which return URLs a consent may send the user back to: `NEXUS_ALLOWED_RETURN_URLS` host
//! patterns (`app.example.com`, `*.example.com`, `localhost:3000`), plus loopback when allowed
//! (development). Anything else is refused before a consent starts.

use nexus_domain::ServiceError;
use nexus_domain::provider::is_loopback;
use url::Url;

#[derive(Debug, Clone, PartialEq, Eq)]
struct HostPattern {
    /// `*.example.com` is stored as suffix `.example.com`.
    host: String,
    wildcard: bool,
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnUrlPolicy {
    patterns: Vec<HostPattern>,
    allow_loopback: bool,
}

impl ReturnUrlPolicy {
    /// Parses comma-separated host patterns.
    pub fn parse(patterns: &str, allow_loopback: bool) -> Result<Self, String> {
        let patterns = patterns
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|raw| {
                let (host, port) = match raw.rsplit_once(':') {
                    Some((host, port)) => (
                        host,
                        Some(port.parse::<u16>().map_err(|_| format!("`{raw}`: bad port"))?),
                    ),
                    None => (raw, None),
                };
                let (host, wildcard) = match host.strip_prefix("*.") {
                    Some(rest) => (format!(".{rest}"), true),
                    None => (host.to_owned(), false),
                };
                if host.is_empty() || host.contains('/') || host.contains('*') {
                    return Err(format!(
                        "`{raw}` is not a host pattern (`app.example.com`, `*.example.com`)"
                    ));
                }
                Ok(HostPattern {
                    host: host.to_ascii_lowercase(),
                    wildcard,
                    port,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Self {
            patterns,
            allow_loopback,
        })
    }

    /// Parses and checks a return URL: https (http only on loopback), no credentials, an allowed host.
    pub fn check(&self, raw: &str) -> Result<Url, ServiceError> {
        const FIELD: &str = "return_url";
        let url = Url::parse(raw).map_err(|e| ServiceError::invalid(FIELD, format!("is not a valid URL: {e}")))?;
        if raw.len() > 2048 {
            return Err(ServiceError::invalid(FIELD, "must be at most 2048 characters"));
        }
        let loopback = is_loopback(&url);
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => {
                return Err(ServiceError::invalid(FIELD, "must use https (http only on loopback)"));
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ServiceError::invalid(FIELD, "must not contain credentials"));
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let port = url.port_or_known_default();
        let allowed = (loopback && self.allow_loopback)
            || self.patterns.iter().any(|p| {
                let host_ok = if p.wildcard {
                    host.ends_with(&p.host)
                } else {
                    host == p.host
                };
                host_ok && p.port.is_none_or(|expected| Some(expected) == port)
            });
        if !allowed {
            return Err(ServiceError::invalid(
                FIELD,
                format!("host `{host}` is not in NEXUS_ALLOWED_RETURN_URLS"),
            ));
        }
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_wildcards_ports_and_loopback() {
        let policy = ReturnUrlPolicy::parse("app.example.com, *.corp.test, localhost:3000", false).expect("valid");
        assert!(policy.check("https://app.example.com/done?x=1").is_ok());
        assert!(policy.check("https://a.b.corp.test/cb").is_ok());
        assert!(policy.check("http://localhost:3000/cb").is_ok());
        for bad in [
            "https://evil.test/",
            "https://corp.test.evil.test/",
            "https://app.example.com.evil.test/",
            "http://app.example.com/",
            "http://localhost:4000/cb",
            "https://user:pw@app.example.com/",
            "javascript:alert(1)",
            "not a url",
        ] {
            assert!(policy.check(bad).is_err(), "{bad}");
        }
        let development = ReturnUrlPolicy::parse("", true).expect("valid");
        assert!(development.check("http://127.0.0.1:9999/cb").is_ok());
        assert!(development.check("https://app.example.com/").is_err());
        assert!(ReturnUrlPolicy::parse("https://x/", false).is_err());
    }
}
