//! Agent-key bodies. The key itself appears once, in the answer to its creation.

use super::text::{Plain, Text};
use chrono::{DateTime, Utc};
use nexus_domain::agent_key::{AgentKey, IssuedAgentKey, NewAgentKey};
use nexus_domain::secret::ExposeSecret;
use poem_openapi::Object;
use uuid::Uuid;

#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
#[oai(deny_unknown_fields)]
pub struct AgentKeyCreate {
    #[oai(validator(
        max_length = 100,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    ))]
    /// What the key is for, such as `claude-desktop` or `support-mcp-server`
    pub name: Text,
    /// Workspaces the key may reach (give this, or `all_workspaces: true`)
    #[oai(validator(pattern = r"^[A-Za-z0-9._:-]+$", max_length = 128))]
    pub workspace_ids: Option<Vec<Text>>,
    /// `true` for a key that reaches every workspace; must be explicit
    pub all_workspaces: Option<bool>,
    /// `true` for a key that acts through `/v1/proxy` (and checks or requests connections) but
    /// never reads a credential: every operation that returns one answers 403 `proxy_only_key`
    pub proxy_only: Option<bool>,
}

impl From<AgentKeyCreate> for NewAgentKey {
    fn from(dto: AgentKeyCreate) -> Self {
        Self {
            name: dto.name.plain(),
            workspace_ids: dto.workspace_ids.plain(),
            all_workspaces: dto.all_workspaces.unwrap_or(false),
            proxy_only: dto.proxy_only.unwrap_or(false),
        }
    }
}

#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
#[oai(rename = "AgentKey")]
pub struct AgentKeyView {
    pub id: Uuid,
    pub name: String,
    /// Public prefix of the key, to tell keys apart
    pub prefix: String,
    /// Workspaces the key may reach (empty when `all_workspaces`)
    pub workspace_ids: Vec<String>,
    /// Whether the key reaches every workspace
    pub all_workspaces: bool,
    /// Whether the key may only act through the proxy (it never reads a credential)
    pub proxy_only: bool,
    pub created_at: DateTime<Utc>,
}

impl From<AgentKey> for AgentKeyView {
    fn from(key: AgentKey) -> Self {
        Self {
            id: key.id.as_uuid(),
            name: key.name,
            prefix: key.prefix,
            all_workspaces: key.workspace_ids.is_none(),
            proxy_only: key.proxy_only,
            workspace_ids: key
                .workspace_ids
                .map(|ids| ids.into_iter().map(String::from).collect())
                .unwrap_or_default(),
            created_at: key.created_at,
        }
    }
}

/// A new agent key. `key` is shown this once; Nexus keeps only its hash
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AgentKeyCreated {
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    pub workspace_ids: Vec<String>,
    pub all_workspaces: bool,
    pub proxy_only: bool,
    pub created_at: DateTime<Utc>,
    /// The agent key, for `Authorization: Bearer <key>` on the Gateway
    pub key: String,
}

impl std::fmt::Debug for AgentKeyCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentKeyCreated")
            .field("id", &self.id)
            .field("prefix", &self.prefix)
            .field("key", &"[REDACTED]")
            .finish_non_exhaustive()
    }
}

impl From<IssuedAgentKey> for AgentKeyCreated {
    fn from(issued: IssuedAgentKey) -> Self {
        let view = AgentKeyView::from(issued.key);
        Self {
            id: view.id,
            name: view.name,
            prefix: view.prefix,
            workspace_ids: view.workspace_ids,
            all_workspaces: view.all_workspaces,
            proxy_only: view.proxy_only,
            created_at: view.created_at,
            key: issued.secret.expose_secret().to_owned(),
        }
    }
}

#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
pub struct AgentKeyList {
    pub items: Vec<AgentKeyView>,
}
