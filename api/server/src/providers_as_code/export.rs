//! The live providers as a providers file: every setting as the API shows it, and each client
//! secret as a `${NEXUS_<NAME>_CLIENT_SECRET}` reference, never a value.

use serde_json::Value;
use serde_yaml_ng::{Mapping, Value as Yaml};

/// Fields of the API's view that describe the record, not the provider.
const RECORD_FIELDS: [&str; 5] = [
    "id",
    "has_client_secret",
    "client_secret_fingerprint",
    "created_at",
    "updated_at",
];

/// The variable an exported file uses for `name`'s client secret.
pub fn secret_variable(name: &str) -> String {
    format!("NEXUS_{}_CLIENT_SECRET", name.to_ascii_uppercase().replace('-', "_"))
}

/// `live` (as `GET /v1/providers` lists them) as a providers file, with a header naming the
/// variables `apply` will need.
pub fn render(live: &[Value], source: &str) -> anyhow::Result<String> {
    let mut entries = Vec::new();
    let mut variables = Vec::new();
    for provider in live.iter().filter_map(Value::as_object) {
        let name = provider.get("name").and_then(Value::as_str).unwrap_or_default();
        let mut entry = Mapping::new();
        // Name and auth type first, then the rest in the API's (alphabetical) order.
        for key in ["name", "auth_type"] {
            if let Some(value) = provider.get(key) {
                entry.insert(Yaml::from(key), serde_yaml_ng::to_value(value)?);
            }
        }
        for (key, value) in provider {
            let empty = matches!(value, Value::Null)
                || value.as_array().is_some_and(Vec::is_empty)
                || value.as_object().is_some_and(serde_json::Map::is_empty);
            if empty || RECORD_FIELDS.contains(&key.as_str()) || key == "name" || key == "auth_type" {
                continue;
            }
            entry.insert(Yaml::from(key.as_str()), serde_yaml_ng::to_value(value)?);
        }
        if provider.get("has_client_secret") == Some(&Value::Bool(true)) {
            let variable = secret_variable(name);
            entry.insert(Yaml::from("client_secret"), Yaml::from(format!("${{{variable}}}")));
            variables.push(variable);
        }
        entries.push(Yaml::Mapping(entry));
    }
    let mut document = Mapping::new();
    document.insert(Yaml::from("providers"), Yaml::Sequence(entries));
    let mut text = format!("# Nexus providers exported from {source}.\n");
    if variables.is_empty() {
        text.push_str("# No client secrets: the file needs no environment variables.\n");
    } else {
        text.push_str("# Client secrets are references: set these before `nexus providers plan` or `apply`:\n");
        for variable in &variables {
            text.push_str(&format!("#   {variable}\n"));
        }
    }
    text.push_str(&serde_yaml_ng::to_string(&Yaml::Mapping(document))?);
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_become_references_and_record_fields_go() {
        let live = [json!({
            "id": "0190a5b2-7c4e-7000-8000-000000000000", "name": "google-drive", "auth_type": "oauth2",
            "client_id": "abc", "has_client_secret": true, "client_secret_fingerprint": "hmac-sha256:00",
            "scopes": [], "created_at": "2026-01-01T00:00:00Z", "authorization_params": {}
        })];
        let text = render(&live, "https://broker.example").expect("yaml");
        assert!(
            text.contains("client_secret: ${NEXUS_GOOGLE_DRIVE_CLIENT_SECRET}"),
            "{text}"
        );
        assert!(text.contains("#   NEXUS_GOOGLE_DRIVE_CLIENT_SECRET"), "{text}");
        for gone in ["  id:", "fingerprint", "created_at", "scopes", "authorization_params"] {
            assert!(!text.contains(gone), "{gone}: {text}");
        }
        let name_at = text.find("name: google-drive").expect("name");
        assert!(name_at < text.find("client_id").expect("client_id"), "{text}");
    }
}
