//! Markdown for one API (its operations by tag, then its schemas) and for the index page.

use super::example;
use super::{ref_name, resolve};
use serde_json::Value;
use std::fmt::Write;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];
const HEADER: &str = "<!-- Generated from the committed OpenAPI specs by `cargo xtask docs generate`; do not edit. -->";

/// One error code of the `Error` schema's table.
struct ErrorCode {
    code: String,
    status: String,
    meaning: String,
}

/// The page of one API.
pub fn api_page(spec: &Value, spec_file: &str, host: &str) -> String {
    let mut out = String::new();
    let info = &spec["info"];
    let _ = writeln!(out, "{HEADER}\n");
    let _ = writeln!(out, "# {} {}\n", text(&info["title"]), text(&info["version"]));
    let _ = writeln!(out, "{}\n", text(&info["description"]));
    let _ = writeln!(
        out,
        "The contract is [`openapi/{spec_file}`](../../openapi/{spec_file}); this page is rendered from it. \
         The API serves the same spec at `/openapi.json` and an explorer at `/docs`.\n"
    );
    authentication(&mut out, spec);
    let operations = operations(spec);
    let _ = writeln!(out, "## Operations\n\n| Method | Path | Summary |\n|---|---|---|");
    for op in &operations {
        let _ = writeln!(
            out,
            "| `{}` | [`{}`](#{}) | {} |",
            op.method.to_uppercase(),
            op.path,
            op.id,
            cell(&text(&op.body["summary"]))
        );
    }
    out.push('\n');
    let codes = error_codes(spec);
    for (tag, description) in tags(spec) {
        let tagged: Vec<&Operation> = operations.iter().filter(|op| op.tag == tag).collect();
        if tagged.is_empty() {
            continue;
        }
        let _ = writeln!(out, "## {tag}\n");
        if !description.is_empty() {
            let _ = writeln!(out, "{description}\n");
        }
        for op in tagged {
            operation(&mut out, spec, op, &codes, host);
        }
    }
    schemas(&mut out, spec);
    out
}

/// The index: both APIs, authentication, and every error code.
pub fn index_page(apis: &[(&str, Value)]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{HEADER}\n");
    let _ = writeln!(out, "# API reference\n");
    let _ = writeln!(
        out,
        "Nexus serves two APIs. Each page below is rendered from the committed spec in `openapi/` \
         (the contract; the generated clients come from the same files).\n"
    );
    let _ = writeln!(out, "| API | Version | Operations | For |\n|---|---|---|---|");
    for (page, spec) in apis {
        let info = &spec["info"];
        let count = operations(spec).len();
        let first_sentence = text(&info["description"]).split(". ").next().unwrap_or("").to_owned();
        let _ = writeln!(
            out,
            "| [{}]({page}) | {} | {count} | {} |",
            text(&info["title"]),
            text(&info["version"]),
            cell(&first_sentence)
        );
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "## Errors\n\nEvery non-2xx answer has an `Error` body: `code` (stable, below), `message` (safe to show), \
         `request_id` (also in `X-Request-Id`), and `field` or `connection_id` when they apply. Answers to \
         retry carry `Retry-After` when Nexus knows how long to wait.\n"
    );
    if let Some((_, spec)) = apis.first() {
        let _ = writeln!(out, "| Code | Status | Meaning |\n|---|---|---|");
        for code in error_codes(spec) {
            let _ = writeln!(out, "| `{}` | {} | {} |", code.code, code.status, cell(&code.meaning));
        }
        out.push('\n');
    }
    for (page, spec) in apis {
        let _ = writeln!(out, "## {}\n", text(&spec["info"]["title"]));
        for op in operations(spec) {
            let _ = writeln!(
                out,
                "- `{} {}`: [{}]({page}#{})",
                op.method.to_uppercase(),
                op.path,
                text(&op.body["summary"]),
                op.id
            );
        }
        out.push('\n');
    }
    out
}

struct Operation<'a> {
    method: &'a str,
    path: &'a str,
    id: String,
    tag: String,
    body: &'a Value,
}

/// Operations in path order, methods in `METHODS` order.
fn operations(spec: &Value) -> Vec<Operation<'_>> {
    let mut found = Vec::new();
    let Some(paths) = spec["paths"].as_object() else {
        return found;
    };
    for (path, item) in paths {
        for method in METHODS {
            if let Some(body) = item.get(method) {
                found.push(Operation {
                    method,
                    path,
                    id: text(&body["operationId"]),
                    tag: body["tags"][0].as_str().unwrap_or("Other").to_owned(),
                    body,
                });
            }
        }
    }
    found
}

/// Tags in the spec's order, with their descriptions; `Other` last for untagged operations.
fn tags(spec: &Value) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = spec["tags"]
        .as_array()
        .map(|tags| {
            tags.iter()
                .map(|tag| (text(&tag["name"]), text(&tag["description"])))
                .collect()
        })
        .unwrap_or_default();
    tags.push(("Other".to_owned(), String::new()));
    tags
}

/// `- \`code\` (status): meaning` lines of the `Error` schema's `code` description.
fn error_codes(spec: &Value) -> Vec<ErrorCode> {
    let description = text(&spec["components"]["schemas"]["Error"]["properties"]["code"]["description"]);
    description
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("- `")?;
            let (code, rest) = rest.split_once("` (")?;
            let (status, meaning) = rest.split_once("): ")?;
            Some(ErrorCode {
                code: code.to_owned(),
                status: status.to_owned(),
                meaning: meaning.to_owned(),
            })
        })
        .collect()
}

fn authentication(out: &mut String, spec: &Value) {
    let Some(schemes) = spec["components"]["securitySchemes"].as_object() else {
        return;
    };
    let _ = writeln!(out, "## Authentication\n");
    for (name, scheme) in schemes {
        let kind = match (text(&scheme["type"]).as_str(), text(&scheme["scheme"]).as_str()) {
            ("http", "bearer") => "`Authorization: Bearer <key>`".to_owned(),
            ("apiKey", _) => format!("`{}` {}", text(&scheme["name"]), text(&scheme["in"])),
            (kind, scheme) => format!("{kind} {scheme}"),
        };
        let _ = writeln!(out, "- **{name}**: {kind}. {}", one_line(&text(&scheme["description"])));
    }
    out.push('\n');
}

fn operation(out: &mut String, spec: &Value, op: &Operation<'_>, codes: &[ErrorCode], host: &str) {
    let body = op.body;
    let _ = writeln!(out, "<a id=\"{}\"></a>\n", op.id);
    let _ = writeln!(out, "### {}\n", text(&body["summary"]));
    let auth = security(body);
    let _ = writeln!(
        out,
        "`{} {}` · operation `{}` · auth: {}\n",
        op.method.to_uppercase(),
        op.path,
        op.id,
        if auth.is_empty() {
            "none".to_owned()
        } else {
            auth.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(" or ")
        }
    );
    let description = text(&body["description"]);
    if !description.is_empty() {
        let _ = writeln!(out, "{description}\n");
    }
    let parameters: Vec<&Value> = body["parameters"]
        .as_array()
        .map(|p| p.iter().collect())
        .unwrap_or_default();
    if !parameters.is_empty() {
        let _ = writeln!(
            out,
            "**Parameters**\n\n| Name | In | Type | Required | Description |\n|---|---|---|---|---|"
        );
        for parameter in &parameters {
            let schema = &parameter["schema"];
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                text(&parameter["name"]),
                text(&parameter["in"]),
                cell(&type_text(schema)),
                yes_no(parameter["required"].as_bool().unwrap_or(false)),
                cell(&describe(spec, &text(&parameter["description"]), schema))
            );
        }
        out.push('\n');
    }
    let request = json_schema(&body["requestBody"]);
    if let Some(schema) = request {
        let _ = writeln!(
            out,
            "**Request body** (`application/json`{}): {}\n",
            if body["requestBody"]["required"].as_bool().unwrap_or(false) {
                ", required"
            } else {
                ""
            },
            type_text(schema)
        );
    }
    let _ = writeln!(out, "**Responses**\n\n| Status | Meaning | Body |\n|---|---|---|");
    if let Some(responses) = body["responses"].as_object() {
        for (status, response) in responses {
            let schema = json_schema(response).map_or_else(|| "none".to_owned(), type_text);
            let mut meaning = one_line(&text(&response["description"]));
            if meaning.is_empty() {
                meaning = reason(status).to_owned();
            }
            if let Some(headers) = response["headers"].as_object() {
                let names: Vec<String> = headers.keys().map(|h| format!("`{}`", header_case(h))).collect();
                let _ = write!(meaning, " (headers: {})", names.join(", "));
            }
            let _ = writeln!(out, "| `{status}` | {} | {} |", cell(meaning.trim()), cell(&schema));
        }
    }
    out.push('\n');
    let applicable = operation_codes(op, request.is_some(), !parameters.is_empty(), codes);
    if !applicable.is_empty() {
        let _ = writeln!(out, "**Error codes**\n\n| Code | Status | Meaning |\n|---|---|---|");
        for code in applicable {
            let _ = writeln!(out, "| `{}` | {} | {} |", code.code, code.status, cell(&code.meaning));
        }
        out.push('\n');
    }
    example_exchange(out, spec, op, &parameters, request, host);
}

/// The codes this operation can answer: those its description names, and those every operation
/// of its shape can (authentication, invalid input, bodies, failures).
fn operation_codes<'a>(
    op: &Operation<'_>,
    has_body: bool,
    has_parameters: bool,
    codes: &'a [ErrorCode],
) -> Vec<&'a ErrorCode> {
    let description = text(&op.body["description"]);
    let secured = !security(op.body).is_empty();
    codes
        .iter()
        .filter(|code| {
            let named = description.contains(&format!("`{}`", code.code));
            let general = match code.code.as_str() {
                "unauthenticated" => secured,
                "invalid_request" => has_body || has_parameters,
                "payload_too_large" | "unsupported_media_type" => has_body,
                "internal_error" | "service_unavailable" => true,
                _ => false,
            };
            named || general
        })
        .collect()
}

fn example_exchange(
    out: &mut String,
    spec: &Value,
    op: &Operation<'_>,
    parameters: &[&Value],
    request: Option<&Value>,
    host: &str,
) {
    let base = format!("http://{host}");
    let mut path = op.path.to_owned();
    let mut query = Vec::new();
    let mut headers = Vec::new();
    for parameter in parameters {
        let name = text(&parameter["name"]);
        let value = match example::value(spec, &parameter["schema"], &name) {
            Value::String(s) => s,
            other => other.to_string(),
        };
        match text(&parameter["in"]).as_str() {
            "path" => path = path.replace(&format!("{{{name}}}"), &value),
            "query" if parameter["required"].as_bool().unwrap_or(false) => query.push((name, value)),
            "header" if parameter["required"].as_bool().unwrap_or(false) => headers.push(format!("{name}: {value}")),
            _ => {}
        }
    }
    let mut url = reqwest::Url::parse(&base).unwrap_or_else(|_| unreachable!("a host and port parse"));
    url.set_path(&path);
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(&query);
    }
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let _ = writeln!(
        out,
        "**Example**\n\n```http\n{} {target} HTTP/1.1",
        op.method.to_uppercase()
    );
    let _ = writeln!(out, "Host: {host}");
    for scheme in security(op.body) {
        let _ = writeln!(out, "Authorization: Bearer <{scheme}>");
    }
    for header in headers {
        let _ = writeln!(out, "{header}");
    }
    if let Some(schema) = request {
        let body = pretty(&example::value(spec, schema, ""));
        let _ = writeln!(out, "Content-Type: application/json\n\n{body}");
    }
    let _ = writeln!(out, "```\n");
    let answer = op.body["responses"]
        .as_object()
        .and_then(|responses| responses.iter().find(|(status, _)| status.starts_with('2')));
    if let Some((status, response)) = answer {
        let _ = writeln!(out, "```http\nHTTP/1.1 {status} {}", reason(status));
        if let Some(schema) = json_schema(response) {
            let body = pretty(&example::value(spec, schema, ""));
            let _ = writeln!(out, "Content-Type: application/json\n\n{body}");
        }
        let _ = writeln!(out, "```\n");
    }
}

fn schemas(out: &mut String, spec: &Value) {
    let Some(schemas) = spec["components"]["schemas"].as_object() else {
        return;
    };
    let _ = writeln!(out, "## Schemas\n");
    for (name, schema) in schemas {
        let _ = writeln!(out, "<a id=\"{}\"></a>\n", anchor(name));
        let _ = writeln!(out, "### `{name}`\n");
        let description = text(&schema["description"]);
        if !description.is_empty() {
            let _ = writeln!(out, "{description}\n");
        }
        if schema.get("enum").is_some() || schema.get("oneOf").is_some() {
            let _ = writeln!(out, "{}\n", type_text(&without_description(schema)));
        }
        if let Some(property) = schema["discriminator"]["propertyName"].as_str() {
            let _ = writeln!(out, "The `{property}` field says which.\n");
        }
        let mut properties: Vec<(String, Value, bool)> = Vec::new();
        collect_properties(schema, &mut properties, 0);
        if schema.get("allOf").is_some() {
            let parts: Vec<String> = schema["allOf"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|part| part.get("$ref").and_then(Value::as_str))
                .map(|r| link(ref_name(r)))
                .collect();
            if !parts.is_empty() {
                let _ = writeln!(out, "All the fields of {}, and:\n", parts.join(", "));
            }
        }
        if !properties.is_empty() {
            let closed = schema["additionalProperties"] == Value::Bool(false);
            let _ = writeln!(out, "| Field | Type | Required | Description |\n|---|---|---|---|");
            for (field, property, required) in &properties {
                let _ = writeln!(
                    out,
                    "| `{field}` | {} | {} | {} |",
                    cell(&type_text(property)),
                    yes_no(*required),
                    cell(&describe(spec, &text(&property["description"]), property))
                );
            }
            out.push('\n');
            if closed {
                let _ = writeln!(out, "Unknown fields are refused.\n");
            }
        }
    }
}

/// The object's own properties (and those of inline `allOf` parts), with whether each is required.
fn collect_properties(schema: &Value, into: &mut Vec<(String, Value, bool)>, depth: usize) {
    if depth > 4 {
        return;
    }
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(properties) = schema["properties"].as_object() {
        for (field, property) in properties {
            into.push((field.clone(), property.clone(), required.contains(&field.as_str())));
        }
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        if part.get("$ref").is_none() {
            collect_properties(part, into, depth + 1);
        }
    }
}

/// The type of a schema, in words, with links to named schemas.
fn type_text(schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return link(ref_name(reference));
    }
    for (key, joiner) in [("oneOf", " or "), ("anyOf", " or "), ("allOf", " and ")] {
        if let Some(parts) = schema.get(key).and_then(Value::as_array) {
            return parts.iter().map(type_text).collect::<Vec<_>>().join(joiner);
        }
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = values.iter().map(|v| format!("`{}`", plain(v))).collect();
        return format!("one of {}", values.join(", "));
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("array") => format!("array of {}", type_text(&schema["items"])),
        Some("object") if schema["additionalProperties"].is_object() => {
            format!("map of string to {}", type_text(&schema["additionalProperties"]))
        }
        Some(kind) => match schema.get("format").and_then(Value::as_str) {
            Some(format) if kind == "string" || kind == "integer" => format!("{kind} ({format})"),
            _ => kind.to_owned(),
        },
        None => "any".to_owned(),
    }
}

/// A description followed by the schema's constraints.
fn describe(spec: &Value, description: &str, schema: &Value) -> String {
    let schema = resolve(spec, schema);
    let mut parts = Vec::new();
    if !description.is_empty() {
        parts.push(one_line(description));
    }
    let mut constraints = Vec::new();
    let number = |key: &str| schema.get(key).and_then(Value::as_u64);
    match (number("minLength"), number("maxLength")) {
        (Some(min), Some(max)) => constraints.push(format!("{min} to {max} characters")),
        (Some(min), None) => constraints.push(format!("at least {min} characters")),
        (None, Some(max)) => constraints.push(format!("at most {max} characters")),
        (None, None) => {}
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        constraints.push(format!("pattern `{pattern}`"));
    }
    for (key, words) in [("minimum", "at least"), ("maximum", "at most")] {
        if let Some(value) = schema.get(key) {
            constraints.push(format!("{words} {value}"));
        }
    }
    if let Some(max) = number("maxItems") {
        constraints.push(format!("at most {max} items"));
    }
    if let Some(items) = schema.get("items").filter(|_| schema["type"] == "array") {
        let item = describe(spec, "", items);
        if !item.is_empty() {
            constraints.push(format!("each: {item}"));
        }
    }
    if !constraints.is_empty() {
        parts.push(format!("({})", constraints.join("; ")));
    }
    parts.join(" ")
}

fn security(operation: &Value) -> Vec<String> {
    operation["security"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|requirement| requirement.keys().cloned())
        .collect()
}

/// The JSON schema of a request body or response, whatever its JSON media type's parameters.
fn json_schema(holder: &Value) -> Option<&Value> {
    holder["content"]
        .as_object()?
        .iter()
        .find(|(media, _)| media.starts_with("application/json"))
        .map(|(_, content)| &content["schema"])
}

fn without_description(schema: &Value) -> Value {
    let mut copy = schema.clone();
    if let Some(object) = copy.as_object_mut() {
        object.remove("description");
    }
    copy
}

fn link(name: &str) -> String {
    format!("[`{name}`](#{})", anchor(name))
}

fn anchor(name: &str) -> String {
    format!("schema-{}", name.to_ascii_lowercase())
}

fn reason(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "201" => "Created",
        "202" => "Accepted",
        "204" => "No Content",
        _ => "",
    }
}

/// `WWW-AUTHENTICATE` → `WWW-Authenticate`.
fn header_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            if part.eq_ignore_ascii_case("www") {
                "WWW".to_owned()
            } else {
                let lower = part.to_ascii_lowercase();
                let mut chars = lower.chars();
                chars
                    .next()
                    .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                    .unwrap_or_default()
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| unreachable!("a JSON value serializes"))
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or("").trim().to_owned()
}

fn plain(value: &Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_owned)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text for a Markdown table cell: one line, pipes escaped.
fn cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}
