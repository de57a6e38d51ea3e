//! Nexus domain: typed ids, parsed values, errors and the service traits every layer speaks.
//!
//! This crate depends on no other workspace crate. Handlers (nexus-http) call the traits in
//! [`ports`]; nexus-services implements them over the repositories; nexus-remote (split
//! deployment) implements the Gateway's port over the generated Broker client.

pub mod agent_key;
pub mod api_extras;
pub mod audit;
pub mod background;
pub mod catalog;
pub mod ciphertext;
pub mod clock;
pub mod connection;
pub mod credential_schema;
pub mod deadline;
pub mod error;
pub mod gateway;
pub mod ids;
pub mod names;
pub mod origins;
pub mod ports;
pub mod provider;
pub mod proxy;
pub mod secret;
pub mod status;
pub mod strategy;
pub mod token_lifetime;
pub mod token_request;
pub mod url_template;
pub mod webhook;

pub use error::{ErrorCode, ResourceKind, ServiceError};
pub use ids::{AgentKeyId, AuditEventId, ConnectionId, DeliveryId, ProviderId, WebhookId};
pub use names::{ProviderName, Scope, WorkspaceId};
pub use secret::{ExposeSecret, SecretString};
