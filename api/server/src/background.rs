//! Periodic work: expire pending connections past their window and refresh the
//! `nexus_connections_total` gauge, every poll interval, until shutdown.

use nexus_services::ConnectionServiceImpl;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

pub async fn run(
    connections: Arc<ConnectionServiceImpl>,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
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
    }
}
