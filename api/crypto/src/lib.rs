//! Nexus cryptography, pure and without I/O: the encryption keyring, the OAuth state signer,
//! PKCE, and hashing of admin and agent keys.

mod keyring;
mod keys;
mod pkce;
mod random;
mod state;

pub use keyring::{AssociatedData, CryptoError, KeyConfigError, Keyring, decode_key};
pub use keys::{
    AgentKeyMaterial, constant_time_eq, fingerprint, generate_agent_key, hash_key, prefix_of, secret_fingerprint,
};
pub use pkce::{Pkce, challenge_s256};
pub use random::{random_bytes, random_token};
pub use state::{STATE_TTL_SECONDS, StateError, StateSigner};
