//! `ApiError`: the one error shape of both APIs, `{code, message, request_id}` (plus the field a
//! client mistake is about). Internal detail is logged here, once, with the request id; only the
//! public message is serialized.

use nexus_domain::{ErrorCode, ServiceError};
use poem::http::StatusCode;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

tokio::task_local! {
    /// The id of the request being served, set by the envelope middleware.
    pub(crate) static REQUEST_ID: String;
}

pub(crate) fn current_request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

/// The body of every non-2xx answer.
#[derive(Object, Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[oai(skip_serializing_if_is_none)]
#[oai(rename = "Error")]
pub struct ErrorBody {
    /// Stable, machine-readable error code (snake_case)
    pub code: String,
    /// What went wrong, safe to show to users
    pub message: String,
    /// Id of the request, also in the `X-Request-Id` header; quote it when reporting a problem
    pub request_id: String,
    /// The request field the error is about, for invalid input
    #[oai(skip_serializing_if_is_none)]
    pub field: Option<String>,
    /// The connection the error is about, when the request did not name it: a resolve answered
    /// `attention_required` or `connection_pending` names the connection to re-consent or wait
    /// for, and `insufficient_scope` the one to consent again with more scopes
    #[oai(skip_serializing_if_is_none)]
    pub connection_id: Option<uuid::Uuid>,
    /// For `insufficient_scope`: the scopes the connection was not granted
    #[oai(skip_serializing_if_is_none)]
    pub missing_scopes: Option<Vec<String>>,
}

#[derive(ApiResponse, Debug)]
pub enum ApiError {
    /// The request was invalid, unauthenticated, not found, or conflicts with the current state
    #[oai(status_range = "4XX")]
    Client(
        StatusCode,
        Json<ErrorBody>,
        #[oai(header = "WWW-Authenticate")] Option<String>,
    ),
    /// Nexus or an upstream provider failed; the request may be retried (after `Retry-After`
    /// seconds, when given)
    #[oai(status_range = "5XX")]
    Server(
        StatusCode,
        Json<ErrorBody>,
        #[oai(header = "Retry-After")] Option<String>,
    ),
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>, field: Option<String>) -> Self {
        let body = Json(ErrorBody {
            code: code.as_str().to_owned(),
            message: message.into(),
            request_id: current_request_id(),
            field,
            connection_id: None,
            missing_scopes: None,
        });
        if status.is_server_error() {
            Self::Server(status, body, None)
        } else {
            let challenge = (status == StatusCode::UNAUTHORIZED).then(|| "Bearer".to_owned());
            Self::Client(status, body, challenge)
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Client(status, ..) | Self::Server(status, ..) => *status,
        }
    }

    pub fn body(&self) -> &ErrorBody {
        match self {
            Self::Client(_, body, _) | Self::Server(_, body, _) => body,
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if let Some(detail) = error.internal_detail() {
            tracing::error!(request_id = %current_request_id(), detail, "internal error");
        }
        let mut api_error = Self::new(
            status,
            error.code(),
            error.to_string(),
            error.field().map(str::to_owned),
        );
        match &mut api_error {
            Self::Client(_, body, _) => {
                body.connection_id = error.connection_id().map(|id| id.as_uuid());
                body.missing_scopes = error
                    .missing_scopes()
                    .map(|scopes| scopes.iter().map(ToString::to_string).collect());
            }
            Self::Server(_, body, retry_after) => {
                body.connection_id = error.connection_id().map(|id| id.as_uuid());
                *retry_after = error.retry_after_seconds().map(|seconds| seconds.to_string());
            }
        }
        api_error
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
