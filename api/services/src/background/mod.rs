//! Everything a process runs in the background, in one place: the driver that schedules every
//! job, the claim loop the claim-based jobs share, the jobs that are not claim-based (expiry of
//! pending connections and the connection gauge, audit flush, audit retention), and their
//! metrics.

mod claims;
mod driver;
mod jobs;
mod metrics;

pub use claims::{Batch, ClaimLoop, ClaimedWork};
pub use driver::{BackgroundTask, Driver, Schedule};
pub use jobs::{AuditFlushTask, AuditRetentionTask, ConnectionSweepTask};
pub use metrics::BackgroundMetrics;
