//! The envelope around each API: a request id (task-local, `X-Request-Id`), a body size limit,
//! one JSON error shape for every failure (parse errors, 401s, unknown routes included), and an
//! access log line that never prints the query string (it can carry `code` and `state`).

use crate::error::{ApiError, REQUEST_ID};
use crate::http_metrics::HttpMetrics;
use nexus_domain::ErrorCode;
use poem::http::{HeaderValue, StatusCode, header};
use poem::{Body, Endpoint, IntoResponse, Request, Response};
use std::time::Instant;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
const REQUEST_ID_HEADER: &str = "x-request-id";

/// The budget of one request: outbound calls made for it never wait longer.
pub const REQUEST_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

pub(crate) struct Envelope<E> {
    pub(crate) inner: E,
    pub(crate) api: &'static str,
    pub(crate) metrics: HttpMetrics,
    /// For `Allow` on a 405.
    pub(crate) allowed: std::sync::Arc<crate::spec::AllowedMethods>,
}

/// A caller's request id is kept when it is short and plain; otherwise one is made.
fn request_id_of(req: &Request) -> String {
    req.headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

pub(crate) fn too_large() -> Response {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::PayloadTooLarge,
        format!("request body exceeds {MAX_BODY_BYTES} bytes"),
        None,
    )
    .into_response()
}

/// Fields whose value is free-form JSON (a credential schema is a JSON Schema, where `null` is
/// a value like any other): not searched for `null`.
const FREE_FORM_FIELDS: [&str; 1] = ["credential_schema"];

/// The top-level field of a JSON body that holds a `null` (at any depth), if any.
fn null_field(value: &serde_json::Value) -> Option<String> {
    fn holds_null(value: &serde_json::Value) -> bool {
        match value {
            serde_json::Value::Null => true,
            serde_json::Value::Array(items) => items.iter().any(holds_null),
            serde_json::Value::Object(map) => map
                .iter()
                .any(|(key, item)| !FREE_FORM_FIELDS.contains(&key.as_str()) && holds_null(item)),
            _ => false,
        }
    }
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .find(|(key, item)| !FREE_FORM_FIELDS.contains(&key.as_str()) && holds_null(item))
            .map(|(key, _)| key.clone()),
        other => holds_null(other).then(String::new),
    }
}

/// No schema of either API is nullable: a JSON body with a `null` anywhere is refused (omit an
/// optional field instead), rather than read as if the field were absent. A request without
/// credentials is left to the authentication that answers it 401 first.
async fn refuse_nulls(req: &mut Request) -> Result<(), Response> {
    if !req.headers().contains_key(header::AUTHORIZATION) && !req.uri().path().starts_with("/auth/") {
        return Ok(());
    }
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if !is_json {
        return Ok(());
    }
    let bytes = req
        .take_body()
        .into_bytes_limit(MAX_BODY_BYTES)
        .await
        .map_err(|_| too_large())?;
    let null = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|value| null_field(&value));
    req.set_body(Body::from_bytes(bytes));
    match null {
        None => Ok(()),
        Some(field) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidRequest,
            "null is not a value here: omit an optional field instead",
            (!field.is_empty() && field.len() <= 64).then_some(field),
        )
        .into_response()),
    }
}

/// Refuses bodies over the limit: by `Content-Length` when given, by reading at most the limit otherwise.
async fn limit_body(req: &mut Request) -> Result<(), Response> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    match declared {
        Some(length) if length > MAX_BODY_BYTES => Err(too_large()),
        Some(_) => Ok(()),
        None => {
            let body = req.take_body();
            let bytes = body.into_bytes_limit(MAX_BODY_BYTES).await.map_err(|_| too_large())?;
            req.set_body(Body::from_bytes(bytes));
            Ok(())
        }
    }
}

/// poem-openapi's parse errors quote the value they could not parse ("Expected input type
/// \"string\", found [\"sk-...\"]"): keep what was expected and where, never the value.
fn without_values(detail: &str) -> String {
    const SUFFIX_START: &str = " (occurred while parsing \"";
    // Walk the genuine suffixes from the end: the value sits before all of them.
    let mut head = detail.trim_end();
    let mut suffixes = Vec::new();
    while let Some(stripped) = head.strip_suffix("\")")
        && let Some(at) = stripped.rfind(SUFFIX_START)
    {
        let name = &stripped[at + SUFFIX_START.len()..];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "_()".contains(c)) {
            break;
        }
        suffixes.push(format!("{SUFFIX_START}{name}\")"));
        head = &stripped[..at];
    }
    let head = match head.find(", found ") {
        Some(at) => format!("{}, found a value of another type.", &head[..at]),
        None => head.to_owned(),
    };
    suffixes.reverse();
    format!("{head}{}", suffixes.concat())
}

/// The code and public message for an error that did not come from a handler.
fn describe(status: StatusCode, detail: &str) -> (ErrorCode, String) {
    match status {
        StatusCode::BAD_REQUEST => (ErrorCode::InvalidRequest, without_values(detail)),
        StatusCode::UNAUTHORIZED => (ErrorCode::Unauthenticated, "missing or invalid credentials".to_owned()),
        StatusCode::FORBIDDEN => (ErrorCode::Forbidden, "forbidden".to_owned()),
        StatusCode::NOT_FOUND => (ErrorCode::RouteNotFound, "no such route".to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorCode::MethodNotAllowed,
            "method not allowed on this route".to_owned(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            ErrorCode::PayloadTooLarge,
            format!("request body exceeds {MAX_BODY_BYTES} bytes"),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (ErrorCode::UnsupportedMediaType, detail.to_owned()),
        s if s.is_client_error() => (ErrorCode::InvalidRequest, without_values(detail)),
        _ => (ErrorCode::InternalError, "internal error".to_owned()),
    }
}

pub(crate) fn normalize(error: poem::Error) -> Response {
    if error.is_from_response() {
        return error.into_response();
    }
    let status = error.status();
    let detail = error.to_string();
    if status.is_server_error() {
        tracing::error!(%status, detail, "unhandled error");
    }
    let (code, message) = describe(status, &detail);
    ApiError::new(status, code, message, parameter_of(&detail)).into_response()
}

/// The parameter or body field a parse error is about (``failed to parse parameter `limit`: ...``,
/// or ``... field `name` verification failed ...`` for a body field's schema constraint).
fn parameter_of(detail: &str) -> Option<String> {
    let rest = match detail.strip_prefix("failed to parse parameter `") {
        Some(rest) => rest,
        None => {
            let at = detail.find("field `")?;
            let rest = &detail[at + "field `".len()..];
            rest.find("` verification failed")?;
            rest
        }
    };
    let name = &rest[..rest.find('`')?];
    (!name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .then(|| name.to_owned())
}

fn content_type_starts_with(response: &Response, prefix: &str) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with(prefix))
}

fn is_json(response: &Response) -> bool {
    content_type_starts_with(response, "application/json")
}

/// The hosted pages answer errors in HTML on purpose.
fn is_html(response: &Response) -> bool {
    content_type_starts_with(response, "text/html")
}

impl<E: Endpoint> Endpoint for Envelope<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let request_id = request_id_of(&req);
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let started = Instant::now();
        let mut operation = "other";
        // A proxied body is the provider's, not an API body: the proxy limits and streams it.
        let proxied = crate::proxy::is_proxy_path(&path);
        if proxied {
            operation = "proxy";
        }
        let work = async {
            if !proxied && let Err(response) = limit_body(&mut req).await {
                return response;
            }
            if !proxied && let Err(response) = refuse_nulls(&mut req).await {
                return response;
            }
            match self.inner.call(req).await {
                Ok(output) => {
                    let response = output.into_response();
                    if let Some(id) = response.data::<poem_openapi::OperationId>() {
                        operation = id.0;
                    }
                    // A plain-text error produced below the handlers still gets the JSON shape
                    // (a provider's own answer through the proxy is passed on as it is).
                    let forwarded = response.headers().contains_key(crate::proxy::PROXIED_HEADER);
                    if response.status().as_u16() >= 400 && !is_json(&response) && !is_html(&response) && !forwarded {
                        let status = response.status();
                        let (code, message) = describe(status, status.canonical_reason().unwrap_or("error"));
                        ApiError::new(status, code, message, None).into_response()
                    } else {
                        response
                    }
                }
                Err(error) => {
                    if let Some(id) = error.data::<poem_openapi::OperationId>() {
                        operation = id.0;
                    }
                    normalize(error)
                }
            }
        };
        let mut response = REQUEST_ID
            .scope(
                request_id.clone(),
                nexus_domain::deadline::with_deadline(REQUEST_DEADLINE, work),
            )
            .await;
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert(REQUEST_ID_HEADER, value);
        }
        crate::spec::allow_header(&mut response, &self.allowed, &path);
        if response.status() == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        let elapsed = started.elapsed().as_secs_f64();
        self.metrics
            .observe(self.api, operation, response.status().as_u16(), elapsed);
        tracing::info!(
            api = self.api,
            operation,
            %method,
            path,
            status = response.status().as_u16(),
            elapsed_ms = elapsed * 1000.0,
            request_id,
            "request"
        );
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_never_quote_the_value() {
        let detail = "parse request payload error: Expected input type \"string\", found [\"sk-secret-value\"]. \
                      (occurred while parsing \"optional_string\") (occurred while parsing \"ProviderCreate\")";
        let message = without_values(detail);
        assert!(!message.contains("sk-secret-value"), "{message}");
        assert!(message.contains("Expected input type \"string\""), "{message}");
        assert!(
            message.ends_with("(occurred while parsing \"ProviderCreate\")"),
            "{message}"
        );
        // A value dressed up as a suffix is still the value.
        let crafted = "parse request payload error: Expected input type \"string\", found \"x. (occurred while \
                       parsing \\\"sk_secret\\\")\". (occurred while parsing \"ProviderCreate\")";
        assert!(
            !without_values(crafted).contains("sk_secret"),
            "{}",
            without_values(crafted)
        );
        let plain = "parse request payload error: EOF while parsing a string at line 1 column 43";
        assert_eq!(without_values(plain), plain);
        assert_eq!(
            parameter_of("failed to parse parameter `limit`: invalid digit found in string").as_deref(),
            Some("limit")
        );
    }
}
