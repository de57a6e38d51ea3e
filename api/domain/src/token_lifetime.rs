//! When a token may be refreshed. Never during the first half of its life (unless a caller forces
//! it, after the provider refused the token), so windows sized for hour-long tokens (refresh five
//! minutes ahead, serve with a minute to spare) cannot turn a 5-minute or a 30-second token into
//! a refresh loop: the lead time and the read skew are capped by half the token's lifetime.

use chrono::{DateTime, TimeDelta, Utc};

/// The middle of a token's life, from when it was issued and when it expires; `None` for a token
/// that does not expire or whose expiry is not after its issue.
pub fn half_life(issued_at: DateTime<Utc>, expires_at: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    let expires_at = expires_at?;
    let lifetime = expires_at - issued_at;
    (lifetime > TimeDelta::zero()).then(|| issued_at + lifetime / 2)
}

/// What decides when a stored token is due for refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TokenLifetime {
    pub expires_at: Option<DateTime<Utc>>,
    /// The middle of its life (`half_life`); `None` when it is not known (tokens stored before
    /// it was kept), and then only the window applies.
    pub refresh_not_before: Option<DateTime<Utc>>,
}

impl TokenLifetime {
    /// From when the token is due with this window (the read skew, or the background lead time):
    /// `window` before it expires, but not before the middle of its life. `None` for a token that
    /// does not expire.
    pub fn due_from(&self, window: TimeDelta) -> Option<DateTime<Utc>> {
        let expires_at = self.expires_at?;
        let by_window = expires_at - window;
        Some(match self.refresh_not_before {
            // The middle of its life, but never later than its expiry: an expired token is due.
            Some(not_before) => by_window.max(not_before.min(expires_at)),
            None => by_window,
        })
    }

    /// Whether the token is due at `now` with this window. An expired token always is.
    pub fn due(&self, now: DateTime<Utc>, window: TimeDelta) -> bool {
        self.due_from(window).is_some_and(|from| now >= from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(issued_at: DateTime<Utc>, lifetime_seconds: i64) -> TokenLifetime {
        let expires_at = Some(issued_at + TimeDelta::seconds(lifetime_seconds));
        TokenLifetime {
            expires_at,
            refresh_not_before: half_life(issued_at, expires_at),
        }
    }

    #[test]
    fn a_short_token_is_not_due_before_the_middle_of_its_life() {
        let issued = Utc::now();
        let lead = TimeDelta::seconds(300);
        for lifetime in [4, 30, 120, 300] {
            let token = token(issued, lifetime);
            let half = TimeDelta::milliseconds(lifetime * 500);
            assert!(!token.due(issued, lead), "{lifetime} s: not at issue");
            assert!(
                !token.due(issued + half - TimeDelta::milliseconds(1), lead),
                "{lifetime} s"
            );
            assert!(token.due(issued + half, lead), "{lifetime} s: due at its half-life");
        }
    }

    #[test]
    fn a_long_token_keeps_the_configured_window() {
        let issued = Utc::now();
        let token = token(issued, 3600);
        let skew = TimeDelta::seconds(60);
        assert!(!token.due(issued + TimeDelta::seconds(3539), skew));
        assert!(token.due(issued + TimeDelta::seconds(3540), skew));
    }

    #[test]
    fn an_expired_token_is_always_due_and_an_unknown_lifetime_uses_the_window() {
        let issued = Utc::now();
        let expired = TokenLifetime {
            expires_at: Some(issued),
            refresh_not_before: Some(issued + TimeDelta::hours(1)),
        };
        assert!(expired.due(issued, TimeDelta::zero()));
        let unknown = TokenLifetime {
            expires_at: Some(issued + TimeDelta::seconds(30)),
            refresh_not_before: None,
        };
        assert!(unknown.due(issued, TimeDelta::seconds(60)));
        assert!(
            !TokenLifetime::default().due(issued, TimeDelta::days(365)),
            "no expiry, never due"
        );
        assert_eq!(half_life(issued, Some(issued - TimeDelta::seconds(1))), None);
        assert_eq!(half_life(issued, None), None);
    }
}
