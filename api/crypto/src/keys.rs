//! Admin and agent keys: generation, hashing for storage, constant-time comparison.
//!
//! Keys are 32 random bytes, so a single SHA-256 is a sufficient hash (no password stretching
//! is needed for high-entropy secrets). Agent keys read `nxa_<8-char prefix>_<43-char secret>`;
//! the prefix is stored in clear for lookup, the whole key only as a hash.

use nexus_domain::secret::SecretString;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const AGENT_KEY_TAG: &str = "nxa_";
const PREFIX_RANDOM_LEN: usize = 8;

/// A newly generated agent key: the public prefix, the key to show once, and its hash.
#[derive(Debug)]
pub struct AgentKeyMaterial {
    pub prefix: String,
    pub key: SecretString,
    pub hash: String,
}

pub fn generate_agent_key() -> AgentKeyMaterial {
    let prefix_random: String = crate::random::random_token()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(PREFIX_RANDOM_LEN)
        .collect();
    let prefix = format!("{AGENT_KEY_TAG}{prefix_random}");
    let key = format!("{prefix}_{}", crate::random::random_token());
    AgentKeyMaterial {
        hash: hash_key(&key),
        prefix,
        key: SecretString::from(key),
    }
}

/// The lookup prefix of a presented agent key, if it has the agent-key shape.
pub fn prefix_of(presented: &str) -> Option<&str> {
    let prefix_len = AGENT_KEY_TAG.len() + PREFIX_RANDOM_LEN;
    let prefix = presented.get(..prefix_len)?;
    (prefix.starts_with(AGENT_KEY_TAG) && presented.as_bytes().get(prefix_len) == Some(&b'_')).then_some(prefix)
}

/// Lower-case hex SHA-256 of a key.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// A short, safe-to-log fingerprint of a key (first 8 hex digits of its hash).
pub fn fingerprint(key: &str) -> String {
    hash_key(key)[..8].to_owned()
}

/// A client secret's fingerprint, so that `nexus providers plan` can tell "changed" from
/// "unchanged" without the secret ever leaving the Broker: HMAC-SHA256 keyed with the provider's
/// id (the same secret fingerprints differently in two providers), truncated to 128 bits.
/// Client secrets are long random strings; the fingerprint does not make guessing one easier
/// than trying it against the provider.
pub fn secret_fingerprint(provider_id: &uuid::Uuid, secret: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(provider_id.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(secret.as_bytes());
    let digest = mac.finalize().into_bytes();
    format!("hmac-sha256:{}", hex::encode(&digest[..16]))
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nexus_domain::secret::ExposeSecret;

    #[test]
    fn secret_fingerprints_depend_on_the_provider_and_hide_the_secret() {
        let (a, b) = (uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(2));
        let fingerprint = secret_fingerprint(&a, "s3cret-value");
        assert_eq!(fingerprint, secret_fingerprint(&a, "s3cret-value"));
        assert_ne!(fingerprint, secret_fingerprint(&b, "s3cret-value"));
        assert_ne!(fingerprint, secret_fingerprint(&a, "s3cret-valuf"));
        assert!(fingerprint.starts_with("hmac-sha256:") && !fingerprint.contains("s3cret"));
        assert_eq!(fingerprint.len(), "hmac-sha256:".len() + 32);
    }

    #[test]
    fn agent_keys_have_a_findable_prefix_and_a_matching_hash() {
        let material = generate_agent_key();
        let key = material.key.expose_secret();
        assert_eq!(prefix_of(key), Some(material.prefix.as_str()));
        assert_eq!(hash_key(key), material.hash);
        assert!(key.len() > 50);
        assert_ne!(generate_agent_key().hash, material.hash);
    }

    #[test]
    fn prefix_rejects_other_shapes() {
        for bad in [
            "",
            "nxa_",
            "nxa_abcdefgh",
            "xxx_abcdefgh_rest",
            "nxa_abcdefghXrest",
            "nxa_ab€",
        ] {
            assert_eq!(prefix_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn sha256_vector_and_comparison() {
        assert_eq!(
            hash_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(fingerprint("abc"), "ba7816bf");
        assert!(constant_time_eq(b"same", b"same"));
        assert!(!constant_time_eq(b"same", b"diff"));
        assert!(!constant_time_eq(b"short", b"longer"));
    }
}
