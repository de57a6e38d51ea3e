//! `cargo xtask test`: the one command that runs every test (the README's).

use anyhow::{Context, bail};
use std::process::Command;

const POSTGRES_URL_VAR: &str = "NEXUS_TEST_DATABASE_URL";

/// npm packages the tests run (a real OpenID provider), installed from their lock file.
const NPM_FIXTURES: [&str; 1] = ["api/server/tests/oidc"];

fn install_npm_fixtures() -> anyhow::Result<()> {
    for dir in NPM_FIXTURES {
        let dir = crate::root().join(dir);
        if dir.join("node_modules").exists() {
            continue;
        }
        let status = match Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
        {
            Ok(status) => status,
            // Without Node.js the real-provider tests skip (and say so); CI must have it.
            Err(error) if std::env::var_os("CI").is_none() => {
                println!("note: npm is not available ({error}): the tests against a real OpenID provider will skip");
                continue;
            }
            Err(error) => return Err(error).with_context(|| format!("running npm ci in {}", dir.display())),
        };
        if !status.success() {
            bail!("npm ci failed in {}", dir.display());
        }
    }
    Ok(())
}

pub fn run() -> anyhow::Result<()> {
    install_npm_fixtures()?;
    // PostgreSQL: the database named by the variable (CI), else a throwaway cluster when the
    // server binaries are here, else the PostgreSQL tests are left out (not run and called ok).
    let mut cluster = None;
    let url = match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) => Some(url),
        Err(_) => match crate::postgres::PrivateCluster::start()? {
            Some(started) => {
                println!(
                    "note: {POSTGRES_URL_VAR} is not set: running the PostgreSQL tests on a throwaway cluster in {}",
                    started.dir().display()
                );
                let url = started.url.clone();
                cluster = Some(started);
                Some(url)
            }
            None => {
                println!(
                    "note: no PostgreSQL server binaries and {POSTGRES_URL_VAR} is not set: the PostgreSQL tests \
                     are skipped (left out of the run, not reported as passing); see README.md"
                );
                None
            }
        },
    };
    let mut command = Command::new(env!("CARGO"));
    command
        .current_dir(crate::root())
        .args(["test", "--workspace", "--all-targets"]);
    // The webhook tests verify deliveries with the `standardwebhooks` package of the tool venv.
    if let Some(bin) = crate::tools::venv()? {
        command.env("NEXUS_TEST_PYTHON", bin.join("python"));
    }
    match &url {
        Some(url) => {
            command.env(POSTGRES_URL_VAR, url);
        }
        None => {
            command.args(["--", "--skip", "postgres"]);
        }
    }
    let status = command.status().context("running cargo test")?;
    drop(cluster);
    if !status.success() {
        bail!("tests failed ({status})");
    }
    Ok(())
}

/// The documentation's examples (`cargo test --doc`): `--all-targets` leaves them out.
pub fn doctests() -> anyhow::Result<()> {
    let status = Command::new(env!("CARGO"))
        .current_dir(crate::root())
        .args(["test", "--workspace", "--doc"])
        .status()
        .context("running cargo test --doc")?;
    if !status.success() {
        bail!("doctests failed ({status})");
    }
    Ok(())
}
