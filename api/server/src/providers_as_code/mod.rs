//! `nexus providers export|plan|apply`: providers as code. A YAML file lists providers (the
//! fields of `POST /v1/providers`, catalog templates allowed, client secrets as `${ENV_VAR}`
//! references); `plan` compares it with a Broker's live providers and exits 2 on drift; `apply`
//! makes the Broker match. Everything goes through the Broker API with the generated client, so
//! it works against any deployment the admin key opens.

mod apply;
mod export;
mod file;
mod plan;

use anyhow::Context;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// The variable holding the admin key (never a flag: flags show in process listings).
pub const ADMIN_KEY_VAR: &str = "NEXUS_ADMIN_KEY";

#[derive(Args, Debug, Clone)]
pub struct Remote {
    /// The Broker to manage
    #[arg(long, env = "NEXUS_BROKER_URL", default_value = "http://127.0.0.1:8080")]
    pub broker_url: String,
}

#[derive(Subcommand, Debug)]
pub enum ProvidersCommand {
    /// Write the live providers as YAML (client secrets as ${ENV_VAR} references)
    Export {
        #[command(flatten)]
        remote: Remote,
        /// Write here instead of standard output
        #[arg(short, long)]
        out: Option<PathBuf>,
    },
    /// Show what apply would change; exits 2 when there is drift, 0 when there is none
    Plan {
        #[command(flatten)]
        remote: Remote,
        /// The providers file
        #[arg(short, long)]
        file: PathBuf,
        /// Count providers missing from the file as deletes
        #[arg(long)]
        prune: bool,
    },
    /// Make the Broker's providers match the file (undoing its own steps if one fails)
    Apply {
        #[command(flatten)]
        remote: Remote,
        #[arg(short, long)]
        file: PathBuf,
        /// Delete providers missing from the file (refused while they have connections)
        #[arg(long)]
        prune: bool,
    },
}

fn broker(remote: &Remote) -> anyhow::Result<nexus_client::broker::Client> {
    let key = std::env::var(ADMIN_KEY_VAR)
        .ok()
        .filter(|key| !key.is_empty())
        .with_context(|| {
            format!(
                "set {ADMIN_KEY_VAR} to an admin key of the Broker at {}",
                remote.broker_url
            )
        })?;
    nexus_client::broker_client(&remote.broker_url, &key).context("building the Broker client")
}

/// The live providers as the API shows them.
async fn live_providers(
    client: &nexus_client::broker::Client,
    remote: &Remote,
) -> anyhow::Result<Vec<serde_json::Value>> {
    let list = client
        .provider_list()
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("listing providers at {}: {e}", remote.broker_url))?
        .into_inner();
    list.items
        .into_iter()
        .map(|provider| serde_json::to_value(provider).context("reading a provider"))
        .collect()
}

/// The command's report (its output, not a log line).
fn print(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    std::io::stdout()
        .write_all(text.as_bytes())
        .context("writing to stdout")
}

fn read_file(file: &std::path::Path) -> anyhow::Result<file::DesiredState> {
    file::load(file, nexus_catalog::templates(), &|name| std::env::var(name).ok())
}

/// The exit status of a plan that found drift (CI fails on it).
pub const DRIFT_EXIT_STATUS: i32 = 2;

/// Runs a `nexus providers` command, returning its exit status (errors exit 1).
pub async fn run(command: ProvidersCommand) -> anyhow::Result<i32> {
    match command {
        ProvidersCommand::Export { remote, out } => {
            let client = broker(&remote)?;
            let text = export::render(&live_providers(&client, &remote).await?, &remote.broker_url)?;
            match out {
                Some(path) => std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?,
                None => print(&text)?,
            }
            Ok(0)
        }
        ProvidersCommand::Plan { remote, file, prune } => {
            // The file is read and checked before the Broker is asked anything.
            let desired = read_file(&file)?;
            let client = broker(&remote)?;
            let plan = plan::plan(&desired, &live_providers(&client, &remote).await?, prune)?;
            print(&plan.render())?;
            Ok(if plan.has_drift() { DRIFT_EXIT_STATUS } else { 0 })
        }
        ProvidersCommand::Apply { remote, file, prune } => {
            let desired = read_file(&file)?;
            let client = broker(&remote)?;
            let plan = plan::plan(&desired, &live_providers(&client, &remote).await?, prune)?;
            print(&plan.render())?;
            let applied = apply::apply(&client, &plan).await?;
            print(&format!(
                "Applied: {} created, {} updated, {} deleted.\n",
                applied.created, applied.updated, applied.deleted
            ))?;
            Ok(0)
        }
    }
}
