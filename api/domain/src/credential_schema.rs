//! The JSON Schema subset that describes a static credential (API key, basic auth).
//!
//! Supported: `{"type": "object", "properties": {NAME: {"type": "string", "title", "description",
//! "format"}}, "required": [NAME, ...]}`. `format: "password"` marks a secret field (a password
//! input on the hosted form). Anything else is rejected at registration, not at capture time.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Longest value accepted for one captured credential field.
pub const MAX_FIELD_VALUE_LEN: usize = 8192;

const FORMATS: [&str; 4] = ["password", "uri", "email", "text"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialField {
    pub title: Option<String>,
    pub description: Option<String>,
    pub format: Option<String>,
}

impl CredentialField {
    /// Secret fields are rendered as password inputs and never echoed back.
    pub fn is_secret(&self) -> bool {
        self.format.as_deref() == Some("password")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialSchema {
    pub properties: BTreeMap<String, CredentialField>,
    pub required: Vec<String>,
}

impl CredentialSchema {
    /// `{api_key}`: the schema of an API-key provider that does not name one.
    pub fn default_api_key() -> Self {
        Self::parse(&json!({
            "type": "object",
            "properties": {"api_key": {"type": "string", "title": "API key", "format": "password"}},
            "required": ["api_key"]
        }))
        .expect("the built-in API-key schema is valid")
    }

    /// `{username, password}`: the schema of a basic-auth provider that does not name one.
    pub fn default_basic_auth() -> Self {
        Self::parse(&json!({
            "type": "object",
            "properties": {
                "username": {"type": "string", "title": "Username"},
                "password": {"type": "string", "title": "Password", "format": "password"}
            },
            "required": ["username", "password"]
        }))
        .expect("the built-in basic-auth schema is valid")
    }

    /// `{access_key_id, secret_access_key, session_token?}`: the schema of an AWS-style provider
    /// that does not name one.
    pub fn default_aws_sigv4() -> Self {
        Self::parse(&json!({
            "type": "object",
            "properties": {
                "access_key_id": {"type": "string", "title": "Access key ID"},
                "secret_access_key": {"type": "string", "title": "Secret access key", "format": "password"},
                "session_token": {
                    "type": "string",
                    "title": "Session token",
                    "description": "Only for temporary credentials",
                    "format": "password"
                }
            },
            "required": ["access_key_id", "secret_access_key"]
        }))
        .expect("the built-in AWS schema is valid")
    }

    pub fn parse(value: &Value) -> Result<Self, String> {
        let object = value.as_object().ok_or("must be a JSON object")?;
        for key in object.keys() {
            if !matches!(
                key.as_str(),
                "type" | "properties" | "required" | "title" | "description"
            ) {
                return Err(format!("unsupported keyword `{key}`"));
            }
        }
        if object.get("type").and_then(Value::as_str) != Some("object") {
            return Err("`type` must be \"object\"".to_owned());
        }
        let raw_properties = object
            .get("properties")
            .and_then(Value::as_object)
            .ok_or("`properties` must be an object")?;
        if raw_properties.is_empty() || raw_properties.len() > 20 {
            return Err("`properties` must hold 1 to 20 fields".to_owned());
        }
        let mut properties = BTreeMap::new();
        for (name, raw) in raw_properties {
            let valid_name = !name.is_empty()
                && name.len() <= 64
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !valid_name {
                return Err(format!(
                    "field name `{name}` must be 1 to 64 characters of a-z, 0-9 and _"
                ));
            }
            properties.insert(name.clone(), parse_field(name, raw)?);
        }
        let required = match object.get("required") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    let name = item.as_str().ok_or("`required` must list field names")?;
                    if properties.contains_key(name) {
                        Ok(name.to_owned())
                    } else {
                        Err(format!("required field `{name}` is not in `properties`"))
                    }
                })
                .collect::<Result<Vec<_>, String>>()?,
            Some(_) => return Err("`required` must be an array".to_owned()),
        };
        Ok(Self { properties, required })
    }

    pub fn to_json(&self) -> Value {
        let properties: Map<String, Value> = self
            .properties
            .iter()
            .map(|(name, field)| {
                let mut property = Map::new();
                property.insert("type".into(), json!("string"));
                for (key, value) in [
                    ("title", &field.title),
                    ("description", &field.description),
                    ("format", &field.format),
                ] {
                    if let Some(value) = value {
                        property.insert(key.into(), json!(value));
                    }
                }
                (name.clone(), Value::Object(property))
            })
            .collect();
        json!({"type": "object", "properties": properties, "required": self.required})
    }

    /// Fields in display order: required ones as `required` lists them, then the others by name.
    /// (JSON objects do not keep their order through parsing; the `required` array does.)
    pub fn fields_in_order(&self) -> Vec<(&str, &CredentialField)> {
        let required = self
            .required
            .iter()
            .filter_map(|name| self.properties.get_key_value(name));
        let optional = self.properties.iter().filter(|(name, _)| !self.is_required(name));
        required
            .chain(optional)
            .map(|(name, field)| (name.as_str(), field))
            .collect()
    }

    pub fn is_required(&self, field: &str) -> bool {
        self.required.iter().any(|name| name == field)
    }
}

fn parse_field(name: &str, raw: &Value) -> Result<CredentialField, String> {
    let object = raw
        .as_object()
        .ok_or_else(|| format!("field `{name}` must be an object"))?;
    for key in object.keys() {
        if !matches!(key.as_str(), "type" | "title" | "description" | "format") {
            return Err(format!("field `{name}`: unsupported keyword `{key}`"));
        }
    }
    if object.get("type").and_then(Value::as_str) != Some("string") {
        return Err(format!("field `{name}`: `type` must be \"string\""));
    }
    let text = |key: &str, max: usize| -> Result<Option<String>, String> {
        match object.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.len() <= max => Ok(Some(s.clone())),
            Some(_) => Err(format!(
                "field `{name}`: `{key}` must be a string of at most {max} characters"
            )),
        }
    };
    let format = text("format", 16)?;
    if let Some(format) = &format
        && !FORMATS.contains(&format.as_str())
    {
        return Err(format!(
            "field `{name}`: format `{format}` is not one of {}",
            FORMATS.join(", ")
        ));
    }
    Ok(CredentialField {
        title: text("title", 100)?,
        description: text("description", 500)?,
        format,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json() {
        for schema in [
            CredentialSchema::default_api_key(),
            CredentialSchema::default_basic_auth(),
        ] {
            assert_eq!(CredentialSchema::parse(&schema.to_json()).as_ref(), Ok(&schema));
        }
        assert!(CredentialSchema::default_api_key().properties["api_key"].is_secret());
    }

    #[test]
    fn display_order_follows_the_required_list() {
        let schema = CredentialSchema::parse(&json!({
            "type": "object",
            "properties": {"zone": {"type": "string"}, "password": {"type": "string"}, "username": {"type": "string"}},
            "required": ["username", "password"]
        }))
        .expect("valid");
        let names: Vec<&str> = schema.fields_in_order().into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["username", "password", "zone"]);
    }

    #[test]
    fn rejects_what_the_form_could_not_render() {
        let cases = [
            json!([]),
            json!({"type": "array", "properties": {"a": {"type": "string"}}}),
            json!({"type": "object", "properties": {}}),
            json!({"type": "object", "properties": {"a": {"type": "integer"}}}),
            json!({"type": "object", "properties": {"A-b": {"type": "string"}}}),
            json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["b"]}),
            json!({"type": "object", "properties": {"a": {"type": "string", "format": "date"}}}),
            json!({"type": "object", "properties": {"a": {"type": "string"}}, "oneOf": []}),
        ];
        for case in cases {
            assert!(CredentialSchema::parse(&case).is_err(), "{case}");
        }
    }
}
