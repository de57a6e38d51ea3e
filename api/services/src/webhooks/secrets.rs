//! An endpoint's signing secrets: Standard Webhooks `whsec_` secrets, sealed together (the
//! current one and, for a grace period after a rotation, the previous one), and the
//! `webhook-signature` header they make: one `v1,` signature per secret still valid.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use nexus_crypto::{AssociatedData, CryptoError, Keyring, random_bytes};
use nexus_domain::WebhookId;
use nexus_domain::ciphertext::Ciphertext;
use nexus_domain::secret::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

const PREFIX: &str = "whsec_";

/// Associated data of an endpoint's sealed secrets: the ciphertext only opens on its own row.
pub fn secrets_aad(id: WebhookId) -> AssociatedData {
    AssociatedData::for_row("webhooks", &id, "secrets")
}

/// A new secret: `whsec_` and 32 random bytes in base64, as Standard Webhooks libraries take it.
pub fn generate_secret() -> SecretString {
    SecretString::from(format!("{PREFIX}{}", STANDARD.encode(random_bytes::<32>())))
}

/// The secrets as sealed: never logged, never returned after they were shown once.
#[derive(Serialize, Deserialize)]
struct Sealed {
    current: String,
    previous: Option<String>,
    previous_expires_at: Option<DateTime<Utc>>,
}

pub struct SigningSecrets {
    pub current: SecretString,
    /// The secret the last rotation replaced, and until when it still signs.
    pub previous: Option<(SecretString, DateTime<Utc>)>,
}

impl std::fmt::Debug for SigningSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningSecrets")
            .field("previous_expires_at", &self.previous.as_ref().map(|(_, until)| until))
            .finish_non_exhaustive()
    }
}

/// Why a delivery could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("the endpoint's secrets do not open: {0}")]
    Unsealing(#[from] CryptoError),
    #[error("the endpoint's sealed secrets are not in the expected shape")]
    Corrupt,
    #[error("a signing secret is not valid base64")]
    BadSecret,
}

impl SigningSecrets {
    pub fn new(current: SecretString) -> Self {
        Self {
            current,
            previous: None,
        }
    }

    /// A rotation: `next` signs from now on, the current secret too until `grace_until`.
    pub fn rotated(self, next: SecretString, grace_until: Option<DateTime<Utc>>) -> Self {
        Self {
            previous: grace_until.map(|until| (self.current, until)),
            current: next,
        }
    }

    pub fn seal(&self, keyring: &Keyring, id: WebhookId) -> Ciphertext {
        let sealed = Sealed {
            current: self.current.expose_secret().to_owned(),
            previous: self
                .previous
                .as_ref()
                .map(|(secret, _)| secret.expose_secret().to_owned()),
            previous_expires_at: self.previous.as_ref().map(|(_, until)| *until),
        };
        let plaintext = serde_json::to_vec(&sealed).unwrap_or_else(|_| unreachable!("strings serialize"));
        keyring.encrypt(&plaintext, &secrets_aad(id))
    }

    pub fn open(keyring: &Keyring, id: WebhookId, ciphertext: &Ciphertext) -> Result<Self, SigningError> {
        let plaintext = keyring.decrypt(ciphertext, &secrets_aad(id))?;
        let sealed: Sealed = serde_json::from_slice(&plaintext).map_err(|_| SigningError::Corrupt)?;
        Ok(Self {
            current: SecretString::from(sealed.current),
            previous: match (sealed.previous, sealed.previous_expires_at) {
                (Some(secret), Some(until)) => Some((SecretString::from(secret), until)),
                _ => None,
            },
        })
    }

    /// The `webhook-signature` header for a message: the current secret's signature, and the
    /// previous secret's while its grace period lasts (receivers accept any one that verifies).
    pub fn signature_header(
        &self,
        message_id: &str,
        timestamp: i64,
        payload: &[u8],
        now: DateTime<Utc>,
    ) -> Result<String, SigningError> {
        let mut secrets = vec![&self.current];
        if let Some((previous, until)) = &self.previous
            && now < *until
        {
            secrets.push(previous);
        }
        let signatures = secrets
            .into_iter()
            .map(|secret| {
                standardwebhooks::Webhook::new(secret.expose_secret())
                    .and_then(|signer| signer.sign(message_id, timestamp, payload))
                    .map_err(|_| SigningError::BadSecret)
            })
            .collect::<Result<Vec<String>, SigningError>>()?;
        Ok(signatures.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use standardwebhooks::{HEADER_WEBHOOK_ID, HEADER_WEBHOOK_SIGNATURE, HEADER_WEBHOOK_TIMESTAMP, Webhook};

    fn headers(id: &str, timestamp: i64, signature: &str) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        headers.insert(HEADER_WEBHOOK_ID, id.parse().expect("header"));
        headers.insert(HEADER_WEBHOOK_TIMESTAMP, timestamp.to_string().parse().expect("header"));
        headers.insert(HEADER_WEBHOOK_SIGNATURE, signature.parse().expect("header"));
        headers
    }

    #[test]
    fn both_secrets_verify_during_the_grace_period_and_only_the_new_one_after() {
        let keyring = Keyring::from_keys(&[[7u8; 32]]).expect("keyring");
        let id = WebhookId::new();
        let old = generate_secret();
        let old_text = old.expose_secret().to_owned();
        let new = generate_secret();
        let new_text = new.expose_secret().to_owned();
        let now = Utc::now();
        let rotated = SigningSecrets::new(old).rotated(new, Some(now + chrono::TimeDelta::hours(1)));
        let reopened = SigningSecrets::open(&keyring, id, &rotated.seal(&keyring, id)).expect("opens");
        let payload = br#"{"type":"connection.active"}"#;
        let timestamp = now.timestamp();
        let during = reopened
            .signature_header("msg_1", timestamp, payload, now)
            .expect("signs");
        assert_eq!(during.split(' ').count(), 2, "{during}");
        for secret in [&old_text, &new_text] {
            Webhook::new(secret)
                .expect("secret")
                .verify(payload, &headers("msg_1", timestamp, &during))
                .expect("verifies with either secret");
        }
        let after = reopened
            .signature_header("msg_1", timestamp, payload, now + chrono::TimeDelta::hours(2))
            .expect("signs");
        assert_eq!(after.split(' ').count(), 1, "{after}");
        assert!(
            Webhook::new(&old_text)
                .expect("secret")
                .verify(payload, &headers("msg_1", timestamp, &after))
                .is_err()
        );
        assert!(
            SigningSecrets::open(&keyring, WebhookId::new(), &rotated.seal(&keyring, id)).is_err(),
            "sealed secrets open only on their own row"
        );
        assert!(!format!("{reopened:?}").contains("whsec_"), "Debug shows no secret");
    }
}
