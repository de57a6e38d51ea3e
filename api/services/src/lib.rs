//! Nexus services: the domain service traits implemented over the repositories and the crypto
//! crate. Services never see HTTP; repositories never see plaintext.

mod admin_auth;
mod agent_keys;
mod audit;
mod providers;
mod repo_errors;

pub use admin_auth::AdminKeys;
pub use agent_keys::AgentKeyServiceImpl;
pub use audit::AuditServiceImpl;
pub use providers::{ProviderServiceImpl, client_secret_aad};
