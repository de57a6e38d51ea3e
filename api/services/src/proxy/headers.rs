//! Which headers cross the proxy: never hop-by-hop ones, never the agent's own credentials or
//! cookies (nor Nexus's control headers) on the way out, never cookies on the way back.

use http::HeaderMap;
use http::header::{self, HeaderName};

/// Hop-by-hop headers (RFC 9110, 7.6.1) and what the connection to the provider sets itself.
const HOP_BY_HOP: [HeaderName; 10] = [
    header::CONNECTION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::HOST,
    header::CONTENT_LENGTH,
    HeaderName::from_static("keep-alive"),
];

/// Headers named in `Connection`, which are hop-by-hop too.
fn named_in_connection(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| !name.is_empty())
        .collect()
}

fn without(headers: &HeaderMap, refused: impl Fn(&HeaderName) -> bool) -> HeaderMap {
    let connection = named_in_connection(headers);
    let mut kept = HeaderMap::new();
    for (name, value) in headers {
        if HOP_BY_HOP.contains(name) || connection.iter().any(|named| named == name.as_str()) || refused(name) {
            continue;
        }
        kept.append(name.clone(), value.clone());
    }
    kept
}

/// What the agent sent, as it goes to the provider: without the agent's `Authorization` (its
/// Nexus key), cookies, Nexus's own headers or request ids, and hop-by-hop headers.
pub(super) fn forwarded(headers: &HeaderMap) -> HeaderMap {
    without(headers, |name| {
        let name = name.as_str();
        name == header::AUTHORIZATION.as_str()
            || name == header::COOKIE.as_str()
            || name.starts_with("nexus-")
            || name.starts_with("x-nexus-")
            || name == "x-request-id"
    })
}

/// What the provider answered, as it goes back to the agent: without cookies it sets and
/// hop-by-hop headers.
pub(super) fn returned(headers: &HeaderMap) -> HeaderMap {
    without(headers, |name| name == header::SET_COOKIE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_cookies_and_hop_by_hop_headers_never_cross() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("authorization", "Bearer nxa_agent_key"),
            ("cookie", "session=1"),
            ("connection", "keep-alive, x-private-hop"),
            ("x-private-hop", "1"),
            ("keep-alive", "timeout=5"),
            ("transfer-encoding", "chunked"),
            ("nexus-workspace-id", "ws-1"),
            ("x-nexus-agent-key", "nxa_other"),
            ("accept", "application/json"),
            ("notion-version", "2022-06-28"),
        ] {
            headers.append(HeaderName::from_static(name), value.parse().expect("value"));
        }
        let sent = forwarded(&headers);
        let names: Vec<&str> = sent.keys().map(HeaderName::as_str).collect();
        assert_eq!(names, ["accept", "notion-version"]);
        let mut answer = HeaderMap::new();
        answer.append(header::SET_COOKIE, "s=1".parse().expect("value"));
        answer.append(header::CONTENT_TYPE, "application/json".parse().expect("value"));
        assert_eq!(
            returned(&answer).keys().map(HeaderName::as_str).collect::<Vec<_>>(),
            ["content-type"]
        );
    }
}
