//! PKCE (RFC 7636) with S256: a 32-byte random verifier, base64url without padding (43
//! characters), and its SHA-256 challenge.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use nexus_domain::secret::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

#[derive(Debug)]
pub struct Pkce {
    pub verifier: SecretString,
    pub challenge: String,
}

impl Pkce {
    pub const METHOD: &'static str = "S256";

    pub fn generate() -> Self {
        let verifier = SecretString::from(crate::random::random_token());
        let challenge = challenge_s256(verifier.expose_secret());
        Self { verifier, challenge }
    }
}

pub fn challenge_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7636_appendix_b() {
        assert_eq!(
            challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn generated_verifiers_are_43_unreserved_characters() {
        let pkce = Pkce::generate();
        let verifier = pkce.verifier.expose_secret();
        assert_eq!(verifier.len(), 43);
        assert!(
            verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(pkce.challenge, challenge_s256(verifier));
        assert_ne!(Pkce::generate().challenge, pkce.challenge);
    }
}
