//! The buffered audit trail: token reads are written in batches, none is lost on shutdown; a
//! flood of bad keys writes a bounded number of rows; old events are deleted after retention.

use nexus_domain::agent_key::Actor;
use nexus_domain::audit::{AuditEventType, AuditQuery, NewAuditEvent};
use nexus_domain::clock::SystemClock;
use nexus_domain::ports::AgentKeyService;
use nexus_domain::ports::AuditService;
use nexus_domain::secret::secret;
use nexus_domain::{AuditEventId, ConnectionId, ErrorCode};
use nexus_repositories::{AuditRepository, SqlAgentKeyRepository, SqlAuditRepository};
use nexus_services::background::{AuditFlushTask, Driver};
use nexus_services::{AgentKeyServiceImpl, AuditServiceImpl};
use nexus_test_utils::{TestDatabase, database_tests};
use std::sync::Arc;

/// The flusher as a process runs it: the audit flush task of a background driver.
fn run_flusher(
    flusher: nexus_services::AuditFlusher,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let mut driver = Driver::new(Arc::new(SystemClock), None);
    driver.register(Arc::new(AuditFlushTask::new(flusher)), AuditFlushTask::schedule());
    tokio::spawn(Arc::new(driver).run(shutdown))
}

async fn token_reads_are_batched_and_drained_on_shutdown(test_db: TestDatabase) {
    let db = test_db.connect_migrated().await;
    let (audit, flusher) = AuditServiceImpl::buffered(Arc::new(SqlAuditRepository::new(db)), Arc::new(SystemClock));
    let (one, other) = (ConnectionId::new(), ConnectionId::new());
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let flushing = run_flusher(flusher, shutdown);
    for n in 0..25 {
        let connection = if n % 5 == 0 { other } else { one };
        let event = NewAuditEvent::new(AuditEventType::TokenRead, &Actor::System)
            .connection(connection)
            .data(serde_json::json!({"agent_key_id": "k"}));
        audit.record(event).await.expect("buffered");
    }
    audit
        .record(NewAuditEvent::new(AuditEventType::ProviderCreated, &Actor::System))
        .await
        .expect("inline");
    stop.send(true).expect("shutdown");
    flushing.await.expect("flusher ends");
    let page = audit
        .list(AuditQuery {
            limit: 100,
            ..AuditQuery::default()
        })
        .await
        .expect("list");
    let reads: Vec<_> = page
        .items
        .iter()
        .filter(|e| e.event_type == AuditEventType::TokenRead)
        .collect();
    let counted: u64 = reads.iter().map(|e| e.data["reads"].as_u64().expect("reads")).sum();
    assert_eq!(counted, 25, "every buffered read is accounted for by shutdown");
    assert!(reads.len() < 25, "reads of one connection by one caller share a row");
    assert!(
        reads
            .iter()
            .all(|e| e.data["agent_key_id"] == "k" && e.data["first_at"].is_string())
    );
    let reads_before = reads.len();
    // After shutdown the buffer is closed: a late read is written inline, not lost.
    let late = NewAuditEvent::new(AuditEventType::TokenRead, &Actor::System);
    audit.record(late).await.expect("inline");
    let query = AuditQuery {
        limit: 100,
        ..AuditQuery::default()
    };
    let after = audit.list(query).await.expect("list");
    let reads_after = after
        .items
        .iter()
        .filter(|e| e.event_type == AuditEventType::TokenRead)
        .count();
    assert_eq!(reads_after, reads_before + 1);
}

/// 600 bad agent keys through the real agent-key service: every attempt is counted, in a row per
/// kind of failure, with a few sample prefixes; the table does not grow with the flood.
async fn a_flood_of_bad_keys_writes_bounded_rows(test_db: TestDatabase) {
    let db = test_db.connect_migrated().await;
    let clock = Arc::new(SystemClock);
    let (audit, flusher) = AuditServiceImpl::buffered(Arc::new(SqlAuditRepository::new(db.clone())), clock.clone());
    let audit = Arc::new(audit);
    let keys = AgentKeyServiceImpl::new(Arc::new(SqlAgentKeyRepository::new(db)), audit.clone(), clock);
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let flushing = run_flusher(flusher, shutdown);
    for n in 0..600 {
        let presented = if n % 2 == 0 {
            format!("nxa_{:08}_{}", n, "x".repeat(43))
        } else {
            format!("not-a-key-{n}")
        };
        let refused = keys.authenticate(&secret(presented)).await.expect_err("bad key");
        assert_eq!(refused.code(), ErrorCode::Unauthenticated);
    }
    stop.send(true).expect("shutdown");
    flushing.await.expect("flusher ends");
    let failures = audit
        .list(AuditQuery {
            event_type: Some(AuditEventType::AuthenticationFailed),
            limit: 100,
            ..AuditQuery::default()
        })
        .await
        .expect("list");
    assert!(failures.items.len() <= 2, "one row per kind: {}", failures.items.len());
    let attempts: u64 = failures
        .items
        .iter()
        .map(|e| e.data["attempts"].as_u64().expect("attempts"))
        .sum();
    assert_eq!(attempts, 600, "every attempt is counted");
    for row in &failures.items {
        let samples = row.data["sample_prefixes"].as_array().expect("samples");
        assert!(samples.len() <= 10, "{row:?}");
        assert!(!row.data.to_string().contains(&"x".repeat(43)), "never a whole key");
    }
}

async fn old_events_are_deleted_after_the_retention_period(test_db: TestDatabase) {
    let db = test_db.connect_migrated().await;
    let repo = SqlAuditRepository::new(db);
    let now = chrono::Utc::now();
    for (age_days, kind) in [
        (120, AuditEventType::ProviderCreated),
        (10, AuditEventType::ProviderUpdated),
    ] {
        repo.insert(
            AuditEventId::new(),
            now - chrono::TimeDelta::days(age_days),
            &NewAuditEvent::new(kind, &Actor::System),
        )
        .await
        .expect("insert");
    }
    let audit = AuditServiceImpl::new(Arc::new(repo), Arc::new(SystemClock));
    let deleted = audit
        .sweep_retention(std::time::Duration::from_secs(90 * 86_400))
        .await
        .expect("sweep");
    assert_eq!(deleted, 1);
    let left = audit.list(AuditQuery::default()).await.expect("list");
    assert_eq!(left.items.len(), 1);
    assert_eq!(left.items[0].event_type, AuditEventType::ProviderUpdated);
    // A retention longer than time itself deletes nothing (and does not overflow).
    assert_eq!(audit.sweep_retention(std::time::Duration::MAX).await.expect("sweep"), 0);
}

database_tests!(
    token_reads_are_batched_and_drained_on_shutdown,
    a_flood_of_bad_keys_writes_bounded_rows,
    old_events_are_deleted_after_the_retention_period,
);
