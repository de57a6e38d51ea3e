//! Test support shared by repository, service and end-to-end tests: a fresh, migrated database
//! per test (a SQLite file in a temp dir, or a private PostgreSQL schema when
//! `NEXUS_TEST_DATABASE_URL` is set), plus the [`database_tests!`] macro that runs one scenario
//! on both.

pub use nexus_test_macros::requires;

pub mod mcp_fakes;
pub mod mock_provider;
pub mod provider_fakes;

use nexus_migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use tempfile::TempDir;

pub const POSTGRES_URL_VAR: &str = "NEXUS_TEST_DATABASE_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database owned by one test. Dropping it removes the SQLite file; PostgreSQL schemas are
/// left for the run's throw-away database (CI creates a fresh one per run).
#[derive(Debug)]
pub struct TestDatabase {
    pub backend: Backend,
    /// A URL the server's own configuration accepts.
    pub url: String,
    /// Path of the SQLite file, for tests that inspect raw bytes at rest.
    pub sqlite_path: Option<std::path::PathBuf>,
    _dir: Option<TempDir>,
}

impl TestDatabase {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("create temp dir for the test database");
        let path = dir.path().join("nexus-test.db");
        Self {
            backend: Backend::Sqlite,
            url: format!("sqlite://{}?mode=rwc", path.display()),
            sqlite_path: Some(path),
            _dir: Some(dir),
        }
    }

    /// A private schema in the PostgreSQL database named by `NEXUS_TEST_DATABASE_URL`. A test
    /// that calls this is marked `#[requires(postgres)]`: where the variable was unset when it
    /// was compiled, it is reported ignored; run anyway without it, it fails (never passes).
    pub async fn postgres() -> Option<Self> {
        let Ok(base) = std::env::var(POSTGRES_URL_VAR) else {
            panic!("{POSTGRES_URL_VAR} is not set: this test needs PostgreSQL (cargo xtask test sets it)");
        };
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(&base)
            .await
            .unwrap_or_else(|e| panic!("connect to {POSTGRES_URL_VAR}: {e}"));
        admin
            .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
            .await
            .expect("create test schema");
        admin.close().await.ok();
        let separator = if base.contains('?') { '&' } else { '?' };
        Some(Self {
            backend: Backend::Postgres,
            url: format!("{base}{separator}options=-c%20search_path%3D{schema}"),
            sqlite_path: None,
            _dir: None,
        })
    }

    pub async fn connect(&self) -> DatabaseConnection {
        Database::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("connect to the test database: {e}"))
    }

    /// Connects and applies every migration.
    pub async fn connect_migrated(&self) -> DatabaseConnection {
        let db = self.connect().await;
        Migrator::up(&db, None).await.expect("apply migrations");
        db
    }
}

/// Runs an `async fn(TestDatabase)` scenario once on SQLite and once on PostgreSQL:
/// `database_tests!(provider_round_trip);` makes `provider_round_trip::sqlite` and
/// `provider_round_trip::postgres`. A scenario that needs more says so, and is reported ignored
/// where that is missing (see [`requires`]): `database_tests!(#[requires(oidc)] consent_flow);`.
#[macro_export]
macro_rules! database_tests {
    ($( $(#[requires($($need:ident),+)])? $scenario:ident ),+ $(,)?) => {
        $(
            mod $scenario {
                $(#[$crate::requires($($need),+)])?
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$scenario($crate::TestDatabase::sqlite().await).await;
                }

                #[$crate::requires(postgres $($(, $need)+)?)]
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(db) = $crate::TestDatabase::postgres().await {
                        super::$scenario(db).await;
                    }
                }
            }
        )+
    };
}
