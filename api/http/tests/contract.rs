//! The committed specs are the contract: they must match the code, and every operation must be
//! usable by the generators (unique snake_case operation id, exactly one tag, a summary).

use std::collections::BTreeSet;
use std::path::PathBuf;

fn committed(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../openapi")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_default()
}

#[test]
fn committed_specs_match_the_code() {
    for (name, generated) in [
        ("broker.json", nexus_http::broker_spec()),
        ("gateway.json", nexus_http::gateway_spec()),
    ] {
        assert!(
            committed(name) == generated,
            "openapi/{name} is out of date: run `cargo xtask openapi generate` and commit the result"
        );
    }
}

#[test]
fn specs_carry_the_version_file() {
    for spec in [nexus_http::broker_spec(), nexus_http::gateway_spec()] {
        let value: serde_json::Value = serde_json::from_str(&spec).expect("valid JSON");
        assert_eq!(value["info"]["version"], nexus_http::API_VERSION.trim());
    }
}

#[test]
fn every_operation_is_generator_ready() {
    for spec in [nexus_http::broker_spec(), nexus_http::gateway_spec()] {
        let value: serde_json::Value = serde_json::from_str(&spec).expect("valid JSON");
        let mut seen = BTreeSet::new();
        for (path, item) in value["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("path item") {
                let where_ = format!("{method} {path}");
                let id = operation["operationId"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{where_}: no operationId"));
                assert!(
                    !id.is_empty() && id.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                    "{where_}: operationId `{id}` is not snake_case"
                );
                assert!(seen.insert(id.to_owned()), "{where_}: operationId `{id}` is used twice");
                let tags = operation["tags"].as_array().map(Vec::len).unwrap_or(0);
                assert_eq!(tags, 1, "{where_}: must have exactly one tag");
                assert!(
                    operation["summary"].as_str().is_some_and(|s| !s.ends_with('.')),
                    "{where_}: summary"
                );
                let success: Vec<&String> = operation["responses"]
                    .as_object()
                    .expect("responses")
                    .keys()
                    .filter(|status| status.starts_with('2'))
                    .collect();
                assert_eq!(
                    success.len(),
                    1,
                    "{where_}: exactly one success response, got {success:?}"
                );
            }
        }
    }
}

#[test]
fn client_secret_is_write_only_and_never_in_a_response_schema() {
    let value: serde_json::Value = serde_json::from_str(&nexus_http::broker_spec()).expect("valid JSON");
    let schemas = value["components"]["schemas"].as_object().expect("schemas");
    assert_eq!(
        schemas["ProviderCreate"]["properties"]["client_secret"]["writeOnly"],
        true
    );
    assert!(schemas["Provider"]["properties"].get("client_secret").is_none());
    assert_eq!(
        schemas["Provider"]["properties"]["has_client_secret"]["type"],
        "boolean"
    );
}
