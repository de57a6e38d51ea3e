//! The one background driver: every periodic or claim-based job of a process is a
//! [`BackgroundTask`] registered here with its schedule. The driver owns what each job would
//! otherwise get wrong on its own: the period and its jitter, activation on demand, a bounded run
//! time, never two runs of one task at once (a run that overruns its period delays the next, and
//! is counted), shutdown (a run in progress finishes, then each task's `stop` drains its work),
//! and a status per task that the Broker's `GET /v1/background-tasks` and the
//! `nexus_background_task_*` metrics show.

use super::metrics::BackgroundMetrics;
use async_trait::async_trait;
use chrono::Utc;
use nexus_domain::ServiceError;
use nexus_domain::background::{Activation, BackgroundTaskStatus, TaskOutcome, TaskRun};
use nexus_domain::clock::Clock;
use nexus_domain::error::ResourceKind;
use nexus_domain::ports::{BackgroundTaskService, ServiceResult};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, watch};

/// A job the driver runs.
#[async_trait]
pub trait BackgroundTask: Send + Sync + 'static {
    /// Stable, snake_case: the metrics label and the API's name.
    fn name(&self) -> &'static str;
    fn description(&self) -> &'static str;
    /// One run: what it did in a line, or why it failed (never a secret).
    async fn activate(&self, activation: Activation) -> Result<String, String>;
    /// After the last run, at shutdown: finishes or hands back the work it started.
    async fn stop(&self) {}
    /// Whether a run in progress may be abandoned at shutdown (its `stop` then drains what it
    /// started). A run that holds what must not be lost (the audit flush) is left to finish.
    fn interruptible(&self) -> bool {
        false
    }
}

/// When a task runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub period: Duration,
    /// Whether each wait is jittered (between half the period and all of it).
    pub jitter: bool,
    /// Longest a run may take; past it, it is stopped (dropped) and counted as timed out.
    /// `None` for a run that must not be cut (the audit flush holds the rows it took), or that
    /// only shutdown ends (a claim run keeps claiming while batches come back full).
    pub timeout: Option<Duration>,
}

struct Registered {
    task: Arc<dyn BackgroundTask>,
    schedule: Schedule,
    wake: Arc<Notify>,
    status: Mutex<Status>,
}

#[derive(Default)]
struct Status {
    running: bool,
    runs: u64,
    failures: u64,
    overruns: u64,
    last_run: Option<TaskRun>,
    next_activation_at: Option<chrono::DateTime<Utc>>,
}

/// The driver; build it, register every task, then `run` it until shutdown.
pub struct Driver {
    tasks: Vec<Arc<Registered>>,
    metrics: Option<BackgroundMetrics>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("tasks", &self.tasks.iter().map(|t| t.task.name()).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Driver {
    pub fn new(clock: Arc<dyn Clock>, metrics: Option<BackgroundMetrics>) -> Self {
        Self {
            tasks: Vec::new(),
            metrics,
            clock,
        }
    }

    /// Registers a task; `BackgroundTaskService::activate` runs it on demand by name.
    pub fn register(&mut self, task: Arc<dyn BackgroundTask>, schedule: Schedule) {
        self.tasks.push(Arc::new(Registered {
            task,
            schedule,
            wake: Arc::new(Notify::new()),
            status: Mutex::new(Status::default()),
        }));
    }

    /// Runs every task until `shutdown`, then lets runs in progress finish (each within its
    /// timeout) and stops every task. Returns once all have stopped.
    pub async fn run(self: Arc<Self>, shutdown: watch::Receiver<bool>) {
        let loops: Vec<_> = self
            .tasks
            .iter()
            .map(|registered| {
                let this = self.clone();
                let registered = registered.clone();
                let shutdown = shutdown.clone();
                tokio::spawn(async move { this.drive(&registered, shutdown).await })
            })
            .collect();
        for handle in loops {
            if let Err(error) = handle.await {
                tracing::error!(%error, "a background task's loop ended abnormally");
            }
        }
    }

    async fn drive(&self, registered: &Registered, mut shutdown: watch::Receiver<bool>) {
        let schedule = registered.schedule;
        // The first run comes at start (the gauges are filled, what was left due is taken up),
        // every later one a (jittered) period after the previous one ended.
        let mut next = Instant::now();
        self.update(registered, |status| status.next_activation_at = Some(Utc::now()));
        loop {
            let activation = tokio::select! {
                () = tokio::time::sleep_until(next.into()) => Activation::Timer,
                () = registered.wake.notified() => Activation::Demand,
                _ = shutdown.wait_for(|stop| *stop) => break,
            };
            if registered.task.interruptible() {
                tokio::select! {
                    () = self.run_once(registered, activation) => {}
                    _ = shutdown.wait_for(|stop| *stop) => break,
                }
            } else {
                self.run_once(registered, activation).await;
            }
            // Never two runs at once: the next is a period after this one ended.
            let until_next = wait(schedule);
            next = Instant::now() + until_next;
            // One update, so a reader never sees a task that is neither running nor scheduled.
            self.update(registered, |status| {
                status.running = false;
                status.next_activation_at =
                    Some(Utc::now() + chrono::TimeDelta::from_std(until_next).unwrap_or_default());
            });
            if *shutdown.borrow() {
                break;
            }
        }
        self.update(registered, |status| {
            status.running = false;
            status.next_activation_at = None;
        });
        registered.task.stop().await;
    }

    async fn run_once(&self, registered: &Registered, activation: Activation) {
        let name = registered.task.name();
        let schedule = registered.schedule;
        let started_at = self.clock.now();
        let started = Instant::now();
        self.update(registered, |status| {
            status.running = true;
            status.next_activation_at = None;
        });
        let run = registered.task.activate(activation);
        let result = match schedule.timeout {
            Some(timeout) => tokio::time::timeout(timeout, run).await,
            None => Ok(run.await),
        };
        let duration = started.elapsed();
        let (outcome, summary) = match result {
            Ok(Ok(summary)) => (TaskOutcome::Succeeded, summary),
            Ok(Err(reason)) => {
                // Usually the database away for a moment; the next run tries again. The status
                // and the metrics count it.
                tracing::warn!(task = name, reason, "a background task failed");
                (TaskOutcome::Failed, reason)
            }
            Err(_) => {
                let timeout = schedule.timeout.unwrap_or_default();
                tracing::error!(
                    task = name,
                    ?timeout,
                    "a background task ran past its time and was stopped"
                );
                (TaskOutcome::TimedOut, format!("stopped after {} s", timeout.as_secs()))
            }
        };
        let overran = duration > schedule.period;
        if let Some(metrics) = &self.metrics {
            metrics.record(name, outcome, duration, overran, started_at);
        }
        self.update(registered, |status| {
            status.runs += 1;
            status.failures += u64::from(outcome != TaskOutcome::Succeeded);
            status.overruns += u64::from(overran);
            status.last_run = Some(TaskRun {
                started_at,
                duration,
                outcome,
                activation,
                summary,
            });
        });
    }

    fn update(&self, registered: &Registered, change: impl FnOnce(&mut Status)) {
        change(
            &mut registered
                .status
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
    }
}

impl BackgroundTaskService for Driver {
    fn activate(&self, name: &str) -> ServiceResult<()> {
        let registered = self
            .tasks
            .iter()
            .find(|registered| registered.task.name() == name)
            .ok_or_else(|| ServiceError::not_found(ResourceKind::BackgroundTask, name))?;
        registered.wake.notify_one();
        Ok(())
    }

    fn statuses(&self) -> Vec<BackgroundTaskStatus> {
        self.tasks
            .iter()
            .map(|registered| {
                let status = registered
                    .status
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                BackgroundTaskStatus {
                    name: registered.task.name(),
                    description: registered.task.description(),
                    period: registered.schedule.period,
                    timeout: registered.schedule.timeout,
                    running: status.running,
                    runs: status.runs,
                    failures: status.failures,
                    overruns: status.overruns,
                    last_run: status.last_run.clone(),
                    next_activation_at: status.next_activation_at,
                }
            })
            .collect()
    }
}

/// The wait before the next run: the period, or with jitter between half of it and all of it,
/// so replicas do not run in step.
fn wait(schedule: Schedule) -> Duration {
    if schedule.jitter {
        crate::refresh::jittered(schedule.period)
    } else {
        schedule.period
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nexus_domain::clock::SystemClock;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// A task whose runs take `takes`, recording how many ran at once and what happened when.
    struct Probe {
        takes: Duration,
        running: AtomicUsize,
        most_at_once: AtomicUsize,
        finished: AtomicUsize,
        stopped: AtomicBool,
        /// Whether the stop came after every run had finished.
        stopped_after_runs: AtomicBool,
        interruptible: bool,
    }

    impl Probe {
        fn new(takes: Duration) -> Arc<Self> {
            Arc::new(Self {
                takes,
                running: AtomicUsize::new(0),
                most_at_once: AtomicUsize::new(0),
                finished: AtomicUsize::new(0),
                stopped: AtomicBool::new(false),
                stopped_after_runs: AtomicBool::new(false),
                interruptible: false,
            })
        }
    }

    #[async_trait]
    impl BackgroundTask for Probe {
        fn name(&self) -> &'static str {
            "probe"
        }
        fn description(&self) -> &'static str {
            "a test task"
        }
        async fn activate(&self, _activation: Activation) -> Result<String, String> {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_at_once.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(self.takes).await;
            self.running.fetch_sub(1, Ordering::SeqCst);
            self.finished.fetch_add(1, Ordering::SeqCst);
            Ok("probed".into())
        }
        async fn stop(&self) {
            self.stopped_after_runs
                .store(self.running.load(Ordering::SeqCst) == 0, Ordering::SeqCst);
            self.stopped.store(true, Ordering::SeqCst);
        }
        fn interruptible(&self) -> bool {
            self.interruptible
        }
    }

    fn driver_with(task: Arc<dyn BackgroundTask>, schedule: Schedule) -> Arc<Driver> {
        let registry = prometheus::Registry::new();
        let mut driver = Driver::new(Arc::new(SystemClock), Some(BackgroundMetrics::new(&registry)));
        driver.register(task, schedule);
        Arc::new(driver)
    }

    async fn until(what: &str, condition: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !condition() {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// A run that takes five periods: the next starts only after it (never two at once), and
    /// the overrun is counted.
    #[tokio::test]
    async fn a_run_that_overruns_its_period_delays_the_next_and_is_counted() {
        let probe = Probe::new(Duration::from_millis(100));
        let driver = driver_with(
            probe.clone(),
            Schedule {
                period: Duration::from_millis(20),
                jitter: false,
                timeout: Some(Duration::from_secs(5)),
            },
        );
        let (stop, shutdown) = watch::channel(false);
        let running = tokio::spawn(driver.clone().run(shutdown));
        until("three runs finished", || probe.finished.load(Ordering::SeqCst) >= 3).await;
        let _ = stop.send(true);
        running.await.expect("the driver ends");
        assert_eq!(probe.most_at_once.load(Ordering::SeqCst), 1, "never two runs at once");
        let status = &driver.statuses()[0];
        assert!(status.overruns >= 3 && status.runs >= 3, "{status:?}");
        assert_eq!(status.failures, 0);
        let last = status.last_run.as_ref().expect("a last run");
        assert_eq!(last.outcome, TaskOutcome::Succeeded);
        assert!(last.duration >= Duration::from_millis(100), "{last:?}");
        assert_eq!(status.next_activation_at, None, "none after shutdown");
    }

    /// Shutdown while a run is in progress: the driver waits for it, then stops the task, and
    /// only then returns.
    #[tokio::test]
    async fn shutdown_during_a_run_lets_it_finish_then_stops_the_task() {
        let probe = Probe::new(Duration::from_millis(300));
        let driver = driver_with(
            probe.clone(),
            Schedule {
                period: Duration::from_secs(3600),
                jitter: true,
                timeout: Some(Duration::from_secs(5)),
            },
        );
        let (stop, shutdown) = watch::channel(false);
        let running = tokio::spawn(driver.clone().run(shutdown));
        // The run at start; then, with an hour-long period, only a demand runs it again.
        until("the first run finished", || probe.finished.load(Ordering::SeqCst) == 1).await;
        assert!(driver.statuses()[0].next_activation_at.is_some());
        driver.activate("probe").expect("a registered task");
        assert!(driver.activate("no_such_task").is_err());
        until("the run started", || probe.running.load(Ordering::SeqCst) == 1).await;
        assert!(driver.statuses()[0].running);
        let _ = stop.send(true);
        running.await.expect("the driver ends");
        assert_eq!(probe.finished.load(Ordering::SeqCst), 2, "the run finished");
        assert!(probe.stopped.load(Ordering::SeqCst), "the task was stopped");
        assert!(probe.stopped_after_runs.load(Ordering::SeqCst), "after its run");
        let status = &driver.statuses()[0];
        assert_eq!(
            status.last_run.as_ref().map(|run| run.activation),
            Some(Activation::Demand)
        );
        assert!(!status.running);
    }

    /// An interruptible run (a claim) is abandoned at shutdown; the task's stop drains its work.
    #[tokio::test]
    async fn shutdown_abandons_an_interruptible_run_and_stops_the_task() {
        let probe = Arc::new(Probe {
            interruptible: true,
            ..Arc::into_inner(Probe::new(Duration::from_secs(30))).expect("one owner")
        });
        let driver = driver_with(
            probe.clone(),
            Schedule {
                period: Duration::from_secs(3600),
                jitter: false,
                timeout: Some(Duration::from_secs(60)),
            },
        );
        let (stop, shutdown) = watch::channel(false);
        let running = tokio::spawn(driver.clone().run(shutdown));
        // The run at start takes 30 s.
        until("the run started", || probe.running.load(Ordering::SeqCst) == 1).await;
        let started = Instant::now();
        let _ = stop.send(true);
        running.await.expect("the driver ends");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "it did not wait for the 30 s run"
        );
        assert!(probe.stopped.load(Ordering::SeqCst));
        assert!(!driver.statuses()[0].running);
    }

    /// A run past its bounded time is stopped and counted as timed out, and the task runs again.
    #[tokio::test]
    async fn a_run_past_its_time_is_stopped_and_counted() {
        let probe = Probe::new(Duration::from_secs(30));
        let driver = driver_with(
            probe.clone(),
            Schedule {
                period: Duration::from_millis(10),
                jitter: false,
                timeout: Some(Duration::from_millis(50)),
            },
        );
        let (stop, shutdown) = watch::channel(false);
        let running = tokio::spawn(driver.clone().run(shutdown));
        until("two runs timed out", || driver.statuses()[0].failures >= 2).await;
        let _ = stop.send(true);
        running.await.expect("the driver ends");
        let status = &driver.statuses()[0];
        assert_eq!(
            status.last_run.as_ref().map(|run| run.outcome),
            Some(TaskOutcome::TimedOut)
        );
        assert_eq!(probe.finished.load(Ordering::SeqCst), 0, "no run was let past its time");
    }
}
