//! Agent-key persistence: lookup by public prefix, soft revocation.

use crate::RepoResult;
use crate::convert::{from_json, to_json};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_domain::agent_key::AgentKey;
use nexus_domain::{AgentKeyId, WorkspaceId};
use nexus_entities::agent_key;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

/// An agent key with the hash of its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentKeyRecord {
    pub key: AgentKey,
    pub key_hash: String,
}

crate::timed::timed_repository! {
    repo = "agent_keys";
    #[async_trait]
    pub trait AgentKeyRepository: Send + Sync {
        async fn insert(&self, record: &AgentKeyRecord) -> RepoResult<()>;
        /// The live (not revoked) key with this prefix.
        async fn find_live_by_prefix(&self, prefix: &str) -> RepoResult<Option<AgentKeyRecord>>;
        /// Live keys, newest first.
        async fn list_live(&self) -> RepoResult<Vec<AgentKey>>;
        /// Revokes a live key; `false` when there is none with this id.
        async fn revoke(&self, id: AgentKeyId, at: DateTime<Utc>) -> RepoResult<bool>;
    }
}

#[derive(Debug, Clone)]
pub struct SqlAgentKeyRepository {
    db: DatabaseConnection,
}

impl SqlAgentKeyRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl AgentKeyRepository for SqlAgentKeyRepository {
    async fn insert(&self, record: &AgentKeyRecord) -> RepoResult<()> {
        let key = &record.key;
        agent_key::Entity::insert(agent_key::ActiveModel {
            id: Set(key.id.as_uuid()),
            name: Set(key.name.clone()),
            prefix: Set(key.prefix.clone()),
            key_hash: Set(record.key_hash.clone()),
            workspace_ids: Set(key.workspace_ids.as_ref().map(to_json)),
            proxy_only: Set(key.proxy_only),
            created_at: Set(key.created_at),
            revoked_at: Set(key.revoked_at),
        })
        .exec_without_returning(&self.db)
        .await?;
        Ok(())
    }

    async fn find_live_by_prefix(&self, prefix: &str) -> RepoResult<Option<AgentKeyRecord>> {
        agent_key::Entity::find()
            .filter(agent_key::Column::Prefix.eq(prefix))
            .filter(agent_key::Column::RevokedAt.is_null())
            .one(&self.db)
            .await?
            .map(|model| {
                let key_hash = model.key_hash.clone();
                from_model(model).map(|key| AgentKeyRecord { key, key_hash })
            })
            .transpose()
    }

    async fn list_live(&self) -> RepoResult<Vec<AgentKey>> {
        agent_key::Entity::find()
            .filter(agent_key::Column::RevokedAt.is_null())
            .order_by_desc(agent_key::Column::CreatedAt)
            .order_by_desc(agent_key::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(from_model)
            .collect()
    }

    async fn revoke(&self, id: AgentKeyId, at: DateTime<Utc>) -> RepoResult<bool> {
        let result = agent_key::Entity::update_many()
            .col_expr(agent_key::Column::RevokedAt, Expr::value(Some(at)))
            .filter(agent_key::Column::Id.eq(id.as_uuid()))
            .filter(agent_key::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }
}

fn from_model(model: agent_key::Model) -> RepoResult<AgentKey> {
    Ok(AgentKey {
        id: AgentKeyId::from_uuid(model.id),
        name: model.name,
        prefix: model.prefix,
        workspace_ids: model
            .workspace_ids
            .map(|ids| from_json::<Vec<WorkspaceId>>("workspace_ids", ids))
            .transpose()?,
        proxy_only: model.proxy_only,
        created_at: model.created_at,
        revoked_at: model.revoked_at,
    })
}
