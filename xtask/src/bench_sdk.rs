//! `cargo xtask bench sdk`: the per-request overhead of each SDK's authenticated client (Rust
//! `CredentialClient`, Python `NexusAuth`, TypeScript `createFetcher`, Go `nexus.Transport`)
//! with a cached credential,
//! against a bare request from the same language to the same local URL (the Gateway's
//! `/healthz`), measured in alternating rounds in one run. Writes BENCHMARKS.md.

use crate::bench::{Seed, seed_api_key_connection, spawn_serve, tempfile_dir, write_section};
use anyhow::{Context, bail};
use std::process::Command;

const REQUESTS: &str = "2000";
const ROUNDS: &str = "7";
const ADMIN_KEY: &str = "bench-admin-key-0000000000000000000000";

struct Measured {
    language: &'static str,
    client: &'static str,
    target_us: f64,
    bare_us: f64,
    sdk_us: f64,
}

fn parse(language: &'static str, client: &'static str, target_us: f64, output: &[u8]) -> anyhow::Result<Measured> {
    let text = String::from_utf8_lossy(output);
    let line = text.lines().last().context("no output")?;
    let value: serde_json::Value = serde_json::from_str(line).with_context(|| format!("{language}: `{line}`"))?;
    Ok(Measured {
        language,
        client,
        target_us,
        bare_us: value["bare_us"].as_f64().context("bare_us")?,
        sdk_us: value["sdk_us"].as_f64().context("sdk_us")?,
    })
}

fn run(command: &mut Command, what: &str) -> anyhow::Result<Vec<u8>> {
    let output = command.output().with_context(|| format!("running {what}"))?;
    if !output.status.success() {
        bail!("{what} failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(output.stdout)
}

pub fn sdk() -> anyhow::Result<()> {
    let root = crate::root();
    let binary = crate::bench::release_binary()?;
    let status = Command::new(env!("CARGO"))
        .current_dir(&root)
        .args([
            "build",
            "--release",
            "--package",
            "nexus-broker-client",
            "--example",
            "overhead",
        ])
        .status()
        .context("building the Rust overhead example")?;
    if !status.success() {
        bail!("building the Rust overhead example failed");
    }
    let Some(venv) = crate::tools::venv()? else {
        bail!("the SDK benchmark needs python3");
    };
    let typescript = root.join("clients").join("typescript");
    run(
        Command::new("npx")
            .args(["--no-install", "tsc", "-p", "tsconfig.test.json"])
            .current_dir(&typescript),
        "tsc",
    )?;

    let go_binary = crate::target_dir().join("go-bench").join("overhead");
    run(
        Command::new("go")
            .args(["build", "-o"])
            .arg(&go_binary)
            .arg("./bench/overhead")
            .current_dir(root.join("clients").join("go"))
            .env("GOPROXY", "off")
            .env("GOFLAGS", "-mod=mod"),
        "go build (the Go overhead program)",
    )?;

    let dir = tempfile_dir()?;
    let (_serve, broker, gateway) = spawn_serve(
        &binary,
        &dir,
        &[
            ("NEXUS_ADMIN_KEYS", ADMIN_KEY),
            ("NEXUS_SERVICE_KEYS", "bench-service-key-00000000000000000000"),
        ],
    )?;
    let client = reqwest::blocking::Client::new();
    let key = seed_api_key_connection(
        &client,
        &broker,
        ADMIN_KEY,
        Seed {
            provider: "bench-api",
            workspace: "bench-ws",
            api_key: "sk-bench-0123456789abcdef",
            // The SDKs send the key only to the provider's origins: here, the Gateway itself.
            api_base_url: Some(gateway.as_str()),
        },
    )?;
    let target = format!("{gateway}/healthz");
    let args = [
        gateway.as_str(),
        key.as_str(),
        "bench-ws",
        "bench-api",
        target.as_str(),
        REQUESTS,
        ROUNDS,
    ];

    let rust = run(
        Command::new(crate::target_dir().join("release").join("examples").join("overhead")).args(args),
        "the Rust overhead example",
    )?;
    let python = run(
        Command::new(venv.join("python"))
            .arg(root.join("clients").join("python").join("bench").join("overhead.py"))
            .args(args)
            .env("PYTHONPATH", root.join("clients").join("python").join("src")),
        "the Python overhead script",
    )?;
    let node = run(
        Command::new("node")
            .arg(typescript.join("target").join("test").join("bench").join("overhead.js"))
            .args(args),
        "the TypeScript overhead script",
    )?;
    let go = run(Command::new(&go_binary).args(args), "the Go overhead program")?;
    let measured = [
        parse("Rust", "`CredentialClient` (reqwest)", 5.0, &rust)?,
        parse("Python", "`NexusAuth` (httpx)", 50.0, &python)?,
        parse("TypeScript", "`createFetcher` (fetch)", 50.0, &node)?,
        parse("Go", "`nexus.Transport` (net/http)", 5.0, &go)?,
    ];
    let mut text = format!(
        "Measured by `cargo xtask bench sdk`: {REQUESTS} sequential requests per round, {ROUNDS} rounds alternating the bare client and the SDK's authenticated client (medians), to the Gateway's `/healthz` on 127.0.0.1 (release build), with the credential cached (it is resolved once, in the warm-up). Overhead is SDK minus bare, per request, in the same run.\n\nMachine: {}.\n\n| language | authenticated client | bare µs/request | with the SDK µs/request | overhead µs | target µs | ratio SDK/bare |\n|---|---|---|---|---|---|---|\n",
        crate::bench::machine()
    );
    for m in &measured {
        text.push_str(&format!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | ≤ {:.0} | {:.2} |\n",
            m.language,
            m.client,
            m.bare_us,
            m.sdk_us,
            m.sdk_us - m.bare_us,
            m.target_us,
            m.sdk_us / m.bare_us
        ));
    }
    write_section("sdk", "SDK overhead", &text)?;
    println!("\n{text}\nwrote BENCHMARKS.md");
    Ok(())
}
