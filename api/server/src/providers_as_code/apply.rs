//! Carrying out a plan through the Broker API: creates, then updates, then deletes (the one step
//! that cannot be undone, so it comes last, once everything else worked). When a create or an
//! update fails, or the first delete does, what was done is undone as far as the API allows:
//! created providers are deleted and updated ones patched back (but for a client secret, which
//! the Broker never returns). Once a delete has happened the old state cannot come back, so a
//! later failure keeps the new state and names what is left to do.

use super::plan::{Change, Plan};
use nexus_client::broker::{Client, types};
use nexus_domain::secret::{ExposeSecret, SecretString};
use serde_json::Value;

/// A step that was done, and how to undo it.
enum Done {
    Created {
        name: String,
        id: String,
    },
    Updated {
        name: String,
        id: String,
        undo: Value,
        secret_changed: bool,
    },
    Deleted {
        name: String,
    },
}

/// What apply changed, for the summary line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
}

/// Why a Broker call failed, in words, without any body field that could hold a secret.
fn describe(error: &nexus_client::broker::Error<types::Error>) -> String {
    match error {
        nexus_client::broker::Error::ErrorResponse(answer) => {
            let field = answer
                .field
                .as_deref()
                .map(|f| format!(" (field {f})"))
                .unwrap_or_default();
            format!("{}{field}: {}", answer.code, answer.message)
        }
        other => other.to_string(),
    }
}

/// `body` with the client secret added, as the generated client's type.
fn with_secret<T: serde::de::DeserializeOwned>(
    body: &Value,
    secret: Option<&SecretString>,
    name: &str,
) -> anyhow::Result<T> {
    let mut body = body.clone();
    if let (Some(secret), Some(fields)) = (secret, body.as_object_mut()) {
        fields.insert(
            "client_secret".to_owned(),
            Value::String(secret.expose_secret().to_owned()),
        );
    }
    // The body carries the client secret, and a deserializer's message may quote the value it
    // refused: the error keeps none of it.
    serde_json::from_value(body).map_err(|_| {
        anyhow::anyhow!("provider `{name}`: not a valid request body (a field does not match the API's schema)")
    })
}

async fn run_step(client: &Client, change: &Change) -> anyhow::Result<Option<Done>> {
    match change {
        Change::Create { name, body, secret } => {
            let body: types::ProviderCreate = with_secret(body, secret.as_ref(), name)?;
            let created = client
                .provider_create()
                .body(body)
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("creating provider `{name}`: {}", describe(&e)))?;
            Ok(Some(Done::Created {
                name: name.clone(),
                id: created.id.to_string(),
            }))
        }
        Change::Update {
            name,
            id,
            patch,
            undo,
            secret,
            ..
        } => {
            let body: types::ProviderUpdate = with_secret(patch, secret.as_ref(), name)?;
            client
                .provider_update()
                .provider(id.as_str())
                .body(body)
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("updating provider `{name}`: {}", describe(&e)))?;
            Ok(Some(Done::Updated {
                name: name.clone(),
                id: id.clone(),
                undo: undo.clone(),
                secret_changed: secret.is_some(),
            }))
        }
        Change::Delete { name, id } => {
            client
                .provider_delete()
                .provider(id.as_str())
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("deleting provider `{name}`: {}", describe(&e)))?;
            Ok(Some(Done::Deleted { name: name.clone() }))
        }
        Change::Unchanged { .. } | Change::Unmanaged { .. } => Ok(None),
    }
}

/// Undoes the creates and updates in `done` (latest first); says what could not be undone.
async fn undo(client: &Client, done: Vec<Done>) -> Vec<String> {
    let mut problems = Vec::new();
    for step in done.into_iter().rev() {
        match step {
            Done::Created { name, id } => {
                if let Err(error) = client.provider_delete().provider(id.as_str()).send().await {
                    problems.push(format!(
                        "could not delete the created provider `{name}`: {}",
                        describe(&error)
                    ));
                }
            }
            Done::Updated {
                name,
                id,
                undo,
                secret_changed,
            } => {
                let restored = match serde_json::from_value::<types::ProviderUpdate>(undo) {
                    Ok(body) => client
                        .provider_update()
                        .provider(id.as_str())
                        .body(body)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| describe(&e)),
                    Err(error) => Err(error.to_string()),
                };
                if let Err(error) = restored {
                    problems.push(format!("could not restore provider `{name}`: {error}"));
                }
                if secret_changed {
                    problems.push(format!(
                        "provider `{name}` keeps its new client secret (the Broker never returns the old one)"
                    ));
                }
            }
            Done::Deleted { .. } => {}
        }
    }
    problems
}

/// Applies `plan`: creates, updates, then deletes; on a failure, undoes what it can.
pub async fn apply(client: &Client, plan: &Plan) -> anyhow::Result<Applied> {
    let order = |change: &Change| match change {
        Change::Create { .. } => 0,
        Change::Update { .. } => 1,
        Change::Delete { .. } => 2,
        Change::Unchanged { .. } | Change::Unmanaged { .. } => 3,
    };
    let mut steps: Vec<&Change> = plan.changes.iter().filter(|c| order(c) < 3).collect();
    steps.sort_by_key(|c| order(c));
    let mut done: Vec<Done> = Vec::new();
    let mut applied = Applied::default();
    for change in steps {
        match run_step(client, change).await {
            Ok(step) => {
                match change {
                    Change::Create { .. } => applied.created += 1,
                    Change::Update { .. } => applied.updated += 1,
                    _ => applied.deleted += 1,
                }
                done.extend(step);
            }
            Err(error) => {
                let deleted: Vec<String> = done
                    .iter()
                    .filter_map(|d| match d {
                        Done::Deleted { name } => Some(format!("`{name}`")),
                        _ => None,
                    })
                    .collect();
                if !deleted.is_empty() {
                    anyhow::bail!(
                        "{error}; providers {} were already deleted, so everything else applied stays: fix the cause and apply again",
                        deleted.join(", ")
                    );
                }
                let problems = undo(client, done).await;
                if problems.is_empty() {
                    anyhow::bail!("{error}; every earlier step was undone");
                }
                anyhow::bail!("{error}; earlier steps were undone, except: {}", problems.join("; "));
            }
        }
    }
    Ok(applied)
}
