//! What runs in the background of a Broker process: `GET /v1/background-tasks`.

use chrono::{DateTime, Utc};
use nexus_domain::background::{Activation, BackgroundTaskStatus, TaskOutcome, TaskRun};
use poem_openapi::{Enum, Object};

/// How a run ended
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename = "BackgroundTaskOutcome", rename_all = "snake_case")]
pub enum OutcomeDto {
    Succeeded,
    Failed,
    /// It ran past its bounded run time and was stopped
    TimedOut,
}

/// Why a run started
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename = "BackgroundTaskActivation", rename_all = "snake_case")]
pub enum ActivationDto {
    /// Its period came round
    Timer,
    /// Something asked for it (more work was waiting)
    Demand,
}

/// A task's last run
#[derive(Object, Debug)]
#[oai(rename = "BackgroundTaskRun")]
pub struct RunDto {
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub outcome: OutcomeDto,
    pub activation: ActivationDto,
    /// What it did, or why it failed
    pub summary: String,
}

/// One background task of the process that answered (`last_run` is absent before its first run)
#[derive(Object, Debug)]
#[oai(rename = "BackgroundTask", skip_serializing_if_is_none)]
pub struct BackgroundTaskDto {
    /// Stable name (also the `task` label of the `nexus_background_task_*` metrics)
    pub name: String,
    pub description: String,
    /// Time between runs (from the end of one to the start of the next, before jitter)
    pub period_ms: u64,
    /// Longest a run may take before it is stopped; absent when runs are not cut off (the audit
    /// flush, and the claim runs, which end at shutdown)
    pub timeout_ms: Option<u64>,
    /// Whether a run is in progress now
    pub running: bool,
    pub runs: u64,
    /// Runs that failed or timed out
    pub failures: u64,
    /// Runs that took longer than the period (the next run started late, never alongside)
    pub overruns: u64,
    pub last_run: Option<RunDto>,
    /// When it runs next unless asked earlier; absent while it runs and after shutdown began
    pub next_activation_at: Option<DateTime<Utc>>,
}

/// The background tasks of the process that answered (each Broker process runs its own)
#[derive(Object, Debug)]
#[oai(rename = "BackgroundTaskList")]
pub struct BackgroundTaskList {
    pub items: Vec<BackgroundTaskDto>,
}

fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl From<TaskRun> for RunDto {
    fn from(run: TaskRun) -> Self {
        Self {
            started_at: run.started_at,
            duration_ms: millis(run.duration),
            outcome: match run.outcome {
                TaskOutcome::Succeeded => OutcomeDto::Succeeded,
                TaskOutcome::Failed => OutcomeDto::Failed,
                TaskOutcome::TimedOut => OutcomeDto::TimedOut,
            },
            activation: match run.activation {
                Activation::Timer => ActivationDto::Timer,
                Activation::Demand => ActivationDto::Demand,
            },
            summary: run.summary,
        }
    }
}

impl From<BackgroundTaskStatus> for BackgroundTaskDto {
    fn from(status: BackgroundTaskStatus) -> Self {
        Self {
            name: status.name.to_owned(),
            description: status.description.to_owned(),
            period_ms: millis(status.period),
            timeout_ms: status.timeout.map(millis),
            running: status.running,
            runs: status.runs,
            failures: status.failures,
            overruns: status.overruns,
            last_run: status.last_run.map(Into::into),
            next_activation_at: status.next_activation_at,
        }
    }
}
