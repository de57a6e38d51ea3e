//! How a provider's token endpoint is spoken to where it departs from RFC 6749: a JSON body
//! (Notion), a refresh URL of its own (Figma), extra token and refresh parameters (Zendesk's
//! `expires_in`, Shopify's `expiring`), and a token response of another shape (Slack,
//! Salesforce). Parameter values may hold `{param}` placeholders a connection fills.

use crate::error::ServiceError;
use crate::url_template::ConnectionParams;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Token-request parameters Nexus sets itself; a provider may never override them (a provider's
/// `grant_type` would turn a refresh into another grant, its `redirect_uri` send codes away).
pub const RESERVED_TOKEN_PARAMS: [&str; 9] = [
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
];

/// The body of a token request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenRequestFormat {
    /// `application/x-www-form-urlencoded` (RFC 6749).
    #[default]
    Form,
    /// A JSON object with the same fields (Notion, and a dozen others of the catalog).
    Json,
}

/// Where a token response keeps what Nexus needs, when not where RFC 6749 puts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenResponseShape {
    /// RFC 6749 section 5.1; `expires_in` may also come as a numeric string.
    #[default]
    Standard,
    /// Slack's `oauth.v2.access`, keeping the bot token (top level). `ok: false` with HTTP 200 is
    /// an error, and `invalid_refresh_token`, `token_revoked` or `token_expired` mean the grant
    /// is gone.
    SlackBot,
    /// Slack's, keeping the user token (under `authed_user`; a refresh of a user token answers
    /// at the top level).
    SlackUser,
    /// Salesforce's: `instance_url` is the connection's API base URL (when it is one of the
    /// provider's API origins).
    Salesforce,
}

impl TokenResponseShape {
    pub const fn is_slack(self) -> bool {
        matches!(self, Self::SlackBot | Self::SlackUser)
    }
}

/// Checks extra token-request parameters: at most 20, none that Nexus sets, bounded sizes.
pub fn validate_token_params(
    field: &'static str,
    params: BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, ServiceError> {
    if params.len() > 20 {
        return Err(ServiceError::invalid(field, "at most 20 parameters"));
    }
    for (key, value) in &params {
        if RESERVED_TOKEN_PARAMS.contains(&key.as_str()) {
            return Err(ServiceError::invalid(
                field,
                format!("`{key}` is set by Nexus and cannot be overridden"),
            ));
        }
        if key.is_empty() || key.len() > 64 || value.len() > 512 {
            return Err(ServiceError::invalid(
                field,
                "keys must be 1 to 64 and values at most 512 characters",
            ));
        }
    }
    Ok(params)
}

/// `params` with every `{param}` placeholder filled from a connection's values. An entry whose
/// placeholder has no value (an optional parameter left out, or a `{credential.field}`, which
/// a token request has none of) is dropped rather than sent with the placeholder in it.
pub fn fill_params(params: &BTreeMap<String, String>, values: &ConnectionParams) -> BTreeMap<String, String> {
    crate::api_extras::fill_extras(params, values, &BTreeMap::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_entries_without_a_value_dropped() {
        let params: BTreeMap<String, String> = [
            ("resource".to_owned(), "https://{environment}.dynamics.com".to_owned()),
            ("expires_in".to_owned(), "1800".to_owned()),
            ("realm".to_owned(), "{tenant}".to_owned()),
        ]
        .into();
        let values: ConnectionParams = [("environment".to_owned(), "contoso".to_owned())].into();
        let filled = fill_params(&params, &values);
        assert_eq!(filled["resource"], "https://contoso.dynamics.com");
        assert_eq!(filled["expires_in"], "1800");
        assert!(!filled.contains_key("realm"), "{filled:?}");
    }

    #[test]
    fn what_nexus_sends_itself_cannot_be_overridden() {
        for reserved in ["grant_type", "refresh_token", "redirect_uri", "client_secret"] {
            let params = [(reserved.to_owned(), "x".to_owned())].into();
            assert!(validate_token_params("token_params", params).is_err(), "{reserved}");
        }
        let fine = [("expiring".to_owned(), "1".to_owned())].into();
        assert!(validate_token_params("token_params", fine).is_ok());
    }
}
