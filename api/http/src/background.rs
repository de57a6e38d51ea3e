//! `GET /v1/background-tasks`: what runs in the background of this Broker process and whether
//! it is healthy (admin).

use crate::auth::AdminAuth;
use crate::dto::background::BackgroundTaskList;
use crate::error::ApiResult;
use crate::state::BrokerState;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, Tags};

#[derive(Tags)]
enum BackgroundTag {
    /// What runs in the background of a Broker process
    Background,
}

pub struct BackgroundApi;

#[derive(ApiResponse, Debug)]
enum Activated {
    /// The task runs now, or right after the run in progress
    #[oai(status = 202)]
    Accepted,
}

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

    /// Run a background task now
    ///
    /// Activates the named task of the process that answers at once (or right after the run in
    /// progress: never two at once) instead of at its next period; its status shows the run
    /// with activation `demand`. Useful after an outage, or to apply a retention change.
    #[oai(
        path = "/v1/background-tasks/:name/activate",
        method = "post",
        operation_id = "background_task_activate",
        tag = "BackgroundTag::Background"
    )]
    async fn background_task_activate(
        &self,
        _auth: AdminAuth,
        state: Data<&BrokerState>,
        #[oai(validator(pattern = r"^[a-z][a-z0-9_]*$", max_length = 64))] name: Path<String>,
    ) -> ApiResult<Activated> {
        state.background.activate(&name.0)?;
        Ok(Activated::Accepted)
    }
}
