//! Timing decorators: `Timed<R>` wraps any repository and records every method's duration in
//! `nexus_db_operation_duration_seconds{repo, method}`, without the repositories knowing. Every
//! method also goes through the process's [`OutageBreaker`], so a database that is away fails
//! operations at once instead of one acquire timeout each. A repository trait is declared inside
//! [`timed_repository!`], which writes its `Timed` implementation: no method is wrapped by hand,
//! and a new method is timed the moment it is declared.

use crate::RepoResult;
use crate::breaker::OutageBreaker;
use prometheus::{HistogramOpts, HistogramVec, Registry};
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

/// The histogram every decorator records into.
#[derive(Debug, Clone)]
pub struct DbMetrics {
    duration: HistogramVec,
    breaker: Arc<OutageBreaker>,
}

impl DbMetrics {
    pub fn new(registry: &Registry) -> Self {
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "nexus_db_operation_duration_seconds",
                "Duration of repository operations",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
            ]),
            &["repo", "method"],
        )
        .unwrap_or_else(|e| panic!("metric nexus_db_operation_duration_seconds is well-formed: {e}"));
        registry
            .register(Box::new(duration.clone()))
            .unwrap_or_else(|e| panic!("metric nexus_db_operation_duration_seconds is registered once: {e}"));
        Self {
            duration,
            breaker: Arc::default(),
        }
    }

    /// The breaker every decorated repository shares (one database, one outage).
    pub fn breaker(&self) -> Arc<OutageBreaker> {
        self.breaker.clone()
    }

    /// The metric family name this registers (for checks of dashboards and alerts).
    pub fn names(&self) -> Vec<String> {
        prometheus::core::Collector::desc(&self.duration)
            .into_iter()
            .map(|desc| desc.fq_name.clone())
            .collect()
    }

    /// Times one operation, through the breaker.
    pub(crate) async fn time<T>(
        &self,
        repo: &'static str,
        method: &'static str,
        operation: impl Future<Output = RepoResult<T>>,
    ) -> RepoResult<T> {
        let started = Instant::now();
        let result = self.breaker.guard(operation).await;
        self.duration
            .with_label_values(&[repo, method])
            .observe(started.elapsed().as_secs_f64());
        result
    }
}

/// A repository whose every method is timed.
#[derive(Debug, Clone)]
pub struct Timed<R> {
    pub(crate) inner: R,
    pub(crate) metrics: DbMetrics,
}

impl<R> Timed<R> {
    pub fn new(inner: R, metrics: DbMetrics) -> Self {
        Self { inner, metrics }
    }
}

/// Declares a repository trait (every method `async fn name(&self, args) -> RepoResult<T>`) and
/// writes its [`Timed`] implementation: each method forwards to the inner repository, timed as
/// `{repo = $repo, method = name}`.
macro_rules! timed_repository {
    (
        repo = $repo:literal;
        $(#[$attribute:meta])*
        $visibility:vis trait $name:ident: $first_bound:ident $(+ $bound:ident)* {
            $(
                $(#[$method_attribute:meta])*
                async fn $method:ident(&self $(, $argument:ident: $argument_type:ty)* $(,)?) -> $output:ty;
            )*
        }
    ) => {
        $(#[$attribute])*
        $visibility trait $name: $first_bound $(+ $bound)* {
            $(
                $(#[$method_attribute])*
                async fn $method(&self $(, $argument: $argument_type)*) -> $output;
            )*
        }

        #[async_trait::async_trait]
        impl<R: $name> $name for $crate::timed::Timed<R> {
            $(
                async fn $method(&self $(, $argument: $argument_type)*) -> $output {
                    self.metrics
                        .time($repo, stringify!($method), self.inner.$method($($argument),*))
                        .await
                }
            )*
        }
    };
}
pub(crate) use timed_repository;
