//! `cargo xtask delivery`: what ships besides the code is checked like code. The Dockerfile
//! (hadolint), the workflows (zizmor, and check-jsonschema with Dependabot's config), the compose
//! file (check-jsonschema against the compose spec, offline), the shell scripts (shellcheck), the
//! Prometheus config and alert rules (`promtool check` and `promtool test rules`), and a live
//! scrape of a running Nexus (`promtool check metrics`). `cargo xtask image-smoke` builds the
//! container image from the release binary with podman and runs `deploy/image/smoke.sh`.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `promtool check metrics` findings the public contract fixes: `nexus_connections_total` is a
/// gauge (connections by status, polled) whose name dashboards already use.
const ALLOWED_METRIC_FINDINGS: &[&str] =
    &["nexus_connections_total non-counter metrics should not have \"_total\" suffix"];

pub fn check() -> anyhow::Result<()> {
    let root = crate::root();
    let Some(bin) = crate::tools::venv()? else {
        return Ok(());
    };
    let workflows: Vec<String> = std::fs::read_dir(root.join(".github/workflows"))
        .context("reading .github/workflows")?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yml" || ext == "yaml"))
        .map(|path| path.to_string_lossy().into_owned())
        .collect();
    let mut jsonschema_workflows = vec!["--builtin-schema", "vendor.github-workflows"];
    jsonschema_workflows.extend(workflows.iter().map(String::as_str));
    let scripts = [
        ".ci/run",
        "deploy/image/make-base.sh",
        "deploy/image/setup-podman.sh",
        "deploy/image/smoke.sh",
    ];
    let mut shellcheck = vec!["--severity=style"];
    shellcheck.extend(scripts);
    let steps: Vec<(&str, PathBuf, Vec<&str>)> = vec![
        ("hadolint", bin.join("hadolint"), vec!["Dockerfile"]),
        ("zizmor", bin.join("zizmor"), vec!["--offline", "."]),
        (
            "check-jsonschema (workflows)",
            bin.join("check-jsonschema"),
            jsonschema_workflows,
        ),
        (
            "check-jsonschema (dependabot)",
            bin.join("check-jsonschema"),
            vec!["--builtin-schema", "vendor.dependabot", ".github/dependabot.yml"],
        ),
        (
            "check-jsonschema (compose)",
            bin.join("check-jsonschema"),
            vec!["--builtin-schema", "vendor.compose-spec", "deploy/compose.yaml"],
        ),
        ("shellcheck", bin.join("shellcheck"), shellcheck),
    ];
    for (label, program, args) in steps {
        run(label, Command::new(program).args(args).current_dir(&root))?;
    }
    let Some(promtool) = promtool()? else {
        return Ok(());
    };
    let prometheus = root.join("deploy/prometheus");
    for (label, args) in [
        ("promtool check config", ["check", "config", "prometheus.yml"]),
        ("promtool check rules", ["check", "rules", "alerts.yml"]),
        ("promtool test rules", ["test", "rules", "alerts.test.yml"]),
    ] {
        run(label, Command::new(&promtool).args(args).current_dir(&prometheus))?;
    }
    live_scrape(&promtool)?;
    generated_env_file_starts_production(&root)
}

/// `deploy/init-env.sh` writes an env file with which Nexus starts in production mode (the
/// compose file's database host aside: a scratch database stands in for it).
fn generated_env_file_starts_production(root: &Path) -> anyhow::Result<()> {
    let dir = crate::scratch_dir("delivery-env")?;
    let env_file = dir.join("nexus.env");
    let binary = crate::target_dir().join("debug/nexus");
    run(
        "deploy/init-env.sh",
        Command::new("bash")
            .arg(root.join("deploy/init-env.sh"))
            .args(["https://nexus.example.test", "app.example.test"])
            .env("NEXUS_BIN", &binary)
            .env("NEXUS_ENV_DIR", &dir),
    )?;
    let text = crate::read(&env_file)?;
    // Each container's secrets stay in its own file.
    let gateway = crate::read(&dir.join("gateway.env"))?;
    let service_key = gateway
        .lines()
        .find_map(|line| line.strip_prefix("NEXUS_BROKER_SERVICE_KEY="))
        .context("gateway.env has no NEXUS_BROKER_SERVICE_KEY")?;
    if !text.contains(&format!("NEXUS_SERVICE_KEYS={service_key}")) {
        bail!("the split Gateway's key is not among nexus.env's NEXUS_SERVICE_KEYS");
    }
    if gateway.lines().filter(|line| line.contains('=')).count() != 1
        || text.contains("POSTGRES_")
        || text.contains("GF_")
    {
        // Names only: the files hold keys, which never go to a log.
        bail!(
            "init-env.sh mixes containers' secrets (gateway.env must hold only NEXUS_BROKER_SERVICE_KEY; nexus.env no POSTGRES_ or GF_ variable)"
        );
    }
    let mut vars: Vec<(String, String)> = text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    let database = crate::postgres::ScratchDatabase::create("nexus_delivery_env")?;
    vars.retain(|(name, _)| name.starts_with("NEXUS_") && name != "NEXUS_DATABASE_URL");
    vars.push(("NEXUS_DATABASE_URL".to_owned(), database.url().to_owned()));
    vars.push(("NEXUS_ENV".to_owned(), "production".to_owned()));
    let envs: Vec<(&str, &str)> = vars.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let (_server, fields) = crate::bench::spawn(
        &binary,
        &dir,
        &[
            "serve",
            "--broker-listen",
            "127.0.0.1:0",
            "--gateway-listen",
            "127.0.0.1:0",
        ],
        &envs,
        "nexus is listening",
    )?;
    let broker = crate::bench::address(&fields, "broker_addr");
    let ready = reqwest::blocking::get(format!("{broker}/readyz")).context("GET /readyz")?;
    if !ready.status().is_success() {
        bail!(
            "Nexus started from the generated env file is not ready: {}",
            ready.status()
        );
    }
    println!("ok: deploy/init-env.sh writes an env file Nexus starts with in production mode");
    Ok(())
}

/// `promtool`, from Debian's `prometheus` package; `None` (with a note) outside CI without it.
fn promtool() -> anyhow::Result<Option<PathBuf>> {
    match Command::new("promtool").arg("--version").output() {
        Ok(output) if output.status.success() => Ok(Some(PathBuf::from("promtool"))),
        _ if std::env::var_os("CI").is_some() => {
            bail!("promtool is missing (Debian: apt-get install prometheus); CI checks the alert rules with it")
        }
        _ => {
            println!("note: promtool is not installed (Debian: prometheus): the Prometheus checks are skipped");
            Ok(None)
        }
    }
}

/// Scrapes a running `nexus serve` (after some traffic) and lints the exposition.
fn live_scrape(promtool: &Path) -> anyhow::Result<()> {
    let binary = crate::debug_nexus()?;
    let dir = crate::scratch_dir("delivery-scrape")?;
    let admin_key = "delivery-admin-key-0123456789abcdef";
    let (_server, fields) = crate::bench::spawn(
        &binary,
        &dir,
        &[
            "serve",
            "--broker-listen",
            "127.0.0.1:0",
            "--gateway-listen",
            "127.0.0.1:0",
        ],
        &[("NEXUS_ADMIN_KEYS", admin_key)],
        "nexus is listening",
    )?;
    let broker = crate::bench::address(&fields, "broker_addr");
    // Traffic, so the request and credential families have samples to lint.
    let client = reqwest::blocking::Client::new();
    crate::bench::seed_api_key_connection(
        &client,
        &broker,
        admin_key,
        crate::bench::Seed {
            provider: "keyed",
            workspace: "ws-1",
            api_key: "sk-delivery",
            api_base_url: None,
        },
    )?;
    let text = client
        .get(format!("{broker}/metrics"))
        .send()
        .and_then(reqwest::blocking::Response::text)
        .context("scraping /metrics")?;
    for family in [
        "nexus_build_info",
        "process_resident_memory_bytes",
        "nexus_http_requests_total",
    ] {
        if !text.contains(family) {
            bail!("the live scrape has no {family}");
        }
    }
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .context("running promtool check metrics")?;
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        stdin.write_all(text.as_bytes()).context("feeding promtool")?;
    }
    let output = child.wait_with_output().context("promtool check metrics")?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let findings: Vec<&str> = said
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .filter(|line| !ALLOWED_METRIC_FINDINGS.contains(line))
        .collect();
    if !findings.is_empty() {
        bail!("promtool check metrics on a live scrape:\n  {}", findings.join("\n  "));
    }
    // A failure with nothing but allowed findings is promtool reporting those; any other is not.
    if !output.status.success() && !ALLOWED_METRIC_FINDINGS.iter().any(|allowed| said.contains(allowed)) {
        bail!("promtool check metrics failed ({}) without saying why", output.status);
    }
    println!("ok: promtool check metrics (live scrape; allowed: {ALLOWED_METRIC_FINDINGS:?})");
    Ok(())
}

fn run(label: &str, command: &mut Command) -> anyhow::Result<()> {
    let output = command.output().with_context(|| format!("running {label}"))?;
    if !output.status.success() {
        bail!(
            "{label} failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    println!("ok: {label}");
    Ok(())
}

/// Builds the release binary, then the image with podman from it on a locally made base, and
/// runs the smoke test against a fresh PostgreSQL database (`NEXUS_TEST_DATABASE_URL`'s server).
pub fn image_smoke() -> anyhow::Result<()> {
    let root = crate::root();
    let podman_ready = Command::new("podman")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let ci_can_install = std::env::var_os("CI").is_some() && is_root;
    if !(podman_ready || ci_can_install) {
        println!("note: podman is not installed: the image smoke test is skipped (CI installs it)");
        return Ok(());
    }
    let status = Command::new(env!("CARGO"))
        .current_dir(&root)
        .args([
            "build",
            "--release",
            "--locked",
            "--package",
            "nexus-server",
            "--bin",
            "nexus",
        ])
        .status()
        .context("cargo build --release")?;
    if !status.success() {
        bail!("release build failed ({status})");
    }
    let database = crate::postgres::ScratchDatabase::create("nexus_image_smoke")?;
    let status = Command::new("bash")
        .arg(root.join("deploy/image/smoke.sh"))
        .arg(crate::target_dir().join("release/nexus"))
        .env("NEXUS_SMOKE_DATABASE_URL", database.url())
        .current_dir(&root)
        .status()
        .context("running deploy/image/smoke.sh")?;
    if !status.success() {
        bail!("the image smoke test failed ({status})");
    }
    Ok(())
}
