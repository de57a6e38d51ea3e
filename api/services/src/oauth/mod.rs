//! Talking to providers: one outbound HTTP client, OIDC discovery, the token endpoint
//! (exchange, refresh, revocation) and id_token verification.

pub mod discovery;
pub mod http;
pub mod id_token;
pub mod party;
pub mod token_endpoint;

pub use discovery::{Discovery, Endpoints};
pub use http::Outbound;
pub use party::{ClientSource, GrantClient, OAuthParties, OAuthParty};
pub use token_endpoint::{TokenDialect, TokenEndpoint, TokenEndpointError, TokenResponse};
