//! Browser routes of the Broker, outside the client specs: the OAuth callback and the hosted
//! capture form. Every answer carries headers that keep the page private and unframeable.

use crate::error::ApiError;
use crate::pages;
use crate::state::BrokerState;
use nexus_domain::ServiceError;
use nexus_domain::connection::CallbackParams;
use poem::http::{StatusCode, header};
use poem::web::{Data, Query};
use poem::{Body, IntoResponse, Request, Response, handler};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The strict policy of every page: nothing loads, nothing frames it, forms post only here.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-store"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
];

/// The policy of a capture form. Browsers apply `form-action` to the redirect that follows the
/// post too, so the form may also lead to the origin of this consent's return URL (an allowed
/// one, checked when the consent started), and to no other; the provider's logo may load from
/// its own origin, and no other image.
fn capture_policy(form: &nexus_domain::connection::CaptureForm) -> String {
    let origin = |url: &url::Url| match url.origin() {
        origin @ url::Origin::Tuple(..) => Some(origin.ascii_serialization()),
        url::Origin::Opaque(_) => None,
    };
    let mut policy = CONTENT_SECURITY_POLICY.to_owned();
    if let Some(return_origin) = origin(&form.return_url) {
        policy = policy.replacen("form-action 'self'", &format!("form-action 'self' {return_origin}"), 1);
    }
    if let Some(logo_origin) = form.logo_url.as_ref().and_then(origin) {
        policy.push_str(&format!("; img-src {logo_origin}"));
    }
    policy
}

fn with_security_headers(mut builder: poem::ResponseBuilder, policy: &str) -> poem::ResponseBuilder {
    builder = builder.header("content-security-policy", policy);
    for (name, value) in SECURITY_HEADERS {
        builder = builder.header(name, value);
    }
    builder
}

fn html(status: StatusCode, body: String) -> Response {
    html_with(status, body, CONTENT_SECURITY_POLICY)
}

fn html_with(status: StatusCode, body: String, policy: &str) -> Response {
    let builder = Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8");
    with_security_headers(builder, policy).body(body)
}

fn redirect(location: &url::Url) -> Response {
    let builder = Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, location.as_str());
    with_security_headers(builder, CONTENT_SECURITY_POLICY).finish()
}

fn wants_json(req: &Request) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json") && !accept.contains("text/html"))
}

/// Errors before a valid state get the "invalid link" page; the rest the JSON error body.
fn browser_error(error: ServiceError) -> Response {
    match error {
        ServiceError::InvalidState { reason } => {
            html(StatusCode::BAD_REQUEST, pages::invalid_link(&format!("{reason}.")))
        }
        other => ApiError::from(other).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(return_url: &str, logo_url: Option<&str>) -> nexus_domain::connection::CaptureForm {
        let url = |raw: &str| url::Url::parse(raw).expect("url");
        nexus_domain::connection::CaptureForm {
            provider: nexus_domain::ProviderName::parse("p").expect("name"),
            display_name: "P".into(),
            schema: nexus_domain::credential_schema::CredentialSchema::parse(&serde_json::json!({
                "type": "object", "properties": {"api_key": {"type": "string"}}, "required": ["api_key"]
            }))
            .expect("schema"),
            submit_url: url("https://nexus.test/auth/capture"),
            return_url: url(return_url),
            description: None,
            logo_url: logo_url.map(url),
            docs_url: None,
            cancel_url: url("https://nexus.test/auth/callback"),
        }
    }

    #[test]
    fn a_capture_form_may_lead_to_its_return_origin_only() {
        let policy = capture_policy(&form("https://app.example.com:8443/done?x=1", None));
        assert!(
            policy.contains("form-action 'self' https://app.example.com:8443;"),
            "{policy}"
        );
        assert!(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"));
        assert!(
            !policy.contains('*') && !policy.contains("/done") && !policy.contains("img-src"),
            "{policy}"
        );
        assert_eq!(
            capture_policy(&form("data:text/plain,hi", None)),
            CONTENT_SECURITY_POLICY
        );
        let with_logo = capture_policy(&form(
            "https://app.example.com/done",
            Some("https://cdn.example.net/logo.png"),
        ));
        assert!(with_logo.ends_with("; img-src https://cdn.example.net"), "{with_logo}");
    }
}

#[derive(Deserialize)]
pub(crate) struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    iss: Option<String>,
}

/// `GET /auth/callback`: the provider sends the user back here.
#[handler]
pub(crate) async fn callback(state: Data<&BrokerState>, Query(query): Query<CallbackQuery>) -> Response {
    let params = CallbackParams {
        state: query.state,
        code: query.code,
        error: query.error,
        error_description: query.error_description,
        iss: query.iss,
    };
    match state.connections.exchange_code_for_tokens(params).await {
        Ok(flow) => redirect(&flow.redirect_to),
        Err(error) => browser_error(error),
    }
}

/// `GET /auth/client-metadata.json`: Nexus's Client ID Metadata Document, fetched by the
/// authorization servers of MCP servers that take one (its URL is the `client_id`).
#[handler]
pub(crate) fn client_metadata_document(state: Data<&BrokerState>) -> Response {
    Response::builder()
        .content_type("application/json")
        .header("cache-control", "public, max-age=3600")
        .body(state.connections.client_metadata_document().to_string())
}

#[derive(Deserialize)]
pub(crate) struct CaptureQuery {
    state: Option<String>,
}

/// `GET /auth/capture?state=`: the form, or `{provider, display_name, schema}` for JSON clients.
#[handler]
pub(crate) async fn capture_form(
    req: &Request,
    state: Data<&BrokerState>,
    Query(query): Query<CaptureQuery>,
) -> Response {
    let Some(token) = query.state else {
        return browser_error(ServiceError::InvalidState {
            reason: "the state is missing",
        });
    };
    match state.connections.capture_form(&token).await {
        Ok(form) if wants_json(req) => poem::web::Json(serde_json::json!({
            "provider": form.provider.as_str(),
            "display_name": form.display_name,
            "schema": form.schema.to_json(),
        }))
        .into_response(),
        Ok(form) => html_with(
            StatusCode::OK,
            pages::capture_form(&form, &token, &BTreeMap::new(), &BTreeMap::new()),
            &capture_policy(&form),
        ),
        Err(error) => browser_error(error),
    }
}

/// A capture through the JSON variant. No `Debug`: it holds the state and the credentials.
#[derive(Deserialize)]
struct CaptureJson {
    state: String,
    credentials: nexus_domain::connection::CredentialValues,
}

/// `POST /auth/capture`: a form post (redirects on success, re-renders with messages on a
/// mistake) or JSON `{state, credentials}` (200 JSON, or the JSON error).
#[handler]
pub(crate) async fn capture_submit(req: &Request, state: Data<&BrokerState>, body: Body) -> Response {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    let bytes = match body.into_vec().await {
        Ok(bytes) => bytes,
        Err(_) => {
            return ApiError::from(ServiceError::invalid("body", "could not be read")).into_response();
        }
    };
    if is_json {
        let parsed: CaptureJson = match serde_json::from_slice(&bytes) {
            Ok(parsed) => parsed,
            Err(_) => {
                // serde's message can quote the submitted values (a key, say): never echo it.
                return ApiError::from(ServiceError::invalid(
                    "body",
                    "must be JSON: {\"state\": \"...\", \"credentials\": {\"<field>\": \"<text>\"}}",
                ))
                .into_response();
            }
        };
        return match state
            .connections
            .save_credential(&parsed.state, parsed.credentials.0)
            .await
        {
            Ok(flow) => poem::web::Json(serde_json::json!({
                "status": "active",
                "connection_id": flow.connection_id,
                "provider": flow.provider.as_str(),
                "redirect_url": flow.redirect_to.as_str(),
            }))
            .into_response(),
            Err(error) => ApiError::from(error).into_response(),
        };
    }
    let mut fields: BTreeMap<String, String> = url::form_urlencoded::parse(&bytes).into_owned().collect();
    let Some(token) = fields.remove("state") else {
        return browser_error(ServiceError::InvalidState {
            reason: "the state is missing",
        });
    };
    let entered = fields.clone();
    match state.connections.save_credential(&token, fields).await {
        Ok(flow) => redirect(&flow.redirect_to),
        Err(ServiceError::InvalidFields { errors }) => match state.connections.capture_form(&token).await {
            Ok(form) => html_with(
                StatusCode::BAD_REQUEST,
                pages::capture_form(&form, &token, &errors, &entered),
                &capture_policy(&form),
            ),
            Err(error) => browser_error(error),
        },
        Err(error) => browser_error(error),
    }
}

/// `GET /metrics`: Prometheus text, on the Broker listener only.
#[handler]
pub(crate) fn metrics(registry: Data<&prometheus::Registry>) -> Response {
    let encoder = prometheus::TextEncoder::new();
    match encoder.encode_to_string(&registry.gather()) {
        Ok(text) => Response::builder().content_type(prometheus::TEXT_FORMAT).body(text),
        Err(error) => ApiError::from(ServiceError::internal("encoding metrics", error)).into_response(),
    }
}
