//! The audit trail: recording never fails the operation it describes (a failure is logged),
//! listing pages by a time-ordered cursor.

use crate::repo_errors::internal;
use async_trait::async_trait;
use nexus_domain::audit::{AuditEvent, AuditQuery, NewAuditEvent, Page};
use nexus_domain::clock::Clock;
use nexus_domain::ports::{AuditService, ServiceResult};
use nexus_domain::{AuditEventId, ServiceError};
use nexus_repositories::AuditRepository;
use std::sync::Arc;

pub const DEFAULT_PAGE_SIZE: u64 = 50;
pub const MAX_PAGE_SIZE: u64 = 500;

#[derive(Clone)]
pub struct AuditServiceImpl {
    repo: Arc<dyn AuditRepository>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for AuditServiceImpl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditServiceImpl").finish_non_exhaustive()
    }
}

impl AuditServiceImpl {
    pub fn new(repo: Arc<dyn AuditRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { repo, clock }
    }

    /// Records an event; a failure is logged, never returned, so the operation it describes
    /// (already committed) is not reported as failed.
    pub async fn record_or_log(audit: &dyn AuditService, event: NewAuditEvent) {
        let event_type = event.event_type.as_str();
        if let Err(error) = audit.record(event).await {
            tracing::error!(event_type, %error, detail = error.internal_detail(), "audit event was not recorded");
        }
    }
}

#[async_trait]
impl AuditService for AuditServiceImpl {
    async fn record(&self, event: NewAuditEvent) -> ServiceResult<()> {
        self.repo
            .insert(AuditEventId::new(), self.clock.now(), &event)
            .await
            .map_err(internal("recording an audit event"))
    }

    async fn list(&self, mut query: AuditQuery) -> ServiceResult<Page<AuditEvent>> {
        query.limit = match query.limit {
            0 => DEFAULT_PAGE_SIZE,
            limit if limit > MAX_PAGE_SIZE => {
                return Err(ServiceError::invalid(
                    "limit",
                    format!("must be at most {MAX_PAGE_SIZE}"),
                ));
            }
            limit => limit,
        };
        let items = self.repo.list(&query).await.map_err(internal("listing audit events"))?;
        let next_cursor = (items.len() as u64 == query.limit)
            .then(|| items.last().map(|event| event.id.to_string()))
            .flatten();
        Ok(Page { items, next_cursor })
    }
}
