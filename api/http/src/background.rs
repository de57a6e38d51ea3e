//! `GET /v1/background-tasks`: what runs in the background of this Broker process and whether
//! it is healthy (admin).

use crate::auth::AdminAuth;
use crate::dto::background::BackgroundTaskList;
use crate::error::ApiResult;
use crate::state::BrokerState;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{OpenApi, Tags};

#[derive(Tags)]
enum BackgroundTag {
    /// What runs in the background of a Broker process
    Background,
}

pub struct BackgroundApi;

#[OpenApi]
impl BackgroundApi {
    /// List background tasks
    ///
    /// Every periodic or claim-based job of the process that answers (each Broker process runs
    /// its own): its schedule, its last run (start, duration, outcome, summary) and its next
    /// activation. The same figures are exported as `nexus_background_task_*` metrics.
    #[oai(
        path = "/v1/background-tasks",
        method = "get",
        operation_id = "background_task_list",
        tag = "BackgroundTag::Background"
    )]
    async fn background_task_list(
        &self,
        _auth: AdminAuth,
        state: Data<&BrokerState>,
    ) -> ApiResult<Json<BackgroundTaskList>> {
        Ok(Json(BackgroundTaskList {
            items: state.background.statuses().into_iter().map(Into::into).collect(),
        }))
    }
}
