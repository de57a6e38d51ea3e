//! What it takes to make a Broker's providers match a file: creates, updates field by field, and
//! (with `--prune`) deletes. Both sides are compared as the Broker's API shows a provider, so a
//! template, a default or a field order never shows as a change; client secrets compare through
//! the Broker's keyed fingerprint and show only as "changed" or "unchanged".

use super::file::{DesiredProvider, DesiredState};
use chrono::DateTime;
use nexus_domain::ProviderId;
use nexus_domain::provider::Provider;
use nexus_domain::secret::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};
use std::fmt::Write;

/// Fields of the API's view that are not settings: never compared.
const NOT_SETTINGS: [&str; 6] = [
    "id",
    "has_client_secret",
    "client_secret_fingerprint",
    "created_at",
    "updated_at",
    "name",
];

/// Settings `clear` resets (the API's `ClearableField`); other settings are set to empty.
const CLEARABLE: [&str; 13] = [
    "description",
    "category",
    "authorization_url",
    "token_url",
    "issuer",
    "revocation_url",
    "refresh_url",
    "verification",
    "strategy",
    "api_base_url",
    "logo_url",
    "docs_url",
    "mcp_server_url",
];

/// Settings the API's view leaves out when they hold their default: unset, they are set to it.
const DEFAULTS: [(&str, &str); 3] = [
    ("scope_separator", " "),
    ("token_request_format", "form"),
    ("token_response", "standard"),
];

/// One field that differs: its current and wanted values as compact JSON (secrets never).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: String,
    pub from: String,
    pub to: String,
}

/// A step of the plan. Bodies never hold the client secret: it travels beside them (redacted
/// in `Debug`) and joins the body only when `apply` sends it.
#[derive(Debug, Clone)]
pub enum Change {
    Create {
        name: String,
        /// The `POST /v1/providers` body, but for `client_secret`.
        body: Value,
        secret: Option<SecretString>,
    },
    Update {
        name: String,
        id: String,
        changes: Vec<FieldChange>,
        /// The `PATCH /v1/providers/{id}` body that makes the change, and the one that undoes
        /// it (but for a client secret, which the Broker never returns).
        patch: Value,
        undo: Value,
        /// A new client secret, when the file's differs from the stored one.
        secret: Option<SecretString>,
    },
    Delete {
        name: String,
        id: String,
    },
    Unchanged {
        name: String,
    },
    /// Live but not in the file, and `--prune` not given: left alone.
    Unmanaged {
        name: String,
    },
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub changes: Vec<Change>,
}

impl Plan {
    /// Whether applying would change anything.
    pub fn has_drift(&self) -> bool {
        self.changes
            .iter()
            .any(|c| matches!(c, Change::Create { .. } | Change::Update { .. } | Change::Delete { .. }))
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let (mut creates, mut updates, mut deletes) = (0, 0, 0);
        for change in &self.changes {
            match change {
                Change::Create { name, .. } => {
                    creates += 1;
                    let _ = writeln!(out, "+ create {name}");
                }
                Change::Update { name, changes, .. } => {
                    updates += 1;
                    let _ = writeln!(out, "~ update {name}");
                    for FieldChange { field, from, to } in changes {
                        let _ = writeln!(out, "    {field}: {from} -> {to}");
                    }
                }
                Change::Delete { name, .. } => {
                    deletes += 1;
                    let _ = writeln!(out, "- delete {name} (refused while it has connections)");
                }
                Change::Unchanged { name } => {
                    let _ = writeln!(out, "= {name}");
                }
                Change::Unmanaged { name } => {
                    let _ = writeln!(out, "? {name} is not in the file (kept; --prune deletes it)");
                }
            }
        }
        let _ = writeln!(
            out,
            "Plan: {creates} to create, {updates} to update, {deletes} to delete."
        );
        out
    }
}

/// Empty values (absent, null, `[]`, `{}`) mean the same thing in the API's view.
fn is_empty(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::Array(items)) => items.is_empty(),
        Some(Value::Object(fields)) => fields.is_empty(),
        Some(_) => false,
    }
}

fn shown(value: Option<&Value>) -> String {
    if is_empty(value) {
        return "(none)".to_owned();
    }
    value.map(Value::to_string).unwrap_or_default()
}

/// The desired provider as the API would show it once stored with `id`.
fn desired_view(desired: &DesiredProvider, id: ProviderId) -> Map<String, Value> {
    let epoch = DateTime::UNIX_EPOCH;
    let provider = Provider {
        id,
        spec: desired.spec.clone(),
        has_client_secret: desired.secret.is_some(),
        client_secret_fingerprint: None,
        created_at: epoch,
        updated_at: epoch,
    };
    match nexus_http::provider_documents::provider_view(provider) {
        Value::Object(view) => view,
        _ => Map::new(),
    }
}

/// The `PATCH` body that takes `from` to `to` on `fields`: values set, optional fields named in
/// `clear`, lists and maps emptied. A field that can be none of these (a client id, say) is
/// returned as the error.
fn patch_between(
    fields: &[String],
    from: &Map<String, Value>,
    to: &Map<String, Value>,
) -> Result<Map<String, Value>, String> {
    let mut patch = Map::new();
    let mut clear = Vec::new();
    for field in fields {
        match to.get(field) {
            wanted if !is_empty(wanted) => {
                patch.insert(field.clone(), wanted.cloned().unwrap_or_default());
            }
            _ if CLEARABLE.contains(&field.as_str()) => clear.push(Value::String(field.clone())),
            _ => {
                let empty = match from.get(field) {
                    Some(Value::Object(_)) => json!({}),
                    Some(Value::Array(_)) => json!([]),
                    _ => match DEFAULTS.iter().find(|(name, _)| name == field) {
                        Some((_, default)) => json!(default),
                        None => return Err(field.clone()),
                    },
                };
                patch.insert(field.clone(), empty);
            }
        }
    }
    if !clear.is_empty() {
        patch.insert("clear".to_owned(), Value::Array(clear));
    }
    Ok(patch)
}

/// Compares the file with the live providers (as `GET /v1/providers` lists them).
pub fn plan(desired: &DesiredState, live: &[Value], prune: bool) -> anyhow::Result<Plan> {
    let mut changes = Vec::new();
    for wanted in &desired.providers {
        let current = live
            .iter()
            .filter_map(Value::as_object)
            .find(|provider| provider.get("name").and_then(Value::as_str) == Some(wanted.name.as_str()));
        let Some(current) = current else {
            changes.push(Change::Create {
                name: wanted.name.clone(),
                body: Value::Object(wanted.body.clone()),
                secret: wanted.secret.as_ref().map(|(_, secret)| secret.clone()),
            });
            continue;
        };
        let id_text = current.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
        let id: ProviderId = id_text
            .parse()
            .map_err(|_| anyhow::anyhow!("the Broker listed provider `{}` without a valid id", wanted.name))?;
        let view = desired_view(wanted, id);
        if view.get("auth_type") != current.get("auth_type") {
            anyhow::bail!(
                "{}: provider `{}`: field auth_type: is {} at the Broker and {} in the file; an auth type cannot change in place (delete the provider first: its connections would be revoked)",
                desired.file.display(),
                wanted.name,
                shown(current.get("auth_type")),
                shown(view.get("auth_type"))
            );
        }
        let mut fields: Vec<String> = view.keys().chain(current.keys()).cloned().collect();
        fields.sort();
        fields.dedup();
        fields.retain(|field| !NOT_SETTINGS.contains(&field.as_str()) && field != "auth_type");
        let differing: Vec<String> = fields
            .into_iter()
            .filter(|field| {
                let (a, b) = (view.get(field), current.get(field));
                !(is_empty(a) && is_empty(b)) && a != b
            })
            .collect();
        let mut field_changes: Vec<FieldChange> = differing
            .iter()
            .map(|field| FieldChange {
                field: field.clone(),
                from: shown(current.get(field)),
                to: shown(view.get(field)),
            })
            .collect();
        let patch = patch_between(&differing, current, &view).map_err(|field| {
            anyhow::anyhow!(
                "{}: provider `{}`: field {field}: cannot be removed from a provider",
                desired.file.display(),
                wanted.name
            )
        })?;
        let undo = patch_between(&differing, &view, current).unwrap_or_default();
        let mut new_secret = None;
        if let Some((_, secret)) = &wanted.secret {
            let fingerprint = nexus_crypto::secret_fingerprint(&id.as_uuid(), secret.expose_secret());
            let unchanged =
                current.get("client_secret_fingerprint").and_then(Value::as_str) == Some(fingerprint.as_str());
            if !unchanged {
                field_changes.push(FieldChange {
                    field: "client_secret".to_owned(),
                    from: if current.get("has_client_secret") == Some(&Value::Bool(true)) {
                        "(set)".to_owned()
                    } else {
                        "(none)".to_owned()
                    },
                    to: "changed".to_owned(),
                });
                new_secret = Some(secret.clone());
            }
        }
        changes.push(if field_changes.is_empty() {
            Change::Unchanged {
                name: wanted.name.clone(),
            }
        } else {
            Change::Update {
                name: wanted.name.clone(),
                id: id_text,
                changes: field_changes,
                patch: Value::Object(patch),
                undo: Value::Object(undo),
                secret: new_secret,
            }
        });
    }
    for current in live.iter().filter_map(Value::as_object) {
        let name = current
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if desired.providers.iter().any(|wanted| wanted.name == name) {
            continue;
        }
        changes.push(if prune {
            Change::Delete {
                id: current.get("id").and_then(Value::as_str).unwrap_or_default().to_owned(),
                name,
            }
        } else {
            Change::Unmanaged { name }
        });
    }
    Ok(Plan { changes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers_as_code::file;
    use std::path::Path;

    fn desired(text: &str) -> DesiredState {
        let env = |_: &str| Some("the-secret-value".to_owned());
        file::parse(Path::new("p.yaml"), text, nexus_catalog::templates(), &env).expect("file")
    }

    #[test]
    fn creates_updates_and_deletes_are_planned_and_secrets_never_shown() {
        let state = desired(
            "providers:\n  - name: keyed\n    auth_type: api_key\n    description: Keys\n  - template: github\n    client_id: abc\n    client_secret: ${GH}\n",
        );
        let id = ProviderId::new();
        let mut live_keyed = desired_view(&state.providers[0], id);
        live_keyed.insert("description".into(), json!("Old"));
        live_keyed.insert("docs_url".into(), json!("https://example.com/docs"));
        let gone = json!({"id": ProviderId::new().to_string(), "name": "gone", "auth_type": "api_key"});
        let plan = plan(&state, &[Value::Object(live_keyed), gone.clone()], true).expect("plan");
        let rendered = plan.render();
        assert!(plan.has_drift());
        assert!(rendered.contains("+ create github"), "{rendered}");
        assert!(rendered.contains("description: \"Old\" -> \"Keys\""), "{rendered}");
        assert!(
            rendered.contains("docs_url: \"https://example.com/docs\" -> (none)"),
            "{rendered}"
        );
        assert!(rendered.contains("- delete gone"), "{rendered}");
        assert!(!rendered.contains("the-secret-value"), "{rendered}");
        assert!(
            !format!("{plan:?}").contains("the-secret-value"),
            "Debug redacts the secret"
        );
        let Change::Update { patch, .. } = &plan.changes[0] else {
            panic!("an update: {plan:?}");
        };
        assert_eq!(patch["clear"], json!(["docs_url"]));
        let kept = super::plan(&state, &[gone], false).expect("plan");
        assert!(kept.render().contains("? gone is not in the file"));
    }

    /// A comma separator on the Broker that the file leaves out goes back to the default.
    #[test]
    fn a_setting_left_out_goes_back_to_its_default() {
        let state = desired(
            "providers:\n  - name: commas\n    auth_type: oauth2\n    client_id: c\n    authorization_url: https://a.example.com/auth\n    token_url: https://a.example.com/token\n",
        );
        let mut live = desired_view(&state.providers[0], ProviderId::new());
        live.insert("scope_separator".into(), json!(","));
        let plan = plan(&state, &[Value::Object(live)], false).expect("a setting with a default can be unset");
        let Change::Update { patch, .. } = &plan.changes[0] else {
            panic!("an update: {plan:?}");
        };
        assert_eq!(patch["scope_separator"], json!(" "), "{patch:?}");
    }
}
