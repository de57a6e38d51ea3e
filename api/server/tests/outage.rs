//! The database refusing work under a running Nexus: the answer is 503 `service_unavailable`
//! with `Retry-After`, never a 500. Here another process holds the SQLite file's write lock past
//! the busy timeout (PostgreSQL's classes are driven at the repository level: a backend
//! terminated mid-statement, a refused connection, a pool that times out).

mod common;

use common::{TestServer, raw};
use nexus_test_utils::TestDatabase;
use poem::http::StatusCode;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, TransactionTrait};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_is_a_503_with_retry_after() {
    let db = TestDatabase::sqlite().await;
    let path = db.sqlite_path.clone().expect("a file");
    let server = TestServer::start(db).await;
    server
        .admin_post(
            "/v1/providers",
            json!({"name": "keyed", "auth_type": "api_key", "api_base_url": "https://api.example.com"}),
        )
        .await;
    // Another process takes the write lock and keeps it.
    let mut options = ConnectOptions::new(format!("sqlite://{}?mode=rw", path.display()));
    options.max_connections(1).sqlx_logging(false);
    let locker = Database::connect(options).await.expect("connect");
    let held = locker.begin().await.expect("begin");
    held.execute_unprepared("DELETE FROM audit_events WHERE 1 = 0")
        .await
        .expect("no-op");
    held.execute_unprepared("UPDATE providers SET display_name = display_name")
        .await
        .expect("take the write lock");

    let consent = raw()
        .post(format!("{}/v1/consents", server.broker_url))
        .bearer_auth(&server.admin_key)
        .json(&json!({"workspace_id": "ws-lock", "provider": "keyed", "return_url": "http://127.0.0.1:9/done"}))
        .send()
        .await
        .expect("answered");
    let status = consent.status();
    let retry_after = consent
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body: Value = consent.json().await.expect("JSON");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "service_unavailable", "{body}");
    assert_eq!(retry_after.as_deref(), Some("1"));

    held.rollback().await.expect("release the lock");
    // The outage breaker lets one operation through every 500 ms: the database is found again
    // within a second, not at the next request's acquire timeout.
    let released = std::time::Instant::now();
    loop {
        let consent = raw()
            .post(format!("{}/v1/consents", server.broker_url))
            .bearer_auth(&server.admin_key)
            .json(&json!({"workspace_id": "ws-lock", "provider": "keyed", "return_url": "http://127.0.0.1:9/done"}))
            .send()
            .await
            .expect("answered");
        if consent.status() == StatusCode::CREATED {
            break;
        }
        assert_eq!(consent.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            released.elapsed() < std::time::Duration::from_secs(2),
            "the same request works once the lock is gone"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    server.stop().await;
}
