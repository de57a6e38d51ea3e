//! The buffered audit trail: token reads are written in batches, none is lost on shutdown.

use nexus_domain::ConnectionId;
use nexus_domain::agent_key::Actor;
use nexus_domain::audit::{AuditEventType, AuditQuery, NewAuditEvent};
use nexus_domain::clock::SystemClock;
use nexus_domain::ports::AuditService;
use nexus_repositories::SqlAuditRepository;
use nexus_services::AuditServiceImpl;
use nexus_test_utils::{TestDatabase, database_tests};
use std::sync::Arc;

async fn token_reads_are_batched_and_drained_on_shutdown(test_db: TestDatabase) {
    let db = test_db.connect_migrated().await;
    let (audit, flusher) = AuditServiceImpl::buffered(Arc::new(SqlAuditRepository::new(db)), Arc::new(SystemClock));
    let (one, other) = (ConnectionId::new(), ConnectionId::new());
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let flushing = tokio::spawn(flusher.run(shutdown));
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

database_tests!(token_reads_are_batched_and_drained_on_shutdown);
