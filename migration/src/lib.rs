//! Database migrations, identical in behaviour on SQLite and PostgreSQL.
//! A merged migration is never edited: schema changes are new migrations.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_initial;
mod m20261129_000001_refresh_backoff;
mod m20261129_000002_capture_attempts;
mod m20261129_000003_audit_retention;
mod m20261129_000004_provider_logo_docs;
mod m20261130_000001_connection_params;
mod m20261201_000001_webhooks;
mod m20261201_000002_incremental_authorization_params;
mod m20261207_000001_credential_refresh_not_before;
mod m20261207_000002_provider_api_origins;
mod m20261207_000003_agent_key_proxy_only;
mod m20261207_000004_provider_scope_separator;
mod m20261207_000005_provider_token_exchange;
mod m20261207_000006_provider_api_extras;
mod m20261207_000007_oauth_client_registrations;
mod m20261207_000008_provider_mcp;
mod m20261207_000009_connection_scope_step_ups;
mod m20261208_000001_gateway_read_receipts;

#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_initial::Migration),
            Box::new(m20261129_000001_refresh_backoff::Migration),
            Box::new(m20261129_000002_capture_attempts::Migration),
            Box::new(m20261129_000003_audit_retention::Migration),
            Box::new(m20261129_000004_provider_logo_docs::Migration),
            Box::new(m20261130_000001_connection_params::Migration),
            Box::new(m20261201_000001_webhooks::Migration),
            Box::new(m20261201_000002_incremental_authorization_params::Migration),
            Box::new(m20261207_000001_credential_refresh_not_before::Migration),
            Box::new(m20261207_000002_provider_api_origins::Migration),
            Box::new(m20261207_000003_agent_key_proxy_only::Migration),
            Box::new(m20261207_000004_provider_scope_separator::Migration),
            Box::new(m20261207_000005_provider_token_exchange::Migration),
            Box::new(m20261207_000006_provider_api_extras::Migration),
            Box::new(m20261207_000007_oauth_client_registrations::Migration),
            Box::new(m20261207_000008_provider_mcp::Migration),
            Box::new(m20261207_000009_connection_scope_step_ups::Migration),
            Box::new(m20261208_000001_gateway_read_receipts::Migration),
        ]
    }
}
