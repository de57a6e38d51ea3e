//! Parsed value types: once constructed they are valid, so nothing downstream re-checks them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A provider's unique name: lower-case kebab (`google-drive`), 1 to 63 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProviderName(String);

impl ProviderName {
    pub const MAX_LEN: usize = 63;

    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() || raw.len() > Self::MAX_LEN {
            return Err(format!("must be 1 to {} characters, got {}", Self::MAX_LEN, raw.len()));
        }
        let lower_kebab = raw
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        if !lower_kebab || !raw.as_bytes()[0].is_ascii_lowercase() {
            return Err(
                "must be lower-case kebab: a-z, 0-9 and single dashes, starting with a letter (e.g. `google-drive`)"
                    .to_owned(),
            );
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ProviderName {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ProviderName> for String {
    fn from(name: ProviderName) -> Self {
        name.0
    }
}

impl fmt::Display for ProviderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A caller-chosen workspace id (a tenant, a user, a project): 1 to 128 characters of
/// `A-Z a-z 0-9 . _ : -`, so it is safe in URLs, logs and SQL parameters alike.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WorkspaceId(String);

impl WorkspaceId {
    pub const MAX_LEN: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() || raw.len() > Self::MAX_LEN {
            return Err(format!("must be 1 to {} characters", Self::MAX_LEN));
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
        {
            return Err("may only contain A-Z, a-z, 0-9, '.', '_', ':' and '-'".to_owned());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for WorkspaceId {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<WorkspaceId> for String {
    fn from(id: WorkspaceId) -> Self {
        id.0
    }
}

impl fmt::Display for WorkspaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One OAuth scope: printable ASCII without spaces or quotes (RFC 6749 section 3.3), at most 256 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Scope(String);

impl Scope {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() || raw.len() > 256 {
            return Err("a scope must be 1 to 256 characters".to_owned());
        }
        // RFC 6749: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
        if !raw
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
        {
            return Err(format!(
                "scope `{}` contains a space, quote, backslash or non-ASCII character",
                raw.escape_default()
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Scope {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Scope> for String {
    fn from(scope: Scope) -> Self {
        scope.0
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_names_must_be_lower_kebab() {
        for good in ["github", "google-drive", "a1", "x-2-y"] {
            assert!(ProviderName::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "GitHub",
            "google_drive",
            "-a",
            "a-",
            "a--b",
            "1abc",
            "a b",
            &"a".repeat(64),
        ] {
            assert!(ProviderName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn workspace_ids_are_url_safe() {
        assert!(WorkspaceId::parse("team-42:prod_1.a").is_ok());
        for bad in ["", "a b", "a/b", "é", &"w".repeat(129)] {
            assert!(WorkspaceId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scopes_follow_rfc_6749() {
        assert!(Scope::parse("https://www.googleapis.com/auth/drive.readonly").is_ok());
        assert!(Scope::parse("repo:status").is_ok());
        for bad in ["", "a b", "a\"b", "a\\b", "é"] {
            assert!(Scope::parse(bad).is_err(), "{bad}");
        }
    }
}
