//! Remote MCP servers as providers: finding a server's authorization server (RFC 9728,
//! RFC 8414), reading its challenges.

pub mod challenge;
pub mod discovery;
pub mod registration;

pub use crate::oauth::token_endpoint::ClientAuthentication;
pub use challenge::{BearerChallenge, bearer_challenge, bearer_challenge_of};
pub use discovery::{AuthorizationServer, McpAuthorization, McpDiscovery};
pub use registration::McpClients;
