//! The hot read: a workspace's newest active connection to a provider, with its sealed
//! credential, in one statement. The provider's own row is parsed once per version and kept: it
//! changes rarely, every resolve needs it, and parsing it (URL templates, JSON columns, the
//! credential schema) costs more than the rest of the read.

use crate::convert::from_json;
use crate::providers::{ProviderRecord, from_model as provider_from_model};
use crate::{CredentialRecord, RepoError, RepoResult};
use chrono::{DateTime, Utc};
use nexus_domain::ciphertext::Ciphertext;
use nexus_domain::status::ConnectionStatus;
use nexus_domain::url_template::ConnectionParams;
use nexus_domain::{ConnectionId, ProviderName, Scope, WorkspaceId};
use nexus_entities::provider;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, Statement};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

/// What serving a token of a workspace's newest active connection needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveConnectionRead {
    pub id: ConnectionId,
    pub workspace_id: WorkspaceId,
    pub requested_scopes: Vec<Scope>,
    pub granted_scopes: Option<Vec<Scope>>,
    pub connection_params: ConnectionParams,
    pub provider: Arc<ProviderRecord>,
    pub credential: Option<CredentialRecord>,
}

/// The statement, in PostgreSQL's placeholders. Only the columns a read uses; the provider is
/// represented by what tells its versions apart (`updated_at`, and the key sealing its client
/// secret, which a key rotation changes without touching `updated_at`).
const READ_NEWEST_ACTIVE: &str = "SELECT c.id, c.requested_scopes, c.granted_scopes, \
     c.connection_params, p.id AS provider_id, p.updated_at AS provider_updated_at, \
     p.client_secret_key_id AS provider_secret_key_id, k.ciphertext, k.key_id, k.expires_at, k.refresh_not_before, k.version \
     FROM connections c \
     JOIN providers p ON p.id = c.provider_id \
     LEFT JOIN credentials k ON k.connection_id = c.id \
     WHERE c.workspace_id = $1 AND c.status = $2 AND p.name = $3 AND p.deleted_at IS NULL \
     ORDER BY c.activated_at DESC, c.id DESC LIMIT 1";

/// The same statement in SQLite's placeholders, derived once.
static READ_NEWEST_ACTIVE_SQLITE: LazyLock<String> = LazyLock::new(|| {
    READ_NEWEST_ACTIVE
        .replace("$1", "?")
        .replace("$2", "?")
        .replace("$3", "?")
});

#[derive(Debug, FromQueryResult)]
struct ReadRow {
    id: uuid::Uuid,
    requested_scopes: serde_json::Value,
    granted_scopes: Option<serde_json::Value>,
    connection_params: Option<serde_json::Value>,
    provider_id: uuid::Uuid,
    provider_updated_at: DateTime<Utc>,
    provider_secret_key_id: Option<String>,
    ciphertext: Option<Vec<u8>>,
    key_id: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    refresh_not_before: Option<DateTime<Utc>>,
    version: Option<i64>,
}

/// Parsed providers by id, each with the version it was parsed from. One map per process (ids are
/// UUIDs, unique across databases): an edit or deletion through this process forgets its entry at
/// once, so even two edits within one tick of the clock are never mistaken for one; an edit by
/// another process shows as a new version at the next read.
#[derive(Debug, Default)]
pub(crate) struct ParsedProviders(Mutex<HashMap<uuid::Uuid, ParsedProvider>>);

pub(crate) static PARSED_PROVIDERS: LazyLock<ParsedProviders> = LazyLock::new(ParsedProviders::default);

#[derive(Debug)]
struct ParsedProvider {
    updated_at: DateTime<Utc>,
    secret_key_id: Option<String>,
    record: Arc<ProviderRecord>,
}

/// More providers than any deployment has; past it the map starts over.
const MAX_PARSED_PROVIDERS: usize = 4_096;

impl ParsedProviders {
    fn get(
        &self,
        id: uuid::Uuid,
        updated_at: DateTime<Utc>,
        secret_key_id: Option<&str>,
    ) -> Option<Arc<ProviderRecord>> {
        let parsed = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        parsed
            .get(&id)
            .filter(|p| p.updated_at == updated_at && p.secret_key_id.as_deref() == secret_key_id)
            .map(|p| p.record.clone())
    }

    /// Drops a provider's parsed form (it was just edited or deleted).
    pub(crate) fn forget(&self, id: uuid::Uuid) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&id);
    }

    fn put(&self, model: &provider::Model, record: Arc<ProviderRecord>) {
        let mut parsed = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if parsed.len() >= MAX_PARSED_PROVIDERS {
            parsed.clear();
        }
        parsed.insert(
            model.id,
            ParsedProvider {
                updated_at: model.updated_at,
                secret_key_id: model.client_secret_key_id.clone(),
                record,
            },
        );
    }

    /// The provider as of the row's version: kept, or read and parsed (once per version).
    async fn provider<C: ConnectionTrait>(&self, db: &C, row: &ReadRow) -> RepoResult<Arc<ProviderRecord>> {
        if let Some(record) = self.get(
            row.provider_id,
            row.provider_updated_at,
            row.provider_secret_key_id.as_deref(),
        ) {
            return Ok(record);
        }
        let model = provider::Entity::find_by_id(row.provider_id)
            .one(db)
            .await?
            .ok_or_else(|| RepoError::Corrupt(format!("connection {} has no provider row", row.id)))?;
        let record = Arc::new(provider_from_model(model.clone())?);
        self.put(&model, record.clone());
        Ok(record)
    }
}

/// The workspace's newest active connection to a live provider of this name, ready to serve.
pub(crate) async fn read_newest_active<C: ConnectionTrait>(
    db: &C,
    workspace: &WorkspaceId,
    provider_name: &ProviderName,
) -> RepoResult<Option<ActiveConnectionRead>> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => READ_NEWEST_ACTIVE,
        _ => READ_NEWEST_ACTIVE_SQLITE.as_str(),
    };
    let statement = Statement::from_sql_and_values(
        backend,
        sql,
        [
            workspace.as_str().into(),
            ConnectionStatus::Active.as_str().into(),
            provider_name.as_str().into(),
        ],
    );
    let Some(row) = ReadRow::find_by_statement(statement).one(db).await? else {
        return Ok(None);
    };
    let provider = PARSED_PROVIDERS.provider(db, &row).await?;
    let credential = match (row.ciphertext, row.key_id, row.version) {
        (Some(bytes), Some(key_id), Some(version)) => Some(CredentialRecord {
            ciphertext: Ciphertext { key_id, bytes },
            expires_at: row.expires_at,
            refresh_not_before: row.refresh_not_before,
            version,
        }),
        _ => None,
    };
    Ok(Some(ActiveConnectionRead {
        id: ConnectionId::from_uuid(row.id),
        workspace_id: workspace.clone(),
        requested_scopes: from_json("requested_scopes", row.requested_scopes)?,
        granted_scopes: row.granted_scopes.map(|v| from_json("granted_scopes", v)).transpose()?,
        connection_params: row
            .connection_params
            .map_or(Ok(Default::default()), |v| from_json("connection_params", v))?,
        provider,
        credential,
    }))
}
