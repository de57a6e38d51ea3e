//! How an agent injects a credential into its request to the provider's API.

use crate::status::AuthType;
use serde::{Deserialize, Serialize};

pub const DEFAULT_API_KEY_HEADER: &str = "X-API-Key";
pub const DEFAULT_CREDENTIAL_FIELD: &str = "api_key";
pub const DEFAULT_USERNAME_FIELD: &str = "username";
pub const DEFAULT_PASSWORD_FIELD: &str = "password";
pub const AWS_ACCESS_KEY_ID_FIELD: &str = "access_key_id";
pub const AWS_SECRET_ACCESS_KEY_FIELD: &str = "secret_access_key";
pub const AWS_SESSION_TOKEN_FIELD: &str = "session_token";

/// The injection strategy returned in every credential envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Strategy {
    /// `Authorization: Bearer <access_token>`.
    Oauth2,
    /// `<header_name>: <value_prefix><credentials[credential_field]>`.
    Header {
        header_name: String,
        credential_field: String,
        value_prefix: Option<String>,
    },
    /// `?<param_name>=<credentials[credential_field]>`.
    QueryParam {
        param_name: String,
        credential_field: String,
    },
    /// `Authorization: Basic base64(<username>:<password>)`.
    BasicAuth {
        username_field: String,
        password_field: String,
    },
    /// `<header_name or X-API-Key>: <credentials.api_key>`.
    ApiKey { header_name: Option<String> },
    /// AWS Signature Version 4 for `service` in `region`, with `access_key_id`,
    /// `secret_access_key` and (when present) `session_token`.
    AwsSigv4 { service: String, region: String },
}

impl Strategy {
    /// The strategy a provider gets when it does not name one.
    pub fn default_for(auth_type: AuthType) -> Self {
        match auth_type {
            AuthType::Oauth2 => Self::Oauth2,
            AuthType::ApiKey => Self::ApiKey { header_name: None },
            AuthType::BasicAuth => Self::BasicAuth {
                username_field: DEFAULT_USERNAME_FIELD.to_owned(),
                password_field: DEFAULT_PASSWORD_FIELD.to_owned(),
            },
            // No default service or region: `validate` refuses this until the provider names them.
            AuthType::AwsSigv4 => Self::AwsSigv4 {
                service: String::new(),
                region: String::new(),
            },
        }
    }

    /// The credential fields this strategy reads, so a provider can be checked against its schema.
    pub fn credential_fields(&self) -> Vec<&str> {
        match self {
            Self::Oauth2 => vec!["access_token"],
            Self::Header { credential_field, .. } | Self::QueryParam { credential_field, .. } => {
                vec![credential_field]
            }
            Self::BasicAuth {
                username_field,
                password_field,
            } => vec![username_field, password_field],
            Self::ApiKey { .. } => vec![DEFAULT_CREDENTIAL_FIELD],
            Self::AwsSigv4 { .. } => vec![AWS_ACCESS_KEY_ID_FIELD, AWS_SECRET_ACCESS_KEY_FIELD],
        }
    }

    /// Checks names that end up in HTTP headers or query strings.
    pub fn validate(&self) -> Result<(), String> {
        let header_ok = |name: &str| {
            !name.is_empty()
                && name.len() <= 128
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        };
        let field_ok = |name: &str| !name.is_empty() && name.len() <= 64;
        match self {
            Self::Oauth2 => Ok(()),
            Self::Header {
                header_name,
                credential_field,
                value_prefix,
            } => {
                if !header_ok(header_name) {
                    return Err(format!("`{header_name}` is not a valid HTTP header name"));
                }
                if value_prefix
                    .as_deref()
                    .is_some_and(|p| p.len() > 64 || p.chars().any(char::is_control))
                {
                    return Err("value_prefix must be at most 64 printable characters".to_owned());
                }
                field_ok(credential_field)
                    .then_some(())
                    .ok_or_else(|| "credential_field must be 1 to 64 characters".to_owned())
            }
            Self::QueryParam {
                param_name,
                credential_field,
            } => {
                if param_name.is_empty() || param_name.len() > 128 {
                    return Err("param_name must be 1 to 128 characters".to_owned());
                }
                field_ok(credential_field)
                    .then_some(())
                    .ok_or_else(|| "credential_field must be 1 to 64 characters".to_owned())
            }
            Self::BasicAuth {
                username_field,
                password_field,
            } => (field_ok(username_field) && field_ok(password_field))
                .then_some(())
                .ok_or_else(|| "username_field and password_field must be 1 to 64 characters".to_owned()),
            Self::ApiKey { header_name } => match header_name {
                Some(name) if !header_ok(name) => Err(format!("`{name}` is not a valid HTTP header name")),
                _ => Ok(()),
            },
            Self::AwsSigv4 { service, region } => {
                let name_ok = |name: &str| {
                    !name.is_empty()
                        && name.len() <= 64
                        && name
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                };
                (name_ok(service) && name_ok(region)).then_some(()).ok_or_else(|| {
                    "aws_sigv4 needs `service` and `region` (lower-case letters, digits and dashes, such as \
                     `execute-api` and `eu-west-1`)"
                        .to_owned()
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_a_tagged_union() {
        let strategy = Strategy::Header {
            header_name: "Authorization".into(),
            credential_field: "api_key".into(),
            value_prefix: Some("token ".into()),
        };
        let json = serde_json::to_value(&strategy).expect("serializes");
        assert_eq!(json["type"], "header");
        assert_eq!(json["header_name"], "Authorization");
        let back: Strategy = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back, strategy);
    }

    #[test]
    fn rejects_header_names_that_would_break_a_request() {
        let bad = Strategy::Header {
            header_name: "X-Key\r\nInjected".into(),
            credential_field: "api_key".into(),
            value_prefix: None,
        };
        assert!(bad.validate().is_err());
        assert!(Strategy::default_for(AuthType::BasicAuth).validate().is_ok());
    }
}
