//! Where a credential may be sent: the origins a provider declares in `api_origins` (exact, or
//! `*.` over one label under a registrable domain, templated with connection parameters like the
//! other URLs), the canonical patterns an envelope carries, and the check a request URL passes
//! before a credential goes with it. The rules are the shared vectors'
//! (`clients/testdata/origins.json`), which every SDK runs too.

use crate::url_template::{ConnectionParams, UrlTemplate, authority_part, host_part};
use std::fmt;
use url::{Host, Url};

/// At most this many declared origins per provider.
pub const MAX_API_ORIGINS: usize = 20;

/// One origin as a provider declares it: `https://api.example.com`, `https://*.googleapis.com`
/// or `https://{instance}.my.salesforce.com`. A fixed one is kept in its canonical form.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiOrigin {
    raw: String,
    wildcard: bool,
    /// The origin without its `*.` label.
    template: UrlTemplate,
}

impl ApiOrigin {
    /// Checks the shape of a declared origin. Whether its placeholders are declared is the
    /// provider's check; where a templated one lands is checked when a connection fills it.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let (scheme, rest) = raw.split_once("://").ok_or("is not an origin (scheme://host[:port])")?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "https" && scheme != "http" {
            return Err("must be an http or https origin".to_owned());
        }
        let wildcard = rest.starts_with("*.");
        let unstarred = rest.strip_prefix("*.").unwrap_or(rest);
        if unstarred.contains('*') {
            return Err("may hold one wildcard, `*.`, as its whole first label".to_owned());
        }
        let authority = authority_part(unstarred);
        if !matches!(&unstarred[authority.len()..], "" | "/") {
            return Err("is an origin: no path, query or fragment".to_owned());
        }
        if authority.contains('@') {
            return Err("is an origin: no userinfo".to_owned());
        }
        let host = host_part(unstarred);
        if host.ends_with('.') {
            return Err("must not end its host with a dot (that names another host)".to_owned());
        }
        let template = UrlTemplate::parse(&format!("{scheme}://{authority}"))?;
        let origin = Self {
            raw: String::new(),
            wildcard,
            template,
        };
        let raw = match origin.template.fixed() {
            Some(url) => origin.pattern_for(url)?.to_string(),
            None => {
                origin.wildcard_host_problem(origin.template.shape())?;
                raw.trim_end_matches('/').to_owned()
            }
        };
        Ok(Self { raw, ..origin })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The origin's URL template (placeholders and all), for the provider's declaration checks.
    pub fn template(&self) -> &UrlTemplate {
        &self.template
    }

    /// The pattern for a connection: its placeholders filled and checked to stay on the
    /// provider's domain, like the other URLs.
    pub fn resolve(
        &self,
        params: &ConnectionParams,
        allowed_host_suffixes: &[String],
    ) -> Result<OriginPattern, String> {
        let url = self.template.resolve(params, allowed_host_suffixes)?;
        self.pattern_for(&url)
    }

    fn pattern_for(&self, url: &Url) -> Result<OriginPattern, String> {
        if self.wildcard {
            self.wildcard_host_problem(url)?;
        }
        let host = url.host_str().ok_or("has no host")?.to_owned();
        if host.ends_with('.') {
            return Err("must not end its host with a dot (that names another host)".to_owned());
        }
        Ok(OriginPattern {
            scheme: url.scheme().to_owned(),
            wildcard: self.wildcard,
            host,
            port: url.port(),
        })
    }

    /// `*.` may stand for a label under a registrable domain, never over an address or a
    /// public suffix (`*.com`, `*.co.uk`, `*.github.io`: anyone may own a label there), but for
    /// the few suffixes whose labels only their owner assigns ([`OWNER_ASSIGNED_SUFFIXES`]).
    fn wildcard_host_problem(&self, url: &Url) -> Result<(), String> {
        if !self.wildcard {
            return Ok(());
        }
        match url.host() {
            Some(Host::Domain(domain))
                if psl::domain_str(domain).is_some() || OWNER_ASSIGNED_SUFFIXES.contains(&domain) =>
            {
                Ok(())
            }
            Some(Host::Domain(domain)) => Err(format!(
                "puts `*.` directly over `{domain}`, a public suffix: anyone may own a name there"
            )),
            _ => Err("cannot put `*.` over an address".to_owned()),
        }
    }
}

/// Public suffixes (the list's private section) under which only the suffix's owner names the
/// first label: a wildcard over one of them reaches that owner's services only.
/// `googleapis.com` is listed for its customers' deeper names (`bucket.storage.googleapis.com`),
/// which a one-label wildcard does not match.
pub const OWNER_ASSIGNED_SUFFIXES: [&str; 1] = ["googleapis.com"];

impl fmt::Display for ApiOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl fmt::Debug for ApiOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiOrigin({})", self.raw)
    }
}

impl serde::Serialize for ApiOrigin {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.raw)
    }
}

impl<'de> serde::Deserialize<'de> for ApiOrigin {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <String as serde::Deserialize>::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// A concrete origin a credential may go to: `https://api.example.com`, `https://*.googleapis.com`
/// (one label in front of `googleapis.com`). Displays in the canonical form envelopes carry:
/// lowercase, an IDN in punycode, a scheme's default port left out.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OriginPattern {
    scheme: String,
    wildcard: bool,
    /// As `Url::host_str` gives it: lowercase ASCII, an IPv6 address in brackets.
    host: String,
    /// `None`: the scheme's default.
    port: Option<u16>,
}

impl OriginPattern {
    /// The exact origin of `url` (an API base URL).
    pub fn of(url: &Url) -> Option<Self> {
        let host = url.host_str()?.to_owned();
        Some(Self {
            scheme: url.scheme().to_owned(),
            wildcard: false,
            host,
            port: url.port(),
        })
    }

    /// A canonical pattern back from its text (an envelope a Broker sent).
    pub fn parse(canonical: &str) -> Result<Self, String> {
        let origin = ApiOrigin::parse(canonical)?;
        let url = origin.template.fixed().ok_or("has a placeholder")?;
        origin.pattern_for(url)
    }

    /// Whether a request to `url` may carry the credential: same scheme, host and port (a
    /// wildcard standing for exactly one label), and no userinfo.
    pub fn matches(&self, url: &Url) -> bool {
        if !url.username().is_empty() || url.password().is_some() || url.scheme() != self.scheme {
            return false;
        }
        let default_port = |scheme: &str| match scheme {
            "http" => Some(80),
            "https" => Some(443),
            _ => None,
        };
        if url.port_or_known_default() != self.port.or_else(|| default_port(&self.scheme)) {
            return false;
        }
        let Some(host) = url.host_str() else {
            return false;
        };
        if !self.wildcard {
            return host == self.host;
        }
        // A wildcard over a single label (`*.com`) never matches: the Broker refuses to store
        // one, and an envelope is not trusted to have been checked.
        self.host.contains('.')
            && host
                .strip_suffix(&self.host)
                .and_then(|front| front.strip_suffix('.'))
                .is_some_and(|label| !label.is_empty() && !label.contains('.'))
    }
}

impl fmt::Display for OriginPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let star = if self.wildcard { "*." } else { "" };
        write!(f, "{}://{star}{}", self.scheme, self.host)?;
        match self.port {
            Some(port) => write!(f, ":{port}"),
            None => Ok(()),
        }
    }
}

/// Whether `url` is within one of `origins`.
pub fn allows(origins: &[OriginPattern], url: &Url) -> bool {
    origins.iter().any(|origin| origin.matches(url))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn vectors() -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../clients/testdata/origins.json");
        serde_json::from_str(&std::fs::read_to_string(path).expect("origins.json")).expect("JSON")
    }

    #[test]
    fn every_shared_pattern_is_accepted_or_refused_as_the_vectors_say() {
        let vectors = vectors();
        let cases = vectors["patterns"].as_array().expect("patterns");
        assert!(cases.len() >= 20);
        for case in cases {
            let pattern = case["pattern"].as_str().expect("pattern");
            match (ApiOrigin::parse(pattern), case["valid"].as_bool().expect("valid")) {
                (Ok(origin), true) => {
                    assert_eq!(
                        origin.as_str(),
                        case["canonical"].as_str().expect("canonical"),
                        "{pattern}"
                    );
                    let resolved = origin.resolve(&ConnectionParams::new(), &[]).expect("fixed");
                    assert_eq!(resolved.to_string(), origin.as_str(), "{pattern}");
                }
                (Err(_), false) => {}
                (outcome, _) => panic!("{pattern}: {outcome:?}, the vectors say {case}"),
            }
        }
    }

    #[test]
    fn every_shared_request_is_allowed_or_refused_as_the_vectors_say() {
        let vectors = vectors();
        let cases = vectors["requests"].as_array().expect("requests");
        assert!(cases.len() >= 30);
        let patterns = |value: &Value| -> Vec<OriginPattern> {
            value
                .as_array()
                .expect("origins")
                .iter()
                .filter_map(|origin| OriginPattern::parse(origin.as_str().expect("text")).ok())
                .collect()
        };
        for case in cases {
            let name = case["name"].as_str().expect("name");
            let url = Url::parse(case["url"].as_str().expect("url")).expect("url");
            let mut allowed = allows(&patterns(&case["api_origins"]), &url);
            if let Some(narrowed) = case.get("narrowed_to") {
                allowed &= allows(&patterns(narrowed), &url);
            }
            assert_eq!(allowed, case["allowed"].as_bool().expect("allowed"), "{name}");
        }
    }

    #[test]
    fn an_unparsed_single_label_wildcard_in_an_envelope_matches_nothing() {
        let pattern = OriginPattern {
            scheme: "https".into(),
            wildcard: true,
            host: "com".into(),
            port: None,
        };
        assert!(!pattern.matches(&Url::parse("https://attacker.com/").expect("url")));
    }

    #[test]
    fn a_templated_origin_is_filled_and_kept_on_the_provider_domain() {
        let origin = ApiOrigin::parse("https://{instance}.my.salesforce.com").expect("valid");
        let params = ConnectionParams::from([("instance".to_owned(), "acme".to_owned())]);
        let pattern = origin.resolve(&params, &[]).expect("fills");
        assert_eq!(pattern.to_string(), "https://acme.my.salesforce.com");
        let escape = ConnectionParams::from([("instance".to_owned(), "attacker.example/".to_owned())]);
        assert!(origin.resolve(&escape, &[]).is_err());
        let wildcard = ApiOrigin::parse("https://*.{instance}.my.salesforce.com").expect("valid");
        assert_eq!(
            wildcard.resolve(&params, &[]).expect("fills").to_string(),
            "https://*.acme.my.salesforce.com"
        );
    }
}
