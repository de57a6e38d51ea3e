//! The inbound request's deadline, visible to every layer below it without naming HTTP: the API
//! envelope sets it for the request's task, and outbound calls never wait past it.

use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// How long a token read waits on a refresh at most: the Broker answers a read (the credential,
/// or 502 `upstream_unavailable`) within this, whatever the provider does. Every client that
/// waits on a read (a split Gateway's Broker client, the SDKs) waits longer than this.
pub const READ_REFRESH_BUDGET: Duration = Duration::from_secs(20);

tokio::task_local! {
    static DEADLINE: Instant;
}

/// Runs `future` with a deadline `budget` from now.
pub async fn with_deadline<F: Future>(budget: Duration, future: F) -> F::Output {
    DEADLINE.scope(Instant::now() + budget, future).await
}

/// The time left before the current deadline, capped at `cap` (also used when there is none).
pub fn remaining(cap: Duration) -> Duration {
    DEADLINE
        .try_with(|deadline| deadline.saturating_duration_since(Instant::now()))
        .map_or(cap, |left| left.min(cap))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn remaining_is_capped_by_the_request_deadline() {
        assert_eq!(remaining(Duration::from_secs(5)), Duration::from_secs(5));
        with_deadline(Duration::from_millis(200), async {
            let left = remaining(Duration::from_secs(5));
            assert!(
                left <= Duration::from_millis(200) && left > Duration::from_millis(100),
                "{left:?}"
            );
        })
        .await;
    }
}
