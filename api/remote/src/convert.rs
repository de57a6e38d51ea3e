//! Broker DTOs to domain values. The JSON on the wire is the contract, so conversions go through
//! it where the shapes are the same (the strategy union), and parse every name on the way in.

use nexus_client::broker::types;
use nexus_domain::connection::{ConsentRequest, ConsentSpec, CredentialEnvelope, CredentialValues};
use nexus_domain::gateway::ConnectionState;
use nexus_domain::origins::OriginPattern;
use nexus_domain::provider::ProviderSummary;
use nexus_domain::status::{AuthType, ConnectionStatus};
use nexus_domain::strategy::Strategy;
use nexus_domain::url_template::{ConnectionParam, UrlTemplate};
use nexus_domain::{ConnectionId, ProviderName, Scope, ServiceError, WorkspaceId};
use serde::Serialize;
use serde::de::DeserializeOwned;

fn malformed(what: &str, detail: impl std::fmt::Display) -> ServiceError {
    ServiceError::internal("reading a Broker answer", format!("{what}: {detail}"))
}

/// Re-reads a generated type as a domain type through their shared JSON form.
fn via_json<T: Serialize, U: DeserializeOwned>(what: &str, value: &T) -> Result<U, ServiceError> {
    serde_json::to_value(value)
        .and_then(serde_json::from_value)
        .map_err(|e| malformed(what, e))
}

fn name(raw: &str) -> Result<ProviderName, ServiceError> {
    ProviderName::parse(raw).map_err(|e| malformed("provider", e))
}

fn workspace(raw: &str) -> Result<WorkspaceId, ServiceError> {
    WorkspaceId::parse(raw).map_err(|e| malformed("workspace_id", e))
}

fn scopes(raw: &[String]) -> Result<Vec<Scope>, ServiceError> {
    raw.iter()
        .map(|s| Scope::parse(s).map_err(|e| malformed("scope", e)))
        .collect()
}

fn url_template(raw: &str) -> Result<UrlTemplate, ServiceError> {
    UrlTemplate::parse(raw).map_err(|e| malformed("url", e))
}

fn url(raw: &str) -> Result<url::Url, ServiceError> {
    url::Url::parse(raw).map_err(|e| malformed("url", e))
}

pub fn summary(entry: types::CatalogEntry) -> Result<ProviderSummary, ServiceError> {
    Ok(ProviderSummary {
        name: name(&entry.name)?,
        display_name: entry.display_name,
        description: entry.description,
        category: entry.category,
        auth_type: via_json::<_, AuthType>("auth_type", &entry.auth_type)?,
        default_scopes: scopes(&entry.default_scopes)?,
        api_base_url: entry.api_base_url.as_deref().map(url_template).transpose()?,
        connection_params: entry.connection_params.into_iter().map(connection_param).collect(),
    })
}

fn connection_param(param: types::ConnectionParam) -> ConnectionParam {
    ConnectionParam {
        name: param.name.to_string(),
        description: param.description.to_string(),
        pattern: param.pattern.to_string(),
        choices: param.choices,
        default: param.default,
        optional: false,
    }
}

/// A connection request as the Broker's schema types it; the Gateway API validated the same
/// constraints already, so a value refused here is reported under its field.
pub fn connection_request(request: ConsentRequest) -> Result<types::ConnectionRequest, ServiceError> {
    fn typed<T: std::str::FromStr>(field: &'static str, raw: String) -> Result<T, ServiceError> {
        raw.parse()
            .map_err(|_| ServiceError::invalid(field, "does not match the schema"))
    }
    Ok(types::ConnectionRequest {
        workspace_id: typed("workspace_id", request.workspace_id)?,
        provider: typed("provider", request.provider)?,
        scopes: request
            .scopes
            .unwrap_or_default()
            .into_iter()
            .map(|scope| typed("scopes", scope))
            .collect::<Result<_, _>>()?,
        return_url: typed("return_url", request.return_url)?,
        connection_params: request.connection_params,
        connection_id: request.connection_id.map(|id| id.as_uuid()),
    })
}

pub fn consent_spec(requested: types::ConnectionRequested) -> Result<ConsentSpec, ServiceError> {
    let auth_url = url(&requested.auth_url)?;
    let state = auth_url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    Ok(ConsentSpec {
        connection_id: ConnectionId::from_uuid(requested.connection_id),
        auth_url,
        state,
        expires_at: requested.expires_at,
    })
}

pub fn envelope(envelope: types::CredentialEnvelope) -> Result<CredentialEnvelope, ServiceError> {
    Ok(CredentialEnvelope {
        connection_id: ConnectionId::from_uuid(envelope.connection_id),
        workspace_id: workspace(&envelope.workspace_id)?,
        provider: name(&envelope.provider)?,
        strategy: via_json::<_, Strategy>("strategy", &envelope.strategy)?,
        credentials: CredentialValues(envelope.credentials.into_iter().collect()),
        expires_at: envelope.expires_at,
        scopes: scopes(&envelope.scopes)?,
        api_base_url: envelope.api_base_url.as_deref().map(url).transpose()?,
        // One the Broker should not have sent (a wildcard over a public suffix, say) is left
        // out: fewer origins, never a wider one.
        api_origins: envelope
            .api_origins
            .iter()
            .filter_map(|origin| OriginPattern::parse(origin).ok())
            .collect(),
        api_headers: CredentialValues(envelope.api_headers),
        api_query: CredentialValues(envelope.api_query),
        stale_seconds: None,
    })
}

pub fn connection_state(check: types::ConnectionCheck) -> Result<ConnectionState, ServiceError> {
    Ok(ConnectionState {
        id: ConnectionId::from_uuid(check.connection_id),
        workspace_id: workspace(&check.workspace_id)?,
        provider: name(&check.provider)?,
        status: via_json::<_, ConnectionStatus>("status", &check.status)?,
        scopes: scopes(&check.scopes)?,
        granted_scopes: scopes(&check.granted_scopes)?,
        updated_at: check.updated_at,
        error: check.error,
    })
}
