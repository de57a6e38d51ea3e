//! Time as a dependency, so expiry logic is testable without sleeping.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use std::fmt::Debug;

pub trait Clock: Send + Sync + Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock, at microsecond precision: what both databases store, so a value written
/// and read back compares equal to the one returned at write time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        let now = Utc::now();
        now.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(now)
    }
}
