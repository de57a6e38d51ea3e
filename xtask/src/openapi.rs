//! `cargo xtask openapi generate|check`: the specs come from the `nexus openapi` subcommand, so
//! they are rendered by the same code that serves them.

use crate::{compare, read, root};
use anyhow::{Context, bail};
use std::process::Command;

pub const SPECS: [&str; 2] = ["broker.json", "gateway.json"];

pub fn run(check: bool) -> anyhow::Result<()> {
    let root = root();
    let scratch = root.join("target").join("xtask-openapi");
    let status = Command::new(env!("CARGO"))
        .current_dir(&root)
        .args([
            "run",
            "--quiet",
            "--package",
            "nexus-server",
            "--bin",
            "nexus",
            "--",
            "openapi",
            "--out-dir",
        ])
        .arg(&scratch)
        .status()
        .context("running `nexus openapi`")?;
    if !status.success() {
        bail!("`nexus openapi --out-dir` failed ({status})");
    }
    for spec in SPECS {
        let generated = read(&scratch.join(spec))?;
        let target = root.join("openapi").join(spec);
        if check {
            compare(&target, &generated, "cargo xtask openapi generate")?;
        } else {
            std::fs::create_dir_all(root.join("openapi")).context("creating openapi/")?;
            std::fs::write(&target, generated).with_context(|| format!("writing {}", target.display()))?;
            println!("wrote {}", target.display());
        }
    }
    Ok(())
}
