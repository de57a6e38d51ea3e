//! Secrets in memory: `secrecy` wrappers zeroize on drop and print as `[REDACTED]` in `Debug`.

pub use secrecy::{ExposeSecret, SecretBox, SecretString};

/// Wraps plaintext in a [`SecretString`]; named so call sites read as intent.
pub fn secret(value: impl Into<String>) -> SecretString {
    SecretString::from(value.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_secret() {
        let s = secret("hunter2-super-secret");
        let printed = format!("{s:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert_eq!(s.expose_secret(), "hunter2-super-secret");
    }
}
