//! The agent's request body on its way to the provider: kept in memory when it is small (or
//! must be signed), so a refreshed credential can send it again; streamed otherwise, never past
//! the limit.

use futures::StreamExt;
use nexus_domain::ServiceError;
use nexus_domain::proxy::{BodyCount, BodyStream, drain, drain_bound, limited};
use std::sync::Arc;

/// Bodies up to this size (by `Content-Length`) are kept whole: a 401 can be answered by a
/// refresh and a second send.
pub const BUFFERED_BODY_BYTES: usize = 1024 * 1024;

/// What a streamed body has sent, and whether it went past the limit.
#[derive(Debug, Clone, Default)]
pub(super) struct Limit(Arc<BodyCount>);

impl Limit {
    pub(super) fn exceeded(&self) -> bool {
        self.0.exceeded()
    }

    pub(super) fn sent(&self) -> u64 {
        self.0.sent()
    }
}

pub(super) enum Prepared {
    Whole {
        bytes: bytes::Bytes,
        limit: Limit,
    },
    Streamed {
        stream: std::sync::Mutex<Option<BodyStream>>,
        limit: Limit,
    },
}

impl Prepared {
    pub(super) fn limit(&self) -> &Limit {
        match self {
            Self::Whole { limit, .. } | Self::Streamed { limit, .. } => limit,
        }
    }

    /// The body for the first send.
    pub(super) fn body(&self) -> reqwest::Body {
        match self {
            Self::Whole { bytes, .. } => reqwest::Body::from(bytes.clone()),
            Self::Streamed { stream, .. } => {
                let stream = stream.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
                stream.map_or_else(|| reqwest::Body::from(bytes::Bytes::new()), reqwest::Body::wrap_stream)
            }
        }
    }

    /// The body again, for a second send: only a body kept whole can be.
    pub(super) fn replay(&self) -> Option<reqwest::Body> {
        match self {
            Self::Whole { bytes, .. } => Some(reqwest::Body::from(bytes.clone())),
            Self::Streamed { .. } => None,
        }
    }

    /// The body's size when it is known before it is sent.
    pub(super) fn known_length(&self) -> Option<u64> {
        match self {
            Self::Whole { bytes, .. } => Some(bytes.len() as u64),
            Self::Streamed { .. } => None,
        }
    }
}

fn declared_length(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
}

/// The body, ready to send: refused at once when it says it is larger than `max`; kept whole
/// when it is small, carries no body by its method, or must be signed (AWS Signature Version 4
/// signs the payload); otherwise streamed and cut at `max`.
pub(super) async fn prepare(
    body: BodyStream,
    headers: &http::HeaderMap,
    method: &http::Method,
    max: usize,
    must_keep: bool,
) -> Result<Prepared, ServiceError> {
    let too_large = || ServiceError::PayloadTooLarge { limit: max };
    let declared = declared_length(headers);
    if let Some(length) = declared.filter(|length| *length > max as u64) {
        // Read it (up to a bound) before answering, so the agent sees the 413.
        if length <= drain_bound(max) {
            drain(body, max, 0).await;
        }
        return Err(too_large());
    }
    let bodiless = matches!(
        *method,
        http::Method::GET | http::Method::HEAD | http::Method::OPTIONS | http::Method::DELETE
    );
    let small = declared.is_some_and(|length| length <= BUFFERED_BODY_BYTES as u64);
    if must_keep || small || (bodiless && declared.is_none()) {
        let mut kept = Vec::new();
        let mut body = body;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|_| ServiceError::invalid("body", "the request body could not be read"))?;
            if kept.len() + chunk.len() > max {
                drain(body, max, (kept.len() + chunk.len()) as u64).await;
                return Err(too_large());
            }
            kept.extend_from_slice(&chunk);
        }
        // A whole body is never past the limit; its size is known (`known_length`).
        return Ok(Prepared::Whole {
            bytes: kept.into(),
            limit: Limit::default(),
        });
    }
    let limit = Limit::default();
    let stream = limited(body, max, limit.0.clone());
    Ok(Prepared::Streamed {
        stream: std::sync::Mutex::new(Some(stream)),
        limit,
    })
}
