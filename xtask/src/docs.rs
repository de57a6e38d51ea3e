//! `cargo xtask docs generate|check`: the API reference in `docs/api/`, rendered to Markdown from
//! the committed specs: every operation (method, path, auth, parameters, request and response
//! schemas, error codes, an example request and answer) and every schema.

mod example;
mod render;

use crate::{compare, read, root};
use anyhow::Context;
use serde_json::Value;

/// The specs rendered, the page each becomes, and the listener its examples are sent to (the
/// development defaults).
const PAGES: [(&str, &str, &str); 2] = [
    ("broker.json", "broker.md", "127.0.0.1:8080"),
    ("gateway.json", "gateway.md", "127.0.0.1:8090"),
];

pub fn run(check: bool) -> anyhow::Result<()> {
    let root = root();
    let out = root.join("docs").join("api");
    let mut pages = Vec::new();
    let mut index = Vec::new();
    for (spec_file, page, host) in PAGES {
        let spec: Value = serde_json::from_str(&read(&root.join("openapi").join(spec_file))?)
            .with_context(|| format!("openapi/{spec_file} is not JSON"))?;
        pages.push((page, render::api_page(&spec, spec_file, host)));
        index.push((page, spec));
    }
    pages.push(("README.md", render::index_page(&index)));
    for (page, text) in pages {
        let path = out.join(page);
        if check {
            compare(&path, &text, "cargo xtask docs generate")?;
        } else {
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {}", path.display());
        }
    }
    if check {
        println!("docs/api is up to date");
    }
    Ok(())
}

/// `#/components/schemas/Name` → `Name`.
fn ref_name(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

/// The schema a `$ref` points to (or the schema itself).
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => spec.pointer(reference.trim_start_matches('#')).unwrap_or(&Value::Null),
        None => schema,
    }
}

#[cfg(test)]
mod tests {
    /// A small spec that exercises every part of a page: tags, security, parameters of each
    /// kind, a request body, `$ref`s, `oneOf`, enums, constraints and error codes.
    fn fixture() -> serde_json::Value {
        serde_json::json!({
            "openapi": "3.0.0",
            "info": {"title": "Fixture API", "version": "9.9.9", "description": "A fixture."},
            "tags": [{"name": "Things", "description": "Things and more"}],
            "components": {
                "securitySchemes": {"Key": {"type": "http", "scheme": "bearer", "description": "A key."}},
                "schemas": {
                    "Error": {"type": "object", "required": ["code", "message"], "properties": {
                        "code": {"type": "string", "description": "Stable code, one of:\n\n- `thing_not_found` (404): No thing\n- `unauthenticated` (401): No key\n- `invalid_request` (400): Bad input\n- `internal_error` (500): A bug"},
                        "message": {"type": "string", "description": "Safe to show"}
                    }},
                    "Kind": {"type": "string", "enum": ["small", "large"]},
                    "Thing": {"type": "object", "required": ["id", "kind"], "properties": {
                        "id": {"type": "string", "format": "uuid", "description": "Its id"},
                        "kind": {"$ref": "#/components/schemas/Kind"},
                        "tags": {"type": "array", "maxItems": 3, "items": {"type": "string", "pattern": "^[a-z]+$"}},
                        "shape": {"oneOf": [{"$ref": "#/components/schemas/Kind"}, {"type": "integer", "minimum": 1}]}
                    }},
                    "ThingCreate": {"type": "object", "additionalProperties": false, "required": ["kind"], "properties": {
                        "kind": {"$ref": "#/components/schemas/Kind"},
                        "note": {"type": "string", "maxLength": 10, "description": "A | note"}
                    }}
                }
            },
            "paths": {
                "/v1/things/{thing_id}": {"get": {
                    "operationId": "thing_get", "summary": "Get a thing", "tags": ["Things"],
                    "description": "Answers 404 `thing_not_found` when there is none.",
                    "security": [{"Key": []}],
                    "parameters": [
                        {"name": "thing_id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}},
                        {"name": "verbose", "in": "query", "required": false, "schema": {"type": "boolean"}}
                    ],
                    "responses": {
                        "200": {"description": "The thing", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
                        "4XX": {"description": "Client error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
                    }
                }},
                "/v1/things": {"post": {
                    "operationId": "thing_create", "summary": "Create a thing", "tags": ["Things"],
                    "security": [{"Key": []}],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ThingCreate"}}}},
                    "responses": {
                        "201": {"description": "Created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
                        "204": {"description": "Nothing"}
                    }
                }}
            }
        })
    }

    #[test]
    fn a_page_renders_every_part_of_an_operation() {
        let spec = fixture();
        insta::assert_snapshot!(
            "fixture_page",
            super::render::api_page(&spec, "fixture.json", "127.0.0.1:8080")
        );
    }

    #[test]
    fn the_index_links_every_operation_and_lists_the_error_codes() {
        let spec = fixture();
        insta::assert_snapshot!("fixture_index", super::render::index_page(&[("fixture.md", spec)]));
    }

    #[test]
    fn committed_reference_docs_match_the_specs() {
        if let Err(error) = super::run(true) {
            panic!("{error:#}");
        }
    }
}
