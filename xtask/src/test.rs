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
    if std::env::var_os(POSTGRES_URL_VAR).is_none() {
        println!(
            "note: {POSTGRES_URL_VAR} is not set: the PostgreSQL half of the database tests is skipped \
             (CI sets it; see README.md)"
        );
    }
    let status = Command::new(env!("CARGO"))
        .current_dir(crate::root())
        .args(["test", "--workspace", "--all-targets"])
        .status()
        .context("running cargo test")?;
    if !status.success() {
        bail!("tests failed ({status})");
    }
    Ok(())
}
