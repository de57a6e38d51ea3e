//! Where a proxied request goes: a path under the connection's `api_base_url` (never climbing
//! out of it) or an absolute URL, either way within the connection's origins, and at an address
//! the outbound policy allows (production: https, and never a loopback, private or link-local
//! address, checked again by the resolver when the name is looked up).

use crate::webhooks::TargetPolicy;
use nexus_domain::ServiceError;
use nexus_domain::connection::CredentialEnvelope;
use nexus_domain::origins::allows;
use nexus_domain::proxy::ProxyDestination;
use url::Url;

/// The URL a proxied request is for.
pub(super) fn resolve(envelope: &CredentialEnvelope, destination: &ProxyDestination) -> Result<Url, ServiceError> {
    let url = match destination {
        ProxyDestination::Url(raw) => {
            let url =
                Url::parse(raw).map_err(|_| ServiceError::invalid("Nexus-Proxy-Url", "is not an absolute URL"))?;
            if !matches!(url.scheme(), "https" | "http") {
                return Err(ServiceError::invalid("Nexus-Proxy-Url", "must be an http or https URL"));
            }
            url
        }
        ProxyDestination::Path(path_and_query) => under_base(envelope, path_and_query)?,
    };
    if !allows(&envelope.api_origins, &url) {
        return Err(ServiceError::OriginNotAllowed {
            message: format!(
                "the credential of `{}` may not go to {}: it is not one of the provider's origins",
                envelope.provider,
                url.origin().ascii_serialization()
            ),
        });
    }
    Ok(url)
}

/// `path_and_query` under the connection's base URL; a path that climbs out of the base's own
/// path (`..`, encoded or not) is refused.
fn under_base(envelope: &CredentialEnvelope, path_and_query: &str) -> Result<Url, ServiceError> {
    let base = envelope.api_base_url.as_ref().ok_or_else(|| {
        ServiceError::invalid(
            "path",
            format!(
                "`{}` has no api_base_url: give the absolute URL in Nexus-Proxy-Url",
                envelope.provider
            ),
        )
    })?;
    let (path, query) = match path_and_query.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path_and_query, None),
    };
    let base_path = base.path().trim_end_matches('/');
    let mut url = base.clone();
    url.set_path(&format!("{base_path}/{}", path.trim_start_matches('/')));
    url.set_query(query);
    let inside = url.path() == base_path || url.path().starts_with(&format!("{base_path}/"));
    if !inside || path.contains('\\') {
        return Err(ServiceError::invalid(
            "path",
            format!("must stay under the provider's API base path `{}/`", base_path),
        ));
    }
    Ok(url)
}

/// The outbound policy on the URL itself: https in production, and no literal internal address
/// (names are checked by the client's resolver when they are looked up).
pub(super) fn check_address(policy: &TargetPolicy, url: &Url) -> Result<(), ServiceError> {
    if policy.allow_private {
        return Ok(());
    }
    if url.scheme() != "https" || policy.check_literal(url).is_err() || nexus_domain::provider::is_loopback(url) {
        return Err(refused_address(url));
    }
    Ok(())
}

/// The outbound policy refused where the request would go.
pub(super) fn refused_address(url: &Url) -> ServiceError {
    ServiceError::OriginNotAllowed {
        message: format!(
            "the proxy does not send to {}: only https, and never to a loopback, private or link-local address",
            url.origin().ascii_serialization()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nexus_domain::connection::CredentialValues;
    use nexus_domain::origins::OriginPattern;
    use nexus_domain::strategy::Strategy;

    fn envelope(base: &str) -> CredentialEnvelope {
        let base = Url::parse(base).expect("base");
        CredentialEnvelope {
            connection_id: nexus_domain::ConnectionId::new(),
            workspace_id: nexus_domain::WorkspaceId::parse("ws").expect("ws"),
            provider: nexus_domain::ProviderName::parse("p").expect("name"),
            strategy: Strategy::Oauth2,
            credentials: CredentialValues::default(),
            expires_at: None,
            scopes: Vec::new(),
            api_origins: OriginPattern::of(&base).into_iter().collect(),
            api_headers: Default::default(),
            api_query: Default::default(),
            api_base_url: Some(base),
            stale_seconds: None,
        }
    }

    #[test]
    fn a_path_stays_under_the_base_path() {
        let envelope = envelope("https://api.example.com/v2");
        let path = |p: &str| resolve(&envelope, &ProxyDestination::Path(p.to_owned()));
        assert_eq!(
            path("/users/me?x=1").expect("inside").as_str(),
            "https://api.example.com/v2/users/me?x=1"
        );
        assert_eq!(path("").expect("the base").as_str(), "https://api.example.com/v2/");
        for climbing in [
            "/../admin",
            "/%2e%2e/admin",
            "/a/%2E%2E/%2e%2e/admin",
            "/..%2fadmin",
            "/a\\..\\b",
        ] {
            let outcome = path(climbing);
            assert!(
                outcome.as_ref().map_or(true, |url| url.path().starts_with("/v2/")),
                "{climbing}: {outcome:?}"
            );
        }
        assert_eq!(
            path("/../admin").expect_err("climbs").code().as_str(),
            "invalid_request"
        );
        assert_eq!(
            path("/%2e%2e/admin").expect_err("climbs").code().as_str(),
            "invalid_request"
        );
    }

    #[test]
    fn production_sends_only_https_and_never_inside() {
        let production = TargetPolicy { allow_private: false };
        for refused in [
            "http://api.example.com/",
            "https://127.0.0.1/",
            "https://10.0.0.8/",
            "https://localhost/",
            "https://[::1]/",
        ] {
            let url = Url::parse(refused).expect("url");
            assert_eq!(
                check_address(&production, &url).expect_err(refused).code().as_str(),
                "origin_not_allowed",
                "{refused}"
            );
        }
        assert!(check_address(&production, &Url::parse("https://api.example.com/").expect("url")).is_ok());
        let development = TargetPolicy { allow_private: true };
        assert!(check_address(&development, &Url::parse("http://127.0.0.1:8080/").expect("url")).is_ok());
    }

    #[test]
    fn an_absolute_url_must_be_within_the_origins() {
        let envelope = envelope("https://api.example.com/v2");
        let to = |u: &str| resolve(&envelope, &ProxyDestination::Url(u.to_owned()));
        assert!(to("https://api.example.com/other").is_ok());
        for refused in [
            "https://attacker.example/",
            "https://api.example.com.attacker.example/",
            "https://user@api.example.com/",
        ] {
            assert_eq!(
                to(refused).expect_err(refused).code().as_str(),
                "origin_not_allowed",
                "{refused}"
            );
        }
        assert_eq!(
            to("ftp://api.example.com/").expect_err("scheme").code().as_str(),
            "invalid_request"
        );
    }
}
