//! The buffered audit trail: token reads are written in batches, none is lost on shutdown.

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
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let flushing = tokio::spawn(flusher.run(shutdown));
    for n in 0..25 {
        let event = NewAuditEvent::new(AuditEventType::TokenRead, &Actor::System).data(serde_json::json!({"n": n}));
        audit.record(event).await.expect("buffered");
    }
    stop.send(true).expect("shutdown");
    flushing.await.expect("flusher ends");
    let page = audit
        .list(AuditQuery {
            limit: 100,
            ..AuditQuery::default()
        })
        .await
        .expect("list");
    assert_eq!(page.items.len(), 25, "every buffered read is written by shutdown");
    // After shutdown the buffer is closed: a late read is written inline, not lost.
    let late = NewAuditEvent::new(AuditEventType::TokenRead, &Actor::System);
    audit.record(late).await.expect("inline");
    assert_eq!(
        audit
            .list(AuditQuery {
                limit: 100,
                ..AuditQuery::default()
            })
            .await
            .expect("list")
            .items
            .len(),
        26
    );
}

database_tests!(token_reads_are_batched_and_drained_on_shutdown);
