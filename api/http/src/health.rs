//! Liveness and readiness, on every listener.

use crate::error::ApiResult;
use nexus_domain::ports::HealthService;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use std::sync::Arc;

#[derive(Tags)]
enum HealthTag {
    /// Process and dependency health
    Health,
}

#[derive(Object, Debug, Clone, PartialEq, Eq)]
#[oai(skip_serializing_if_is_none)]
pub struct HealthStatus {
    /// `ok`
    pub status: String,
}

fn ok() -> Json<HealthStatus> {
    Json(HealthStatus {
        status: "ok".to_owned(),
    })
}

/// `GET /healthz` outside the OpenAPI services (the public listener has no API of its own).
#[poem::handler]
pub(crate) fn live() -> poem::web::Json<serde_json::Value> {
    poem::web::Json(serde_json::json!({"status": "ok"}))
}

/// The health routes; readiness asks the service the API was built with.
#[derive(Debug)]
pub struct HealthApi;

#[OpenApi]
impl HealthApi {
    /// Liveness: the process is up
    #[oai(
        path = "/healthz",
        method = "get",
        operation_id = "health_live",
        tag = "HealthTag::Health"
    )]
    async fn health_live(&self) -> Json<HealthStatus> {
        ok()
    }

    /// Readiness: the process can serve (database reachable and migrated, or Broker reachable)
    #[oai(
        path = "/readyz",
        method = "get",
        operation_id = "health_ready",
        tag = "HealthTag::Health"
    )]
    async fn health_ready(&self, health: Data<&Arc<dyn HealthService>>) -> ApiResult<Json<HealthStatus>> {
        health.ready().await?;
        Ok(ok())
    }
}
