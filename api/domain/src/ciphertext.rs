//! Sealed bytes as they are stored: which key sealed them, and the nonce-prefixed ciphertext.

/// Output of the keyring; the only form in which secrets reach the repositories.
#[derive(Clone, PartialEq, Eq)]
pub struct Ciphertext {
    pub key_id: String,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Ciphertext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ciphertext")
            .field("key_id", &self.key_id)
            .field("len", &self.bytes.len())
            .finish()
    }
}
