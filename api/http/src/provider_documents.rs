//! Providers as documents outside a request: a `POST /v1/providers` body read into the domain's
//! input, and a provider rendered as `GET /v1/providers/{id}` would show it. `nexus providers`
//! uses both so that a file means exactly what the same body would mean to the Broker.

use crate::dto::providers::{ProviderCreate, ProviderView};
use nexus_domain::provider::{NewProvider, Provider};
use poem_openapi::types::{ParseFromJSON, ToJSON};

/// A provider body as the Broker reads it: the same schema, the same checks of each field.
pub fn provider_input(body: serde_json::Value) -> Result<NewProvider, String> {
    ProviderCreate::parse_from_json(Some(body))
        .map(NewProvider::from)
        .map_err(|error| error.into_message())
}

/// A provider as the Broker's API shows it.
pub fn provider_view(provider: Provider) -> serde_json::Value {
    ProviderView::from(provider).to_json().unwrap_or_default()
}
