//! Provider registration and maintenance. The client secret is sealed here, bound to its
//! provider row, and never returned: callers only learn `has_client_secret`.

use crate::audit::AuditServiceImpl;
use crate::cache::CacheEpoch;
use crate::outbound_policy::OutboundPolicy;
use crate::repo_errors::internal;
use async_trait::async_trait;
use nexus_crypto::{AssociatedData, Keyring, secret_fingerprint};
use nexus_domain::agent_key::Actor;
use nexus_domain::audit::{AuditEventType, NewAuditEvent};
use nexus_domain::catalog::Template;
use nexus_domain::ciphertext::Ciphertext;
use nexus_domain::clock::Clock;
use nexus_domain::error::ConflictReason;
use nexus_domain::ports::{AuditService, ProviderService, ServiceResult};
use nexus_domain::provider::{NewProvider, Provider, ProviderPatch, ProviderRef, ProviderSpec};
use nexus_domain::secret::{ExposeSecret, SecretString};
use nexus_domain::{ProviderId, ResourceKind, ServiceError};
use nexus_repositories::{ProviderRecord, ProviderRepository, RepoError};
use std::sync::Arc;

const MAX_CLIENT_SECRET_LEN: usize = 4096;

pub struct ProviderServiceImpl {
    repo: Arc<dyn ProviderRepository>,
    keyring: Arc<Keyring>,
    audit: Arc<dyn AuditService>,
    clock: Arc<dyn Clock>,
    /// Bumped on every change, so cached credential envelopes (strategy included) are re-read.
    epoch: Arc<CacheEpoch>,
    outbound: OutboundPolicy,
    /// The provider catalog (`nexus-catalog`), wired in by the server.
    templates: &'static [Template],
}

impl std::fmt::Debug for ProviderServiceImpl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderServiceImpl").finish_non_exhaustive()
    }
}

/// Associated data of a provider's client secret: the ciphertext only opens on its own row.
pub fn client_secret_aad(id: ProviderId) -> AssociatedData {
    AssociatedData::for_row("providers", &id, "client_secret")
}

impl ProviderServiceImpl {
    pub fn new(
        repo: Arc<dyn ProviderRepository>,
        keyring: Arc<Keyring>,
        audit: Arc<dyn AuditService>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            repo,
            keyring,
            audit,
            clock,
            epoch: Arc::default(),
            // The safe default: https only. Development relaxes it explicitly.
            outbound: OutboundPolicy::PRODUCTION,
            templates: &[],
        }
    }

    /// The catalog's templates, sorted by name: `POST /v1/providers` may name one.
    pub fn with_catalog(mut self, templates: &'static [Template]) -> Self {
        self.templates = templates;
        self
    }

    /// Where providers may point Nexus: https only unless this relaxes it (development:
    /// `OutboundPolicy::DEVELOPMENT` allows plain http to loopback).
    pub fn with_outbound_policy(mut self, policy: OutboundPolicy) -> Self {
        self.outbound = policy;
        self
    }

    /// Shares the epoch of the read caches, so provider changes invalidate them.
    pub fn with_epoch(mut self, epoch: Arc<CacheEpoch>) -> Self {
        self.epoch = epoch;
        self
    }

    fn seal_client_secret(&self, id: ProviderId, secret: &SecretString) -> ServiceResult<Ciphertext> {
        let secret = secret.expose_secret();
        if secret.trim().is_empty() || secret.len() > MAX_CLIENT_SECRET_LEN {
            return Err(ServiceError::invalid(
                "client_secret",
                format!("must be 1 to {MAX_CLIENT_SECRET_LEN} characters"),
            ));
        }
        Ok(self.keyring.encrypt(secret.as_bytes(), &client_secret_aad(id)))
    }

    /// The provider, with its secret's fingerprint worked out when it was stored before
    /// fingerprints were (so that a plan does not call every old secret "changed").
    fn fingerprinted(&self, record: ProviderRecord) -> Provider {
        let mut provider = record.provider;
        if provider.client_secret_fingerprint.is_none()
            && let Some(sealed) = &record.client_secret
            && let Ok(plaintext) = self.keyring.decrypt(sealed, &client_secret_aad(provider.id))
            && let Ok(secret) = String::from_utf8(plaintext).map(SecretString::from)
        {
            let fingerprint = secret_fingerprint(&provider.id.as_uuid(), secret.expose_secret());
            provider.client_secret_fingerprint = Some(fingerprint);
        }
        provider
    }

    async fn find(&self, provider: &ProviderRef) -> ServiceResult<ProviderRecord> {
        self.repo
            .find(provider)
            .await
            .map_err(internal("looking up a provider"))?
            .ok_or_else(|| ServiceError::not_found(ResourceKind::Provider, provider))
    }

    async fn audit(&self, event_type: AuditEventType, actor: &Actor, provider: &Provider, data: serde_json::Value) {
        let mut payload = serde_json::json!({"name": provider.spec.name, "auth_type": provider.spec.auth_type});
        if let (Some(target), serde_json::Value::Object(extra)) = (payload.as_object_mut(), data) {
            target.extend(extra);
        }
        let event = NewAuditEvent::new(event_type, actor)
            .provider(provider.id)
            .data(payload);
        AuditServiceImpl::record_or_log(self.audit.as_ref(), event).await;
    }
}

/// A write refused by the live-name index is a duplicate name, not a server fault.
fn write_error(spec: &ProviderSpec, context: &'static str) -> impl FnOnce(RepoError) -> ServiceError {
    move |error| match error {
        RepoError::UniqueViolation(_) => ServiceError::AlreadyExists {
            kind: ResourceKind::Provider,
            name: spec.name.to_string(),
        },
        other => internal(context)(other),
    }
}

/// OAuth2 providers need a client secret; static providers must not have one, nor an MCP
/// provider whose client Nexus registers itself (it has no `client_id` of its own).
fn check_secret_presence(spec: &ProviderSpec, has_secret: bool) -> ServiceResult<()> {
    let registered = spec
        .oauth
        .as_ref()
        .is_some_and(|oauth| oauth.mcp.is_some() && oauth.preregistered_client_id().is_none());
    if registered {
        return if has_secret {
            Err(ServiceError::invalid(
                "client_secret",
                "goes with client_id: an MCP provider without client_id has its client registered by Nexus",
            ))
        } else {
            Ok(())
        };
    }
    match (spec.auth_type.is_static(), has_secret) {
        (false, false) => Err(ServiceError::invalid(
            "client_secret",
            "is required for oauth2 providers",
        )),
        (true, true) => Err(ServiceError::invalid(
            "client_secret",
            format!("does not apply to {} providers", spec.auth_type.as_str()),
        )),
        _ => Ok(()),
    }
}

#[async_trait]
impl ProviderService for ProviderServiceImpl {
    async fn create(&self, actor: &Actor, input: NewProvider) -> ServiceResult<Provider> {
        let input = nexus_domain::catalog::apply_template(self.templates, input)?;
        let spec = input.draft.validate()?;
        self.outbound.check_provider(&spec)?;
        check_secret_presence(&spec, input.client_secret.is_some())?;
        let id = ProviderId::new();
        let client_secret = input
            .client_secret
            .as_ref()
            .map(|secret| self.seal_client_secret(id, secret))
            .transpose()?;
        let now = self.clock.now();
        let record = ProviderRecord {
            provider: Provider {
                id,
                has_client_secret: client_secret.is_some(),
                client_secret_fingerprint: input
                    .client_secret
                    .as_ref()
                    .map(|secret| secret_fingerprint(&id.as_uuid(), secret.expose_secret())),
                spec,
                created_at: now,
                updated_at: now,
            },
            client_secret,
        };
        self.repo
            .insert(&record)
            .await
            .map_err(write_error(&record.provider.spec, "storing a new provider"))?;
        self.audit(
            AuditEventType::ProviderCreated,
            actor,
            &record.provider,
            serde_json::json!({}),
        )
        .await;
        Ok(record.provider)
    }

    fn templates(&self) -> &[Template] {
        self.templates
    }

    async fn list(&self) -> ServiceResult<Vec<Provider>> {
        let records = self.repo.list().await.map_err(internal("listing providers"))?;
        Ok(records.into_iter().map(|record| self.fingerprinted(record)).collect())
    }

    async fn get(&self, provider: &ProviderRef) -> ServiceResult<Provider> {
        Ok(self.fingerprinted(self.find(provider).await?))
    }

    async fn update(&self, actor: &Actor, provider: &ProviderRef, mut patch: ProviderPatch) -> ServiceResult<Provider> {
        let current = self.find(provider).await?;
        let new_secret = patch.client_secret.take();
        let mut draft = current.provider.spec.to_draft();
        patch.apply_to(&mut draft);
        let spec = draft.validate()?;
        self.outbound.check_provider(&spec)?;
        let id = current.provider.id;
        let client_secret = match &new_secret {
            Some(secret) => Some(self.seal_client_secret(id, secret)?),
            None => current.client_secret,
        };
        check_secret_presence(&spec, client_secret.is_some())?;
        let record = ProviderRecord {
            provider: Provider {
                id,
                has_client_secret: client_secret.is_some(),
                client_secret_fingerprint: match &new_secret {
                    Some(secret) => Some(secret_fingerprint(&id.as_uuid(), secret.expose_secret())),
                    None => current.provider.client_secret_fingerprint,
                },
                spec,
                created_at: current.provider.created_at,
                updated_at: self.clock.now(),
            },
            client_secret,
        };
        let updated = self
            .repo
            .update(&record)
            .await
            .map_err(write_error(&record.provider.spec, "updating a provider"))?;
        if !updated {
            return Err(ServiceError::not_found(ResourceKind::Provider, provider));
        }
        self.epoch.bump();
        let data = serde_json::json!({"client_secret_changed": new_secret.is_some()});
        self.audit(AuditEventType::ProviderUpdated, actor, &record.provider, data)
            .await;
        Ok(record.provider)
    }

    async fn delete(&self, actor: &Actor, provider: &ProviderRef, cascade: bool) -> ServiceResult<()> {
        let current = self.find(provider).await?.provider;
        let deletion = self
            .repo
            .soft_delete(current.id, self.clock.now(), cascade)
            .await
            .map_err(|error| match error {
                RepoError::Conflict(_) => ServiceError::Conflict {
                    reason: ConflictReason::ProviderInUse,
                    message: format!(
                        "provider `{}` has live connections; revoke them first or delete with cascade=true",
                        current.spec.name
                    ),
                    connection_id: None,
                },
                other => internal("deleting a provider")(other),
            })?
            .ok_or_else(|| ServiceError::not_found(ResourceKind::Provider, provider))?;
        self.epoch.bump();
        for connection_id in &deletion.revoked_connections {
            let event = NewAuditEvent::new(AuditEventType::ConnectionRevoked, actor)
                .provider(current.id)
                .connection(*connection_id)
                .data(serde_json::json!({"reason": "provider_deleted"}));
            AuditServiceImpl::record_or_log(self.audit.as_ref(), event).await;
        }
        let data = serde_json::json!({"cascade": cascade, "revoked_connections": deletion.revoked_connections.len()});
        self.audit(AuditEventType::ProviderDeleted, actor, &current, data).await;
        Ok(())
    }
}
