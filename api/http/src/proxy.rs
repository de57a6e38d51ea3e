//! `/v1/proxy/{path}` on the Gateway (and `/v1/internal/proxy/{path}` on the Broker, for a
//! split Gateway): the agent names the connection in headers (`Nexus-Workspace-Id` and
//! `Nexus-Provider`, or `Nexus-Connection-Id`) and the request by path under the provider's API
//! base URL (or absolutely, in `Nexus-Proxy-Url`); Nexus forwards it with the credential and
//! streams the answer back, marked `Nexus-Proxied: true` so an agent can tell the provider's
//! answer from Nexus's own errors. These are plain poem routes: the spec describes them (see
//! `spec::with_proxy`), poem-openapi cannot express a path that spans segments.

use crate::error::ApiError;
use crate::state::{BrokerState, GatewayState};
use futures::TryStreamExt;
use nexus_domain::agent_key::PresentedKey;
use nexus_domain::proxy::{ProxyDestination, ProxyRequest, ProxyResponse, ProxyTarget};
use nexus_domain::secret::SecretString;
use nexus_domain::{ConnectionId, ServiceError};
use poem::http::{HeaderMap, HeaderValue};
use poem::{Body, IntoResponse, Request, Response, handler, web::Data};

/// Marks an answer that came from the provider (forwarded), not from Nexus.
pub const PROXIED_HEADER: &str = "nexus-proxied";

pub(crate) const GATEWAY_PREFIX: &str = "/v1/proxy";
pub(crate) const INTERNAL_PREFIX: &str = "/v1/internal/proxy";

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// The connection and destination the headers and path name.
fn parse(req: &Request, prefix: &str) -> Result<(ProxyTarget, ProxyDestination), ServiceError> {
    let headers = req.headers();
    let target = match (
        header(headers, "nexus-connection-id"),
        header(headers, "nexus-workspace-id"),
        header(headers, "nexus-provider"),
    ) {
        (Some(id), None, None) => ProxyTarget::Connection(
            id.parse::<ConnectionId>()
                .map_err(|_| ServiceError::invalid("Nexus-Connection-Id", "is not a connection id"))?,
        ),
        (None, Some(workspace_id), Some(provider)) => ProxyTarget::Resolve {
            workspace_id: workspace_id.to_owned(),
            provider: provider.to_owned(),
        },
        _ => {
            return Err(ServiceError::invalid(
                "Nexus-Workspace-Id",
                "name the connection: Nexus-Workspace-Id and Nexus-Provider, or Nexus-Connection-Id",
            ));
        }
    };
    let path = req.uri().path().strip_prefix(prefix).unwrap_or_default();
    let destination = match header(headers, "nexus-proxy-url") {
        Some(url) if path.is_empty() || path == "/" => ProxyDestination::Url(url.to_owned()),
        Some(_) => {
            return Err(ServiceError::invalid(
                "Nexus-Proxy-Url",
                "give the destination once: a path after /v1/proxy, or an absolute URL here",
            ));
        }
        None => ProxyDestination::Path(match req.uri().query() {
            Some(query) => format!("{path}?{query}"),
            None => path.to_owned(),
        }),
    };
    Ok((target, destination))
}

fn bearer(req: &Request) -> Option<String> {
    header(req.headers(), "authorization")
        .and_then(|value| value.strip_prefix("Bearer "))
        .filter(|token| !token.is_empty())
        .map(str::to_owned)
}

async fn forward(
    req: &Request,
    body: Body,
    prefix: &str,
    agent: PresentedKey,
    proxy: &dyn nexus_domain::proxy::ProxyService,
) -> Result<ProxyResponse, ServiceError> {
    let (target, destination) = parse(req, prefix)?;
    let body = body.into_bytes_stream().map_err(std::io::Error::other);
    let request = ProxyRequest {
        target,
        destination,
        method: req.method().clone(),
        headers: req.headers().clone(),
        body: Box::pin(body),
    };
    proxy.forward(&agent, request).await
}

fn answer(result: Result<ProxyResponse, ServiceError>) -> Response {
    match result {
        Ok(proxied) => {
            let mut response = Response::builder()
                .status(proxied.status)
                .body(Body::from_bytes_stream(proxied.body));
            *response.headers_mut() = proxied.headers;
            response
                .headers_mut()
                .insert(PROXIED_HEADER, HeaderValue::from_static("true"));
            response
        }
        Err(error) => ApiError::from(error).into_response(),
    }
}

/// The Gateway's proxy: the agent's key in `Authorization`.
#[handler]
pub(crate) async fn gateway_proxy(req: &Request, body: Body, state: Data<&GatewayState>) -> Response {
    let Some(key) = bearer(req) else {
        return ApiError::from(ServiceError::Unauthenticated).into_response();
    };
    let agent = PresentedKey::new(SecretString::from(key));
    answer(forward(req, body, GATEWAY_PREFIX, agent, state.proxy.as_ref()).await)
}

/// The Broker's proxy, for a split Gateway: its service key in `Authorization`, the agent's key
/// in `X-Nexus-Agent-Key` (checked here, as every internal operation does).
#[handler]
pub(crate) async fn internal_proxy(req: &Request, body: Body, state: Data<&BrokerState>) -> Response {
    let Some(service_key) = bearer(req) else {
        return ApiError::from(ServiceError::Unauthenticated).into_response();
    };
    if let Err(error) = state.service_auth.authenticate(&SecretString::from(service_key)).await {
        return ApiError::from(error).into_response();
    }
    let Some(agent_key) = header(req.headers(), "x-nexus-agent-key").map(str::to_owned) else {
        return ApiError::from(ServiceError::Forbidden {
            reason: "an operation for an agent needs that agent's valid key in X-Nexus-Agent-Key",
        })
        .into_response();
    };
    let agent = PresentedKey::new(SecretString::from(agent_key));
    let result = forward(req, body, INTERNAL_PREFIX, agent, state.proxy.as_ref()).await;
    // The Broker authenticated the agent itself: a bad key is the internal API's 403.
    answer(result.map_err(|error| match error {
        ServiceError::Unauthenticated => ServiceError::Forbidden {
            reason: "an operation for an agent needs that agent's valid key in X-Nexus-Agent-Key",
        },
        other => other,
    }))
}

/// Whether a request is for a proxy route (its body is the proxy's to limit and stream).
pub(crate) fn is_proxy_path(path: &str) -> bool {
    [GATEWAY_PREFIX, INTERNAL_PREFIX]
        .iter()
        .any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")))
}
