//! What `cargo xtask bench` needs from a `bench` build: the keyed select behind the reference
//! route `/bench/keyed-select`, and `nexus bench-seed`, which bulk-inserts active API-key
//! connections through the repositories.

use crate::config::Settings;
use crate::database;
use anyhow::{Context, bail};
use async_trait::async_trait;
use chrono::Utc;
use nexus_domain::connection::Connection;
use nexus_domain::ports::ServiceResult;
use nexus_domain::provider::ProviderRef;
use nexus_domain::status::{AuthType, ConnectionStatus};
use nexus_domain::{ConnectionId, ProviderName, ServiceError, WorkspaceId};
use nexus_repositories::seed::insert_active_connections;
use nexus_repositories::{NewCredential, ProviderRepository, SqlProviderRepository};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use std::collections::BTreeMap;
use std::time::Instant;

/// Connections per transaction while seeding.
const SEED_BATCH: usize = 5_000;

/// One keyed select through the process's own pool, with no ORM in between.
#[derive(Debug, Clone)]
pub struct RawKeyedSelect(pub DatabaseConnection);

#[async_trait]
impl nexus_http::KeyedSelect for RawKeyedSelect {
    async fn active_connection_of(&self, workspace: &str) -> ServiceResult<Option<String>> {
        let backend = self.0.get_database_backend();
        // Each seeded workspace has exactly one connection, active: the workspace is the key.
        let sql = match backend {
            DbBackend::Postgres => "SELECT id FROM connections WHERE workspace_id = $1 LIMIT 1",
            _ => "SELECT id FROM connections WHERE workspace_id = ? LIMIT 1",
        };
        let row = self
            .0
            .query_one_raw(Statement::from_sql_and_values(backend, sql, [workspace.into()]))
            .await
            .map_err(|e| ServiceError::internal("the benchmark's keyed select", e))?;
        row.map(|row| row.try_get::<uuid::Uuid>("", "id").map(|id| id.to_string()))
            .transpose()
            .map_err(|e| ServiceError::internal("the benchmark's keyed select", e))
    }
}

/// Workspace `i` of a seeded benchmark: `<prefix><i>`.
pub fn seeded_workspace(prefix: &str, i: usize) -> String {
    format!("{prefix}{i}")
}

/// Inserts `count` active connections of the API-key provider `provider` (which must exist), in
/// workspaces `<prefix>0..<prefix><count-1>`, each with its own sealed key.
pub async fn seed(settings: Settings, provider: &str, prefix: &str, count: usize) -> anyhow::Result<()> {
    let db = database::connect(&settings.database_url, Some(4)).await?;
    database::migrate(&db).await?;
    let name = ProviderName::parse(provider).map_err(|e| anyhow::anyhow!("--provider: {e}"))?;
    let record = SqlProviderRepository::new(db.clone())
        .find(&ProviderRef::Name(name.clone()))
        .await
        .context("reading the provider")?
        .with_context(|| format!("no provider named {provider}: create it first"))?;
    if record.provider.spec.auth_type != AuthType::ApiKey {
        bail!("{provider} is not an api_key provider");
    }
    let started = Instant::now();
    let now = Utc::now();
    for first in (0..count).step_by(SEED_BATCH) {
        let rows: Vec<(Connection, NewCredential)> = (first..count.min(first + SEED_BATCH))
            .map(|i| {
                let id = ConnectionId::new();
                let workspace_id = WorkspaceId::parse(&seeded_workspace(prefix, i))
                    .map_err(|e| anyhow::anyhow!("--workspace-prefix: {e}"))?;
                let connection = Connection {
                    id,
                    workspace_id,
                    provider_id: record.provider.id,
                    provider_name: name.clone(),
                    status: ConnectionStatus::Active,
                    requested_scopes: Vec::new(),
                    granted_scopes: Some(Vec::new()),
                    error: None,
                    consent_expires_at: None,
                    return_url: None,
                    connection_params: Default::default(),
                    created_at: now,
                    updated_at: now,
                    activated_at: Some(now),
                };
                let values = BTreeMap::from([("api_key".to_owned(), format!("sk-bench-{i:08}"))]);
                let credential =
                    NewCredential::issued(nexus_services::seal_captured(&settings.keyring, id, values), now, None);
                Ok((connection, credential))
            })
            .collect::<anyhow::Result<_>>()?;
        insert_active_connections(&db, &rows)
            .await
            .with_context(|| format!("inserting connections {first}.."))?;
    }
    tracing::info!(
        connections = count,
        seconds = started.elapsed().as_secs_f64(),
        "benchmark connections seeded"
    );
    Ok(())
}
