//! The providers file: YAML with one list, `providers`, whose entries are `POST /v1/providers`
//! bodies (a catalog `template` allowed) with the client secret as a `${ENV_VAR}` reference.
//! Reading it checks everything before anything is sent: unknown fields, URLs, placeholders,
//! templates, duplicate names and unset variables, each error naming the file, the provider and
//! the field.

use nexus_domain::catalog::{Template, apply_template};
use nexus_domain::provider::ProviderSpec;
use nexus_domain::secret::SecretString;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One provider of the file, read and checked.
#[derive(Debug)]
pub struct DesiredProvider {
    /// The provider's name (the template's when the entry gives none).
    pub name: String,
    /// The entry as written, but for the client secret (sent separately).
    pub body: serde_json::Map<String, Value>,
    /// `VAR` of `client_secret: ${VAR}`, and its value.
    pub secret: Option<(String, SecretString)>,
    /// What the Broker would store: the template filled in, defaults applied, validated.
    pub spec: ProviderSpec,
}

#[derive(Debug)]
pub struct DesiredState {
    pub file: PathBuf,
    pub providers: Vec<DesiredProvider>,
}

/// Reads and checks `path`. `env` looks up the variables secrets refer to.
pub fn load(path: &Path, templates: &[Template], env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<DesiredState> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", path.display()))?;
    parse(path, &text, templates, env)
}

pub fn parse(
    path: &Path,
    text: &str,
    templates: &[Template],
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<DesiredState> {
    let file = path.display();
    let document: Value =
        serde_yaml_ng::from_str(text).map_err(|e| anyhow::anyhow!("{file}: not a valid providers file: {e}"))?;
    let Value::Object(mut top) = document else {
        anyhow::bail!("{file}: must be a mapping with a `providers` list");
    };
    let entries = match top.remove("providers") {
        Some(Value::Array(entries)) => entries,
        Some(_) => anyhow::bail!("{file}: `providers` must be a list"),
        None => anyhow::bail!("{file}: has no `providers` list"),
    };
    if let Some(unknown) = top.keys().next() {
        anyhow::bail!("{file}: unknown field `{unknown}` (the file holds only `providers`)");
    }
    let mut providers: Vec<DesiredProvider> = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        let provider =
            read_entry(index, entry, templates, env).map_err(|message| anyhow::anyhow!("{file}: {message}"))?;
        if let Some(first) = providers.iter().position(|p| p.name == provider.name) {
            anyhow::bail!(
                "{file}: provider `{}` (entry {}): field name: duplicates entry {}",
                provider.name,
                index + 1,
                first + 1
            );
        }
        providers.push(provider);
    }
    Ok(DesiredState {
        file: path.to_owned(),
        providers,
    })
}

/// The variable a `${VAR}` reference names.
fn env_reference(raw: &str) -> Option<&str> {
    let name = raw.strip_prefix("${")?.strip_suffix('}')?;
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    valid.then_some(name)
}

fn read_entry(
    index: usize,
    entry: Value,
    templates: &[Template],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<DesiredProvider, String> {
    let Value::Object(mut body) = entry else {
        return Err(format!("entry {}: must be a mapping of provider fields", index + 1));
    };
    let label = ["name", "template"]
        .iter()
        .find_map(|key| body.get(*key).and_then(Value::as_str))
        .map_or_else(|| format!("entry {}", index + 1), |name| format!("provider `{name}`"));
    let secret = match body.remove("client_secret") {
        None => None,
        Some(raw) => {
            let reference = raw.as_str().and_then(env_reference).ok_or_else(|| {
                format!("{label}: field client_secret: must be a reference such as ${{GITHUB_CLIENT_SECRET}}, never the secret itself")
            })?;
            let value = env(reference)
                .filter(|value| !value.is_empty())
                .ok_or_else(|| format!("{label}: field client_secret: environment variable {reference} is not set"))?;
            Some((reference.to_owned(), SecretString::from(value)))
        }
    };
    let mut input = nexus_http::provider_documents::provider_input(Value::Object(body.clone()))
        .map_err(|message| format!("{label}: {message}"))?;
    input.client_secret = secret.as_ref().map(|(_, value)| value.clone());
    let spec = apply_template(templates, input)
        .and_then(|input| input.draft.validate())
        .map_err(|error| match error.field() {
            Some(field) => format!(
                "{label}: field {field}: {}",
                error.to_string().trim_start_matches(&format!("{field}: "))
            ),
            None => format!("{label}: {error}"),
        })?;
    Ok(DesiredProvider {
        name: spec.name.to_string(),
        body,
        secret,
        spec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> anyhow::Result<DesiredState> {
        let env = |name: &str| (name == "GITHUB_SECRET").then(|| "s3cret".to_owned());
        parse(Path::new("providers.yaml"), text, nexus_catalog::templates(), &env)
    }

    fn refused(text: &str) -> String {
        read(text).expect_err("refused").to_string()
    }

    #[test]
    fn a_file_with_a_template_and_a_secret_reference_reads() {
        let state = read(
            "providers:\n  - template: github\n    client_id: abc\n    client_secret: ${GITHUB_SECRET}\n  - name: keyed\n    auth_type: api_key\n",
        )
        .expect("valid");
        assert_eq!(state.providers[0].name, "github");
        assert_eq!(
            state.providers[0].spec.oauth.as_ref().map(|o| o.client_id.as_str()),
            Some("abc")
        );
        assert_eq!(
            state.providers[0].secret.as_ref().map(|(var, _)| var.as_str()),
            Some("GITHUB_SECRET")
        );
        assert_eq!(state.providers[1].name, "keyed");
    }

    #[test]
    fn bad_files_name_the_file_the_provider_and_the_field() {
        for (text, expected) in [
            (
                "providers:\n  - name: a\n    auth_type: api_key\n    colour: red\n",
                "provider `a`",
            ),
            (
                "providers:\n  - name: a\n    auth_type: api_key\n    colour: red\n",
                "colour",
            ),
            (
                "providers:\n  - name: a\n    auth_type: oauth2\n    client_id: x\n    authorization_url: http://example.com/a\n    token_url: https://example.com/t\n",
                "field authorization_url",
            ),
            (
                "providers:\n  - name: a\n    auth_type: api_key\n    api_base_url: https://{region}.example.com\n",
                "field api_base_url",
            ),
            (
                "providers:\n  - name: a\n    auth_type: api_key\n  - name: a\n    auth_type: basic_auth\n",
                "provider `a` (entry 2): field name: duplicates entry 1",
            ),
            (
                "providers:\n  - template: github\n    client_id: x\n    client_secret: plain-text\n",
                "field client_secret: must be a reference",
            ),
            (
                "providers:\n  - template: github\n    client_id: x\n    client_secret: ${MISSING_SECRET}\n",
                "MISSING_SECRET is not set",
            ),
            ("providers:\n  - template: no-such-thing\n", "field template"),
            ("provider: []\n", "has no `providers` list"),
        ] {
            let message = refused(text);
            assert!(
                message.starts_with("providers.yaml: ") && message.contains(expected),
                "{expected}: {message}"
            );
        }
    }
}
