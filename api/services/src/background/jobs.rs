//! The periodic jobs that are not claim-based: expiring pending connections past their window
//! (with the connection gauge), writing the tallied audit events, and deleting audit events past
//! their retention.

use super::{BackgroundTask, Schedule};
use crate::{AuditFlusher, AuditServiceImpl, ConnectionServiceImpl};
use async_trait::async_trait;
use nexus_domain::background::Activation;
use std::sync::Arc;
use std::time::Duration;

/// Expires pending connections past their window and counts connections for the gauge.
#[derive(Debug)]
pub struct ConnectionSweepTask {
    pub connections: Arc<ConnectionServiceImpl>,
}

#[async_trait]
impl BackgroundTask for ConnectionSweepTask {
    fn name(&self) -> &'static str {
        "connection_sweep"
    }

    fn description(&self) -> &'static str {
        "Expires pending connections past their consent window and counts connections by status"
    }

    async fn activate(&self, _activation: Activation) -> Result<String, String> {
        let expired = self.connections.sweep_expired().await.map_err(|error| {
            format!(
                "expiry sweep failed: {}",
                error.internal_detail().unwrap_or(&error.to_string())
            )
        })?;
        self.connections.poll_connection_counts().await.map_err(|error| {
            format!(
                "connection gauge poll failed: {}",
                error.internal_detail().unwrap_or(&error.to_string())
            )
        })?;
        Ok(format!("expired {expired} pending connections"))
    }
}

/// Writes the tallied token reads, proxied calls and failures; at shutdown, the last of them.
pub struct AuditFlushTask {
    flusher: tokio::sync::Mutex<AuditFlusher>,
}

impl std::fmt::Debug for AuditFlushTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditFlushTask").finish_non_exhaustive()
    }
}

impl AuditFlushTask {
    pub fn new(flusher: AuditFlusher) -> Self {
        Self {
            flusher: tokio::sync::Mutex::new(flusher),
        }
    }

    pub fn schedule() -> Schedule {
        Schedule {
            period: crate::audit::FLUSH_INTERVAL,
            jitter: false,
            // Never cut: a flush holds the rows it took (and, after an outage, the backlog).
            timeout: None,
        }
    }
}

#[async_trait]
impl BackgroundTask for AuditFlushTask {
    fn name(&self) -> &'static str {
        "audit_flush"
    }

    fn description(&self) -> &'static str {
        "Writes the audit events tallied in memory (token reads, proxied calls, failures)"
    }

    async fn activate(&self, _activation: Activation) -> Result<String, String> {
        self.flusher.lock().await.flush(false).await;
        Ok("flushed".to_owned())
    }

    async fn stop(&self) {
        self.flusher.lock().await.flush(true).await;
    }
}

/// Deletes audit events past their retention.
#[derive(Debug)]
pub struct AuditRetentionTask {
    pub audit: Arc<AuditServiceImpl>,
    pub retention: Duration,
}

impl AuditRetentionTask {
    /// Hourly: retention is counted in days.
    pub fn schedule() -> Schedule {
        Schedule {
            period: Duration::from_secs(3600),
            jitter: true,
            timeout: Some(Duration::from_secs(600)),
        }
    }
}

#[async_trait]
impl BackgroundTask for AuditRetentionTask {
    fn name(&self) -> &'static str {
        "audit_retention"
    }

    fn description(&self) -> &'static str {
        "Deletes audit events older than the retention (NEXUS_AUDIT_RETENTION_DAYS)"
    }

    async fn activate(&self, _activation: Activation) -> Result<String, String> {
        let deleted = self.audit.sweep_retention(self.retention).await.map_err(|error| {
            format!(
                "audit retention sweep failed: {}",
                error.internal_detail().unwrap_or(&error.to_string())
            )
        })?;
        Ok(format!("deleted {deleted} audit events past their retention"))
    }

    /// A sweep cut short deletes the rest at the next one.
    fn interruptible(&self) -> bool {
        true
    }
}
