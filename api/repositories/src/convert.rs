//! Small conversions between stored columns and domain values, each failing as `Corrupt`.

use crate::RepoError;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub(crate) fn to_json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_else(|_| unreachable!("domain values serialize to JSON"))
}

pub(crate) fn from_json<T: DeserializeOwned>(column: &str, value: serde_json::Value) -> Result<T, RepoError> {
    serde_json::from_value(value).map_err(|e| RepoError::Corrupt(format!("{column}: {e}")))
}

pub(crate) fn parse<T>(column: &str, raw: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Result<T, RepoError> {
    parse(raw).map_err(|e| RepoError::Corrupt(format!("{column}: {e}")))
}

pub(crate) fn parse_url(column: &str, raw: Option<String>) -> Result<Option<url::Url>, RepoError> {
    raw.map(|raw| url::Url::parse(&raw).map_err(|e| RepoError::Corrupt(format!("{column}: {e}"))))
        .transpose()
}

pub(crate) fn parse_template(
    column: &str,
    raw: Option<String>,
) -> Result<Option<nexus_domain::url_template::UrlTemplate>, RepoError> {
    raw.map(|raw| {
        nexus_domain::url_template::UrlTemplate::parse(&raw).map_err(|e| RepoError::Corrupt(format!("{column}: {e}")))
    })
    .transpose()
}

/// A JSON list column where NULL means an empty list.
pub(crate) fn optional_list<T: DeserializeOwned>(
    column: &str,
    value: Option<serde_json::Value>,
) -> Result<Vec<T>, RepoError> {
    value.map_or(Ok(Vec::new()), |value| from_json(column, value))
}

/// A JSON object column where NULL means an empty map.
pub(crate) fn optional_map<T: DeserializeOwned>(
    column: &str,
    value: Option<serde_json::Value>,
) -> Result<std::collections::BTreeMap<String, T>, RepoError> {
    value.map_or(Ok(std::collections::BTreeMap::new()), |value| from_json(column, value))
}
