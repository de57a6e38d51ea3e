//! The specs as committed and served: canonical JSON (keys sorted), with what poem-openapi does
//! not write itself (request bodies that refuse unknown fields say `additionalProperties: false`),
//! and the methods each path allows, for the `Allow` header of a 405.

use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, Response};
use std::sync::Arc;

/// Request bodies parsed with `deny_unknown_fields`: their schemas say so.
pub(crate) const CLOSED_SCHEMAS: &[&str] = &[
    "AgentKeyCreate",
    "ConnectionRequest",
    "ConsentCreate",
    "ProviderCreate",
    "ProviderUpdate",
    "ServedReads",
    "ServedReadsReport",
    "Verification",
    "WebhookCreate",
    "WebhookSecretRotate",
    "WebhookUpdate",
];

/// The proxy's operations, which poem-openapi cannot declare (their path spans segments): one
/// per method, described here so the reference, the clients and schemathesis know them.
pub(crate) fn with_proxy(spec_json: &str) -> String {
    let mut value: serde_json::Value =
        serde_json::from_str(spec_json).unwrap_or_else(|_| unreachable!("poem-openapi renders valid JSON"));
    let header = |name: &str, description: &str, pattern: &str, max: usize| {
        serde_json::json!({"in": "header", "name": name, "required": true, "description": description,
                           "schema": {"type": "string", "pattern": pattern, "maxLength": max}})
    };
    let parameters = serde_json::json!([
        {"in": "path", "name": "path", "required": true,
         "description": "The request's path under the connection's `api_base_url` (it may span segments; it never climbs out of the base path); the query string is passed on as it is",
         "schema": {"type": "string"}},
        header("Nexus-Workspace-Id", "The workspace whose newest active connection to the provider carries the request (or send `Nexus-Connection-Id: <id>` instead of both headers)", r"^[A-Za-z0-9._:-]+$", 128),
        header("Nexus-Provider", "The provider's name", r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$", 63),
    ]);
    let description = "Forwards the request to the provider's API with the connection's credential applied by Nexus \
        (the agent never holds it): to a path under the connection's `api_base_url`, or, sent to `/v1/proxy` itself \
        with `Nexus-Proxy-Url: <absolute URL>`, to a URL within its `api_origins`. `Nexus-Connection-Id` may name the \
        connection instead of `Nexus-Workspace-Id` and `Nexus-Provider`. The agent's `Authorization`, cookies, `Nexus-*` and hop-by-hop headers are \
        not forwarded; bodies stream both ways (at most `NEXUS_PROXY_MAX_BODY_BYTES`); redirects are answered, never \
        followed; an OAuth2 token the provider answers 401 to is refreshed and the request sent once more (when its \
        body is at most 1 MiB). Works with `proxy_only` keys. Every call is audited (`proxy_call`). The provider's \
        answer carries `Nexus-Proxied: true`; without it, the answer is Nexus's own `Error`: 400 `invalid_request` \
        (no connection named, a path out of the base), 401, 403 `origin_not_allowed` (outside the provider's origins, \
        or an address the outbound policy refuses), 404 `connection_not_found`, 409 (`attention_required`, \
        `connection_pending`, ...), 413 `payload_too_large`, 502 `upstream_unavailable`, 503.";
    // Any body: the provider's, as it answered (an empty schema accepts every value).
    let any_body = serde_json::json!({"*/*": {"schema": {"description": "The provider's body, as it answered"}}});
    let response = serde_json::json!({
        "200": {
            "description": "The provider's answer, streamed, with `Nexus-Proxied: true`",
            "content": any_body
        },
        "default": {
            "description": "The provider's answer with another status (`Nexus-Proxied: true`), or Nexus's own `Error` (without that header)",
            "content": {
                "application/json; charset=utf-8": {"schema": {"$ref": "#/components/schemas/Error"}},
                "*/*": {"schema": {"description": "The provider's body, as it answered"}}
            }
        }
    });
    let mut item = serde_json::Map::new();
    for method in ["get", "post", "put", "patch", "delete"] {
        let mut operation = serde_json::json!({
            "operationId": format!("proxy_{method}"),
            "summary": format!("Proxy a {} request to the provider's API", method.to_ascii_uppercase()),
            "description": description,
            "tags": ["Proxy"],
            "security": [{"AgentKey": []}],
            "parameters": parameters,
            "responses": response,
        });
        if matches!(method, "post" | "put" | "patch") {
            operation["requestBody"] = serde_json::json!({
                "required": false,
                "content": {"*/*": {"schema": {"description": "The body for the provider, as it should receive it"}}}
            });
        }
        item.insert(method.to_owned(), operation);
    }
    value["paths"]["/v1/proxy/{path}"] = serde_json::Value::Object(item);
    if let Some(tags) = value["tags"].as_array_mut() {
        tags.push(serde_json::json!({"name": "Proxy", "description": "Calling a provider's API without holding its credential"}));
    }
    value.to_string()
}

/// Pretty JSON with keys sorted at every level and a trailing newline.
pub(crate) fn canonical(spec_json: &str) -> String {
    fn sort(value: serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Object(map) => {
                let sorted: std::collections::BTreeMap<String, serde_json::Value> =
                    map.into_iter().map(|(k, v)| (k, sort(v))).collect();
                serde_json::Value::Object(sorted.into_iter().collect())
            }
            serde_json::Value::Array(items) => serde_json::Value::Array(items.into_iter().map(sort).collect()),
            other => other,
        }
    }
    let mut value: serde_json::Value =
        serde_json::from_str(spec_json).unwrap_or_else(|_| unreachable!("poem-openapi renders valid JSON"));
    if let Some(code) = value.pointer_mut("/components/schemas/Error/properties/code/description") {
        *code = error_code_table().into();
    }
    if let Some(schemas) = value
        .pointer_mut("/components/schemas")
        .and_then(serde_json::Value::as_object_mut)
    {
        for name in CLOSED_SCHEMAS {
            if let Some(schema) = schemas.get_mut(*name).and_then(serde_json::Value::as_object_mut) {
                schema.insert("additionalProperties".into(), false.into());
            }
        }
    }
    let mut text =
        serde_json::to_string_pretty(&sort(value)).unwrap_or_else(|_| unreachable!("a JSON value serializes"));
    text.push('\n');
    text
}

/// The `Error` schema's `code` description: every code, its status and its meaning, one per
/// line (`- \`code\` (status): meaning`), so clients and the reference docs carry the table.
fn error_code_table() -> String {
    let mut text = String::from("Stable, machine-readable error code (snake_case), one of:\n");
    for code in nexus_domain::error::ErrorCode::ALL {
        let (status, meaning) = code.meaning();
        text.push_str(&format!("\n- `{code}` ({status}): {meaning}"));
    }
    text
}

/// Serves `text` as `application/json`.
pub(crate) fn serve(text: String) -> impl Endpoint<Output = Response> {
    let text: Arc<str> = text.into();
    poem::endpoint::make_sync(move |_| {
        Response::builder()
            .status(StatusCode::OK)
            .content_type("application/json; charset=utf-8")
            .body(text.to_string())
    })
}

/// Path templates (`/v1/token/{connection_id}`) and the methods each allows.
#[derive(Debug, Clone, Default)]
pub(crate) struct AllowedMethods(Vec<(Vec<String>, Vec<String>)>);

impl AllowedMethods {
    pub(crate) fn from_spec(spec: &str) -> Self {
        let value: serde_json::Value = serde_json::from_str(spec).unwrap_or_default();
        let mut allowed = Self::default();
        if let Some(paths) = value["paths"].as_object() {
            for (path, item) in paths {
                let methods: Vec<String> = item
                    .as_object()
                    .map(|ops| ops.keys().map(|m| m.to_ascii_uppercase()).collect())
                    .unwrap_or_default();
                allowed = allowed.with(path, &methods.join(", "));
            }
        }
        allowed.with("/openapi.json", "GET")
    }

    pub(crate) fn with(mut self, path: &str, methods: &str) -> Self {
        let segments = path.split('/').map(str::to_owned).collect();
        let methods = methods.split(", ").map(str::to_owned).collect();
        self.0.push((segments, methods));
        self
    }

    pub(crate) fn with_browser_routes(self) -> Self {
        self.with("/auth/callback", "GET")
            .with("/auth/capture", "GET, POST")
            .with("/auth/client-metadata.json", "GET")
    }

    /// The `Allow` value for a request path, when a known path matches it.
    pub(crate) fn for_path(&self, path: &str) -> Option<HeaderValue> {
        let segments: Vec<&str> = path.split('/').collect();
        let (_, methods) = self.0.iter().find(|(template, _)| {
            template.len() == segments.len()
                && template
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| t == s || (t.starts_with('{') && t.ends_with('}') && !s.is_empty()))
        })?;
        let mut methods = methods.clone();
        if methods.iter().any(|m| m == "GET") {
            methods.push("HEAD".into());
        }
        HeaderValue::from_str(&methods.join(", ")).ok()
    }
}

/// Adds `Allow` to a 405.
pub(crate) fn allow_header(response: &mut Response, allowed: &AllowedMethods, path: &str) {
    if response.status() == StatusCode::METHOD_NOT_ALLOWED
        && let Some(value) = allowed.for_path(path)
    {
        response.headers_mut().insert(header::ALLOW, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_the_methods_of_the_matching_template() {
        let allowed = AllowedMethods::default()
            .with("/v1/providers/{provider}", "GET, PATCH, DELETE")
            .with("/auth/capture", "GET, POST");
        let allow = allowed.for_path("/v1/providers/github").expect("a template matches");
        assert_eq!(allow.to_str().ok(), Some("GET, PATCH, DELETE, HEAD"));
        assert_eq!(allowed.for_path("/v1/providers/"), None);
        assert_eq!(allowed.for_path("/v1/nothing"), None);
    }

    #[test]
    fn closed_schemas_exist_and_say_so() {
        let specs = [crate::broker_spec(), crate::gateway_spec()];
        for name in CLOSED_SCHEMAS {
            let found = specs.iter().any(|spec| {
                let value: serde_json::Value = serde_json::from_str(spec).expect("json");
                value["components"]["schemas"][*name]["additionalProperties"] == false
            });
            assert!(found, "{name} is in a spec and closed");
        }
    }

    fn parsed(spec: &str) -> serde_json::Value {
        serde_json::from_str(spec).expect("a spec is JSON")
    }

    /// Generators mis-render a property that is an `allOf` around a `$ref` (poem-openapi writes
    /// one for a documented field whose type is another schema): none may exist.
    #[test]
    fn no_property_is_an_all_of_wrapper() {
        fn walk(value: &serde_json::Value, at: &str, found: &mut Vec<String>) {
            if let Some(properties) = value.get("properties").and_then(serde_json::Value::as_object) {
                for (name, property) in properties {
                    if property.get("allOf").is_some() {
                        found.push(format!("{at}/properties/{name}"));
                    }
                }
            }
            match value {
                serde_json::Value::Object(map) => {
                    for (key, item) in map {
                        walk(item, &format!("{at}/{key}"), found);
                    }
                }
                serde_json::Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        walk(item, &format!("{at}/{i}"), found);
                    }
                }
                _ => {}
            }
        }
        for spec in [crate::broker_spec(), crate::gateway_spec()] {
            let mut found = Vec::new();
            walk(&parsed(&spec), "", &mut found);
            assert!(found.is_empty(), "allOf property wrappers: {found:?}");
        }
    }

    /// One operation id names one operation across both specs (the shared health checks are the
    /// same operation on both listeners).
    #[test]
    fn operation_ids_are_distinct_across_the_specs() {
        let mut seen: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
        for spec in [crate::broker_spec(), crate::gateway_spec()] {
            let spec = parsed(&spec);
            for (path, item) in spec["paths"].as_object().expect("paths") {
                for (method, operation) in item.as_object().expect("path item") {
                    let id = operation["operationId"].as_str().expect("an operation id").to_owned();
                    let place = format!("{method} {path}");
                    if let Some(before) = seen.insert(id.clone(), place.clone()) {
                        assert_eq!(before, place, "operation id `{id}` names two operations");
                    }
                }
            }
        }
    }
}
