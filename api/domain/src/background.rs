//! What runs in the background of a Nexus process, as an operator reads it: each task's
//! schedule, its last run (when, how long, how it went) and its next activation.

use chrono::{DateTime, Utc};
use std::time::Duration;

/// How a task's last run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskOutcome {
    Succeeded,
    Failed,
    /// It ran past its bounded run time and was stopped.
    TimedOut,
}

impl TaskOutcome {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::TimedOut => "timed_out",
        }
    }
}

/// Why a task ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// Its period came round.
    Timer,
    /// Something asked for it (more work is waiting).
    Demand,
}

impl Activation {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Timer => "timer",
            Self::Demand => "demand",
        }
    }
}

/// One task's last run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRun {
    pub started_at: DateTime<Utc>,
    pub duration: Duration,
    pub outcome: TaskOutcome,
    pub activation: Activation,
    /// What it did ("refreshed 3 credentials"), or why it failed; never a secret.
    pub summary: String,
}

/// One background task of this process, as the driver sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackgroundTaskStatus {
    pub name: &'static str,
    pub description: &'static str,
    pub period: Duration,
    /// Longest a run may take before it is stopped; `None`: runs are not cut off.
    pub timeout: Option<Duration>,
    pub running: bool,
    pub runs: u64,
    pub failures: u64,
    /// Runs that took longer than the period (the next one started late, never alongside).
    pub overruns: u64,
    pub last_run: Option<TaskRun>,
    /// When it runs next, unless asked earlier; `None` while it runs or once stopped.
    pub next_activation_at: Option<DateTime<Utc>>,
}
