//! Opening the database (SQLite or PostgreSQL, by URL), migrating it, and readiness.

use anyhow::Context;
use async_trait::async_trait;
use nexus_domain::ServiceError;
use nexus_domain::ports::{HealthService, ServiceResult};
use nexus_domain::secret::{ExposeSecret, SecretString};
use nexus_migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};
use std::time::Duration;

/// Connections a process keeps open by default. SQLite serializes writers anyway. On PostgreSQL
/// four per core keep the cores busy while statements wait on the network (more only queue on
/// the database: on 2 cores, 8 resolved faster than 20, BENCHMARKS.md); at most 20, so
/// PostgreSQL's default of 100 server connections leaves room for several replicas.
pub const DEFAULT_SQLITE_POOL: u32 = 8;

pub fn default_postgres_pool() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    u32::try_from(cores.saturating_mul(4)).unwrap_or(u32::MAX).clamp(8, 20)
}

/// How long a pooled connection may sit idle before it is pinged on checkout.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(30);

/// Connects with pool limits suited to the backend (or `pool_size` when given). SQLite gets WAL
/// so readers never wait on a writer.
pub async fn connect(url: &SecretString, pool_size: Option<u32>) -> anyhow::Result<DatabaseConnection> {
    let url = url.expose_secret();
    let mut options = ConnectOptions::new(url);
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        // sqlx would otherwise ping the database on every checkout: a second round trip for
        // each statement, which halves what a keyed read can reach. Only a connection idle long
        // enough to have been dropped by the server, a proxy or a firewall is pinged first.
        .test_before_acquire_if_idle_for(IDLE_BEFORE_PING);
    let default = if url.starts_with("sqlite:") {
        DEFAULT_SQLITE_POOL
    } else {
        default_postgres_pool()
    };
    options
        .max_connections(pool_size.unwrap_or(default).max(1))
        .min_connections(1);
    // The URL may hold a password: the error names the backend, never the URL.
    let backend = url.split(':').next().unwrap_or("database");
    let db = Database::connect(options)
        .await
        .with_context(|| format!("connecting to the {backend} database from NEXUS_DATABASE_URL"))?;
    if db.get_database_backend() == DbBackend::Sqlite {
        db.execute_unprepared("PRAGMA journal_mode=WAL")
            .await
            .context("enabling SQLite WAL mode")?;
    }
    Ok(db)
}

pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None).await.context("applying database migrations")
}

/// Ready when the database answers and no migration is pending.
#[derive(Debug, Clone)]
pub struct DatabaseHealth {
    db: DatabaseConnection,
}

impl DatabaseHealth {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl HealthService for DatabaseHealth {
    async fn ready(&self) -> ServiceResult<()> {
        let unavailable = |error: sea_orm::DbErr| {
            tracing::warn!(%error, "readiness check failed");
            ServiceError::Unavailable { what: "the database" }
        };
        self.db.ping().await.map_err(unavailable)?;
        let pending = Migrator::get_pending_migrations(&self.db).await.map_err(unavailable)?;
        if !pending.is_empty() {
            tracing::warn!(pending = pending.len(), "migrations are pending; run `nexus migrate`");
            return Err(ServiceError::Unavailable {
                what: "the database schema",
            });
        }
        Ok(())
    }
}
