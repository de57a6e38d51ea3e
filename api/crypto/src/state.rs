//! Signed OAuth state: `base64url(JSON claims) "." base64url(HMAC-SHA256)`, valid ten minutes,
//! checked in constant time. Single use is enforced by the caller (the connection must still
//! be pending); this module only proves the state is ours and fresh.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::fmt;

type HmacSha256 = Hmac<Sha256>;

pub const STATE_TTL_SECONDS: i64 = 600;
/// Tolerated clock difference for states issued "in the future" by another replica.
const FUTURE_SKEW_SECONDS: i64 = 60;
/// States longer than this are rejected before any work is done on them.
const MAX_STATE_LEN: usize = 4096;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StateError {
    #[error("state is malformed")]
    Malformed,
    #[error("state signature does not match")]
    BadSignature,
    #[error("state has expired")]
    Expired,
}

#[derive(Serialize, Deserialize)]
struct Envelope<C> {
    iat: i64,
    #[serde(flatten)]
    claims: C,
}

pub struct StateSigner {
    key: [u8; 32],
}

impl fmt::Debug for StateSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StateSigner([REDACTED])")
    }
}

impl StateSigner {
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    fn mac(&self) -> HmacSha256 {
        <HmacSha256 as Mac>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
    }

    /// Signs `claims`, stamped with `issued_at` (Unix seconds).
    pub fn sign<C: Serialize>(&self, claims: &C, issued_at: i64) -> String {
        let payload = serde_json::to_vec(&Envelope { iat: issued_at, claims })
            .unwrap_or_else(|_| unreachable!("state claims are plain data"));
        let encoded = URL_SAFE_NO_PAD.encode(payload);
        let signature = self.mac().chain_update(encoded.as_bytes()).finalize().into_bytes();
        format!("{encoded}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// Verifies signature first (constant time), then freshness at `now` (Unix seconds).
    pub fn verify<C: DeserializeOwned>(&self, state: &str, now: i64) -> Result<C, StateError> {
        self.verify_within(state, now, STATE_TTL_SECONDS)
    }

    /// As [`StateSigner::verify`], for something signed to be presented up to `max_age`
    /// seconds later (a split Gateway's read receipts, reported after an outage).
    pub fn verify_within<C: DeserializeOwned>(&self, state: &str, now: i64, max_age: i64) -> Result<C, StateError> {
        if state.len() > MAX_STATE_LEN {
            return Err(StateError::Malformed);
        }
        let (encoded, signature) = state.split_once('.').ok_or(StateError::Malformed)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| StateError::Malformed)?;
        self.mac()
            .chain_update(encoded.as_bytes())
            .verify_slice(&signature)
            .map_err(|_| StateError::BadSignature)?;
        let payload = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| StateError::Malformed)?;
        let envelope: Envelope<C> = serde_json::from_slice(&payload).map_err(|_| StateError::Malformed)?;
        let age = now - envelope.iat;
        if !(-FUTURE_SKEW_SECONDS..=max_age).contains(&age) {
            return Err(StateError::Expired);
        }
        Ok(envelope.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Claims {
        connection_id: String,
    }

    fn claims() -> Claims {
        Claims {
            connection_id: "c-1".into(),
        }
    }

    #[test]
    fn round_trip_within_ten_minutes() {
        let signer = StateSigner::new([5u8; 32]);
        let state = signer.sign(&claims(), 1_000);
        assert_eq!(signer.verify::<Claims>(&state, 1_000), Ok(claims()));
        assert_eq!(signer.verify::<Claims>(&state, 1_600), Ok(claims()));
        assert_eq!(signer.verify::<Claims>(&state, 1_601), Err(StateError::Expired));
        assert_eq!(signer.verify::<Claims>(&state, 900), Err(StateError::Expired));
    }

    #[test]
    fn known_hmac_vector() {
        // RFC 4231 test case 2.
        let mac = <HmacSha256 as Mac>::new_from_slice(b"Jefe")
            .expect("key")
            .chain_update(b"what do ya want for nothing?")
            .finalize()
            .into_bytes();
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn altered_or_foreign_states_fail() {
        let signer = StateSigner::new([5u8; 32]);
        let state = signer.sign(&claims(), 1_000);

        let other = StateSigner::new([6u8; 32]);
        assert_eq!(other.verify::<Claims>(&state, 1_000), Err(StateError::BadSignature));

        let (payload, signature) = state.split_once('.').expect("two parts");
        let forged_payload = URL_SAFE_NO_PAD.encode(br#"{"iat":1000,"connection_id":"c-2"}"#);
        assert_eq!(
            signer.verify::<Claims>(&format!("{forged_payload}.{signature}"), 1_000),
            Err(StateError::BadSignature)
        );
        let mut flipped = signature.to_owned().into_bytes();
        flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).expect("ascii");
        assert_eq!(
            signer.verify::<Claims>(&format!("{payload}.{flipped}"), 1_000),
            Err(StateError::BadSignature)
        );
        assert_eq!(signer.verify::<Claims>("no-dot", 1_000), Err(StateError::Malformed));
        assert_eq!(
            signer.verify::<Claims>(&"a.".repeat(3000), 1_000),
            Err(StateError::Malformed)
        );
    }
}
