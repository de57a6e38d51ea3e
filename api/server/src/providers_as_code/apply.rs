//! Carrying out a plan through the Broker API: creates, then updates, then deletes (the one step
//! that cannot be undone, so it comes last, once everything else worked). When a step fails, what
//! was done is undone as far as the API allows: created providers are deleted and updated ones
//! patched back (but for a client secret, which the Broker never returns).

use super::plan::{Change, Plan};
use anyhow::Context;
use nexus_client::broker::{Client, types};
use serde_json::Value;

/// A step that was done, and how to undo it.
enum Done {
    Created { name: String, id: String },
    Updated { name: String, id: String, undo: Value },
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

async fn run_step(client: &Client, change: &Change) -> anyhow::Result<Option<Done>> {
    match change {
        Change::Create { name, body } => {
            let body: types::ProviderCreate =
                serde_json::from_value(body.clone()).with_context(|| format!("provider `{name}`: not a valid body"))?;
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
            name, id, patch, undo, ..
        } => {
            let body: types::ProviderUpdate = serde_json::from_value(patch.clone())
                .with_context(|| format!("provider `{name}`: not a valid change"))?;
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
            }))
        }
        Change::Delete { name, id } => {
            client
                .provider_delete()
                .provider(id.as_str())
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("deleting provider `{name}`: {}", describe(&e)))?;
            Ok(None)
        }
        Change::Unchanged { .. } | Change::Unmanaged { .. } => Ok(None),
    }
}

/// Undoes `done` (latest first) and says what could not be undone.
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
            Done::Updated { name, id, undo } => {
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
            }
        }
    }
    problems
}

/// Applies `plan`: creates, updates, then deletes; on a failure, undoes what it did.
pub async fn apply(client: &Client, plan: &Plan) -> anyhow::Result<Applied> {
    let order = |change: &Change| match change {
        Change::Create { .. } => 0,
        Change::Update { .. } => 1,
        Change::Delete { .. } => 2,
        Change::Unchanged { .. } | Change::Unmanaged { .. } => 3,
    };
    let mut steps: Vec<&Change> = plan.changes.iter().filter(|c| order(c) < 3).collect();
    steps.sort_by_key(|c| order(c));
    let mut done = Vec::new();
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
                let secrets_changed = done
                    .iter()
                    .any(|d| matches!(d, Done::Updated { .. }))
                    && plan.changes.iter().any(|c| {
                        matches!(c, Change::Update { changes, .. } if changes.iter().any(|f| f.field == "client_secret"))
                    });
                let problems = undo(client, done).await;
                let mut message = format!("{error}; nothing else was applied");
                if problems.is_empty() {
                    message.push_str(" and every earlier step was undone");
                } else {
                    message.push_str(&format!("; undoing earlier steps: {}", problems.join("; ")));
                }
                if secrets_changed {
                    message.push_str(
                        " (client secrets already changed stay changed: the Broker never returns the old ones)",
                    );
                }
                anyhow::bail!(message);
            }
        }
    }
    Ok(applied)
}
