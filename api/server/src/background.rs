//! Periodic work: expire pending connections past their window and refresh the
//! `nexus_connections_total` gauge, every poll interval, and delete audit events past their
//! retention, hourly, until shutdown.

use nexus_services::{AuditServiceImpl, ConnectionServiceImpl};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How often the audit retention sweep runs.
const RETENTION_SWEEP_EVERY: Duration = Duration::from_secs(3600);

pub async fn run(
    connections: Arc<ConnectionServiceImpl>,
    audit: Arc<AuditServiceImpl>,
    retention: Option<Duration>,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut last_retention_sweep: Option<Instant> = None;
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = shutdown.wait_for(|stop| *stop) => return Ok(()),
        }
        match connections.sweep_expired().await {
            Ok(0) => {}
            Ok(expired) => tracing::info!(expired, "expired pending connections"),
            Err(error) => {
                tracing::error!(%error, detail = error.internal_detail(), "expiry sweep failed")
            }
        }
        if let Err(error) = connections.poll_connection_counts().await {
            tracing::error!(%error, detail = error.internal_detail(), "connection gauge poll failed");
        }
        if let Some(retention) = retention
            && last_retention_sweep.is_none_or(|at| at.elapsed() >= RETENTION_SWEEP_EVERY)
        {
            last_retention_sweep = Some(Instant::now());
            match audit.sweep_retention(retention).await {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, "deleted audit events past their retention"),
                Err(error) => tracing::error!(%error, detail = error.internal_detail(), "audit retention sweep failed"),
            }
        }
    }
}
