//! `nexus_background_task_*`: every background task's runs by outcome, their durations, the
//! runs that overran their period, and when each last succeeded (an alert's "stuck" signal).

use chrono::{DateTime, Utc};
use nexus_domain::background::TaskOutcome;
use prometheus::{GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct BackgroundMetrics {
    runs: IntCounterVec,
    duration: HistogramVec,
    overruns: IntCounterVec,
    last_success: GaugeVec,
}

impl BackgroundMetrics {
    pub fn new(registry: &Registry) -> Self {
        let runs = IntCounterVec::new(
            Opts::new(
                "nexus_background_task_runs_total",
                "Background task runs, by task and outcome",
            ),
            &["task", "outcome"],
        )
        .unwrap_or_else(|e| panic!("metric nexus_background_task_runs_total is well-formed: {e}"));
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "nexus_background_task_duration_seconds",
                "Duration of background task runs",
            )
            .buckets(vec![0.001, 0.005, 0.025, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0]),
            &["task"],
        )
        .unwrap_or_else(|e| panic!("metric nexus_background_task_duration_seconds is well-formed: {e}"));
        let overruns = IntCounterVec::new(
            Opts::new(
                "nexus_background_task_overruns_total",
                "Background task runs that took longer than the task's period",
            ),
            &["task"],
        )
        .unwrap_or_else(|e| panic!("metric nexus_background_task_overruns_total is well-formed: {e}"));
        let last_success = GaugeVec::new(
            Opts::new(
                "nexus_background_task_last_success_timestamp_seconds",
                "When each background task's last successful run started (Unix seconds)",
            ),
            &["task"],
        )
        .unwrap_or_else(|e| panic!("metric nexus_background_task_last_success_timestamp_seconds is well-formed: {e}"));
        for collector in [
            Box::new(runs.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(duration.clone()),
            Box::new(overruns.clone()),
            Box::new(last_success.clone()),
        ] {
            registry
                .register(collector)
                .unwrap_or_else(|e| panic!("background task metrics are registered once: {e}"));
        }
        Self {
            runs,
            duration,
            overruns,
            last_success,
        }
    }

    /// Makes a task's series exist (at zero) before its first run, so dashboards and alerts see it.
    pub fn declare(&self, task: &str) {
        for outcome in [TaskOutcome::Succeeded, TaskOutcome::Failed, TaskOutcome::TimedOut] {
            let _ = self.runs.with_label_values(&[task, outcome.as_str()]);
        }
        let _ = self.overruns.with_label_values(&[task]);
    }

    pub(crate) fn record(
        &self,
        task: &str,
        outcome: TaskOutcome,
        duration: Duration,
        overran: bool,
        started_at: DateTime<Utc>,
    ) {
        self.runs.with_label_values(&[task, outcome.as_str()]).inc();
        self.duration.with_label_values(&[task]).observe(duration.as_secs_f64());
        if overran {
            self.overruns.with_label_values(&[task]).inc();
        }
        if outcome == TaskOutcome::Succeeded {
            #[allow(clippy::cast_precision_loss)]
            self.last_success
                .with_label_values(&[task])
                .set(started_at.timestamp_millis() as f64 / 1000.0);
        }
    }

    /// The metric family names this registers (for checks of dashboards and alerts).
    pub fn names(&self) -> Vec<String> {
        [
            prometheus::core::Collector::desc(&self.runs),
            prometheus::core::Collector::desc(&self.duration),
            prometheus::core::Collector::desc(&self.overruns),
            prometheus::core::Collector::desc(&self.last_success),
        ]
        .into_iter()
        .flatten()
        .map(|desc| desc.fq_name.clone())
        .collect()
    }
}
