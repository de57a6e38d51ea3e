//! Agent keys: issue (shown once), list, revoke, and authenticate in constant time.

use crate::audit::AuditServiceImpl;
use crate::cache::{CacheEpoch, TtlCache};
use crate::repo_errors::internal;
use async_trait::async_trait;
use nexus_crypto::{constant_time_eq, generate_agent_key, hash_key, prefix_of};
use nexus_domain::agent_key::{Actor, AgentKey, AgentPrincipal, IssuedAgentKey, NewAgentKey};
use nexus_domain::audit::{AuditEventType, NewAuditEvent};
use nexus_domain::clock::Clock;
use nexus_domain::ports::{AgentKeyService, AuditService, ServiceResult};
use nexus_domain::secret::{ExposeSecret, SecretString};
use nexus_domain::{AgentKeyId, ResourceKind, ServiceError, WorkspaceId};
use nexus_repositories::{AgentKeyRecord, AgentKeyRepository};
use std::sync::Arc;
use std::time::Duration;

const MAX_NAME_LEN: usize = 100;
/// How long a successful agent-key check is remembered. A key deleted through this process is
/// refused at once; one deleted through another process, within this delay.
pub const AUTH_CACHE_TTL: Duration = Duration::from_secs(5);
const MAX_WORKSPACES: usize = 1000;

pub struct AgentKeyServiceImpl {
    repo: Arc<dyn AgentKeyRepository>,
    audit: Arc<dyn AuditService>,
    clock: Arc<dyn Clock>,
    /// Hash of a presented key -> who it is. Only successes are remembered.
    authenticated: TtlCache<String, AgentPrincipal>,
    /// Moves on with every key deleted here, so no check that raced the deletion is remembered.
    deletions: CacheEpoch,
    /// How long a successful check may still be relied on while the database cannot answer.
    stale_if_error: Duration,
}

impl std::fmt::Debug for AgentKeyServiceImpl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentKeyServiceImpl").finish_non_exhaustive()
    }
}

impl AgentKeyServiceImpl {
    pub fn new(repo: Arc<dyn AgentKeyRepository>, audit: Arc<dyn AuditService>, clock: Arc<dyn Clock>) -> Self {
        Self {
            repo,
            audit,
            clock,
            authenticated: TtlCache::new(AUTH_CACHE_TTL),
            deletions: CacheEpoch::default(),
            stale_if_error: Duration::ZERO,
        }
    }

    /// Keys checked against the database no longer than `bound` ago are still accepted while
    /// the database cannot answer (the same bound as the envelopes they read); zero: never.
    #[must_use]
    pub fn with_stale_if_error(mut self, bound: Duration) -> Self {
        self.authenticated = TtlCache::retaining(AUTH_CACHE_TTL, bound);
        self.stale_if_error = bound;
        self
    }

    /// The principal of a key this process checked no longer than the bound ago, unless a
    /// deletion was seen here since.
    fn remembered(&self, presented_hash: &String) -> Option<AgentPrincipal> {
        if self.stale_if_error.is_zero() {
            return None;
        }
        let deletions = self.deletions.current();
        self.authenticated
            .get_stale(presented_hash, self.stale_if_error, |epoch, _| epoch == deletions)
            .map(|(principal, _)| principal)
    }

    async fn reject(&self, reason: &'static str, prefix: Option<&str>) -> ServiceError {
        let event = NewAuditEvent::new(AuditEventType::AuthenticationFailed, &Actor::Anonymous)
            .data(serde_json::json!({"api": "gateway", "credential": "agent_key", "reason": reason, "prefix": prefix}));
        AuditServiceImpl::record_or_log(self.audit.as_ref(), event).await;
        ServiceError::Unauthenticated
    }
}

fn validate(input: NewAgentKey) -> ServiceResult<(String, Option<Vec<WorkspaceId>>)> {
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN || name.chars().any(char::is_control) {
        return Err(ServiceError::invalid(
            "name",
            format!("must be 1 to {MAX_NAME_LEN} printable characters"),
        ));
    }
    let workspace_ids = match (input.workspace_ids, input.all_workspaces) {
        (None, true) => None,
        (Some(ids), true) if ids.is_empty() => None,
        (Some(_), true) => {
            return Err(ServiceError::invalid(
                "all_workspaces",
                "cannot be combined with workspace_ids",
            ));
        }
        (None, false) => {
            return Err(ServiceError::invalid(
                "workspace_ids",
                "list the workspaces this key may reach, or set all_workspaces to true",
            ));
        }
        (Some(ids), false) if ids.is_empty() => {
            return Err(ServiceError::invalid(
                "workspace_ids",
                "must list at least one workspace, or set all_workspaces to true",
            ));
        }
        (Some(ids), false) if ids.len() > MAX_WORKSPACES => {
            return Err(ServiceError::invalid(
                "workspace_ids",
                format!("at most {MAX_WORKSPACES} workspaces"),
            ));
        }
        (Some(ids), false) => {
            let mut parsed = ids
                .iter()
                .map(|raw| WorkspaceId::parse(raw).map_err(|m| ServiceError::invalid("workspace_ids", m)))
                .collect::<Result<Vec<_>, _>>()?;
            parsed.sort();
            parsed.dedup();
            Some(parsed)
        }
    };
    Ok((name, workspace_ids))
}

#[async_trait]
impl AgentKeyService for AgentKeyServiceImpl {
    async fn create(&self, actor: &Actor, input: NewAgentKey) -> ServiceResult<IssuedAgentKey> {
        let proxy_only = input.proxy_only;
        let (name, workspace_ids) = validate(input)?;
        let material = generate_agent_key();
        let key = AgentKey {
            id: AgentKeyId::new(),
            name,
            prefix: material.prefix,
            workspace_ids,
            proxy_only,
            created_at: self.clock.now(),
            revoked_at: None,
        };
        self.repo
            .insert(&AgentKeyRecord {
                key: key.clone(),
                key_hash: material.hash,
            })
            .await
            .map_err(internal("storing a new agent key"))?;
        let event = NewAuditEvent::new(AuditEventType::AgentKeyCreated, actor)
            .data(serde_json::json!({"agent_key_id": key.id, "name": key.name, "prefix": key.prefix, "proxy_only": key.proxy_only}));
        AuditServiceImpl::record_or_log(self.audit.as_ref(), event).await;
        Ok(IssuedAgentKey {
            key,
            secret: material.key,
        })
    }

    async fn list(&self) -> ServiceResult<Vec<AgentKey>> {
        self.repo.list_live().await.map_err(internal("listing agent keys"))
    }

    async fn delete(&self, actor: &Actor, id: AgentKeyId) -> ServiceResult<()> {
        let revoked = self
            .repo
            .revoke(id, self.clock.now())
            .await
            .map_err(internal("revoking an agent key"))?;
        if !revoked {
            return Err(ServiceError::not_found(ResourceKind::AgentKey, id));
        }
        self.deletions.bump();
        let event =
            NewAuditEvent::new(AuditEventType::AgentKeyDeleted, actor).data(serde_json::json!({"agent_key_id": id}));
        AuditServiceImpl::record_or_log(self.audit.as_ref(), event).await;
        Ok(())
    }

    async fn authenticate(&self, presented: &SecretString) -> ServiceResult<AgentPrincipal> {
        let presented = presented.expose_secret();
        let presented_hash = hash_key(presented);
        let read_epoch = self.deletions.current();
        if let Some(principal) = self.authenticated.get(&presented_hash, read_epoch) {
            return Ok(principal);
        }
        let Some(prefix) = prefix_of(presented) else {
            return Err(self.reject("malformed", None).await);
        };
        let record = match self.repo.find_live_by_prefix(prefix).await {
            Ok(record) => record,
            Err(error) => {
                let error = internal("looking up an agent key")(error);
                return match (&error, self.remembered(&presented_hash)) {
                    (ServiceError::Unavailable { .. }, Some(principal)) => Ok(principal),
                    _ => Err(error),
                };
            }
        };
        if !record
            .as_ref()
            .is_some_and(|record| constant_time_eq(presented_hash.as_bytes(), record.key_hash.as_bytes()))
        {
            // Deleted elsewhere (or never valid): never accepted from memory again.
            self.authenticated.remove(&presented_hash);
        }
        match record {
            Some(record) if constant_time_eq(presented_hash.as_bytes(), record.key_hash.as_bytes()) => {
                let principal = AgentPrincipal {
                    key_id: record.key.id,
                    workspace_ids: record.key.workspace_ids,
                    proxy_only: record.key.proxy_only,
                };
                self.authenticated
                    .fill(presented_hash, read_epoch, &self.deletions, principal.clone());
                Ok(principal)
            }
            Some(_) => Err(self.reject("mismatch", Some(prefix)).await),
            None => Err(self.reject("unknown_or_revoked", Some(prefix)).await),
        }
    }
}
