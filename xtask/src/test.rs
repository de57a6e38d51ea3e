//! `cargo xtask test`: the one command that runs every test (the README's).

use anyhow::{Context, bail};
use std::process::Command;

const POSTGRES_URL_VAR: &str = "NEXUS_TEST_DATABASE_URL";

pub fn run() -> anyhow::Result<()> {
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
