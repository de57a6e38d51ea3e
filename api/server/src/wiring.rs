//! Wiring: repositories over the database, services over the repositories, API state over the
//! services. The one place that knows every concrete type.

use crate::config::Settings;
use crate::database::DatabaseHealth;
use nexus_domain::clock::{Clock, SystemClock};
use nexus_domain::ports::AuditService;
use nexus_http::{BrokerState, GatewayState};
use nexus_repositories::{SqlAgentKeyRepository, SqlAuditRepository, SqlProviderRepository};
use nexus_services::{AdminKeys, AgentKeyServiceImpl, AuditServiceImpl, ProviderServiceImpl};
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// The states of both APIs, built over one database.
#[derive(Debug, Clone)]
pub struct States {
    pub broker: BrokerState,
    pub gateway: GatewayState,
}

pub fn build(settings: Settings, db: DatabaseConnection) -> States {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let keyring = Arc::new(settings.keyring);
    let audit: Arc<dyn AuditService> = Arc::new(AuditServiceImpl::new(
        Arc::new(SqlAuditRepository::new(db.clone())),
        clock.clone(),
    ));
    let providers = Arc::new(ProviderServiceImpl::new(
        Arc::new(SqlProviderRepository::new(db.clone())),
        keyring,
        audit.clone(),
        clock.clone(),
    ));
    let agent_keys = Arc::new(AgentKeyServiceImpl::new(
        Arc::new(SqlAgentKeyRepository::new(db.clone())),
        audit.clone(),
        clock,
    ));
    let health = Arc::new(DatabaseHealth::new(db));
    States {
        broker: BrokerState {
            admin_auth: Arc::new(AdminKeys::new(&settings.admin_keys, audit.clone())),
            providers: providers.clone(),
            agent_keys: agent_keys.clone(),
            audit,
            health: health.clone(),
        },
        gateway: GatewayState {
            agent_keys,
            providers,
            health,
        },
    }
}
