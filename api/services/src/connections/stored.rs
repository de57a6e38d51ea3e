//! The plaintext of a stored credential (a whole token response, or the captured fields), how it
//! is sealed to its connection row, and what of it an agent may see.

use crate::oauth::TokenResponse;
use chrono::{DateTime, TimeDelta, Utc};
use nexus_crypto::{AssociatedData, Keyring};
use nexus_domain::ciphertext::Ciphertext;
use nexus_domain::connection::CredentialValues;
use nexus_domain::provider::ProviderSpec;
use nexus_domain::status::AuthType;
use nexus_domain::token_request::TokenResponseShape;
use nexus_domain::url_template::ConnectionParams;
use nexus_domain::{ConnectionId, ServiceError};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use url::Url;

/// Where Salesforce says a connection's org lives.
const INSTANCE_URL: &str = "instance_url";

/// Where the client a grant was made with is kept when Nexus registered it (an MCP server's
/// authorization server): refreshes and revocation use the same client.
const GRANT_CLIENT: &str = "nexus_grant_client";
/// The MCP authorization server a grant was made with: its refreshes and revocation go only to
/// it, whatever the MCP server names later.
const GRANT_ISSUER: &str = "nexus_grant_issuer";

/// Fields an agent never receives, whatever the provider sent.
const NEVER_SHARED: [&str; 5] = ["refresh_token", "id_token", "code_verifier", GRANT_CLIENT, GRANT_ISSUER];

#[derive(Clone, PartialEq)]
pub(crate) struct Stored(pub(crate) Map<String, Value>);

impl std::fmt::Debug for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stored")
            .field("fields", &self.0.keys().collect::<Vec<_>>())
            .finish()
    }
}

pub(crate) fn credential_aad(id: ConnectionId) -> AssociatedData {
    AssociatedData::for_row("credentials", &id, "secret")
}

pub(crate) fn pkce_aad(id: ConnectionId) -> AssociatedData {
    AssociatedData::for_row("connections", &id, "pkce_verifier")
}

impl Stored {
    /// A token response, keeping the previous refresh token when the provider does not rotate it.
    pub(crate) fn from_token_response(response: TokenResponse, previous: Option<&Stored>) -> Self {
        let mut fields = response.fields;
        // Nexus's own fields are never the provider's to set.
        for own in [GRANT_CLIENT, GRANT_ISSUER] {
            fields.remove(own);
        }
        // Salesforce names the instance on every answer today; if a refresh ever leaves it out,
        // the connection keeps where it lives.
        for kept in ["refresh_token", INSTANCE_URL, GRANT_CLIENT, GRANT_ISSUER] {
            if !fields.contains_key(kept)
                && let Some(value) = previous.and_then(|p| p.0.get(kept))
            {
                fields.insert(kept.to_owned(), value.clone());
            }
        }
        Self(fields)
    }

    /// The API base a Salesforce-shaped token response names (`instance_url`), when it is one of
    /// the provider's API origins: a token response never sends a credential anywhere else.
    pub(crate) fn instance_url(&self, provider: &ProviderSpec, params: &ConnectionParams) -> Option<Url> {
        let shape = provider.oauth.as_ref()?.token_response;
        if shape != TokenResponseShape::Salesforce {
            return None;
        }
        let url = Url::parse(self.str(INSTANCE_URL)?).ok()?;
        let allowed = url.scheme() == "https" || nexus_domain::provider::is_loopback(&url);
        (allowed && nexus_domain::origins::allows(&provider.origins_for(params), &url)).then_some(url)
    }

    /// The client the grant was made with, when Nexus registered it.
    pub(crate) fn grant_client(&self) -> Option<crate::oauth::GrantClient> {
        self.0.get(GRANT_CLIENT).and_then(crate::oauth::GrantClient::from_json)
    }

    /// The MCP authorization server the grant was made with.
    pub(crate) fn grant_issuer(&self) -> Option<String> {
        self.str(GRANT_ISSUER).map(str::to_owned)
    }

    /// Keeps who the grant was made with (sealed with it, never shown to an agent): the client
    /// when Nexus registered it, the MCP authorization server. What is not given is removed.
    pub(crate) fn with_grant_origin(
        mut self,
        client: Option<&crate::oauth::GrantClient>,
        issuer: Option<&str>,
    ) -> Self {
        match client {
            Some(client) => self.0.insert(GRANT_CLIENT.to_owned(), client.to_json()),
            None => self.0.remove(GRANT_CLIENT),
        };
        match issuer {
            Some(issuer) => self.0.insert(GRANT_ISSUER.to_owned(), Value::String(issuer.to_owned())),
            None => self.0.remove(GRANT_ISSUER),
        };
        self
    }

    pub(crate) fn from_captured(values: BTreeMap<String, String>) -> Self {
        Self(values.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
    }

    pub(crate) fn str(&self, field: &str) -> Option<&str> {
        self.0.get(field).and_then(Value::as_str)
    }

    pub(crate) fn refresh_token(&self) -> Option<&str> {
        self.str("refresh_token").filter(|t| !t.is_empty())
    }

    /// When a token response expires, from its `expires_in` at `received_at`.
    pub(crate) fn expiry(response: &TokenResponse, received_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        response
            .expires_in()
            .filter(|seconds| *seconds > 0)
            .and_then(TimeDelta::try_seconds)
            .and_then(|lifetime| received_at.checked_add_signed(lifetime))
    }

    /// What goes in the envelope: the access token and its type for OAuth2, the captured fields
    /// for static credentials; never a refresh token or an id_token.
    pub(crate) fn shared_values(&self, auth_type: AuthType) -> CredentialValues {
        let values = match auth_type {
            AuthType::Oauth2 => {
                let mut values = BTreeMap::new();
                if let Some(token) = self.str("access_token") {
                    values.insert("access_token".to_owned(), token.to_owned());
                }
                let token_type = match self.str("token_type") {
                    Some(t) if t.eq_ignore_ascii_case("bearer") => "Bearer",
                    Some(t) => t,
                    None => "Bearer",
                };
                values.insert("token_type".to_owned(), token_type.to_owned());
                values
            }
            AuthType::ApiKey | AuthType::BasicAuth | AuthType::AwsSigv4 => self
                .0
                .iter()
                .filter(|(k, _)| !NEVER_SHARED.contains(&k.as_str()))
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect(),
        };
        CredentialValues(values)
    }

    pub(crate) fn seal(&self, keyring: &Keyring, id: ConnectionId) -> Ciphertext {
        let plaintext = serde_json::to_vec(&self.0).unwrap_or_else(|_| unreachable!("a JSON map serializes"));
        keyring.encrypt(&plaintext, &credential_aad(id))
    }

    pub(crate) fn open(keyring: &Keyring, id: ConnectionId, sealed: &Ciphertext) -> Result<Self, ServiceError> {
        let plaintext = keyring
            .decrypt(sealed, &credential_aad(id))
            .map_err(|e| ServiceError::internal("opening a stored credential", e))?;
        serde_json::from_slice(&plaintext)
            .map(Self)
            .map_err(|e| ServiceError::internal("parsing a stored credential", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn response(value: Value) -> TokenResponse {
        TokenResponse {
            fields: value.as_object().cloned().expect("object"),
        }
    }

    #[test]
    fn a_refresh_token_the_provider_does_not_rotate_is_kept() {
        let first = Stored::from_token_response(response(json!({"access_token": "a1", "refresh_token": "r1"})), None);
        let second = Stored::from_token_response(response(json!({"access_token": "a2"})), Some(&first));
        assert_eq!(second.refresh_token(), Some("r1"));
        let rotated = Stored::from_token_response(
            response(json!({"access_token": "a3", "refresh_token": "r2"})),
            Some(&second),
        );
        assert_eq!(rotated.refresh_token(), Some("r2"));
    }

    #[test]
    fn who_a_grant_was_made_with_is_nexuss_own_never_the_providers() {
        // A token response naming a client or an issuer of its own plants nothing.
        let planted = Stored::from_token_response(
            response(json!({"access_token": "a", "nexus_grant_client": {"client_id": "evil",
                "token_endpoint_auth_method": "client_secret_post"}, "nexus_grant_issuer": "https://evil.example"})),
            None,
        );
        assert!(planted.grant_client().is_none() && planted.grant_issuer().is_none());
        let client = crate::oauth::GrantClient {
            client_id: "registered".into(),
            client_secret: Some("registered-secret".to_owned().into()),
            authentication: crate::oauth::token_endpoint::ClientAuthentication::ClientSecretBasic,
        };
        let kept = planted.with_grant_origin(Some(&client), Some("https://as.example"));
        // A refresh keeps them, whatever the provider answers.
        let refreshed = Stored::from_token_response(
            response(json!({"access_token": "b", "nexus_grant_issuer": "https://evil.example"})),
            Some(&kept),
        );
        assert_eq!(
            refreshed.grant_client().map(|c| c.client_id).as_deref(),
            Some("registered")
        );
        assert_eq!(refreshed.grant_issuer().as_deref(), Some("https://as.example"));
        let shared = refreshed.shared_values(AuthType::Oauth2).0;
        assert!(
            !shared.keys().any(|key| key.starts_with("nexus_")),
            "never shown to an agent: {:?}",
            shared.keys()
        );
    }

    #[test]
    fn absurd_lifetimes_mean_no_expiry_rather_than_a_panic() {
        let now = Utc::now();
        for expires_in in [i64::MAX, i64::MAX / 1000 + 1, -5, 0] {
            let response = response(json!({"access_token": "a", "expires_in": expires_in}));
            assert_eq!(Stored::expiry(&response, now), None, "{expires_in}");
        }
        let response = response(json!({"access_token": "a", "expires_in": "3600"}));
        assert_eq!(Stored::expiry(&response, now), Some(now + TimeDelta::hours(1)));
    }

    #[test]
    fn envelopes_never_carry_refresh_or_id_tokens() {
        let stored = Stored::from_token_response(
            response(json!({"access_token": "a", "refresh_token": "r", "id_token": "i", "token_type": "bearer"})),
            None,
        );
        let values = stored.shared_values(AuthType::Oauth2).0;
        assert_eq!(values.get("access_token").map(String::as_str), Some("a"));
        assert_eq!(values.get("token_type").map(String::as_str), Some("Bearer"));
        assert_eq!(values.len(), 2);
    }

    #[test]
    fn an_instance_url_is_the_api_base_only_within_the_providers_origins() {
        use nexus_domain::provider::ProviderDraft;
        let spec = ProviderDraft {
            name: "salesforce".into(),
            auth_type: Some(AuthType::Oauth2),
            client_id: Some("client".into()),
            authorization_url: Some("https://login.salesforce.com/services/oauth2/authorize".into()),
            token_url: Some("https://login.salesforce.com/services/oauth2/token".into()),
            api_origins: vec!["https://*.my.salesforce.com".into()],
            token_response: Some(TokenResponseShape::Salesforce),
            ..ProviderDraft::default()
        }
        .validate()
        .expect("valid");
        let params = ConnectionParams::new();
        let with = |instance: &str| {
            Stored::from_token_response(response(json!({"access_token": "a", "instance_url": instance})), None)
                .instance_url(&spec, &params)
                .map(String::from)
        };
        assert_eq!(
            with("https://acme.my.salesforce.com").as_deref(),
            Some("https://acme.my.salesforce.com/")
        );
        for elsewhere in [
            "https://evil.example",
            "http://acme.my.salesforce.com",
            "https://a.b.my.salesforce.com",
            "not a url",
        ] {
            assert_eq!(with(elsewhere), None, "{elsewhere}");
        }
        let mut standard = spec.clone();
        if let Some(oauth) = standard.oauth.as_mut() {
            oauth.token_response = TokenResponseShape::Standard;
        }
        let stored = Stored::from_token_response(
            response(json!({"access_token": "a", "instance_url": "https://acme.my.salesforce.com"})),
            None,
        );
        assert_eq!(
            stored.instance_url(&standard, &params),
            None,
            "only Salesforce-shaped answers"
        );
    }

    #[test]
    fn sealed_credentials_open_only_on_their_row() {
        let keyring = Keyring::from_keys(&[[3u8; 32]]).expect("keyring");
        let stored = Stored::from_captured(BTreeMap::from([("api_key".to_owned(), "k".to_owned())]));
        let id = ConnectionId::new();
        let sealed = stored.seal(&keyring, id);
        assert_eq!(Stored::open(&keyring, id, &sealed).expect("opens"), stored);
        assert!(Stored::open(&keyring, ConnectionId::new(), &sealed).is_err());
    }
}
