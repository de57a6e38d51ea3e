//! The benchmark's reference routes (`cargo build --features bench` only): hidden Gateway
//! operations answered only when `nexus serve` runs with `--bench-baseline`. `/bench/baseline`
//! authenticates the agent key and answers a body of a chosen size; `/bench/keyed-select` also
//! makes one keyed select of the workspace's active connection. Both go through the same
//! machinery as every operation (envelope, agent-key authentication, JSON), so `cargo xtask
//! bench` compares resolve's own work only.

use crate::auth::AgentAuth;
use crate::error::{ApiError, ApiResult};
use crate::state::{BenchBaseline, GatewayState};
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
    /// Benchmark baseline: agent-key authentication and a JSON body of `bytes` bytes, after
    /// `delay_ms` (at most 1 s: an API's own time to answer, for `cargo xtask bench proxy`)
    #[oai(path = "/bench/baseline", method = "get", operation_id = "bench_baseline", hidden)]
    async fn bench_baseline(
        &self,
        auth: AgentAuth,
        state: Data<&GatewayState>,
        bytes: Query<usize>,
        delay_ms: Query<Option<u64>>,
    ) -> ApiResult<Json<Padding>> {
        reference(&state, &auth).await?;
        if let Some(delay) = delay_ms.0.filter(|delay| *delay > 0) {
            tokio::time::sleep(std::time::Duration::from_millis(delay.min(1000))).await;
        }
        Ok(Json(Padding {
            padding: "x".repeat(bytes.0.min(1 << 20)),
        }))
    }

    /// Benchmark reference: agent-key authentication and one keyed select of the workspace's
    /// active connection (its id is the answer)
    #[oai(
        path = "/bench/keyed-select",
        method = "get",
        operation_id = "bench_keyed_select",
        hidden
    )]
    async fn bench_keyed_select(
        &self,
        auth: AgentAuth,
        state: Data<&GatewayState>,
        workspace_id: Query<String>,
    ) -> ApiResult<Json<Padding>> {
        let baseline = reference(&state, &auth).await?;
        let id = baseline.keyed_select.active_connection_of(&workspace_id).await?;
        Ok(Json(Padding {
            padding: id.unwrap_or_default(),
        }))
    }
}

/// The reference routes' state, after authenticating the caller's agent key; 404 when the
/// process was not started with `--bench-baseline`.
async fn reference<'a>(state: &'a GatewayState, auth: &AgentAuth) -> ApiResult<&'a BenchBaseline> {
    let Some(baseline) = &state.bench_baseline else {
        return Err(ApiError::new(
            poem::http::StatusCode::NOT_FOUND,
            nexus_domain::ErrorCode::RouteNotFound,
            "no such route",
            None,
        ));
    };
    baseline
        .agent_keys
        .authenticate(&nexus_domain::SecretString::from(auth.0.expose().to_owned()))
        .await?;
    Ok(baseline)
}
