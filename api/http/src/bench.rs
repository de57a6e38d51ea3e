//! The benchmark baseline (`cargo build --features bench` only): a hidden Gateway operation,
//! `/bench/baseline`, answered only when `nexus serve` runs with `--bench-baseline`. It goes
//! through the same machinery as every operation (envelope, agent-key authentication, JSON), so
//! `cargo xtask bench` compares resolve's own work only.

use crate::auth::AgentAuth;
use crate::error::{ApiError, ApiResult};
use crate::state::GatewayState;
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

/// A body of a chosen size.
#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
pub struct Padding {
    pub padding: String,
}

#[derive(Debug)]
pub struct BenchApi;

#[OpenApi]
impl BenchApi {
    /// Benchmark baseline: agent-key authentication and a JSON body of `bytes` bytes
    #[oai(path = "/bench/baseline", method = "get", operation_id = "bench_baseline", hidden)]
    async fn bench_baseline(
        &self,
        auth: AgentAuth,
        state: Data<&GatewayState>,
        bytes: Query<usize>,
    ) -> ApiResult<Json<Padding>> {
        let Some(agent_keys) = &state.bench_baseline else {
            return Err(ApiError::new(
                poem::http::StatusCode::NOT_FOUND,
                nexus_domain::ErrorCode::RouteNotFound,
                "no such route",
                None,
            ));
        };
        agent_keys
            .authenticate(&nexus_domain::SecretString::from(auth.0.expose().to_owned()))
            .await?;
        Ok(Json(Padding {
            padding: "x".repeat(bytes.0.min(1 << 20)),
        }))
    }
}
