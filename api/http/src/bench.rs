//! The benchmark's baseline route (`nexus serve --bench-baseline`, never on by default): agent-key
//! authentication exactly as the Gateway API does it, then a JSON body of the requested size.
//! `cargo xtask bench resolve` compares `/v1/resolve` against it.

use crate::error::ApiError;
use crate::state::GatewayState;
use nexus_domain::ServiceError;
use nexus_domain::secret::SecretString;
use poem::http::header;
use poem::web::{Data, Json, Query};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub(crate) struct BaselineQuery {
    bytes: usize,
}

#[handler]
pub(crate) async fn baseline(
    req: &Request,
    state: Data<&GatewayState>,
    Query(query): Query<BaselineQuery>,
) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|key| SecretString::from(key.to_owned()));
    let Some(presented) = presented else {
        return ApiError::from(ServiceError::Unauthenticated).into_response();
    };
    if let Err(error) = state.agent_keys.authenticate(&presented).await {
        return ApiError::from(error).into_response();
    }
    Json(serde_json::json!({ "padding": "x".repeat(query.bytes.min(1 << 20)) })).into_response()
}
