//! sea-orm entities for the Nexus schema. Only row shapes live here; the repositories convert
//! them to domain types, and the migrations in `nexus-migration` create the tables.

pub mod agent_key;
pub mod audit_event;
pub mod connection;
pub mod credential;
pub mod gateway_read_receipt;
pub mod oauth_client_registration;
pub mod provider;
pub mod webhook;
pub mod webhook_attempt;
pub mod webhook_delivery;
