//! Every way the database goes away is `RepoError::Unavailable` (answered 503, retryable, by
//! the layers above), never a bug: a PostgreSQL backend terminated by an administrator in the
//! middle of a statement (a restart or failover), a server that refuses connections, a pool
//! that cannot hand out a connection in time, and a SQLite file that another process holds
//! locked or that is not a database any more. Statement failures stay `Database`.

use nexus_repositories::RepoError;
use nexus_test_utils::{Backend, TestDatabase, database_tests};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DbErr, Statement, TransactionTrait};
use std::time::Duration;

fn classified(error: DbErr) -> RepoError {
    RepoError::from(error)
}

async fn one_connection(db: &TestDatabase, acquire_timeout: Duration) -> sea_orm::DatabaseConnection {
    let mut options = ConnectOptions::new(db.url.clone());
    options
        .max_connections(1)
        .min_connections(1)
        .acquire_timeout(acquire_timeout)
        .sqlx_logging(false);
    Database::connect(options).await.expect("connect")
}

async fn a_statement_failure_is_not_an_outage(db: TestDatabase) {
    let conn = db.connect_migrated().await;
    let error = conn
        .execute_unprepared("SELECT * FROM no_such_table")
        .await
        .expect_err("no such table");
    assert!(matches!(classified(error), RepoError::Database(_)));
}

async fn a_pool_that_cannot_hand_out_a_connection_is_an_outage(db: TestDatabase) {
    let conn = one_connection(&db, Duration::from_millis(200)).await;
    // The pool's only connection is held by an open transaction.
    let held = conn.begin().await.expect("begin");
    let error = conn.execute_unprepared("SELECT 1").await.expect_err("pool timed out");
    let error = classified(error);
    assert!(matches!(error, RepoError::Unavailable(_)), "{error:?}");
    held.rollback().await.expect("rollback");
}

async fn the_database_going_away_mid_statement_is_an_outage(db: TestDatabase) {
    match db.backend {
        Backend::Postgres => {
            let conn = one_connection(&db, Duration::from_secs(5)).await;
            let pid = conn
                .query_one_raw(Statement::from_string(
                    conn.get_database_backend(),
                    "SELECT pg_backend_pid() AS pid",
                ))
                .await
                .expect("pid")
                .expect("a row")
                .try_get::<i32>("", "pid")
                .expect("pid");
            let admin = db.connect().await;
            let sleeping = tokio::spawn({
                let conn = conn.clone();
                async move { conn.execute_unprepared("SELECT pg_sleep(10)").await }
            });
            tokio::time::sleep(Duration::from_millis(300)).await;
            // What a restart or failover does to a running statement: 57P01.
            admin
                .execute_unprepared(&format!("SELECT pg_terminate_backend({pid})"))
                .await
                .expect("terminate");
            let error = sleeping.await.expect("task").expect_err("terminated");
            let error = classified(error);
            assert!(matches!(error, RepoError::Unavailable(_)), "{error:?}");
        }
        Backend::Sqlite => {
            let path = db.sqlite_path.clone().expect("a file");
            let conn = db.connect_migrated().await;
            // Another process holds the file locked for writing.
            let locker = hold_write_lock(&path).await;
            let mut options = ConnectOptions::new(format!("sqlite://{}?mode=rw", path.display()));
            options.max_connections(1).sqlx_logging(false);
            let writer = Database::connect(options).await.expect("connect");
            writer
                .execute_unprepared("PRAGMA busy_timeout = 200")
                .await
                .expect("busy timeout");
            let error = writer
                .execute_unprepared("DELETE FROM agent_keys")
                .await
                .expect_err("locked");
            let error = classified(error);
            assert!(matches!(error, RepoError::Unavailable(_)), "{error:?}");
            drop(locker);
            drop(conn);
            // A file that is not a database any more (replaced under a running process).
            std::fs::write(&path, vec![0x42; 8192]).expect("overwrite");
            let mut options = ConnectOptions::new(format!("sqlite://{}?mode=rw", path.display()));
            options.max_connections(1).sqlx_logging(false);
            let error = match Database::connect(options).await {
                Ok(reopened) => reopened
                    .execute_unprepared("SELECT * FROM agent_keys")
                    .await
                    .expect_err("not a database"),
                Err(error) => error,
            };
            let error = classified(error);
            assert!(matches!(error, RepoError::Unavailable(_)), "{error:?}");
        }
    }
}

/// A second connection that takes the write lock and keeps it while it lives.
async fn hold_write_lock(path: &std::path::Path) -> sea_orm::DatabaseTransaction {
    let mut options = ConnectOptions::new(format!("sqlite://{}?mode=rw", path.display()));
    options.max_connections(1).sqlx_logging(false);
    let locker = Database::connect(options).await.expect("connect");
    let transaction = locker.begin().await.expect("begin");
    transaction
        .execute_unprepared("DELETE FROM agent_keys")
        .await
        .expect("take the write lock");
    transaction
}

#[tokio::test]
async fn a_server_that_refuses_connections_is_an_outage() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let mut options = ConnectOptions::new(format!("postgres://postgres@127.0.0.1:{port}/nexus"));
    options.connect_timeout(Duration::from_secs(2)).sqlx_logging(false);
    let error = Database::connect(options).await.expect_err("nothing listens");
    let error = classified(error);
    assert!(matches!(error, RepoError::Unavailable(_)), "{error:?}");
}

database_tests!(
    a_statement_failure_is_not_an_outage,
    a_pool_that_cannot_hand_out_a_connection_is_an_outage,
    the_database_going_away_mid_statement_is_an_outage
);
