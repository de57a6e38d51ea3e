//! Example values built from schemas, for the reference docs' example requests and answers:
//! the schema's own `example` when it has one, else a value of the right shape that satisfies
//! the common constraints (enums, formats, the project's name patterns).

use super::{ref_name, resolve};
use serde_json::{Map, Value, json};

/// Deep enough for every schema of ours; a cycle stops here.
const MAX_DEPTH: usize = 8;

/// An example for `schema`; `name` (the field or parameter it is for) picks a plausible value.
pub fn value(spec: &Value, schema: &Value, name: &str) -> Value {
    build(spec, schema, name, 0)
}

fn build(spec: &Value, schema: &Value, name: &str, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    if let Some(example) = schema.get("example") {
        return example.clone();
    }
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = if name.is_empty() { ref_name(reference) } else { name };
        return build(spec, resolve(spec, schema), name, depth + 1);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(first) = schema.get(key).and_then(Value::as_array).and_then(|s| s.first()) {
            return build(spec, first, name, depth + 1);
        }
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        for part in parts {
            match build(spec, part, name, depth + 1) {
                Value::Object(fields) => merged.extend(fields),
                other if parts.len() == 1 => return other,
                _ => {}
            }
        }
        return Value::Object(merged);
    }
    if let Some(first) = schema.get("enum").and_then(Value::as_array).and_then(|e| e.first()) {
        return first.clone();
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("object") => object(spec, schema, name, depth),
        Some("array") => {
            let items = schema.get("items").unwrap_or(&Value::Null);
            let singular = name.strip_suffix('s').unwrap_or(name);
            json!([build(spec, items, singular, depth + 1)])
        }
        Some("integer") => schema.get("minimum").cloned().unwrap_or(json!(1)),
        Some("number") => schema.get("minimum").cloned().unwrap_or(json!(1.5)),
        Some("boolean") => json!(true),
        Some("string") => string(schema, name),
        _ if schema.get("properties").is_some() => object(spec, schema, name, depth),
        _ => Value::Null,
    }
}

fn object(spec: &Value, schema: &Value, name: &str, depth: usize) -> Value {
    let mut fields = Map::new();
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (field, property) in properties {
            let example = build(spec, property, field, depth + 1);
            if !example.is_null() {
                fields.insert(field.clone(), example);
            }
        }
    } else if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
        // A credential map shows the field most credentials have.
        let key = if name == "credentials" { "access_token" } else { "key" };
        fields.insert(key.to_owned(), build(spec, values, "value", depth + 1));
    }
    Value::Object(fields)
}

/// A string for a field of this name and format (the project's names have patterns: workspace
/// ids, provider names, scopes; a placeholder would not match them).
fn string(schema: &Value, name: &str) -> Value {
    let format = schema.get("format").and_then(Value::as_str).unwrap_or("");
    let text = match (format, name) {
        ("uuid", _) => "0192f7a4-5c1e-7d3b-8a2f-3c4d5e6f7a8b",
        ("date-time", _) => "2026-01-01T12:00:00Z",
        ("uri" | "url", _) => "https://example.com/",
        (_, "workspace_id") => "ws-1",
        (_, "provider" | "name") => "github",
        (_, "display_name") => "GitHub",
        (_, "category") => "developer-tools",
        (_, "scope") => "repo",
        (_, "return_url") => "https://app.example.com/connected",
        (_, n) if n.ends_with("_url") => "https://example.com/",
        (_, "access_token" | "token" | "api_key" | "value") => "<secret>",
        (_, "code") => "connection_not_found",
        (_, "message") => "No connection has that id in this workspace",
        (_, "request_id") => "0192f7a4-5c1e-7d3b-8a2f-000000000001",
        (_, "header_name") => "X-Api-Key",
        (_, "param_name") => "api_key",
        (_, "region") => "us-east-1",
        (_, "service") => "s3",
        _ => "string",
    };
    Value::String(text.to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn examples_follow_refs_enums_formats_and_arrays() {
        let spec = json!({"components": {"schemas": {
            "Kind": {"type": "string", "enum": ["small", "large"]},
            "Thing": {"type": "object", "properties": {
                "id": {"type": "string", "format": "uuid"},
                "kind": {"$ref": "#/components/schemas/Kind"},
                "scopes": {"type": "array", "items": {"type": "string"}},
                "count": {"type": "integer", "minimum": 3},
                "given": {"type": "string", "example": "as written"}
            }}
        }}});
        let example = super::value(&spec, &json!({"$ref": "#/components/schemas/Thing"}), "");
        assert_eq!(
            example,
            json!({
                "id": "0192f7a4-5c1e-7d3b-8a2f-3c4d5e6f7a8b",
                "kind": "small",
                "scopes": ["repo"],
                "count": 3,
                "given": "as written"
            })
        );
    }

    #[test]
    fn a_cycle_ends() {
        let spec = json!({"components": {"schemas": {
            "Node": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}}}
        }}});
        let example = super::value(&spec, &json!({"$ref": "#/components/schemas/Node"}), "");
        assert!(example.is_object());
    }
}
