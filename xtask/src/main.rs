//! `cargo xtask`: project tasks. Thin: heavy work is delegated to the `nexus` binary (specs) and
//! to progenitor (the Rust client); every generator has a `check` twin that fails on drift.

// A command-line tool: stdout is where it reports.
#![allow(clippy::print_stdout)]

mod bench;
mod bench_cached_refresh;
mod bench_proxy;
mod bench_refresh;
mod bench_sdk;
mod bench_uncached;
mod changelog;
mod clients;
mod clients_go;
mod clients_python;
mod clients_typescript;
mod delivery;
mod docs;
mod fuzz;
mod layers;
mod mcp_conformance;
mod openapi;
mod postgres;
mod redaction;
mod release;
mod release_rehearsal;
mod sdk_installs;
mod test;
mod tools;
mod version;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};

#[derive(Parser, Debug)]
#[command(name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The committed OpenAPI specs (`openapi/*.json`)
    Openapi {
        #[command(subcommand)]
        action: Action,
    },
    /// The generated clients: Rust, Python (`clients/python`), TypeScript (`clients/typescript`) and Go (`clients/go`)
    Clients {
        #[command(subcommand)]
        action: Action,
    },
    /// The API reference in `docs/api/`, rendered from the committed specs
    Docs {
        #[command(subcommand)]
        action: Action,
    },
    /// Fail on any workspace dependency edge the layer table does not allow
    CheckLayers,
    /// Fail when manifests or specs disagree with `VERSION`
    CheckVersion,
    /// Every check CI runs before the tests: specs, clients, reference docs, layers, version
    Check,
    /// Benchmarks: `resolve` (resolve against an authentication-only baseline, one process and
    /// split), `refresh` (background refresh across replicas)
    Bench {
        #[command(subcommand)]
        which: Bench,
    },
    /// The whole test suite: `check`, then `cargo test --workspace`, on PostgreSQL too (the
    /// NEXUS_TEST_DATABASE_URL database, or a throwaway cluster when the server binaries exist),
    /// then the Python, TypeScript and Go SDK tests, then `fuzz`
    Test,
    /// Schemathesis against a running Nexus, both specs, every check
    Fuzz,
    /// Release X.Y.Z: stamp the version everywhere, move the changelog's `## Unreleased` under it,
    /// regenerate specs, clients and docs, run the checks, commit and tag `vX.Y.Z` (never pushes)
    Release {
        /// The new version, such as 0.2.0 (above the one in VERSION)
        version: String,
        /// Show every file it would change; commit and tag nothing
        #[arg(long)]
        dry_run: bool,
        /// Run `cargo xtask check` instead of the whole test suite (`cargo xtask test`)
        #[arg(long)]
        skip_tests: bool,
        /// Run this shell command as the check instead (the rehearsal's failing check)
        #[arg(long, hide = true)]
        check_command: Option<String>,
    },
    /// Lint what ships besides the code: Dockerfile, workflows, compose, scripts, Prometheus
    /// config and alert rules (with their tests), and a live scrape of `/metrics`
    Delivery,
    /// Build the container image from the release binary with podman and smoke-test it
    ImageSmoke,
    /// The release command's test: refusals, a failing check, a dry run and a release, in a
    /// temporary clone
    ReleaseRehearsal,
}

#[derive(Subcommand, Debug, Clone, Copy)]
enum Bench {
    /// `GET /v1/resolve` against the baseline, at 1, 8 and 32 connections
    Resolve {
        /// Resolve a random one of `--connections` seeded workspaces per request (cache
        /// misses), on SQLite and PostgreSQL, against `pgbench -S` and a keyed-select route
        #[arg(long)]
        uncached: bool,
        /// Connections seeded for `--uncached`, one per workspace
        #[arg(long, default_value_t = 100_000, requires = "uncached")]
        connections: usize,
        /// The cached path while 1% of 2,000 connections refresh, with per-connection
        /// invalidation against the whole-process invalidation it replaced, and the hit rate
        #[arg(long, conflicts_with = "uncached")]
        refreshing: bool,
    },
    /// Background refresh of 10,000 due credentials by 1 and 3 Broker processes on PostgreSQL,
    /// against a local mock token endpoint (needs `psql` and PostgreSQL on 127.0.0.1:5432)
    Refresh,
    /// A call through the Gateway's proxy against the same call made directly, at 1, 8 and 32
    /// connections
    Proxy,
    /// Per-request overhead of each SDK's authenticated client against a bare request
    Sdk,
}

#[derive(Subcommand, Debug, Clone, Copy)]
enum Action {
    /// Regenerate and write
    Generate,
    /// Regenerate in memory and fail if the committed files differ
    Check,
}

/// The workspace root (the parent of this crate's directory).
///
/// Read at run time first: `cargo run` says where this crate is, and another checkout of the
/// repository (a release worktree) may have built the same binary into a shared target dir.
pub fn root() -> PathBuf {
    let manifest_dir =
        std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Where cargo builds: `CARGO_TARGET_DIR`, else the checkout's `target/` (a release worktree
/// builds into the checkout's, so its binaries are found there).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

/// Builds the debug `nexus` binary and returns its path.
pub fn debug_nexus() -> anyhow::Result<PathBuf> {
    let status = std::process::Command::new(env!("CARGO"))
        .current_dir(root())
        .args(["build", "--quiet", "--package", "nexus-server", "--bin", "nexus"])
        .status()
        .context("building nexus")?;
    if !status.success() {
        anyhow::bail!("building nexus failed ({status})");
    }
    Ok(target_dir().join("debug").join("nexus"))
}

/// An empty scratch directory `target/<name>` (what a previous run left is removed).
pub fn scratch_dir(name: &str) -> anyhow::Result<PathBuf> {
    let dir = root().join("target").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

pub fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// Compares generated text with a committed file; the error names the command that fixes it.
pub fn compare(path: &Path, generated: &str, fix: &str) -> anyhow::Result<()> {
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    if committed != generated {
        anyhow::bail!("{} is out of date: run `{fix}` and commit the result", path.display());
    }
    Ok(())
}

fn main() {
    if let Err(error) = run(Cli::parse()) {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Openapi { action } => openapi::run(action == Action::Check),
        Command::Clients { action } => clients::run(action == Action::Check),
        Command::Docs { action } => docs::run(action == Action::Check),
        Command::CheckLayers => layers::check(),
        Command::CheckVersion => version::check(),
        Command::Check => check(),
        Command::Bench {
            which:
                Bench::Resolve {
                    uncached: false,
                    refreshing: false,
                    ..
                },
        } => bench::resolve(),
        Command::Bench {
            which: Bench::Resolve { refreshing: true, .. },
        } => {
            let text = bench_cached_refresh::refreshing()?;
            bench::write_section(
                "resolve-refreshing",
                "Resolve, cached, while connections refresh",
                &text,
            )?;
            println!("\n{text}\nwrote BENCHMARKS.md");
            Ok(())
        }
        Command::Bench {
            which:
                Bench::Resolve {
                    uncached: true,
                    connections,
                    ..
                },
        } => {
            let text = bench_uncached::uncached(connections)?;
            bench::write_section("resolve-uncached", "Resolve, uncached", &text)?;
            println!("\n{text}\nwrote BENCHMARKS.md");
            Ok(())
        }
        Command::Bench { which: Bench::Refresh } => bench_refresh::refresh(),
        Command::Bench { which: Bench::Sdk } => bench_sdk::sdk(),
        Command::Bench { which: Bench::Proxy } => bench_proxy::proxy(),
        Command::Test => {
            let stages: [(&str, Stage); 10] = [
                ("check", check),
                ("workspace tests", test::run),
                ("doctests", test::doctests),
                ("Python SDK", clients_python::test),
                ("TypeScript SDK", clients_typescript::test),
                ("Go SDK", clients_go::test),
                ("fuzz", fuzz::run),
                ("delivery", delivery::check),
                ("image smoke", delivery::image_smoke),
                ("release rehearsal", release_rehearsal::run),
            ];
            let started = std::time::Instant::now();
            let mut times = Vec::new();
            for (name, stage) in stages {
                let stage_started = std::time::Instant::now();
                let result = stage();
                times.push(format!("{name}: {:.0} s", stage_started.elapsed().as_secs_f64()));
                println!("\n== stage {name} took {:.0} s", stage_started.elapsed().as_secs_f64());
                result.with_context(|| format!("stage `{name}`"))?;
            }
            println!(
                "\n== cargo xtask test passed in {:.0} s ({})",
                started.elapsed().as_secs_f64(),
                times.join(", ")
            );
            Ok(())
        }
        Command::Fuzz => fuzz::run(),
        Command::Release {
            version,
            dry_run,
            skip_tests,
            check_command,
        } => release::run(&release::Options {
            version,
            dry_run,
            skip_tests,
            check_command,
            target_dir: None,
        }),
        Command::ReleaseRehearsal => release_rehearsal::run(),
        Command::Delivery => delivery::check(),
        Command::ImageSmoke => delivery::image_smoke(),
    }
}

/// One stage of `cargo xtask test`.
type Stage = fn() -> anyhow::Result<()>;

fn check() -> anyhow::Result<()> {
    openapi::run(true)?;
    clients::run(true)?;
    docs::run(true)?;
    layers::check()?;
    version::check()
}

impl PartialEq for Action {
    fn eq(&self, other: &Self) -> bool {
        matches!(
            (self, other),
            (Self::Generate, Self::Generate) | (Self::Check, Self::Check)
        )
    }
}
