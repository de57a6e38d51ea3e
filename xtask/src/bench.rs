//! `cargo xtask bench resolve`: measures `GET /v1/resolve` against a baseline Gateway route that
//! only authenticates the agent key and returns a JSON body of the same size, then the same
//! resolve through a split Gateway against the one-process numbers, in one run, on this machine,
//! with `wrk` on 127.0.0.1 (bounded in time). Writes the numbers to BENCHMARKS.md.

use anyhow::{Context, bail};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const CONNECTIONS: [u32; 3] = [1, 8, 32];
const SECONDS_PER_RUN: u32 = 5;

/// One wrk run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Run {
    pub(crate) requests_per_second: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    /// Requests completed in the run.
    pub(crate) requests: u64,
}

/// A benchmarked process, stopped (SIGTERM) when dropped.
pub(crate) struct Process(pub(crate) Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        let _ = self.0.wait();
    }
}

/// Starts a nexus command with JSON logs and waits for the log line with `message`; returns the
/// process and that line's fields.
pub(crate) fn spawn(
    binary: &Path,
    dir: &Path,
    args: &[&str],
    envs: &[(&str, &str)],
    message: &str,
) -> anyhow::Result<(Process, Value)> {
    let mut command = Command::new(binary);
    command
        .current_dir(dir)
        .args(args)
        .env("NEXUS_LOG_FORMAT", "json")
        .env("NEXUS_LOG", "warn,nexus_server=info");
    for (key, value) in envs {
        command.env(key, value);
    }
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let stderr = child.stderr.take().context("stderr")?;
    let (sender, receiver) = mpsc::channel();
    let wanted = message.to_owned();
    std::thread::spawn(move || {
        let mut sender = Some(sender);
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Ok(entry) = serde_json::from_str::<Value>(&line)
                && entry["fields"]["message"] == wanted.as_str()
                && let Some(sender) = sender.take()
            {
                let _ = sender.send(entry["fields"].clone());
            }
        }
    });
    let fields = receiver
        .recv_timeout(Duration::from_secs(60))
        .with_context(|| format!("waiting for `{message}`"))?;
    Ok((Process(child), fields))
}

/// Starts `nexus serve` with the benchmark's reference routes on free loopback ports; returns
/// the process and the Broker's and Gateway's base URLs.
pub(crate) fn spawn_serve(
    binary: &Path,
    dir: &Path,
    envs: &[(&str, &str)],
) -> anyhow::Result<(Process, String, String)> {
    let (process, fields) = spawn(
        binary,
        dir,
        &[
            "serve",
            "--broker-listen",
            "127.0.0.1:0",
            "--gateway-listen",
            "127.0.0.1:0",
            "--bench-baseline",
        ],
        envs,
        "nexus is listening",
    )?;
    Ok((
        process,
        address(&fields, "broker_addr"),
        address(&fields, "gateway_addr"),
    ))
}

pub(crate) fn address(fields: &Value, name: &str) -> String {
    let raw = fields[name].as_str().unwrap_or_default();
    format!("http://{}", raw.trim_start_matches("Some(").trim_end_matches(')'))
}

pub(crate) fn http() -> anyhow::Result<reqwest::blocking::Client> {
    reqwest::blocking::Client::builder().build().context("HTTP client")
}

pub(crate) fn post(client: &reqwest::blocking::Client, url: &str, key: &str, body: Value) -> anyhow::Result<Value> {
    let response = client
        .post(url)
        .bearer_auth(key)
        .json(&body)
        .send()
        .with_context(|| format!("POST {url}"))?;
    if !response.status().is_success() {
        bail!("POST {url}: {}", response.status());
    }
    response.json().context("JSON answer")
}

/// What [`seed_api_key_connection`] creates.
pub(crate) struct Seed<'a> {
    pub(crate) provider: &'a str,
    pub(crate) workspace: &'a str,
    pub(crate) api_key: &'a str,
    /// Where the key may be sent (the SDKs refuse every other origin).
    pub(crate) api_base_url: Option<&'a str>,
}

/// Registers an API-key provider, connects a workspace to it through the hosted form's JSON
/// variant (the real capture flow), and returns an agent key for every workspace.
pub(crate) fn seed_api_key_connection(
    client: &reqwest::blocking::Client,
    broker: &str,
    admin_key: &str,
    seed: Seed<'_>,
) -> anyhow::Result<String> {
    post(
        client,
        &format!("{broker}/v1/providers"),
        admin_key,
        match seed.api_base_url {
            Some(base) => json!({"name": seed.provider, "auth_type": "api_key", "api_base_url": base}),
            None => json!({"name": seed.provider, "auth_type": "api_key"}),
        },
    )?;
    let consent = post(
        client,
        &format!("{broker}/v1/consents"),
        admin_key,
        json!({"workspace_id": seed.workspace, "provider": seed.provider, "return_url": "http://127.0.0.1:9/done"}),
    )?;
    let captured = client
        .post(format!("{broker}/auth/capture"))
        .json(&json!({"state": consent["state"], "credentials": {"api_key": seed.api_key}}))
        .send()
        .context("capture")?;
    if !captured.status().is_success() {
        bail!("capture failed: {}", captured.status());
    }
    let agent = post(
        client,
        &format!("{broker}/v1/agent-keys"),
        admin_key,
        json!({"name": "seeded", "all_workspaces": true}),
    )?;
    Ok(agent["key"].as_str().context("agent key")?.to_owned())
}

/// Parses wrk's `--latency` output.
pub(crate) fn parse_wrk(output: &str) -> anyhow::Result<Run> {
    let duration_ms = |raw: &str| -> Option<f64> {
        let (number, unit) = raw.split_at(raw.find(|c: char| c.is_ascii_alphabetic())?);
        let value: f64 = number.parse().ok()?;
        Some(match unit {
            "us" => value / 1000.0,
            "ms" => value,
            "s" => value * 1000.0,
            _ => return None,
        })
    };
    let mut run = Run {
        requests_per_second: 0.0,
        p50_ms: 0.0,
        p99_ms: 0.0,
        requests: 0,
    };
    for line in output.lines().map(str::trim) {
        let mut parts = line.split_whitespace();
        match (parts.next(), parts.next()) {
            (Some("50%"), Some(value)) => run.p50_ms = duration_ms(value).context("p50")?,
            (Some("99%"), Some(value)) => run.p99_ms = duration_ms(value).context("p99")?,
            (Some("Requests/sec:"), Some(value)) => run.requests_per_second = value.parse().context("rps")?,
            (Some(count), Some("requests")) => run.requests = count.parse().context("request count")?,
            _ => {}
        }
        if line.starts_with("Non-2xx") {
            bail!("wrk saw error answers: {line}");
        }
    }
    if run.requests_per_second == 0.0 {
        bail!("could not read wrk's output:\n{output}");
    }
    Ok(run)
}

fn wrk(url: &str, key: &str, connections: u32) -> anyhow::Result<Run> {
    wrk_run(url, key, connections, SECONDS_PER_RUN, None)
}

/// One wrk run of `seconds` at `connections`; with `script`, that Lua script makes the requests.
pub(crate) fn wrk_run(
    url: &str,
    key: &str,
    connections: u32,
    seconds: u32,
    script: Option<&Path>,
) -> anyhow::Result<Run> {
    let mut command = Command::new("wrk");
    if let Some(script) = script {
        command.arg("--script").arg(script);
    }
    let output = command
        .args([
            "--latency",
            "-t",
            &connections.min(2).to_string(),
            "-c",
            &connections.to_string(),
            "-d",
            &format!("{seconds}s"),
            "--timeout",
            "5s",
            "-H",
            &format!("Authorization: Bearer {key}"),
            url,
        ])
        .output()
        .context("running wrk (install it: apt-get install -y wrk)")?;
    if !output.status.success() {
        bail!("wrk failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    parse_wrk(&String::from_utf8_lossy(&output.stdout))
}

pub(crate) fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .next()
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_owned())
        })
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or_else(|| "?".to_owned(), |kb| format!("{} GiB", kb / 1024 / 1024));
    format!("{cores} cores ({cpu}), {memory} memory, Linux; wrk and nexus on the same machine, 127.0.0.1")
}

/// Resolve through one Gateway, and the route it is compared with, per connection count.
struct Scenario {
    resolve: Vec<Run>,
    baseline: Vec<Run>,
}

/// Runs `resolve_url` and `baseline_url` alternately at each connection count, so drift on the
/// machine affects both alike.
fn measure(label: &str, resolve_url: &str, baseline_url: &str, key: &str) -> anyhow::Result<Scenario> {
    let mut scenario = Scenario {
        resolve: Vec::new(),
        baseline: Vec::new(),
    };
    for connections in CONNECTIONS {
        scenario.baseline.push(wrk(baseline_url, key, connections)?);
        scenario.resolve.push(wrk(resolve_url, key, connections)?);
        println!(
            "{label} c={connections}: {:.0} req/s p99 {:.2} ms | compared with {:.0} req/s p99 {:.2} ms",
            scenario.resolve.last().map_or(0.0, |r| r.requests_per_second),
            scenario.resolve.last().map_or(0.0, |r| r.p99_ms),
            scenario.baseline.last().map_or(0.0, |r| r.requests_per_second),
            scenario.baseline.last().map_or(0.0, |r| r.p99_ms),
        );
    }
    Ok(scenario)
}

fn report(one_process: &Scenario, split: &Scenario, body_bytes: usize) -> String {
    let mut text = String::from("Measured by `cargo xtask bench resolve` (release build, SQLite, ");
    text.push_str(&format!(
        "{SECONDS_PER_RUN} s per run with wrk, one workspace, so reads are served from the envelope cache as an agent's repeated calls are). Resolve is `GET /v1/resolve` through the Gateway; the baseline is a Gateway route that only authenticates the agent key and returns a JSON body of the same size ({body_bytes} bytes). Each pair is measured alternately in the same run.\n\n"
    ));
    text.push_str(&format!("Machine: {}.\n\n", machine()));
    text.push_str("### One process (`nexus serve`): resolve against the baseline\n\n");
    text.push_str(&table(one_process, "baseline"));
    text.push_str("Targets (32 connections): throughput ratio at least 0.70, p99 ratio at most 2.0.\n\n");
    text.push_str(
        "### Split (`nexus gateway` calling `nexus serve`'s Broker): split resolve against one-process resolve\n\n",
    );
    text.push_str(&table(split, "one-process resolve"));
    text.push_str("Target (32 connections): throughput ratio at least 0.5. A split Gateway makes one call to the Broker per uncached read (the agent key is authenticated in that call) over pooled keep-alive connections, and serves the answer again to the same key for 2 s at most (never within the refresh skew); the reads it serves are reported to the Broker's audit trail every second.\n");
    text
}

fn table(scenario: &Scenario, compared: &str) -> String {
    let mut text = format!(
        "| connections | resolve req/s | {compared} req/s | throughput ratio | resolve p50 ms | resolve p99 ms | {compared} p50 ms | {compared} p99 ms | p99 ratio |\n|---|---|---|---|---|---|---|---|---|\n"
    );
    for ((connections, resolve), baseline) in CONNECTIONS.iter().zip(&scenario.resolve).zip(&scenario.baseline) {
        text.push_str(&format!(
            "| {connections} | {:.0} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |\n",
            resolve.requests_per_second,
            baseline.requests_per_second,
            resolve.requests_per_second / baseline.requests_per_second,
            resolve.p50_ms,
            resolve.p99_ms,
            baseline.p50_ms,
            baseline.p99_ms,
            resolve.p99_ms / baseline.p99_ms,
        ));
    }
    text.push('\n');
    text
}

/// Builds the release `nexus` binary and returns its path.
pub(crate) fn release_binary() -> anyhow::Result<PathBuf> {
    let root = crate::root();
    println!("building the release binary...");
    let status = Command::new(env!("CARGO"))
        .current_dir(&root)
        .args([
            "build",
            "--release",
            "--package",
            "nexus-server",
            "--bin",
            "nexus",
            "--features",
            "bench",
        ])
        .status()
        .context("cargo build --release")?;
    if !status.success() {
        bail!("release build failed");
    }
    Ok(crate::target_dir().join("release").join("nexus"))
}

/// Replaces one benchmark's section of BENCHMARKS.md (between `<!-- bench:NAME -->` markers),
/// or appends it, leaving the other benchmarks' numbers as they were.
pub(crate) fn write_section(name: &str, title: &str, body: &str) -> anyhow::Result<()> {
    let path = crate::root().join("BENCHMARKS.md");
    let current = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n".to_owned());
    let (open, close) = (format!("<!-- bench:{name} -->"), format!("<!-- /bench:{name} -->"));
    let section = format!("{open}\n## {title}\n\n{}\n{close}", body.trim_end());
    let updated = match (current.find(&open), current.find(&close)) {
        (Some(start), Some(end)) if start < end => {
            format!("{}{section}{}", &current[..start], &current[end + close.len()..])
        }
        _ => format!("{}\n\n{section}\n", current.trim_end()),
    };
    std::fs::write(&path, updated).with_context(|| format!("writing {}", path.display()))
}

pub fn resolve() -> anyhow::Result<()> {
    let binary = release_binary()?;
    let dir = tempfile_dir()?;
    let admin_key = "bench-admin-key-0000000000000000000000";
    let service_key = "bench-service-key-00000000000000000000";
    let (_serve, broker, gateway) = spawn_serve(
        &binary,
        &dir,
        &[("NEXUS_ADMIN_KEYS", admin_key), ("NEXUS_SERVICE_KEYS", service_key)],
    )?;

    // A provider and a connection created through the real capture flow.
    let client = http()?;
    let agent_key = seed_api_key_connection(
        &client,
        &broker,
        admin_key,
        Seed {
            provider: "bench-api",
            workspace: "bench-ws",
            api_key: "sk-bench-0123456789abcdef",
            api_base_url: None,
        },
    )?;

    let sample = client
        .get(format!("{gateway}/v1/resolve?workspace_id=bench-ws&provider=bench-api"))
        .bearer_auth(&agent_key)
        .send()
        .context("sample resolve")?
        .bytes()
        .context("sample body")?;
    let padding_overhead = json!({"padding": ""}).to_string().len();
    let bytes = sample.len().saturating_sub(padding_overhead);

    let one_process_resolve = format!("{gateway}/v1/resolve?workspace_id=bench-ws&provider=bench-api");
    let one_process = measure(
        "one process",
        &one_process_resolve,
        &format!("{gateway}/bench/baseline?bytes={bytes}"),
        &agent_key,
    )?;
    let (_split, split_fields) = spawn(
        &binary,
        &dir,
        &["gateway", "--listen", "127.0.0.1:0"],
        &[
            ("NEXUS_BROKER_URL", broker.as_str()),
            ("NEXUS_BROKER_SERVICE_KEY", service_key),
        ],
        "nexus gateway is listening",
    )?;
    let split_gateway = address(&split_fields, "gateway_addr");
    let split = measure(
        "split",
        &format!("{split_gateway}/v1/resolve?workspace_id=bench-ws&provider=bench-api"),
        &one_process_resolve,
        &agent_key,
    )?;

    let text = report(&one_process, &split, sample.len());
    write_section("resolve", "Resolve", &text)?;
    println!("\n{text}\nwrote BENCHMARKS.md");
    Ok(())
}

pub(crate) fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("nexus-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_latency_output() {
        let output = "  Latency Distribution\n     50%  612.00us\n     75%    1.02ms\n     90%    2.00ms\n     99%    4.50ms\n  100 requests in 1.00s, 1.2MB read\nRequests/sec:  12345.67\n";
        let run = parse_wrk(output).expect("parsed");
        assert!((run.p50_ms - 0.612).abs() < 1e-9);
        assert!((run.p99_ms - 4.5).abs() < 1e-9);
        assert!((run.requests_per_second - 12345.67).abs() < 1e-9);
        assert_eq!(run.requests, 100);
        assert!(parse_wrk("Non-2xx or 3xx responses: 5\nRequests/sec: 1").is_err());
    }
}
