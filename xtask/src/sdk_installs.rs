//! Each SDK installed the way its README says, from a fresh copy of its directory (the files git
//! tracks, nothing built), into a throwaway environment, then a three-line program run against a
//! running Nexus: what a new user does first. Python: `pip install "<copy>[requests]"` into a new
//! venv. TypeScript: `npm ci --prefix <copy>` (its `prepare` builds `dist/`), then
//! `npm install <copy>` into a new project. Rust: a new cargo project with a path dependency on
//! `clients/rust`, pinned to the workspace's lock file. Go: a new module requiring
//! `github.com/nexus-broker/nexus/clients/go`, replaced by the copy (`go mod edit -replace`, as
//! the README says for a clone), built with no module fetched.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The connection every program reads (made by the fuzz run's seed).
const WORKSPACE: &str = "ws-1";
const PROVIDER: &str = "keyed";
const API_KEY: &str = "sk-fuzz";

const PYTHON_PROGRAM: &str = r#"import sys, nexus_broker_client.requests_auth
from nexus_broker_client import Credentials, Target, gateway_client
assert Credentials(gateway_client(sys.argv[1], sys.argv[2])).get(Target(workspace_id=sys.argv[3], provider=sys.argv[4])).credentials[sys.argv[5]] == sys.argv[6]
"#;

const TYPESCRIPT_PROGRAM: &str = r#"import { Credentials } from "nexus-broker-client";
const [gatewayUrl, agentKey, workspaceId, provider, field, value] = process.argv.slice(2);
if ((await new Credentials({ gatewayUrl, agentKey }).get({ workspaceId, provider })).credentials[field] !== value) process.exit(1);
"#;

const RUST_PROGRAM: &str = r#"use nexus_client::credentials::{Credentials, Target};
#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let credentials = Credentials::new(nexus_client::gateway_client(&args[1], &args[2]).expect("client"));
    let envelope = credentials.get(&Target::Resolve { workspace_id: args[3].clone(), provider: args[4].clone() }).await.expect("resolve");
    assert_eq!(envelope.credentials.get(&args[5]), Some(&args[6]));
}
"#;

const GO_PROGRAM: &str = r#"package main

import (
	"context"
	"fmt"
	"os"

	"github.com/nexus-broker/nexus/clients/go/nexus"
)

func main() {
	envelope, err := nexus.NewCredentials(os.Args[1], os.Args[2]).Get(context.Background(), nexus.Target{WorkspaceID: os.Args[3], Provider: os.Args[4]})
	if err != nil || envelope.Credentials[os.Args[5]] != os.Args[6] {
		fmt.Fprintln(os.Stderr, "the credential was not read:", err)
		os.Exit(1)
	}
}
"#;

/// Installs and runs each SDK; returns the ones that failed.
pub fn check(gateway: &str, agent_key: &str) -> anyhow::Result<Vec<&'static str>> {
    let dir = crate::scratch_dir("sdk-installs")?;
    let args = [gateway, agent_key, WORKSPACE, PROVIDER, "api_key", API_KEY];
    let mut failed = Vec::new();
    for (name, install) in [
        ("Python", python as fn(&Path, &[&str]) -> anyhow::Result<()>),
        ("TypeScript", typescript),
        ("Rust", rust),
        ("Go", go),
    ] {
        let started = Instant::now();
        match install(&dir.join(name.to_lowercase()), &args) {
            Ok(()) => println!(
                "the {name} SDK installs as its README says and works ({} s)",
                started.elapsed().as_secs()
            ),
            Err(error) => {
                eprintln!("the {name} SDK as its README installs it: {error:#}");
                failed.push(match name {
                    "Python" => "the Python SDK installed as its README says",
                    "TypeScript" => "the TypeScript SDK installed as its README says",
                    "Go" => "the Go SDK installed as its README says",
                    _ => "the Rust SDK installed as its README says",
                });
            }
        }
    }
    Ok(failed)
}

/// The files git tracks under `relative`, copied to `to`.
fn fresh_copy(relative: &str, to: &Path) -> anyhow::Result<PathBuf> {
    let root = crate::root();
    let listed = Command::new("git")
        .args(["ls-files", "-z", relative])
        .current_dir(&root)
        .output()
        .context("git ls-files")?;
    if !listed.status.success() {
        bail!("git ls-files {relative} failed");
    }
    for file in listed.stdout.split(|b| *b == 0).filter(|f| !f.is_empty()) {
        let file = std::str::from_utf8(file).context("a path that is not UTF-8")?;
        let target = to.join(file.strip_prefix(relative).unwrap_or(file).trim_start_matches('/'));
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(root.join(file), &target).with_context(|| format!("copying {file}"))?;
    }
    Ok(to.to_path_buf())
}

fn run(command: &mut Command, what: &str) -> anyhow::Result<()> {
    let status = command.status().with_context(|| format!("starting {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

fn python(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    let copy = fresh_copy("clients/python", &dir.join("copy"))?;
    let venv = dir.join("venv");
    run(
        Command::new("python3").arg("-m").arg("venv").arg(&venv),
        "python3 -m venv",
    )?;
    let bin = venv.join("bin");
    run(
        Command::new(bin.join("pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(format!("{}[requests]", copy.display())),
        "pip install clients/python[requests]",
    )?;
    let program = dir.join("check.py");
    std::fs::write(&program, PYTHON_PROGRAM)?;
    // Run from elsewhere, so the import comes from the venv, not from a source tree.
    run(
        Command::new(bin.join("python"))
            .arg(&program)
            .args(args)
            .current_dir(dir),
        "the Python program",
    )
}

fn typescript(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    let copy = fresh_copy("clients/typescript", &dir.join("copy"))?;
    run(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(&copy),
        "npm ci --prefix clients/typescript",
    )?;
    let app = dir.join("app");
    std::fs::create_dir_all(&app)?;
    std::fs::write(
        app.join("package.json"),
        "{\"name\": \"sdk-install-check\", \"private\": true, \"type\": \"module\"}\n",
    )?;
    run(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund"])
            .arg(&copy)
            .current_dir(&app),
        "npm install clients/typescript",
    )?;
    std::fs::write(app.join("check.mjs"), TYPESCRIPT_PROGRAM)?;
    run(
        Command::new("node").arg("check.mjs").args(args).current_dir(&app),
        "the TypeScript program",
    )
}

fn rust(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    let root = crate::root();
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"sdk-install-check\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\nnexus-broker-client = {{ path = \"{}\" }}\n\
             tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }}\n\n[workspace]\n",
            root.join("clients").join("rust").display()
        ),
    )?;
    std::fs::write(dir.join("src").join("main.rs"), RUST_PROGRAM)?;
    // The workspace's versions: what a user gets may be newer, but this run must not depend on
    // what the registry published today.
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock"))?;
    run(
        Command::new(env!("CARGO"))
            .args(["run", "--quiet", "--"])
            .args(args)
            .current_dir(dir)
            .env("CARGO_TARGET_DIR", root.join("target").join("sdk-install-rust")),
        "the Rust program (cargo run)",
    )
}

fn go(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    if !crate::clients_go::go_installed()? {
        return Ok(());
    }
    let copy = fresh_copy("clients/go", &dir.join("copy"))?;
    let app = dir.join("app");
    std::fs::create_dir_all(&app)?;
    let go = |args: &[&str]| {
        let mut command = Command::new("go");
        command
            .args(args)
            .current_dir(&app)
            .env("GOPROXY", "off")
            .env("GOFLAGS", "-mod=mod");
        command
    };
    run(
        &mut go(&["mod", "init", "example.com/sdk-install-check"]),
        "go mod init",
    )?;
    run(
        &mut go(&[
            "mod",
            "edit",
            "-require=github.com/nexus-broker/nexus/clients/go@v0.0.0",
            &format!("-replace=github.com/nexus-broker/nexus/clients/go={}", copy.display()),
        ]),
        "go mod edit -replace",
    )?;
    std::fs::write(app.join("main.go"), GO_PROGRAM)?;
    run(&mut go(&["mod", "tidy"]), "go mod tidy")?;
    let mut program = go(&["run", "."]);
    run(program.args(args), "the Go program (go run)")
}
