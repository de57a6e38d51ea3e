//! Waits between attempts: exponential with full jitter, never shorter than what the provider
//! asked for with `Retry-After`.

use rand::Rng;
use std::time::Duration;

/// The wait before retry number `attempt` (1-based) within one refresh: 200 ms doubling, capped
/// at 5 s, jittered over its upper half so replicas do not retry in step.
pub(crate) fn retry_wait(attempt: u32, retry_after: Option<Duration>) -> Duration {
    let exponential = Duration::from_millis(200).saturating_mul(1 << attempt.min(5).saturating_sub(1));
    jittered(exponential.min(Duration::from_secs(5))).max(retry_after.unwrap_or_default())
}

/// How long the background refresher leaves a connection alone after `failures` failed
/// refreshes in a row: from `base`, doubling, capped at an hour, jittered, and never before the
/// provider's `Retry-After`.
pub(crate) fn backoff_after_failures(failures: u32, base: Duration, retry_after: Option<Duration>) -> Duration {
    let exponential = base.saturating_mul(1 << failures.min(10).saturating_sub(1));
    jittered(exponential.min(Duration::from_secs(3600))).max(retry_after.unwrap_or_default())
}

/// A duration between half of `around` and `around`.
pub(crate) fn jittered(around: Duration) -> Duration {
    let half = around / 2;
    half + half.mul_f64(rand::rng().random::<f64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_and_honour_retry_after() {
        for attempt in 1..10 {
            let wait = retry_wait(attempt, None);
            assert!(wait <= Duration::from_secs(5), "{attempt}: {wait:?}");
        }
        assert!(retry_wait(1, None) <= Duration::from_millis(200));
        assert!(retry_wait(4, None) >= Duration::from_millis(800));
        assert_eq!(retry_wait(1, Some(Duration::from_secs(30))), Duration::from_secs(30));
    }

    #[test]
    fn failed_connections_wait_longer_each_time() {
        let base = Duration::from_secs(30);
        assert!(backoff_after_failures(1, base, None) <= base);
        assert!(backoff_after_failures(3, base, None) >= Duration::from_secs(60));
        assert!(backoff_after_failures(30, base, None) <= Duration::from_secs(3600));
        assert_eq!(
            backoff_after_failures(1, base, Some(Duration::from_secs(600))),
            Duration::from_secs(600)
        );
    }
}
