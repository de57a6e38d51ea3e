//! Agent keys: how agents authenticate to the Gateway, and which workspaces they may reach.

use crate::ids::AgentKeyId;
use crate::names::WorkspaceId;
use crate::secret::{ExposeSecret, SecretString};
use chrono::{DateTime, Utc};

/// An agent key as stored: a lookup prefix and metadata, never the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentKey {
    pub id: AgentKeyId,
    pub name: String,
    /// The key's public prefix (`nxa_xxxxxxxx`), shown so operators can tell keys apart.
    pub prefix: String,
    /// `None`: every workspace. `Some(list)`: only these.
    pub workspace_ids: Option<Vec<WorkspaceId>>,
    /// The key may act through the proxy (and check or request connections) but never reads a
    /// credential: an agent holding it never sees a secret.
    pub proxy_only: bool,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct NewAgentKey {
    pub name: String,
    /// The workspaces the key may reach. Exactly one of a non-empty list or `all_workspaces`.
    pub workspace_ids: Option<Vec<String>>,
    /// An unrestricted key must be asked for explicitly, so an empty or forgotten list never
    /// silently grants every workspace.
    pub all_workspaces: bool,
    /// See [`AgentKey::proxy_only`].
    pub proxy_only: bool,
}

/// A freshly created key: the only time the secret exists outside its hash.
#[derive(Debug)]
pub struct IssuedAgentKey {
    pub key: AgentKey,
    pub secret: SecretString,
}

/// The agent key as the agent presented it to the Gateway, for one request. The Gateway port
/// authenticates it with the operation it asks for (a split Gateway hands it to the Broker, which
/// checks it itself: the Broker never takes a Gateway's word for who the agent is).
#[derive(Clone)]
pub struct PresentedKey(SecretString);

impl PresentedKey {
    pub fn new(key: SecretString) -> Self {
        Self(key)
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for PresentedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PresentedKey([REDACTED])")
    }
}

/// Who is calling the Gateway, once the agent key checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentPrincipal {
    pub key_id: AgentKeyId,
    pub workspace_ids: Option<Vec<WorkspaceId>>,
    pub proxy_only: bool,
}

impl AgentPrincipal {
    /// Refuses an operation that hands the agent a credential when the key is `proxy_only`.
    pub fn may_read_credentials(&self) -> Result<(), crate::ServiceError> {
        if self.proxy_only {
            return Err(crate::ServiceError::ProxyOnlyKey);
        }
        Ok(())
    }
}

/// Who is asking, and which workspaces they may see. Outside them, everything is "not found".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub actor: Actor,
    /// `None`: every workspace.
    pub workspace_ids: Option<Vec<WorkspaceId>>,
    /// The proxy reading for the agent: the credential is applied server-side and never handed
    /// out, so the read is audited as the proxied call it serves, not as a token read.
    pub via_proxy: bool,
}

impl Caller {
    /// An operator (admin key) or Nexus itself: every workspace.
    pub fn unrestricted(actor: Actor) -> Self {
        Self {
            actor,
            workspace_ids: None,
            via_proxy: false,
        }
    }

    pub fn agent(principal: &AgentPrincipal) -> Self {
        Self {
            actor: Actor::Agent {
                key_id: principal.key_id,
            },
            workspace_ids: principal.workspace_ids.clone(),
            via_proxy: false,
        }
    }

    /// The proxy, for the agent: what the agent may reach, read for a proxied call.
    pub fn proxy_for(principal: &AgentPrincipal) -> Self {
        Self {
            via_proxy: true,
            ..Self::agent(principal)
        }
    }

    pub fn can_access(&self, workspace: &WorkspaceId) -> bool {
        self.workspace_ids
            .as_ref()
            .is_none_or(|allowed| allowed.contains(workspace))
    }
}

/// Who performed an operation, for the audit trail. Serialized only to the audit spool.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    /// An operator with an admin key, known by the key's short fingerprint.
    Admin {
        key_fingerprint: String,
    },
    Agent {
        key_id: AgentKeyId,
    },
    /// Nexus itself: sweeps, pollers, refresh on read.
    System,
    /// An unauthenticated browser (consent callback, capture form).
    Anonymous,
}

impl Actor {
    /// The stored form: `admin:<fingerprint>`, `agent_key:<id>`, `system`, `anonymous`.
    pub fn to_audit_string(&self) -> String {
        match self {
            Self::Admin { key_fingerprint } => format!("admin:{key_fingerprint}"),
            Self::Agent { key_id } => format!("agent_key:{key_id}"),
            Self::System => "system".to_owned(),
            Self::Anonymous => "anonymous".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restricted_keys_only_reach_their_workspaces() {
        let a = WorkspaceId::parse("a").expect("valid");
        let b = WorkspaceId::parse("b").expect("valid");
        let restricted = AgentPrincipal {
            key_id: AgentKeyId::new(),
            workspace_ids: Some(vec![a.clone()]),
            proxy_only: false,
        };
        assert!(Caller::agent(&restricted).can_access(&a));
        assert!(!Caller::agent(&restricted).can_access(&b));
        let unrestricted = AgentPrincipal {
            workspace_ids: None,
            ..restricted
        };
        assert!(Caller::agent(&unrestricted).can_access(&b));
    }
}
