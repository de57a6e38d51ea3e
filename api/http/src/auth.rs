//! Bearer authentication: admin keys on the Broker, agent keys on the Gateway. The checkers call
//! the services in the request's state; a missing header is turned into the same JSON 401 by the
//! envelope.

use crate::error::ApiError;
use crate::state::BrokerState;
use nexus_domain::ServiceError;
use nexus_domain::agent_key::{Actor, PresentedKey};
use nexus_domain::secret::SecretString;
use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;

/// An operator holding an admin key (`NEXUS_ADMIN_KEYS`).
#[derive(SecurityScheme, Debug)]
#[oai(rename = "AdminKey", ty = "bearer", checker = "check_admin_key")]
pub struct AdminAuth(pub Actor);

/// A Gateway in its own process, holding a service key (`NEXUS_SERVICE_KEYS`).
#[derive(SecurityScheme, Debug)]
#[oai(rename = "ServiceKey", ty = "bearer", checker = "check_service_key")]
pub struct ServiceAuth(pub Actor);

/// An agent holding an agent key created through the Broker.
// The key is checked by the Gateway port together with the operation (one call to the Broker for
// a split Gateway), so a wrong key is 401 from there.
#[derive(SecurityScheme, Debug)]
#[oai(rename = "AgentKey", ty = "bearer", checker = "present_agent_key")]
pub struct AgentAuth(pub PresentedKey);

fn missing_state() -> poem::Error {
    ApiError::from(ServiceError::internal(
        "authentication",
        "API state is not attached to the route",
    ))
    .into()
}

async fn check_admin_key(req: &Request, bearer: Bearer) -> poem::Result<Actor> {
    let state = req.data::<BrokerState>().ok_or_else(missing_state)?;
    state
        .admin_auth
        .authenticate(&SecretString::from(bearer.token))
        .await
        .map_err(|e| ApiError::from(e).into())
}

async fn check_service_key(req: &Request, bearer: Bearer) -> poem::Result<Actor> {
    let state = req.data::<BrokerState>().ok_or_else(missing_state)?;
    state
        .service_auth
        .authenticate(&SecretString::from(bearer.token))
        .await
        .map_err(|e| ApiError::from(e).into())
}

async fn present_agent_key(_req: &Request, bearer: Bearer) -> poem::Result<PresentedKey> {
    if bearer.token.is_empty() {
        return Err(ApiError::from(ServiceError::Unauthenticated).into());
    }
    Ok(PresentedKey::new(SecretString::from(bearer.token)))
}
