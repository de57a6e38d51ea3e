//! Enumerations shared by every layer: auth types and connection states.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How a provider's credentials are obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthType {
    /// OAuth 2.0 / OpenID Connect authorization code flow with PKCE.
    Oauth2,
    /// An API key captured on the hosted form.
    ApiKey,
    /// A username and password captured on the hosted form.
    BasicAuth,
    /// AWS-style keys (`access_key_id`, `secret_access_key`, optional `session_token`) captured
    /// on the hosted form; requests are signed with Signature Version 4.
    AwsSigv4,
}

impl AuthType {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Oauth2 => "oauth2",
            Self::ApiKey => "api_key",
            Self::BasicAuth => "basic_auth",
            Self::AwsSigv4 => "aws_sigv4",
        }
    }

    /// Static credentials are captured once and never refreshed.
    pub const fn is_static(self) -> bool {
        matches!(self, Self::ApiKey | Self::BasicAuth | Self::AwsSigv4)
    }
}

impl FromStr for AuthType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "oauth2" => Ok(Self::Oauth2),
            "api_key" => Ok(Self::ApiKey),
            "basic_auth" => Ok(Self::BasicAuth),
            "aws_sigv4" => Ok(Self::AwsSigv4),
            other => Err(format!("unknown auth type `{other}`")),
        }
    }
}

/// The life of a connection; see CONTRACT.md "Connection states".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    Pending,
    Active,
    Failed,
    Expired,
    AttentionRequired,
    Revoked,
}

impl ConnectionStatus {
    pub const ALL: [Self; 6] = [
        Self::Pending,
        Self::Active,
        Self::Failed,
        Self::Expired,
        Self::AttentionRequired,
        Self::Revoked,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Failed => "failed",
            Self::Expired => "expired",
            Self::AttentionRequired => "attention_required",
            Self::Revoked => "revoked",
        }
    }
}

impl FromStr for ConnectionStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown connection status `{s}`"))
    }
}

impl fmt::Display for ConnectionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in ConnectionStatus::ALL {
            assert_eq!(status.as_str().parse::<ConnectionStatus>(), Ok(status));
        }
        assert!("gone".parse::<ConnectionStatus>().is_err());
    }
}
