//! Which fields of the API's models are secrets, for every generated client: the list each
//! client's printing (`Debug`, `repr`, `%v`) redacts, and the deny-by-default rule that fails
//! generation when a spec has a field named like a secret that is neither redacted nor named here
//! as harmless.

use anyhow::bail;
use std::collections::BTreeSet;

/// Models whose printing must not show a field (the credentials, keys and secrets the API
/// carries), and the specs that have them. A listed model or field the spec no longer has fails
/// the generation, so a rename cannot end the redaction.
pub(crate) const SECRET_FIELDS: &[(&[&str], &str, &[&str])] = &[
    // Provider headers and query parameters may hold a credential field.
    (
        &["broker.json", "gateway.json"],
        "CredentialEnvelope",
        &["credentials", "api_headers", "api_query"],
    ),
    (&["broker.json"], "AgentKeyCreated", &["key"]),
    (&["broker.json"], "ProviderCreate", &["client_secret"]),
    (&["broker.json"], "ProviderUpdate", &["client_secret"]),
    // The webhook signing secret (`whsec_…`), shown once at creation and rotation.
    (&["broker.json"], "WebhookWithSecret", &["secret"]),
];

/// Field names that look like a secret's but hold none, each with the reason. A new field named
/// like a secret must be added to `SECRET_FIELDS` or here, or generation fails. (Deny by
/// default is by name: a secret under an innocent name, like the envelope's `api_headers`, is
/// listed in `SECRET_FIELDS` by hand.)
const NOT_SECRET: &[(&str, &str)] = &[
    (
        "client_secret_fingerprint",
        "a one-way fingerprint, shown so operators can tell secrets apart",
    ),
    ("has_client_secret", "whether a secret is set, never the secret"),
    (
        "credential_field",
        "the name of the credential field a strategy injects",
    ),
    (
        "password_field",
        "the name of the credential field basic auth uses as the password",
    ),
    ("credential_schema", "the form's field definitions, not their values"),
    ("token_url", "the provider's public token endpoint"),
    (
        "token_endpoint_auth_method",
        "how the client authenticates, not with what",
    ),
    ("token_params", "extra public parameters of the token request"),
    ("token_request_format", "the token request's encoding"),
    (
        "token_response",
        "where the token response keeps its fields (paths, not values)",
    ),
    (
        "previous_secret_expires_at",
        "when a rotated secret stops being accepted",
    ),
];

/// Whether a field name looks like it holds a secret.
fn named_like_a_secret(field: &str) -> bool {
    let field = field.to_ascii_lowercase();
    ["secret", "key", "token", "password", "passwd", "credential", "private"]
        .iter()
        .any(|word| field.contains(word))
}

/// Every property named like a secret in `spec`, as (model, field): the component schemas by
/// their name, anything inline by its JSON pointer.
fn secret_named_properties(spec: &serde_json::Value) -> BTreeSet<(String, String)> {
    fn walk(value: &serde_json::Value, owner: &str, found: &mut BTreeSet<(String, String)>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::Object(properties)) = map.get("properties") {
                    for field in properties.keys().filter(|field| named_like_a_secret(field)) {
                        found.insert((owner.to_owned(), field.clone()));
                    }
                }
                for (key, child) in map {
                    walk(child, &format!("{owner}/{key}"), found);
                }
            }
            serde_json::Value::Array(items) => {
                for (index, child) in items.iter().enumerate() {
                    walk(child, &format!("{owner}/{index}"), found);
                }
            }
            _ => {}
        }
    }
    let mut found = BTreeSet::new();
    if let Some(schemas) = spec["components"]["schemas"].as_object() {
        for (name, schema) in schemas {
            walk(schema, name, &mut found);
        }
    }
    if let Some(paths) = spec["paths"].as_object() {
        for (path, item) in paths {
            walk(item, &format!("#/paths{path}"), &mut found);
        }
    }
    found
}

/// Deny by default: fails when `spec` has a field named like a secret that the clients would
/// print, i.e. one neither listed in `SECRET_FIELDS` nor explained in `NOT_SECRET`.
pub(crate) fn check_deny_by_default(spec_name: &str, spec: &serde_json::Value) -> anyhow::Result<()> {
    let unexplained: Vec<String> = secret_named_properties(spec)
        .into_iter()
        .filter(|(model, field)| {
            let redacted = SECRET_FIELDS.iter().any(|(specs, name, fields)| {
                specs.contains(&spec_name) && name == model && fields.contains(&field.as_str())
            });
            let harmless = NOT_SECRET.iter().any(|(name, _)| name == field);
            !redacted && !harmless
        })
        .map(|(model, field)| format!("{model}.{field}"))
        .collect();
    if !unexplained.is_empty() {
        bail!(
            "openapi/{spec_name}: {} named like a secret but neither redacted nor explained: add each to \
             SECRET_FIELDS (the clients then never print it) or to NOT_SECRET with the reason it holds no \
             secret (xtask/src/redaction.rs)",
            unexplained.join(", ")
        );
    }
    Ok(())
}

/// The secret fields of one spec's models, by model.
pub(crate) fn secret_fields_of(spec_name: &str) -> impl Iterator<Item = (&'static str, &'static [&'static str])> + '_ {
    SECRET_FIELDS
        .iter()
        .filter(move |(specs, _, _)| specs.contains(&spec_name))
        .map(|(_, name, fields)| (*name, *fields))
}

#[cfg(test)]
mod tests {
    use super::check_deny_by_default;
    use serde_json::json;

    #[test]
    fn an_unlisted_field_named_like_a_secret_fails_generation() {
        for field in [
            "api_token",
            "signing_secret",
            "private_key",
            "refresh_token",
            "password",
            "credentials",
        ] {
            let spec = json!({"components": {"schemas": {"Thing": {"properties": {field: {"type": "string"}}}}}});
            let error = check_deny_by_default("broker.json", &spec)
                .expect_err(field)
                .to_string();
            assert!(error.contains(&format!("Thing.{field}")), "{error}");
        }
    }

    #[test]
    fn inline_request_bodies_are_checked_too() {
        let spec = json!({"paths": {"/v1/x": {"post": {"requestBody": {"content": {"application/json": {
            "schema": {"properties": {"api_key": {"type": "string"}}}}}}}}}});
        let error = check_deny_by_default("broker.json", &spec)
            .expect_err("refused")
            .to_string();
        assert!(error.contains("api_key"), "{error}");
    }

    #[test]
    fn a_redacted_or_explained_field_passes_and_only_in_its_own_spec() {
        let spec = json!({"components": {"schemas": {
            "WebhookWithSecret": {"properties": {"secret": {"type": "string"}}},
            "Provider": {"properties": {"token_url": {"type": "string"}, "has_client_secret": {"type": "boolean"}}},
        }}});
        check_deny_by_default("broker.json", &spec).expect("passes");
        // The webhook model is redacted in the Broker's spec only.
        assert!(check_deny_by_default("gateway.json", &spec).is_err());
    }

    /// The committed specs pass: every secret they carry is redacted by every client.
    #[test]
    fn the_committed_specs_redact_every_secret_named_field() {
        for spec in ["broker.json", "gateway.json"] {
            let text = crate::read(&crate::root().join("openapi").join(spec)).expect("the committed spec");
            let document = serde_json::from_str(&text).expect("JSON");
            check_deny_by_default(spec, &document).expect("every secret-named field is redacted or explained");
        }
    }
}
