//! `cargo xtask bench resolve --uncached`: `GET /v1/resolve` for a random one of N seeded
//! workspaces per request (so nearly every read misses the envelope cache), on SQLite and on
//! PostgreSQL, against the database's own keyed-read rate measured in the same run: `pgbench -S`
//! on PostgreSQL, and on both a reference route that authenticates the agent key and makes one
//! keyed select through the same pool and HTTP stack. Reports throughput, latency, the ratio,
//! the `nexus` process's CPU time per resolve, the share of resolves that went to the database,
//! and peak RSS, into BENCHMARKS.md.

use crate::bench::{Process, Run, http, machine, post, release_binary, spawn_serve, tempfile_dir, wrk_run};
use crate::bench_refresh::{generate_key, peak_rss_mib};
use crate::postgres::ScratchDatabase;
use anyhow::{Context, bail};
use serde_json::json;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const CONNECTIONS: [u32; 3] = [1, 8, 32];
const SECONDS_PER_RUN: u32 = 5;
/// A little more than the audit flusher's interval.
const AUDIT_SETTLE: std::time::Duration = std::time::Duration::from_millis(1_500);
const ADMIN_KEY: &str = "bench-admin-key-0000000000000000000000";
const PROVIDER: &str = "bench-api";
const WORKSPACE_PREFIX: &str = "ws-";
/// The repository method whose count is the number of resolves that read the database.
const READ_METHOD: &str = "find_active_for_read";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// `pgbench -S` at one concurrency.
#[derive(Debug, Clone, Copy)]
struct Pgbench {
    transactions_per_second: f64,
    latency_average_ms: f64,
}

/// One concurrency's numbers.
struct Row {
    connections: u32,
    resolve: Run,
    keyed_select: Run,
    pgbench: Option<Pgbench>,
    cpu_us_per_resolve: f64,
    uncached_share: f64,
}

struct BackendResult {
    backend: Backend,
    seeded: usize,
    seed_seconds: f64,
    rows: Vec<Row>,
    peak_rss_mib: f64,
}

/// CPU time (user + system) the process has used so far, in seconds.
fn cpu_seconds(process: &Process) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", process.0.id())).context("reading /proc/<pid>/stat")?;
    // Fields after the command name (which may hold spaces) start at field 3: utime is 14, stime 15.
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).context("stat format")?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| -> anyhow::Result<f64> {
        fields
            .get(index - 3)
            .context("stat field")?
            .parse::<f64>()
            .context("stat ticks")
    };
    Ok((ticks(14)? + ticks(15)?) / clock_ticks_per_second())
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// Resolves that read the database so far, from the Broker's `/metrics`.
pub(crate) fn database_reads(client: &reqwest::blocking::Client, broker: &str) -> anyhow::Result<f64> {
    let metrics = client
        .get(format!("{broker}/metrics"))
        .send()
        .and_then(|r| r.text())
        .context("scraping /metrics")?;
    Ok(metrics
        .lines()
        .filter(|line| line.starts_with("nexus_db_operation_duration_seconds_count{"))
        .filter(|line| line.contains(&format!("method=\"{READ_METHOD}\"")))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum())
}

/// A wrk script asking for a random seeded workspace on every request. Each wrk thread seeds
/// its own generator (LuaJIT states would otherwise draw the same sequence).
pub(crate) fn write_script(dir: &Path, path: &str, workspaces: usize) -> anyhow::Result<std::path::PathBuf> {
    let script = format!(
        r#"local n = {workspaces}
init = function(args)
  local address = tonumber(tostring({{}}):match("0x(%x+)"), 16) or 0
  math.randomseed(os.time() + address)
end
request = function()
  return wrk.format("GET", "{path}" .. math.random(0, n - 1))
end
"#
    );
    let file = dir.join(format!(
        "{}.lua",
        path.trim_start_matches('/').replace(['/', '?', '=', '&'], "_")
    ));
    std::fs::write(&file, script).with_context(|| format!("writing {}", file.display()))?;
    Ok(file)
}

fn pgbench(database: &ScratchDatabase, connections: u32) -> anyhow::Result<Pgbench> {
    let output = Command::new("pgbench")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-S",
            "-n",
            "-c",
            &connections.to_string(),
            "-j",
            &connections.min(2).to_string(),
            "-T",
            &SECONDS_PER_RUN.to_string(),
        ])
        .arg(database.name())
        .output()
        .context("running pgbench (Debian's postgresql-contrib or postgresql-client)")?;
    if !output.status.success() {
        bail!("pgbench failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let number_after = |prefix: &str| -> Option<f64> {
        text.lines()
            .find_map(|line| line.trim().strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|value| value.parse().ok())
    };
    Ok(Pgbench {
        transactions_per_second: number_after("tps = ").context("pgbench tps")?,
        latency_average_ms: number_after("latency average = ").context("pgbench latency")?,
    })
}

fn measure(
    binary: &Path,
    backend: Backend,
    workspaces: usize,
    pgbench_database: Option<&ScratchDatabase>,
) -> anyhow::Result<BackendResult> {
    let dir = tempfile_dir()?.join(backend.name());
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let scratch = match backend {
        Backend::Postgres => Some(ScratchDatabase::create("nexus_bench_uncached")?),
        Backend::Sqlite => None,
    };
    let database_url = match &scratch {
        Some(database) => database.url().to_owned(),
        None => format!("sqlite://{}?mode=rwc", dir.join("nexus.db").display()),
    };
    let (encryption_key, state_key) = (generate_key(binary)?, generate_key(binary)?);
    let env = [
        ("NEXUS_DATABASE_URL", database_url.as_str()),
        ("NEXUS_ENCRYPTION_KEYS", encryption_key.as_str()),
        ("NEXUS_STATE_KEY", state_key.as_str()),
        ("NEXUS_ADMIN_KEYS", ADMIN_KEY),
    ];
    let (serve, broker, gateway) = spawn_serve(binary, &dir, &env)?;
    let client = http()?;
    post(
        &client,
        &format!("{broker}/v1/providers"),
        ADMIN_KEY,
        json!({"name": PROVIDER, "auth_type": "api_key"}),
    )?;
    let agent = post(
        &client,
        &format!("{broker}/v1/agent-keys"),
        ADMIN_KEY,
        json!({"name": "bench", "all_workspaces": true}),
    )?;
    let agent_key = agent["key"].as_str().context("agent key")?.to_owned();

    println!("{}: seeding {workspaces} connections...", backend.name());
    let seeding = Instant::now();
    let seeded = Command::new(binary)
        .current_dir(&dir)
        .args([
            "bench-seed",
            "--provider",
            PROVIDER,
            "--workspace-prefix",
            WORKSPACE_PREFIX,
            "--connections",
            &workspaces.to_string(),
        ])
        .envs(env)
        .env("NEXUS_LOG", "warn")
        .status()
        .context("nexus bench-seed")?;
    if !seeded.success() {
        bail!("nexus bench-seed failed");
    }
    let seed_seconds = seeding.elapsed().as_secs_f64();
    println!("{}: seeded in {seed_seconds:.1} s", backend.name());

    let resolve_script = write_script(
        &dir,
        &format!("/v1/resolve?provider={PROVIDER}&workspace_id={WORKSPACE_PREFIX}"),
        workspaces,
    )?;
    let select_script = write_script(
        &dir,
        &format!("/bench/keyed-select?workspace_id={WORKSPACE_PREFIX}"),
        workspaces,
    )?;
    // Every seeded workspace resolves: a check before the numbers mean anything.
    let sample = client
        .get(format!(
            "{gateway}/v1/resolve?provider={PROVIDER}&workspace_id={WORKSPACE_PREFIX}{}",
            workspaces - 1
        ))
        .bearer_auth(&agent_key)
        .send()
        .context("sample resolve")?;
    if !sample.status().is_success() {
        bail!("the last seeded workspace does not resolve: {}", sample.status());
    }
    // Warm the pools, the page cache and the database's buffers; not reported.
    wrk_run(&gateway, &agent_key, 8, 3, Some(&resolve_script))?;
    std::thread::sleep(AUDIT_SETTLE);
    wrk_run(&gateway, &agent_key, 8, 2, Some(&select_script))?;

    let mut rows = Vec::new();
    for connections in CONNECTIONS {
        let pgbench = pgbench_database.map(|db| pgbench(db, connections)).transpose()?;
        let keyed_select = wrk_run(&gateway, &agent_key, connections, SECONDS_PER_RUN, Some(&select_script))?;
        let (cpu_before, reads_before) = (cpu_seconds(&serve)?, database_reads(&client, &broker)?);
        let resolve = wrk_run(
            &gateway,
            &agent_key,
            connections,
            SECONDS_PER_RUN,
            Some(&resolve_script),
        )?;
        // The audit flusher writes the run's last second of reads within a second: its CPU
        // belongs to this run, and its writes must not overlap the next measurement.
        std::thread::sleep(AUDIT_SETTLE);
        let (cpu_after, reads_after) = (cpu_seconds(&serve)?, database_reads(&client, &broker)?);
        let requests = resolve.requests.max(1) as f64;
        let row = Row {
            connections,
            resolve,
            keyed_select,
            pgbench,
            cpu_us_per_resolve: (cpu_after - cpu_before) * 1e6 / requests,
            uncached_share: (reads_after - reads_before) / requests,
        };
        println!(
            "{} c={connections}: resolve {:.0} req/s (p50 {:.2} ms, p99 {:.2} ms, {:.0} µs CPU each, {:.0}% from the database) | keyed select {:.0} req/s{}",
            backend.name(),
            row.resolve.requests_per_second,
            row.resolve.p50_ms,
            row.resolve.p99_ms,
            row.cpu_us_per_resolve,
            row.uncached_share * 100.0,
            row.keyed_select.requests_per_second,
            row.pgbench
                .map(|p| format!(" | pgbench -S {:.0} tps", p.transactions_per_second))
                .unwrap_or_default(),
        );
        rows.push(row);
    }
    let peak_rss_mib = peak_rss_mib(&serve);
    drop(serve);
    Ok(BackendResult {
        backend,
        seeded: workspaces,
        seed_seconds,
        rows,
        peak_rss_mib,
    })
}

fn table(result: &BackendResult) -> String {
    let postgres = result.backend == Backend::Postgres;
    let mut text = format!(
        "### {} ({} connections in {} workspaces, seeded in {:.1} s; peak RSS of `nexus serve` after the run: {:.1} MiB)\n\n",
        result.backend.name(),
        result.seeded,
        result.seeded,
        result.seed_seconds,
        result.peak_rss_mib
    );
    if postgres {
        text.push_str("| connections | resolve req/s | resolve p50 ms | resolve p99 ms | `pgbench -S` tps | `pgbench -S` avg ms | **resolve / pgbench** | keyed-select route req/s | resolve / keyed-select route | nexus CPU µs per resolve | resolves read from the database |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    } else {
        text.push_str("| connections | resolve req/s | resolve p50 ms | resolve p99 ms | keyed-select route req/s | keyed-select p50 ms | keyed-select p99 ms | **resolve / keyed-select route** | nexus CPU µs per resolve | resolves read from the database |\n|---|---|---|---|---|---|---|---|---|---|\n");
    }
    for row in &result.rows {
        let (resolve, select) = (&row.resolve, &row.keyed_select);
        let common_tail = format!("{:.0} | {:.0}% |", row.cpu_us_per_resolve, row.uncached_share * 100.0);
        match row.pgbench {
            Some(pg) => text.push_str(&format!(
                "| {} | {:.0} | {:.2} | {:.2} | {:.0} | {:.2} | **{:.2}** | {:.0} | {:.2} | {common_tail}\n",
                row.connections,
                resolve.requests_per_second,
                resolve.p50_ms,
                resolve.p99_ms,
                pg.transactions_per_second,
                pg.latency_average_ms,
                resolve.requests_per_second / pg.transactions_per_second,
                select.requests_per_second,
                resolve.requests_per_second / select.requests_per_second,
            )),
            None => text.push_str(&format!(
                "| {} | {:.0} | {:.2} | {:.2} | {:.0} | {:.2} | {:.2} | **{:.2}** | {common_tail}\n",
                row.connections,
                resolve.requests_per_second,
                resolve.p50_ms,
                resolve.p99_ms,
                select.requests_per_second,
                select.p50_ms,
                select.p99_ms,
                resolve.requests_per_second / select.requests_per_second,
            )),
        }
    }
    text.push('\n');
    text
}

/// Runs both backends and returns the report (the caller writes it into BENCHMARKS.md).
pub fn uncached(workspaces: usize) -> anyhow::Result<String> {
    if workspaces == 0 {
        bail!("--connections must be at least 1");
    }
    let binary = release_binary()?;
    let pgbench_database = ScratchDatabase::create("nexus_pgbench")?;
    println!("initialising pgbench (scale 10)...");
    let status = Command::new("pgbench")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-i", "-q", "-s", "10"])
        .arg(pgbench_database.name())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .context("pgbench -i")?;
    if !status.success() {
        bail!("pgbench -i failed");
    }
    let sqlite = measure(&binary, Backend::Sqlite, workspaces, None)?;
    let postgres = measure(&binary, Backend::Postgres, workspaces, Some(&pgbench_database))?;
    let mut text = format!(
        "Measured by `cargo xtask bench resolve --uncached` (release build, `nexus serve`, {SECONDS_PER_RUN} s per run with wrk). \
         {workspaces} API-key connections, each in its own workspace, are seeded through the repositories; every request \
         resolves a random one of them, so nearly every read misses the envelope cache (the last column counts the \
         resolves that read the database). The denominators are measured in the same run: `pgbench -S` (scale 10, \
         `-j 2`, the simple query protocol) on the same PostgreSQL, and on both databases a reference route of the same \
         process that authenticates the agent key and makes one keyed select of the workspace's active connection \
         through the same pool and HTTP stack. CPU is the `nexus` process's user and system time during the resolve run \
         divided by the resolves served.\n\nMachine: {}; PostgreSQL on the same machine.\n\n",
        machine()
    );
    text.push_str(&table(&sqlite));
    text.push_str(&table(&postgres));
    Ok(text)
}
