//! AES-256-GCM keyring: several keys, each known by an id derived from it; the first encrypts,
//! all decrypt. Associated data binds each ciphertext to its row, so a ciphertext copied to
//! another row does not decrypt.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use nexus_domain::ciphertext::Ciphertext;
use sha2::{Digest, Sha256};
use std::fmt;

const NONCE_LEN: usize = 12;
const KEY_LEN: usize = 32;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("ciphertext was sealed with key `{0}`, which is not in the keyring")]
    UnknownKey(String),
    #[error("ciphertext is malformed (too short)")]
    Malformed,
    #[error("decryption failed: wrong key, wrong row, or altered ciphertext")]
    Decrypt,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyConfigError {
    #[error("no key given")]
    Empty,
    #[error("key #{position} is not valid base64")]
    NotBase64 { position: usize },
    #[error("key #{position} decoded to {length} bytes, expected {expected}")]
    WrongLength {
        position: usize,
        length: usize,
        expected: usize,
    },
    #[error("key #{position} is listed twice")]
    Duplicate { position: usize },
}

/// What a ciphertext is bound to: the table, the row and the column. Built only through the
/// constructors, so two call sites cannot disagree on the format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssociatedData(String);

impl AssociatedData {
    pub fn for_row(table: &str, row_id: &impl fmt::Display, column: &str) -> Self {
        Self(format!("nexus:v1:{table}:{row_id}:{column}"))
    }

    fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

struct KeyEntry {
    id: String,
    cipher: Aes256Gcm,
}

pub struct Keyring {
    keys: Vec<KeyEntry>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring").field("key_ids", &self.key_ids()).finish()
    }
}

/// Decodes one configured key: standard or URL-safe base64, padded or not.
pub fn decode_key(raw: &str, position: usize) -> Result<[u8; KEY_LEN], KeyConfigError> {
    let raw = raw.trim();
    let bytes = [STANDARD.decode(raw), URL_SAFE.decode(raw), URL_SAFE_NO_PAD.decode(raw)]
        .into_iter()
        .find_map(Result::ok)
        .ok_or(KeyConfigError::NotBase64 { position })?;
    let length = bytes.len();
    bytes.try_into().map_err(|_| KeyConfigError::WrongLength {
        position,
        length,
        expected: KEY_LEN,
    })
}

impl Keyring {
    /// Parses a comma-separated list of base64 keys; the first one encrypts.
    pub fn parse(config: &str) -> Result<Self, KeyConfigError> {
        let keys = config
            .split(',')
            .filter(|part| !part.trim().is_empty())
            .enumerate()
            .map(|(index, part)| decode_key(part, index + 1))
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_keys(&keys)
    }

    pub fn from_keys(keys: &[[u8; KEY_LEN]]) -> Result<Self, KeyConfigError> {
        if keys.is_empty() {
            return Err(KeyConfigError::Empty);
        }
        let mut entries: Vec<KeyEntry> = Vec::with_capacity(keys.len());
        for (index, key) in keys.iter().enumerate() {
            let id = key_id(key);
            if entries.iter().any(|entry| entry.id == id) {
                return Err(KeyConfigError::Duplicate { position: index + 1 });
            }
            let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| KeyConfigError::WrongLength {
                position: index + 1,
                length: key.len(),
                expected: KEY_LEN,
            })?;
            entries.push(KeyEntry { id, cipher });
        }
        Ok(Self { keys: entries })
    }

    /// The id of the key that encrypts (safe to log).
    pub fn primary_key_id(&self) -> &str {
        &self.keys[0].id
    }

    pub fn key_ids(&self) -> Vec<&str> {
        self.keys.iter().map(|entry| entry.id.as_str()).collect()
    }

    pub fn encrypt(&self, plaintext: &[u8], aad: &AssociatedData) -> Ciphertext {
        let primary = &self.keys[0];
        let nonce_bytes = crate::random::random_bytes::<NONCE_LEN>();
        let sealed = primary
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce_bytes),
                Payload {
                    msg: plaintext,
                    aad: aad.as_bytes(),
                },
            )
            // AES-GCM fails only for messages above 64 GiB; nothing Nexus stores comes close.
            .unwrap_or_else(|_| unreachable!("AES-256-GCM encryption of a bounded message"));
        let mut bytes = Vec::with_capacity(NONCE_LEN + sealed.len());
        bytes.extend_from_slice(&nonce_bytes);
        bytes.extend_from_slice(&sealed);
        Ciphertext {
            key_id: primary.id.clone(),
            bytes,
        }
    }

    pub fn decrypt(&self, ciphertext: &Ciphertext, aad: &AssociatedData) -> Result<Vec<u8>, CryptoError> {
        let entry = self
            .keys
            .iter()
            .find(|entry| entry.id == ciphertext.key_id)
            .ok_or_else(|| CryptoError::UnknownKey(ciphertext.key_id.clone()))?;
        if ciphertext.bytes.len() < NONCE_LEN + 16 {
            return Err(CryptoError::Malformed);
        }
        let (nonce, sealed) = ciphertext.bytes.split_at(NONCE_LEN);
        entry
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Decrypt)
    }
}

/// A key's public id: the first 16 hex digits of SHA-256 over a domain tag and the key.
fn key_id(key: &[u8; KEY_LEN]) -> String {
    let digest = Sha256::new()
        .chain_update(b"nexus-encryption-key-id:")
        .chain_update(key)
        .finalize();
    hex::encode(&digest[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(keys: &[[u8; 32]]) -> Keyring {
        Keyring::from_keys(keys).expect("valid keys")
    }

    fn aad(row: &str) -> AssociatedData {
        AssociatedData::for_row("credentials", &row, "secret")
    }

    #[test]
    fn round_trip_and_known_key_id() {
        let keyring = ring(&[[7u8; 32]]);
        let sealed = keyring.encrypt(b"refresh-token-123", &aad("row-1"));
        assert_eq!(
            keyring.decrypt(&sealed, &aad("row-1")).as_deref(),
            Ok(&b"refresh-token-123"[..])
        );
        assert_eq!(sealed.key_id, keyring.primary_key_id());
        assert_eq!(sealed.key_id.len(), 16);
        // Nonces are random: the same plaintext seals differently twice.
        assert_ne!(
            keyring.encrypt(b"x", &aad("r")).bytes,
            keyring.encrypt(b"x", &aad("r")).bytes
        );
    }

    #[test]
    fn known_answer_vector() {
        // AES-256-GCM, all-zero key and nonce, empty AAD: NIST SP 800-38D test case 14.
        let cipher = Aes256Gcm::new_from_slice(&[0u8; 32]).expect("key");
        let sealed = cipher
            .encrypt(Nonce::from_slice(&[0u8; 12]), &[0u8; 16][..])
            .expect("encrypts");
        assert_eq!(
            hex::encode(sealed),
            "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919"
        );
    }

    #[test]
    fn a_ciphertext_copied_to_another_row_fails() {
        let keyring = ring(&[[1u8; 32]]);
        let sealed = keyring.encrypt(b"secret", &aad("row-1"));
        assert_eq!(keyring.decrypt(&sealed, &aad("row-2")), Err(CryptoError::Decrypt));
    }

    #[test]
    fn wrong_key_truncated_or_altered_ciphertext_fails() {
        let keyring = ring(&[[1u8; 32]]);
        let sealed = keyring.encrypt(b"secret", &aad("r"));

        let other = ring(&[[2u8; 32]]);
        assert!(matches!(
            other.decrypt(&sealed, &aad("r")),
            Err(CryptoError::UnknownKey(_))
        ));
        let forged_id = Ciphertext {
            key_id: other.primary_key_id().to_owned(),
            ..sealed.clone()
        };
        assert_eq!(other.decrypt(&forged_id, &aad("r")), Err(CryptoError::Decrypt));

        let mut truncated = sealed.clone();
        truncated.bytes.truncate(20);
        assert_eq!(keyring.decrypt(&truncated, &aad("r")), Err(CryptoError::Malformed));
        let mut shortened = sealed.clone();
        shortened.bytes.pop();
        assert_eq!(keyring.decrypt(&shortened, &aad("r")), Err(CryptoError::Decrypt));

        let mut altered = sealed;
        altered.bytes[14] ^= 0x01;
        assert_eq!(keyring.decrypt(&altered, &aad("r")), Err(CryptoError::Decrypt));
    }

    #[test]
    fn old_keys_still_decrypt_after_rotation() {
        let old = ring(&[[1u8; 32]]);
        let sealed = old.encrypt(b"secret", &aad("r"));
        let rotated = ring(&[[2u8; 32], [1u8; 32]]);
        assert_eq!(rotated.decrypt(&sealed, &aad("r")).as_deref(), Ok(&b"secret"[..]));
        assert_eq!(sealed.key_id, old.primary_key_id());
        assert_ne!(
            rotated.encrypt(b"s", &aad("r")).key_id,
            sealed.key_id,
            "the first key encrypts"
        );
    }

    #[test]
    fn parse_reports_position_and_length() {
        let short = STANDARD.encode([0u8; 16]);
        assert_eq!(
            Keyring::parse(&short).map(|_| ()),
            Err(KeyConfigError::WrongLength {
                position: 1,
                length: 16,
                expected: 32
            })
        );
        let good = STANDARD.encode([3u8; 32]);
        assert_eq!(
            Keyring::parse(&format!("{good},not base64!")).map(|_| ()),
            Err(KeyConfigError::NotBase64 { position: 2 })
        );
        assert_eq!(Keyring::parse(" , ").map(|_| ()), Err(KeyConfigError::Empty));
        assert_eq!(
            Keyring::parse(&format!("{good},{good}")).map(|_| ()),
            Err(KeyConfigError::Duplicate { position: 2 })
        );
        let url_safe = URL_SAFE_NO_PAD.encode([250u8; 32]);
        assert!(Keyring::parse(&format!("{good}, {url_safe}")).is_ok());
    }

    #[test]
    fn debug_shows_ids_not_keys() {
        let keyring = ring(&[[9u8; 32]]);
        let printed = format!("{keyring:?}");
        assert!(printed.contains(keyring.primary_key_id()));
        assert!(!printed.contains("9, 9"));
    }
}
