//! Sending a request with a credential and following its redirects here, not in reqwest: every
//! hop within the request's origin carries the credential again (its origin checked again), and
//! once a hop leaves that origin no later hop carries it, in any place a strategy puts it, nor
//! the caller's own `Authorization`, `Cookie` or `Proxy-Authorization`. 301, 302 and 303 turn a
//! POST into a GET without a body (303 any method but HEAD); 307 and 308 keep both.

use crate::credentials::SdkError;
use crate::gateway::types::{CredentialEnvelope, Strategy};
use crate::inject::{InjectError, inject};
use crate::origins::{allows, same_origin};
use reqwest::header::{AUTHORIZATION, COOKIE, LOCATION, PROXY_AUTHORIZATION};
use reqwest::{Method, StatusCode};

/// At most this many redirects per request.
pub const MAX_REDIRECTS: usize = 10;

/// What came back, and whether the credential went with the request that got it (a 401 from a
/// hop that had no credential says nothing about the credential).
#[derive(Debug)]
pub struct Sent {
    pub response: reqwest::Response,
    pub carried_credential: bool,
}

/// Sends `request` with `envelope`'s credential through `http` (which must not follow redirects
/// itself: [`no_redirects`]). `narrowed`, when given, is the caller's own list of origins: a
/// request must be within it too.
pub async fn send(
    http: &reqwest::Client,
    envelope: &CredentialEnvelope,
    narrowed: Option<&[String]>,
    request: reqwest::Request,
) -> Result<Sent, SdkError> {
    let start = request.url().clone();
    let mut carried_credential = true;
    let mut next = request;
    for _ in 0..=MAX_REDIRECTS {
        let unsent = next.try_clone();
        let outgoing = if carried_credential {
            if narrowed.is_some_and(|origins| !allows(origins, next.url())) {
                let origin = next.url().origin().ascii_serialization();
                return Err(SdkError::Credential(InjectError::OriginNotAllowed(origin)));
            }
            inject(envelope, next)?
        } else {
            next
        };
        let response = http.execute(outgoing).await.map_err(|_| SdkError::ApiUnreachable)?;
        let Some((unsent, location)) = unsent.zip(redirect_location(&response)) else {
            return Ok(Sent {
                response,
                carried_credential,
            });
        };
        next = follow(unsent, response.status(), location);
        // A path-preserving redirect repeats the query: the strategy's parameter and the
        // provider's own (`api_query`, which may hold a credential field) are taken out of every
        // hop, and put back (by `inject`) only within the origin.
        if let Strategy::QueryParamStrategy(query) = &envelope.strategy {
            without_query_param(next.url_mut(), &query.param_name);
        }
        for name in envelope.api_query.keys() {
            without_query_param(next.url_mut(), name);
        }
        if !same_origin(&start, next.url()) {
            carried_credential = false;
        }
        if !carried_credential {
            for name in [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION] {
                next.headers_mut().remove(name);
            }
        }
    }
    Err(SdkError::TooManyRedirects)
}

/// A client builder made safe for [`send`]: reqwest follows no redirect (it would carry custom
/// headers and query parameters to any host). HTTPS uses rustls with the `ring` provider, as
/// in [`crate::authenticated_http_client`].
pub fn no_redirects(builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
    crate::install_tls_provider();
    builder.redirect(reqwest::redirect::Policy::none())
}

/// `url` without any `name=` pair in its query.
fn without_query_param(url: &mut reqwest::Url, name: &str) {
    if url.query().is_none() {
        return;
    }
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| key != name)
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
}

/// Where a redirect answer points, resolved against the URL that got it.
fn redirect_location(response: &reqwest::Response) -> Option<reqwest::Url> {
    if !matches!(response.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = response.headers().get(LOCATION)?.to_str().ok()?;
    response.url().join(location).ok()
}

/// The request a redirect asks for, made from the one that got it (before any credential).
fn follow(mut request: reqwest::Request, status: StatusCode, location: reqwest::Url) -> reqwest::Request {
    let to_get = match status {
        StatusCode::SEE_OTHER => request.method() != Method::HEAD,
        StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND => request.method() == Method::POST,
        _ => false,
    };
    if to_get {
        *request.method_mut() = Method::GET;
        *request.body_mut() = None;
        for name in [
            "content-type",
            "content-length",
            "content-encoding",
            "transfer-encoding",
        ] {
            request.headers_mut().remove(name);
        }
    }
    *request.url_mut() = location;
    request
}
