//! Broker answers to errors: a documented error body is passed on as it came (status, code,
//! message, field); anything else means the Broker could not be reached or understood.

use nexus_client::broker::types;
use nexus_domain::{ErrorCode, ServiceError};

pub fn remote_error(error: progenitor_client::Error<types::Error>) -> ServiceError {
    match error {
        progenitor_client::Error::ErrorResponse(response) => {
            let status = response.status().as_u16();
            let retry_after_seconds = response
                .headers()
                .get("retry-after")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.parse().ok());
            let body = response.into_inner();
            if status == 401 {
                // The agent's key travels in its own header and is refused with 403, so a 401 is
                // about this Gateway's service key.
                tracing::error!("the Broker refused this Gateway's service key (NEXUS_BROKER_SERVICE_KEY)");
                return ServiceError::BrokerUnavailable;
            }
            if status == 403 && body.code == ErrorCode::Forbidden.as_str() {
                // The only 403 of the internal API: the Broker refused the agent's own key.
                return ServiceError::Unauthenticated;
            }
            ServiceError::Remote {
                status,
                code: ErrorCode::parse(&body.code).unwrap_or(ErrorCode::InternalError),
                message: body.message,
                field: body.field,
                connection_id: body.connection_id.map(nexus_domain::ConnectionId::from_uuid),
                retry_after_seconds,
            }
        }
        progenitor_client::Error::CommunicationError(e) | progenitor_client::Error::ResponseBodyError(e) => {
            tracing::warn!(error = %without_url(&e), "the Broker could not be reached");
            ServiceError::BrokerUnavailable
        }
        other => {
            // Never `%other`: an unreadable payload's Display quotes the body, which can hold a token.
            let kind = match other {
                progenitor_client::Error::InvalidResponsePayload(..) => "an answer that does not match the spec",
                progenitor_client::Error::UnexpectedResponse(_) => "an undocumented status",
                progenitor_client::Error::InvalidRequest(_) => "an invalid request",
                _ => "an unexpected error",
            };
            tracing::warn!(kind, "the Broker answered with {kind}");
            ServiceError::BrokerUnavailable
        }
    }
}

/// A transport error without its URL, which may carry query parameters.
fn without_url(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timeout".to_owned()
    } else if error.is_connect() {
        "connection refused or unreachable".to_owned()
    } else {
        "request failed".to_owned()
    }
}
