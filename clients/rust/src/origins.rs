//! Where a credential may be sent: the envelope's `api_origins` (and a caller's narrower list)
//! checked against a request URL, by the rules of the shared vectors
//! (`clients/testdata/origins.json`): scheme, host and port equal (a default port written or
//! not), hosts in lowercase ASCII, `*.` standing for exactly one label, and a URL with userinfo
//! or a host ending in a dot matching nothing.

use reqwest::Url;

/// Whether a request to `url` may carry a credential allowed to go to `origins`.
pub fn allows(origins: &[String], url: &Url) -> bool {
    origins.iter().any(|origin| matches(origin, url))
}

/// Whether `url` is within the origin pattern `origin` (`https://api.example.com`,
/// `https://*.googleapis.com`, `http://127.0.0.1:8080`).
pub fn matches(origin: &str, url: &Url) -> bool {
    if !url.username().is_empty() || url.password().is_some() {
        return false;
    }
    let Some(host) = url.host_str() else {
        return false;
    };
    let (wildcard, pattern) = match origin.split_once("://*.") {
        Some((scheme, rest)) => (true, format!("{scheme}://{rest}")),
        None => (false, origin.to_owned()),
    };
    let Ok(pattern) = Url::parse(&pattern) else {
        return false;
    };
    let Some(pattern_host) = pattern.host_str() else {
        return false;
    };
    if url.scheme() != pattern.scheme() || url.port_or_known_default() != pattern.port_or_known_default() {
        return false;
    }
    if host.ends_with('.') || pattern_host.ends_with('.') {
        return false;
    }
    if !wildcard {
        return host == pattern_host;
    }
    // A wildcard over a single label (`*.com`) matches nothing, whatever the envelope says.
    pattern_host.contains('.')
        && host
            .strip_suffix(pattern_host)
            .and_then(|front| front.strip_suffix('.'))
            .is_some_and(|label| !label.is_empty() && !label.contains('.'))
}

/// The origin a redirect chain starts from, to tell when a hop leaves it.
pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    a.origin() == b.origin()
}
