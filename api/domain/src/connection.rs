//! Connections: one workspace's authorization with one provider, the consent that creates it,
//! and the credential envelope an agent receives.

use crate::ids::{ConnectionId, ProviderId};
use crate::names::{ProviderName, Scope, WorkspaceId};
use crate::status::ConnectionStatus;
use crate::strategy::Strategy;
use crate::url_template::ConnectionParams;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::fmt;
use url::Url;

/// How long a user has to complete a consent or a capture.
pub const CONSENT_WINDOW_SECONDS: i64 = 600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub id: ConnectionId,
    pub workspace_id: WorkspaceId,
    pub provider_id: ProviderId,
    pub provider_name: ProviderName,
    pub status: ConnectionStatus,
    pub requested_scopes: Vec<Scope>,
    /// What the provider granted, when it said so.
    pub granted_scopes: Option<Vec<Scope>>,
    /// Why the last consent or refresh failed (a stable code such as `access_denied`).
    pub error: Option<String>,
    /// Set while a consent or capture is in progress.
    pub consent_expires_at: Option<DateTime<Utc>>,
    /// Where the user goes back to after the consent or capture (known to the Broker only).
    pub return_url: Option<Url>,
    /// The values filling the provider's `{param}` placeholders, fixed when it was created.
    pub connection_params: ConnectionParams,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub activated_at: Option<DateTime<Utc>>,
}

/// A request to start a consent (OAuth2) or a capture (API key, basic auth).
#[derive(Debug, Clone)]
pub struct ConsentRequest {
    pub workspace_id: String,
    pub provider: String,
    /// `None`: the provider's default scopes.
    pub scopes: Option<Vec<String>>,
    pub return_url: String,
    /// Re-consent this existing connection, keeping its id.
    pub connection_id: Option<ConnectionId>,
    /// Values for the provider's connection parameters (a Zendesk subdomain, say).
    pub connection_params: ConnectionParams,
}

/// Where to send the user, and the connection that will hold the result.
#[derive(Clone, PartialEq, Eq)]
pub struct ConsentSpec {
    pub connection_id: ConnectionId,
    pub auth_url: Url,
    pub state: String,
    pub expires_at: DateTime<Utc>,
}

/// The state (and the URL carrying it) completes someone's consent: never printed.
impl fmt::Debug for ConsentSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsentSpec")
            .field("connection_id", &self.connection_id)
            .field("auth_url", &"[REDACTED]")
            .field("state", &"[REDACTED]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// What the provider sent to the callback.
#[derive(Clone, Default)]
pub struct CallbackParams {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    /// The issuer the authorization server names itself as (RFC 9207).
    pub iss: Option<String>,
}

/// The state and the authorization code are bearer material: never printed.
impl fmt::Debug for CallbackParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackParams")
            .field("state", &self.state.as_ref().map(|_| "[REDACTED]"))
            .field("code", &self.code.as_ref().map(|_| "[REDACTED]"))
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

/// Where the browser goes after a callback or capture whose state was valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedFlow {
    pub connection_id: ConnectionId,
    pub provider: ProviderName,
    /// The return URL with `status`, `connection_id`, `provider` (and `error`) merged into its query.
    pub redirect_to: Url,
    pub succeeded: bool,
}

/// Credential values (access token, API key, ...). `Debug` never prints them.
#[derive(Clone, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(transparent)]
pub struct CredentialValues(pub BTreeMap<String, String>);

impl fmt::Debug for CredentialValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.keys().map(|k| (k, "[REDACTED]"))).finish()
    }
}

/// What an agent receives: the current credential and how to inject it.
/// Never holds a refresh token, a client secret or a PKCE verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialEnvelope {
    pub connection_id: ConnectionId,
    pub workspace_id: WorkspaceId,
    pub provider: ProviderName,
    pub strategy: Strategy,
    pub credentials: CredentialValues,
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: Vec<Scope>,
    /// The provider's API base URL for this connection (its parameters filled in).
    pub api_base_url: Option<Url>,
    /// Where the credential may be sent: `api_base_url`'s origin and the provider's declared
    /// origins, filled for this connection. Empty: nowhere (the SDKs refuse every request).
    pub api_origins: Vec<crate::origins::OriginPattern>,
    /// Headers and query parameters to send with the credential (the provider's `api_headers`
    /// and `api_query`, filled for this connection). A value may hold a credential field, so
    /// they are redacted in `Debug` like the credential.
    pub api_headers: CredentialValues,
    pub api_query: CredentialValues,
    /// Set when the envelope was served from memory because the database (or, to a split
    /// Gateway, the Broker) could not answer: how many seconds ago it was read from the
    /// database. Sent as the `Nexus-Stale` header, never in the body.
    pub stale_seconds: Option<u64>,
}

impl CredentialEnvelope {
    /// Refuses with `insufficient_scope` (naming what is missing) when the credential was not
    /// granted every scope in `wanted`.
    pub fn require_scopes(&self, wanted: &[Scope]) -> Result<(), crate::ServiceError> {
        let missing = missing_scopes(&self.scopes, wanted);
        if missing.is_empty() {
            return Ok(());
        }
        Err(crate::ServiceError::InsufficientScope {
            connection_id: self.connection_id,
            missing,
        })
    }
}

/// The scopes of `wanted` that `granted` lacks, in `wanted`'s order, each once.
pub fn missing_scopes(granted: &[Scope], wanted: &[Scope]) -> Vec<Scope> {
    let mut missing: Vec<Scope> = Vec::new();
    for scope in wanted {
        if !granted.contains(scope) && !missing.contains(scope) {
            missing.push(scope.clone());
        }
    }
    missing
}

/// `scopes=a,b` (or a space between them, as in OAuth) as scopes; `field` names the parameter.
pub fn parse_scope_list(field: &str, raw: &str) -> Result<Vec<Scope>, crate::ServiceError> {
    let scopes: Vec<Scope> = raw
        .split([',', ' '])
        .filter(|scope| !scope.is_empty())
        .map(|scope| Scope::parse(scope).map_err(|m| crate::ServiceError::invalid(field, m)))
        .collect::<Result<_, _>>()?;
    if scopes.len() > 100 {
        return Err(crate::ServiceError::invalid(field, "at most 100 scopes"));
    }
    Ok(scopes)
}

/// The scopes of `first`, then those of `second` it lacks: an incremental consent asks for the
/// union, so the grant only grows.
pub fn scope_union(first: &[Scope], second: &[Scope]) -> Vec<Scope> {
    let mut union = first.to_vec();
    union.extend(missing_scopes(first, second));
    union
}

/// The hosted capture form's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureForm {
    pub provider: ProviderName,
    pub display_name: String,
    pub schema: crate::credential_schema::CredentialSchema,
    /// Where the form posts: the Broker's public URL, so it works behind a path prefix too.
    pub submit_url: Url,
    /// Where a completed capture sends the user: the page's policy lets the form's redirect go
    /// there, and nowhere else.
    pub return_url: Url,
    /// What the provider is, in the operator's words.
    pub description: Option<String>,
    /// The provider's logo (the page's policy allows images from its origin only).
    pub logo_url: Option<Url>,
    /// "Where do I find my key?"
    pub docs_url: Option<Url>,
    /// Where "Cancel" goes: back to the application with `status=error&error=access_denied`
    /// (through Nexus, which closes the link first).
    pub cancel_url: Url,
}

/// Why a submitted capture was refused, field by field, so the form can show it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldErrors(pub BTreeMap<String, String>);

/// Filters of a connection listing.
#[derive(Debug, Clone, Default)]
pub struct ConnectionQuery {
    pub workspace_id: Option<WorkspaceId>,
    pub provider: Option<ProviderName>,
    pub status: Option<ConnectionStatus>,
    /// Cursor: only connections created after this one (ids are time-ordered).
    pub after: Option<ConnectionId>,
    pub limit: u64,
    /// Only these workspaces (the caller's, when its key is restricted), filtered in the query so
    /// that every page is full while more rows exist; `None`: every workspace.
    pub workspace_in: Option<Vec<WorkspaceId>>,
}

/// Result of a refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshOutcome {
    pub connection_id: ConnectionId,
    pub status: ConnectionStatus,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Merges `pairs` into a URL's query, replacing parameters of the same name and keeping the rest.
pub fn merge_query(url: &Url, pairs: &[(&str, &str)]) -> Url {
    let mut merged = url.clone();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| !pairs.iter().any(|(name, _)| name == key))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut query = merged.query_pairs_mut();
        query.clear();
        query.extend_pairs(kept);
        query.extend_pairs(pairs.iter().copied());
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_the_return_urls_own_query() {
        let url = Url::parse("https://app.test/done?tab=2&status=old#frag").expect("url");
        let merged = merge_query(&url, &[("status", "success"), ("connection_id", "c1")]);
        assert_eq!(
            merged.as_str(),
            "https://app.test/done?tab=2&status=success&connection_id=c1#frag"
        );
    }

    #[test]
    fn credential_values_are_redacted_in_debug() {
        let values = CredentialValues(BTreeMap::from([("access_token".to_owned(), "tok-123".to_owned())]));
        let printed = format!("{values:?}");
        assert!(
            printed.contains("access_token") && !printed.contains("tok-123"),
            "{printed}"
        );
    }
}

#[cfg(test)]
mod redaction_tests {
    use super::*;

    #[test]
    fn states_codes_and_credentials_never_print() {
        let spec = ConsentSpec {
            connection_id: ConnectionId::new(),
            auth_url: Url::parse("https://idp.test/authorize?state=the-state-value").expect("url"),
            state: "the-state-value".into(),
            expires_at: Utc::now(),
        };
        let params = CallbackParams {
            state: Some("the-state-value".into()),
            code: Some("the-code-value".into()),
            error: None,
            error_description: None,
            iss: None,
        };
        let values = CredentialValues(BTreeMap::from([("api_key".to_owned(), "sk-the-key".to_owned())]));
        let printed = format!("{spec:?} {params:?} {values:?}");
        for secret in ["the-state-value", "the-code-value", "sk-the-key"] {
            assert!(!printed.contains(secret), "{printed}");
        }
    }
}

#[cfg(test)]
mod scope_list_pattern_tests {
    /// The Gateway's `scopes` query pattern (api/http/src/gateway.rs) compiles within the regex
    /// crate's limits and agrees with `parse_scope_list`.
    #[test]
    fn the_scopes_pattern_compiles_and_agrees() {
        let pattern = regex::Regex::new(
            r"^[, ]*(?:[\x21\x23-\x2B\x2D-\x5B\x5D-\x7E]{1,256}(?:[, ]+[\x21\x23-\x2B\x2D-\x5B\x5D-\x7E]{1,256}){0,99})?[, ]*$",
        )
        .expect("compiles");
        for ok in ["", "openid", "openid,email", "a b", ",a,,b,", "read:org"] {
            assert!(pattern.is_match(ok), "{ok}");
            assert!(super::parse_scope_list("scopes", ok).is_ok(), "{ok}");
        }
        let long = "x".repeat(257);
        let many = vec!["s"; 101].join(",");
        for bad in ["a\"b", "a\\b", long.as_str(), many.as_str()] {
            assert!(!pattern.is_match(bad), "{bad}");
            assert!(super::parse_scope_list("scopes", bad).is_err(), "{bad}");
        }
    }
}
