//! Hosted capture of static credentials (API keys, basic auth): the form's content, validation
//! against the provider's schema, the optional live check, then encrypted storage.

use super::stored::Stored;
use super::{ConnectionServiceImpl, apply_strategy};
use crate::repo_errors::internal;
use nexus_domain::agent_key::Actor;
use nexus_domain::audit::{AuditEventType, NewAuditEvent};
use nexus_domain::connection::{CaptureForm, CompletedFlow, CredentialValues, merge_query};
use nexus_domain::credential_schema::{CredentialSchema, MAX_FIELD_VALUE_LEN};
use nexus_domain::provider::{ProviderSpec, VerificationMethod};
use nexus_domain::{ResourceKind, ServiceError};
use nexus_repositories::{ConnectionBundle, NewCredential};
use std::collections::BTreeMap;

/// Checks submitted values against the schema: every error at once, by field.
pub(crate) fn validate_capture(
    schema: &CredentialSchema,
    values: BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, BTreeMap<String, String>> {
    let mut errors = BTreeMap::new();
    let mut accepted = BTreeMap::new();
    for (name, value) in values {
        let Some(field) = schema.properties.get(&name) else {
            errors.insert(name, "is not a field of this provider".to_owned());
            continue;
        };
        let value = value.trim().to_owned();
        if value.len() > MAX_FIELD_VALUE_LEN {
            errors.insert(name, format!("must be at most {MAX_FIELD_VALUE_LEN} characters"));
        } else if value.chars().any(char::is_control) {
            errors.insert(name, "must not contain control characters".to_owned());
        } else if !value.is_empty() {
            let format_error = match field.format.as_deref() {
                Some("email") if !value.contains('@') => Some("must be an email address"),
                Some("uri") if url::Url::parse(&value).is_err() => Some("must be a URL"),
                _ => None,
            };
            match format_error {
                Some(message) => {
                    errors.insert(name, message.to_owned());
                }
                None => {
                    accepted.insert(name, value);
                }
            }
        }
    }
    for required in &schema.required {
        if !accepted.contains_key(required) && !errors.contains_key(required) {
            errors.insert(required.clone(), "is required".to_owned());
        }
    }
    if errors.is_empty() { Ok(accepted) } else { Err(errors) }
}

/// Submissions one capture link allows, corrections included: enough for typos, too few to
/// test keys against the provider's verification endpoint.
pub const MAX_CAPTURE_ATTEMPTS: u32 = 5;

/// Why a capture link is presented: to show the form, or to submit it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    Show,
    Submit,
}

impl ConnectionServiceImpl {
    /// A capture state that is valid, unused, unexpired, not replaced by a newer link, and for
    /// a static provider. A submission (`Use::Submit`) also counts against the link's attempts,
    /// before anything is sent to the provider's verification endpoint.
    async fn capture_target(&self, raw_state: &str, purpose: Use) -> Result<(ConnectionBundle, String), ServiceError> {
        let state = self.verify_state(raw_state)?;
        let closed = ServiceError::InvalidState {
            reason: "the capture was already completed, replaced by a newer link, or has expired",
        };
        let bundle = self
            .connections
            .find(state.connection_id)
            .await
            .map_err(internal("reading a connection"))?
            .ok_or(ServiceError::InvalidState {
                reason: "the connection no longer exists",
            })?;
        if !bundle.provider.provider.spec.auth_type.is_static() {
            return Err(ServiceError::InvalidState {
                reason: "this state belongs to an OAuth consent, not a credential capture",
            });
        }
        let now = self.clock.now();
        let open = self
            .connections
            .consent_open(state.connection_id, &state.nonce, now)
            .await
            .map_err(internal("checking a capture link"))?;
        if !open {
            return Err(closed);
        }
        if purpose == Use::Submit
            && !self
                .connections
                .count_capture_attempt(state.connection_id, &state.nonce, now, MAX_CAPTURE_ATTEMPTS)
                .await
                .map_err(internal("counting a capture attempt"))?
        {
            return Err(ServiceError::InvalidState {
                reason: "this link was used too many times; start a new connection",
            });
        }
        Ok((bundle, state.nonce))
    }

    pub(super) async fn capture_form(&self, raw_state: &str) -> Result<CaptureForm, ServiceError> {
        let (bundle, _) = self.capture_target(raw_state, Use::Show).await?;
        let spec = bundle.provider.provider.spec;
        let mut cancel_url = super::endpoint_url(&self.settings.public_url, &["auth", "callback"]);
        cancel_url
            .query_pairs_mut()
            .append_pair("state", raw_state)
            .append_pair("error", "access_denied");
        Ok(CaptureForm {
            cancel_url,
            description: spec.description.clone(),
            logo_url: spec.logo_url.clone(),
            docs_url: spec.docs_url.clone(),
            submit_url: super::endpoint_url(&self.settings.public_url, &["auth", "capture"]),
            return_url: bundle
                .connection
                .return_url
                .clone()
                .ok_or_else(|| ServiceError::internal("capture", "a capture in progress without a return URL"))?,
            schema: spec
                .credential_schema
                .clone()
                .ok_or_else(|| ServiceError::internal("capture", "static provider without a schema"))?,
            provider: spec.name,
            display_name: spec.display_name,
        })
    }

    pub(super) async fn save_credential(
        &self,
        raw_state: &str,
        values: BTreeMap<String, String>,
    ) -> Result<CompletedFlow, ServiceError> {
        let (bundle, nonce) = self.capture_target(raw_state, Use::Submit).await?;
        let provider = &bundle.provider.provider;
        let provider_name = provider.spec.name.as_str().to_owned();
        let result = self.validate_and_store(&bundle, &nonce, values).await;
        let status = if result.is_ok() { "success" } else { "error" };
        self.metrics.captures.with_label_values(&[&provider_name, status]).inc();
        let return_url = result?;
        let connection = &bundle.connection;
        self.record(
            NewAuditEvent::new(AuditEventType::CredentialCaptured, &Actor::Anonymous)
                .provider(connection.provider_id)
                .connection(connection.id)
                .workspace(connection.workspace_id.clone())
                .data(serde_json::json!({"provider": provider_name})),
        )
        .await;
        self.record(
            NewAuditEvent::new(AuditEventType::ConnectionActivated, &Actor::Anonymous)
                .provider(connection.provider_id)
                .connection(connection.id)
                .workspace(connection.workspace_id.clone())
                .data(serde_json::json!({"via": "capture"})),
        )
        .await;
        let id = connection.id.to_string();
        Ok(CompletedFlow {
            connection_id: connection.id,
            provider: provider.spec.name.clone(),
            redirect_to: merge_query(
                &return_url,
                &[
                    ("status", "success"),
                    ("connection_id", &id),
                    ("provider", &provider_name),
                ],
            ),
            succeeded: true,
        })
    }

    async fn validate_and_store(
        &self,
        bundle: &ConnectionBundle,
        nonce: &str,
        values: BTreeMap<String, String>,
    ) -> Result<url::Url, ServiceError> {
        let provider = &bundle.provider.provider;
        let schema = provider
            .spec
            .credential_schema
            .as_ref()
            .ok_or_else(|| ServiceError::internal("capture", "static provider without a schema"))?;
        let accepted = validate_capture(schema, values).map_err(|errors| ServiceError::InvalidFields { errors })?;
        let spec = provider
            .spec
            .for_connection(&bundle.connection.connection_params)
            .map_err(|e| ServiceError::ProviderMisconfigured {
                provider: provider.spec.name.to_string(),
                message: e.to_string(),
            })?;
        self.verify_with_provider(&spec, &accepted).await?;
        // Only now is the state consumed: a mistyped field can be corrected and resubmitted.
        let claimed = self
            .connections
            .claim_consent(bundle.connection.id, nonce, self.clock.now())
            .await
            .map_err(internal("claiming a capture"))?
            .ok_or(ServiceError::InvalidState {
                reason: "the capture was already completed or has expired",
            })?;
        let stored = Stored::from_captured(accepted);
        let credential =
            NewCredential::issued(stored.seal(&self.keyring, bundle.connection.id), self.clock.now(), None);
        self.connections
            .activate(
                bundle.connection.id,
                &credential,
                None,
                Some(&bundle.connection.requested_scopes),
                "credentials_captured",
                self.clock.now(),
            )
            .await
            .map_err(|e| match e {
                nexus_repositories::RepoError::Conflict(_) => {
                    ServiceError::not_found(ResourceKind::Connection, bundle.connection.id)
                }
                other => internal("storing captured credentials")(other),
            })?;
        self.invalidate(&bundle.connection);
        Ok(claimed.return_url)
    }

    /// The provider's verification request, when it has one: any 2xx accepts the credentials.
    async fn verify_with_provider(
        &self,
        spec: &ProviderSpec,
        accepted: &BTreeMap<String, String>,
    ) -> Result<(), ServiceError> {
        let Some(verification) = &spec.verification else {
            return Ok(());
        };
        let rejected = |message: &str| ServiceError::InvalidFields {
            errors: BTreeMap::from([("credentials".to_owned(), message.to_owned())]),
        };
        let client = self.outbound.client();
        let url = verification
            .url
            .fixed()
            .cloned()
            .ok_or_else(|| ServiceError::internal("capture", "verification URL not filled for the connection"))?;
        let request = match verification.method {
            VerificationMethod::Get => client.get(url),
            VerificationMethod::Head => client.head(url),
            VerificationMethod::Post => client.post(url),
        };
        let values = CredentialValues(accepted.clone());
        let request = apply_strategy(request, &spec.effective_strategy(), &values).map_err(|m| rejected(&m))?;
        match self.outbound.send(request).await {
            Ok(answer) if answer.status.is_success() => Ok(()),
            Ok(answer) if answer.status.is_client_error() => Err(rejected(
                "the provider rejected these credentials; check them and try again",
            )),
            Ok(_) | Err(_) => Err(ServiceError::Upstream {
                provider: spec.name.to_string(),
                retryable: true,
                retry_after_seconds: None,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_validation_reports_every_field() {
        let schema = CredentialSchema::default_basic_auth();
        let submitted = BTreeMap::from([
            ("username".to_owned(), "  alice ".to_owned()),
            ("colour".to_owned(), "blue".to_owned()),
        ]);
        let errors = validate_capture(&schema, submitted).expect_err("invalid");
        assert_eq!(errors.get("password").map(String::as_str), Some("is required"));
        assert_eq!(
            errors.get("colour").map(String::as_str),
            Some("is not a field of this provider")
        );

        let oversized = BTreeMap::from([
            ("username".to_owned(), "alice".to_owned()),
            ("password".to_owned(), "x".repeat(MAX_FIELD_VALUE_LEN + 1)),
        ]);
        assert!(
            validate_capture(&schema, oversized)
                .expect_err("too long")
                .contains_key("password")
        );

        let good = BTreeMap::from([
            ("username".to_owned(), " alice ".to_owned()),
            ("password".to_owned(), "pw".to_owned()),
        ]);
        let accepted = validate_capture(&schema, good).expect("valid");
        assert_eq!(accepted.get("username").map(String::as_str), Some("alice"));
    }
}
