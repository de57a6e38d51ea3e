//! Schemathesis against a running Nexus, both specs, every check: `nexus serve` (debug build,
//! SQLite, a temporary data directory) is seeded with a provider, a captured connection and an
//! agent key, then the Broker spec is run with an admin key, its internal operations with a
//! service key and that agent's key, and the Gateway spec with the agent key. Any failure fails
//! `cargo xtask test`. Exceptions are in `xtask/tools/schemathesis.toml`, each explained. The
//! Python, TypeScript and Go SDKs' live round trips, the MCP conformance suite's client
//! authorization scenarios and the MCP example driven over stdio run against the same Nexus first.

use crate::bench::{Process, address, spawn};
use anyhow::{Context, bail};
use std::path::Path;
use std::process::Command;

const ADMIN_KEY: &str = "fuzz-admin-key-0000000000000000000000";
const SERVICE_KEY: &str = "fuzz-service-key-000000000000000000000";
/// Examples per operation: enough to cover every schema keyword, bounded for a 2-core CI.
const MAX_EXAMPLES: &str = "25";
/// Fixed, so a failure in CI reproduces locally with the same command.
const SEED: &str = "20261129";

struct Run<'a> {
    label: &'a str,
    base: &'a str,
    key: &'a str,
    extra: &'a [&'a str],
}

pub fn run() -> anyhow::Result<()> {
    let Some(bin) = crate::tools::venv()? else {
        return Ok(());
    };
    let root = crate::root();
    let binary = crate::debug_nexus()?;
    let dir = crate::scratch_dir("fuzz-run")?;
    let (server, fields): (Process, _) = spawn(
        &binary,
        &dir,
        &[
            "serve",
            "--broker-listen",
            "127.0.0.1:0",
            "--gateway-listen",
            "127.0.0.1:0",
        ],
        &[
            ("NEXUS_ADMIN_KEYS", ADMIN_KEY),
            ("NEXUS_SERVICE_KEYS", SERVICE_KEY),
            // Fuzzed webhooks name arbitrary hosts: nothing is delivered (or even looked up),
            // so the run stays on this machine.
            ("NEXUS_WEBHOOK_CONCURRENCY", "0"),
            ("NEXUS_WEBHOOK_ALLOW_PRIVATE", "true"),
            // The MCP conformance suite's CIMD scenario names the document it expects.
            (
                "NEXUS_CLIENT_METADATA_URL",
                crate::mcp_conformance::CONFORMANCE_METADATA_URL,
            ),
        ],
        "nexus is listening",
    )?;
    let broker = address(&fields, "broker_addr");
    let gateway = address(&fields, "gateway_addr");
    let agent_key = seed(&broker)?;
    // A real OpenID provider, and a workspace connected to it for each SDK's live round trip.
    let oidc = OpenIdProvider::start(&format!("{broker}/auth/callback"))?;
    let client = reqwest::blocking::Client::new();
    crate::bench::post(
        &client,
        &format!("{broker}/v1/providers"),
        ADMIN_KEY,
        serde_json::json!({
            "name": "oidc", "auth_type": "oauth2", "client_id": "nexus", "client_secret": OIDC_CLIENT_SECRET,
            "issuer": oidc.issuer, "scopes": ["openid", "offline_access", "email"],
            "authorization_params": {"prompt": "consent"}
        }),
    )?;
    for workspace in ["ws-py-oauth", "ws-ts-oauth", "ws-go-oauth"] {
        consent_in_a_browser(&client, &broker, workspace)?;
    }
    let agent_header = format!("X-Nexus-Agent-Key: {agent_key}");
    let runs = [
        Run {
            label: "Broker API (admin key)",
            base: &broker,
            key: ADMIN_KEY,
            // DELETE on a connection revokes it (see xtask/tools/schemathesis.toml).
            extra: &["--exclude-tag", "Internal", "--exclude-checks", "use_after_free"],
        },
        Run {
            label: "Broker internal API (service key, agent key)",
            base: &broker,
            key: SERVICE_KEY,
            extra: &["--include-tag", "Internal", "-H", &agent_header],
        },
        Run {
            label: "Gateway API (agent key)",
            base: &gateway,
            key: &agent_key,
            extra: &[],
        },
    ];
    let mut failed = Vec::new();
    // First, on a workspace of its own: the generated Python client and `NexusAuth` against the
    // same Gateway, delivering the key to a local API (before schemathesis deletes things).
    let smoke = Command::new(bin.join("python"))
        .arg(root.join("clients").join("python").join("tests").join("live_smoke.py"))
        .args([gateway.as_str(), broker.as_str(), ADMIN_KEY])
        .env("PYTHONPATH", root.join("clients").join("python").join("src"))
        .env("NEXUS_OIDC_ISSUER", &oidc.issuer)
        .status()
        .context("running the Python client's live round trip")?;
    if !smoke.success() {
        failed.push("the Python client against the Gateway");
    }
    // The same for the TypeScript SDK's `createFetcher`, on a workspace of its own.
    let live = Command::new("npm")
        .args(["run", "--silent", "test:live"])
        .current_dir(root.join("clients").join("typescript"))
        .env("NEXUS_BROKER_URL", &broker)
        .env("NEXUS_GATEWAY_URL", &gateway)
        .env("NEXUS_ADMIN_KEY", ADMIN_KEY)
        .env("NEXUS_OIDC_ISSUER", &oidc.issuer)
        .status()
        .context("running the TypeScript client's live round trip")?;
    if !live.success() {
        failed.push("the TypeScript client against the Gateway");
    }
    // The same for the Go SDK's Transport, on workspaces of its own (both tests must run, not skip).
    if crate::clients_go::go_installed()? {
        let output = Command::new("go")
            .args(["test", "-count=1", "-run", "^TestLive", "-v", "./nexus"])
            .current_dir(root.join("clients").join("go"))
            .env("GOPROXY", "off")
            .env("GOFLAGS", "-mod=mod")
            .env("NEXUS_BROKER_URL", &broker)
            .env("NEXUS_GATEWAY_URL", &gateway)
            .env("NEXUS_ADMIN_KEY", ADMIN_KEY)
            .env("NEXUS_OIDC_ISSUER", &oidc.issuer)
            .output()
            .context("running the Go client's live round trip")?;
        let text = String::from_utf8_lossy(&output.stdout);
        print!("{text}");
        let ran = ["--- PASS: TestLiveAPIKey", "--- PASS: TestLiveOAuth2"]
            .iter()
            .all(|line| text.contains(line));
        if !output.status.success() || !ran {
            failed.push("the Go client against the Gateway");
        }
    }
    // The MCP conformance suite's client authorization scenarios, Nexus as the client's
    // authorization layer.
    if !crate::mcp_conformance::run(&broker, &gateway, ADMIN_KEY)? {
        failed.push("the MCP conformance suite (client authorization)");
    }
    // The MCP example over stdio, its tool calling a local API through the same Gateway.
    let example = root.join("examples").join("mcp-server");
    if !example.join("node_modules").exists() {
        let installed = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&example)
            .status()
            .context("installing the MCP example")?;
        if !installed.success() {
            bail!("npm ci failed in examples/mcp-server");
        }
    }
    let mcp = Command::new("npm")
        .args(["test", "--silent"])
        .current_dir(&example)
        .env("NEXUS_BROKER_URL", &broker)
        .env("NEXUS_GATEWAY_URL", &gateway)
        .env("NEXUS_ADMIN_KEY", ADMIN_KEY)
        .status()
        .context("running the MCP example's test")?;
    if !mcp.success() {
        failed.push("the MCP example over stdio");
    }
    // Each SDK as a new user installs it (its README's way, a fresh copy, a throwaway
    // environment), reading the seeded connection through the same Gateway.
    failed.extend(crate::sdk_installs::check(&gateway, &agent_key)?);
    for run in runs {
        println!("schemathesis: {}", run.label);
        if !schemathesis(&bin.join("schemathesis"), &dir, &run)? {
            failed.push(run.label);
        }
    }
    drop(server);
    if !failed.is_empty() {
        bail!("the live checks found failures in: {}", failed.join("; "));
    }
    Ok(())
}

/// An API-key provider `keyed`, workspace `ws-1` connected to it, and an agent key.
fn seed(broker: &str) -> anyhow::Result<String> {
    crate::bench::seed_api_key_connection(
        &reqwest::blocking::Client::new(),
        broker,
        ADMIN_KEY,
        crate::bench::Seed {
            provider: "keyed",
            workspace: "ws-1",
            api_key: "sk-fuzz",
            api_base_url: None,
        },
    )
}

/// The client secret the test OpenID provider is started with.
const OIDC_CLIENT_SECRET: &str = "fuzz-oidc-client-secret-0000";

/// The server tests' OpenID provider (`api/server/tests/oidc/provider.mjs`), stopped when dropped.
struct OpenIdProvider {
    child: std::process::Child,
    issuer: String,
}

impl OpenIdProvider {
    fn start(redirect_uri: &str) -> anyhow::Result<Self> {
        use std::io::BufRead;
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(crate::root().join("api").join("server").join("tests").join("oidc"))
            .env("REDIRECT_URI", redirect_uri)
            .env("CLIENT_SECRET", OIDC_CLIENT_SECRET)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .context("starting the test OpenID provider (npm ci --prefix api/server/tests/oidc)")?;
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().context("stdout")?)
            .read_line(&mut line)
            .context("the OpenID provider's first line")?;
        let value: serde_json::Value = serde_json::from_str(&line).context("the OpenID provider's JSON line")?;
        let issuer = value["issuer"].as_str().context("issuer")?.to_owned();
        Ok(Self { child, issuer })
    }
}

impl Drop for OpenIdProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Connects `workspace` to the `oidc` provider: a consent, completed by the server tests' real
/// browser driver (headless Chromium) at the provider's login and consent pages.
fn consent_in_a_browser(client: &reqwest::blocking::Client, broker: &str, workspace: &str) -> anyhow::Result<()> {
    // Where the browser lands afterwards: a page that exists (Chromium refuses port 9 outright).
    let done = format!("{broker}/healthz");
    let done = done.as_str();
    let consent = crate::bench::post(
        client,
        &format!("{broker}/v1/consents"),
        ADMIN_KEY,
        serde_json::json!({"workspace_id": workspace, "provider": "oidc", "return_url": done}),
    )?;
    let auth_url = consent["auth_url"].as_str().context("auth_url")?;
    let output = Command::new("node")
        .args(["browser.mjs", "consent", auth_url, done])
        .current_dir(crate::root().join("api").join("server").join("tests").join("oidc"))
        .output()
        .context("driving the consent in Chromium")?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !text.contains("status=success") {
        bail!(
            "the consent for {workspace} did not complete: {} {}",
            text.trim(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

fn schemathesis(binary: &Path, dir: &Path, run: &Run<'_>) -> anyhow::Result<bool> {
    let output = Command::new(binary)
        .current_dir(dir)
        .arg("--config-file")
        .arg(crate::root().join("xtask").join("tools").join("schemathesis.toml"))
        .args(["run", &format!("{}/openapi.json", run.base), "--url", run.base])
        .args(["-H", &format!("Authorization: Bearer {}", run.key)])
        .args(run.extra)
        .args([
            "--checks",
            "all",
            "--max-examples",
            MAX_EXAMPLES,
            "--seed",
            SEED,
            "--no-color",
        ])
        .env("SCHEMATHESIS_HOOKS", "")
        .output()
        .context("running schemathesis")?;
    let text = String::from_utf8_lossy(&output.stdout);
    // The summary, and each failure's heading and first lines (bodies can be huge).
    for line in text.lines().filter(|line| line.chars().count() <= 300) {
        println!("  {line}");
    }
    Ok(output.status.success())
}
