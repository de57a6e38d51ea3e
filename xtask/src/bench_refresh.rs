//! `cargo xtask bench refresh`: background refresh of 10,000 due credentials on PostgreSQL by 1
//! and by 3 Broker processes, against a local mock token endpoint whose own capacity is measured
//! in the same run as the denominator. Reports refreshes per second, provider calls per
//! connection (exactly 1.00, or the run fails), p99 lag (how long a due credential waited) and
//! each process's peak RSS, into BENCHMARKS.md.

use crate::bench::{Process, machine, release_binary, spawn, tempfile_dir, write_section};
use crate::postgres::ScratchDatabase;
use anyhow::{Context, bail};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 10_000;
const SEED_THREADS: usize = 8;
const ADMIN_KEY: &str = "bench-admin-key-0000000000000000000000";
/// A run that has not refreshed everything by then has failed.
const RUN_LIMIT: Duration = Duration::from_secs(300);

/// What the mock token endpoint saw.
#[derive(Default)]
struct Seen {
    /// Refresh grants: when, and which refresh token was presented.
    refreshes: Vec<(Instant, String)>,
    issued: u64,
    /// The lifetime of tokens issued by refresh grants; an hour when `None`.
    refresh_lifetime: Option<u64>,
}

/// A small HTTP/1.1 token endpoint with keep-alive, a thread per connection. Code exchanges get
/// tokens expiring in 200 s (due for a 300 s lead); refreshes get hour-long ones. Every answer
/// carries a new, unique refresh token, so a token presented twice shows up.
pub(crate) struct MockTokenEndpoint {
    pub(crate) url: String,
    seen: Arc<Mutex<Seen>>,
}

impl MockTokenEndpoint {
    pub(crate) fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").context("binding the mock token endpoint")?;
        let url = format!("http://{}/token", listener.local_addr()?);
        let seen = Arc::new(Mutex::new(Seen::default()));
        let shared = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let seen = shared.clone();
                std::thread::spawn(move || {
                    let _ = serve_connection(stream, &seen);
                });
            }
        });
        Ok(Self { url, seen })
    }

    /// Forgets the refreshes seen so far; issued tokens stay unique across runs.
    fn reset(&self) {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .refreshes
            .clear();
    }

    /// Refresh grants issue tokens of this lifetime from now on (`None`: an hour).
    fn set_refresh_lifetime(&self, seconds: Option<u64>) {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .refresh_lifetime = seconds;
    }

    fn refreshes(&self) -> Vec<(Instant, String)> {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .refreshes
            .clone()
    }

    fn refresh_count(&self) -> usize {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .refreshes
            .len()
    }

    /// Refresh grants per second the endpoint answers, from 32 keep-alive clients for 3 s.
    fn capacity(&self) -> anyhow::Result<f64> {
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let workers: Vec<_> = (0..32)
            .map(|_| {
                let (stop, done, url) = (stop.clone(), done.clone(), self.url.clone());
                std::thread::spawn(move || -> anyhow::Result<()> {
                    let client = reqwest::blocking::Client::new();
                    while !stop.load(Ordering::Relaxed) {
                        let response = client
                            .post(&url)
                            .header("content-type", "application/x-www-form-urlencoded")
                            .body("grant_type=refresh_token&refresh_token=capacity")
                            .send()?;
                        response.bytes()?;
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(())
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs(3));
        stop.store(true, Ordering::Relaxed);
        for worker in workers {
            worker
                .join()
                .map_err(|_| anyhow::anyhow!("a capacity worker panicked"))??;
        }
        Ok(done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
    }
}

fn serve_connection(stream: TcpStream, seen: &Mutex<Seen>) -> std::io::Result<()> {
    // One write per answer and no Nagle: otherwise delayed ACKs cap each connection at ~25/s.
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header)?;
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body)?;
        let form: HashMap<&str, &str> = std::str::from_utf8(&body)
            .unwrap_or("")
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .collect();
        let answer = {
            let mut seen = seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            seen.issued += 1;
            let expires_in = if form.get("grant_type") == Some(&"refresh_token") {
                let token = form.get("refresh_token").copied().unwrap_or("").to_owned();
                seen.refreshes.push((Instant::now(), token));
                seen.refresh_lifetime.unwrap_or(3600)
            } else {
                200
            };
            json!({
                "access_token": format!("bench-access-{}", seen.issued),
                "refresh_token": format!("bench-refresh-{}", seen.issued),
                "token_type": "Bearer",
                "expires_in": expires_in,
            })
            .to_string()
        };
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
            answer.len()
        );
        writer.write_all(response.as_bytes())?;
    }
}

/// Makes every credential due again, as the seeding left them.
/// The short-lived run: this many connections get tokens of `SHORT_LIFETIME` seconds, issued
/// now, and are watched for `SHORT_WINDOW`; every other token lives an hour.
const SHORT_CONNECTIONS: usize = 1_000;
const SHORT_LIFETIME: u64 = 20;
const SHORT_WINDOW: Duration = Duration::from_secs(60);
const MAKE_ALL_LONG_LIVED: &str =
    "UPDATE credentials SET expires_at = now() + interval '1 hour', refresh_not_before = NULL";

const MAKE_ALL_DUE: &str =
    "UPDATE credentials SET expires_at = now() + interval '200 seconds', refresh_not_before = now()";

pub(crate) fn generate_key(binary: &std::path::Path) -> anyhow::Result<String> {
    let output = Command::new(binary)
        .args(["keys", "generate"])
        .output()
        .context("nexus keys generate")?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Consents and completes callbacks for `CONNECTIONS` workspaces through one Broker.
fn seed(broker: &str) -> anyhow::Result<()> {
    seed_workspaces(broker, ADMIN_KEY, CONNECTIONS)
}

/// Connects workspaces `ws-0` to `ws-<count - 1>` to `bench-oauth` (consent, then the callback
/// against the mock token endpoint), on 8 threads.
pub(crate) fn seed_workspaces(broker: &str, admin_key: &str, count: usize) -> anyhow::Result<()> {
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..SEED_THREADS)
        .map(|_| {
            let (next, broker, admin_key) = (next.clone(), broker.to_owned(), admin_key.to_owned());
            std::thread::spawn(move || -> anyhow::Result<()> {
                let client = reqwest::blocking::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()?;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        return Ok(());
                    }
                    let consent: Value = client
                        .post(format!("{broker}/v1/consents"))
                        .bearer_auth(&admin_key)
                        .json(&json!({"workspace_id": format!("ws-{i}"), "provider": "bench-oauth",
                                      "return_url": "http://127.0.0.1:9/done"}))
                        .send()?
                        .json()?;
                    let state = consent["state"].as_str().context("consent state")?;
                    let back = client
                        .get(format!("{broker}/auth/callback"))
                        .query(&[("state", state), ("code", "bench")])
                        .send()?;
                    if back.status() != reqwest::StatusCode::FOUND {
                        bail!("callback answered {}", back.status());
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker
            .join()
            .map_err(|_| anyhow::anyhow!("a seeding worker panicked"))??;
    }
    Ok(())
}

/// Peak resident set size of a process, in MiB.
pub(crate) fn peak_rss_mib(process: &Process) -> f64 {
    std::fs::read_to_string(format!("/proc/{}/status", process.0.id()))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The refresh-failure lines of each Broker's metrics, to explain a failed run.
fn refresh_failures(brokers: &[String]) -> String {
    let client = reqwest::blocking::Client::new();
    brokers
        .iter()
        .map(|broker| {
            let metrics = client
                .get(format!("{broker}/metrics"))
                .send()
                .and_then(|r| r.text())
                .unwrap_or_default();
            metrics
                .lines()
                .filter(|l| {
                    l.starts_with("nexus_refresh_failures_total")
                        || l.starts_with("nexus_background_refreshes_total")
                        || l.starts_with("oauth_token_refreshes_total")
                })
                .map(|l| format!("{broker}: {l}\n"))
                .collect::<String>()
        })
        .collect()
}

struct RunResult {
    processes: usize,
    seconds: f64,
    per_second: f64,
    calls_per_connection: f64,
    p99_lag: f64,
    peak_rss: Vec<f64>,
}

fn run(
    binary: &std::path::Path,
    env: &[(&str, &str)],
    database: &ScratchDatabase,
    mock: &MockTokenEndpoint,
    processes: usize,
) -> anyhow::Result<RunResult> {
    database.psql(MAKE_ALL_DUE)?;
    mock.reset();
    let dir = tempfile_dir()?;
    let started = Instant::now();
    let mut running = Vec::new();
    let mut brokers = Vec::new();
    for i in 0..processes {
        let data_dir = dir.join(format!("replica-{processes}-{i}"));
        std::fs::create_dir_all(&data_dir)?;
        let (process, fields) = spawn(
            binary,
            &data_dir,
            &["broker", "--listen", "127.0.0.1:0"],
            env,
            "nexus is listening",
        )?;
        running.push(process);
        brokers.push(crate::bench::address(&fields, "broker_addr"));
    }
    while mock.refresh_count() < CONNECTIONS && started.elapsed() < RUN_LIMIT {
        std::thread::sleep(Duration::from_millis(20));
    }
    let refreshes = mock.refreshes();
    if refreshes.len() < CONNECTIONS {
        bail!(
            "{processes} process(es) refreshed {} of {CONNECTIONS} within {RUN_LIMIT:?}",
            refreshes.len()
        );
    }
    let finished = refreshes.iter().map(|(at, _)| *at).max().unwrap_or(started);
    // Long enough for a duplicate call to show up if one were coming.
    std::thread::sleep(Duration::from_secs(3));
    let peak_rss = running.iter().map(peak_rss_mib).collect();
    let failures = refresh_failures(&brokers);
    drop(running);
    let refreshes = mock.refreshes();
    let distinct: std::collections::HashSet<&str> = refreshes.iter().map(|(_, t)| t.as_str()).collect();
    let calls_per_connection = refreshes.len() as f64 / distinct.len().max(1) as f64;
    if distinct.len() != CONNECTIONS || refreshes.len() != CONNECTIONS {
        bail!(
            "{} refresh calls for {} distinct refresh tokens ({CONNECTIONS} connections): not exactly once; \
             the processes counted these failures:\n{failures}",
            refreshes.len(),
            distinct.len()
        );
    }
    let mut lags: Vec<f64> = refreshes
        .iter()
        .map(|(at, _)| at.duration_since(started).as_secs_f64())
        .collect();
    lags.sort_by(f64::total_cmp);
    let seconds = finished.duration_since(started).as_secs_f64();
    Ok(RunResult {
        processes,
        seconds,
        per_second: CONNECTIONS as f64 / seconds,
        calls_per_connection,
        p99_lag: lags[(lags.len() * 99 / 100).min(lags.len() - 1)],
        peak_rss,
    })
}

struct ShortLivedResult {
    calls: usize,
    calls_per_half_life: f64,
}

/// `SHORT_CONNECTIONS` connections whose provider issues `SHORT_LIFETIME`-second tokens (far
/// inside the 300 s lead and the 60 s skew), watched for `SHORT_WINDOW` with 3 processes:
/// provider calls per connection per half-lifetime (target: at most 1.0).
fn short_lived(
    binary: &std::path::Path,
    env: &[(&str, &str)],
    database: &ScratchDatabase,
    mock: &MockTokenEndpoint,
) -> anyhow::Result<ShortLivedResult> {
    database.psql(MAKE_ALL_LONG_LIVED)?;
    database.psql(&format!(
        "UPDATE credentials SET expires_at = now() + interval '{SHORT_LIFETIME} seconds', \
         refresh_not_before = now() + interval '{} milliseconds' \
         WHERE connection_id IN (SELECT connection_id FROM credentials ORDER BY connection_id LIMIT {SHORT_CONNECTIONS})",
        SHORT_LIFETIME * 500
    ))?;
    mock.reset();
    mock.set_refresh_lifetime(Some(SHORT_LIFETIME));
    let dir = tempfile_dir()?;
    let mut running = Vec::new();
    for i in 0..3 {
        let data_dir = dir.join(format!("short-lived-{i}"));
        std::fs::create_dir_all(&data_dir)?;
        let (process, _) = spawn(
            binary,
            &data_dir,
            &["broker", "--listen", "127.0.0.1:0"],
            env,
            "nexus is listening",
        )?;
        running.push(process);
    }
    std::thread::sleep(SHORT_WINDOW);
    drop(running);
    mock.set_refresh_lifetime(None);
    let refreshes = mock.refreshes();
    let distinct: std::collections::HashSet<&str> = refreshes.iter().map(|(_, t)| t.as_str()).collect();
    if distinct.len() != refreshes.len() {
        bail!(
            "short-lived run: {} refresh calls presented only {} distinct refresh tokens",
            refreshes.len(),
            distinct.len()
        );
    }
    let half_lives = SHORT_WINDOW.as_secs_f64() / (SHORT_LIFETIME as f64 / 2.0);
    Ok(ShortLivedResult {
        calls: refreshes.len(),
        calls_per_half_life: refreshes.len() as f64 / SHORT_CONNECTIONS as f64 / half_lives,
    })
}

pub fn refresh() -> anyhow::Result<()> {
    let binary = release_binary()?;
    let database = ScratchDatabase::create("nexus_bench")?;
    let mock = MockTokenEndpoint::start()?;
    println!("measuring the mock token endpoint's capacity...");
    let capacity = mock.capacity()?;
    println!("mock token endpoint: {capacity:.0} refresh grants/s");
    mock.reset();

    let encryption_key = generate_key(&binary)?;
    let state_key = generate_key(&binary)?;
    let common = [
        ("NEXUS_DATABASE_URL", database.url()),
        ("NEXUS_ENCRYPTION_KEYS", encryption_key.as_str()),
        ("NEXUS_STATE_KEY", state_key.as_str()),
        ("NEXUS_ADMIN_KEYS", ADMIN_KEY),
        ("NEXUS_DATABASE_MAX_CONNECTIONS", "16"),
    ];
    let dir = tempfile_dir()?;
    let seeder_env: Vec<(&str, &str)> = common
        .iter()
        .copied()
        .chain([("NEXUS_REFRESH_AHEAD_SECONDS", "0")])
        .collect();
    let (seeder, fields) = spawn(
        &binary,
        &dir,
        &["broker", "--listen", "127.0.0.1:0"],
        &seeder_env,
        "nexus is listening",
    )?;
    let broker = crate::bench::address(&fields, "broker_addr");
    let client = reqwest::blocking::Client::new();
    crate::bench::post(
        &client,
        &format!("{broker}/v1/providers"),
        ADMIN_KEY,
        json!({"name": "bench-oauth", "auth_type": "oauth2", "client_id": "bench", "client_secret": "bench-secret",
               "authorization_url": "http://127.0.0.1:9/authorize", "token_url": mock.url, "scopes": ["read"]}),
    )?;
    println!("seeding {CONNECTIONS} connections...");
    let seeding = Instant::now();
    seed(&broker)?;
    println!("seeded in {:.1} s", seeding.elapsed().as_secs_f64());
    drop(seeder);

    let run_env: Vec<(&str, &str)> = common
        .iter()
        .copied()
        .chain([("NEXUS_REFRESH_AHEAD_SECONDS", "300")])
        .collect();
    let mut results = Vec::new();
    for processes in [1, 3] {
        let result = run(&binary, &run_env, &database, &mock, processes)?;
        println!(
            "{processes} process(es): {:.0} refreshes/s ({:.1} s), {:.2} calls per connection, p99 lag {:.1} s, peak RSS {:?} MiB",
            result.per_second, result.seconds, result.calls_per_connection, result.p99_lag, result.peak_rss
        );
        results.push(result);
    }
    let short = short_lived(&binary, &run_env, &database, &mock)?;
    println!(
        "short-lived tokens: {} refresh calls, {:.2} per connection per half-lifetime",
        short.calls, short.calls_per_half_life
    );

    let mut text = format!(
        "Measured by `cargo xtask bench refresh` (release build, PostgreSQL on this machine). {CONNECTIONS} active OAuth2 \
         connections whose tokens expire within the 300 s lead are refreshed by the background refresher of 1, then 3, \
         `nexus broker` processes on one database, against a local mock token endpoint (HTTP/1.1 keep-alive, a thread \
         per connection). The mock's own capacity, measured in the same run with 32 keep-alive clients, is the \
         denominator. Lag is how long a credential due at the start waited for its refresh. Every run verifies that each \
         connection's refresh token was presented exactly once.\n\nMachine: {}.\n\n\
         Mock token endpoint capacity: {capacity:.0} refresh grants/s.\n\n\
         | processes | refreshes/s | of mock capacity | provider calls per connection | time for {CONNECTIONS} | p99 lag s | peak RSS per process MiB |\n\
         |---|---|---|---|---|---|---|\n",
        machine()
    );
    for r in &results {
        text.push_str(&format!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.1} s | {:.1} | {} |\n",
            r.processes,
            r.per_second,
            r.per_second / capacity,
            r.calls_per_connection,
            r.seconds,
            r.p99_lag,
            r.peak_rss
                .iter()
                .map(|m| format!("{m:.0}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    text.push_str(&format!(
        "\nShort-lived tokens: {SHORT_CONNECTIONS} connections whose provider issues {SHORT_LIFETIME} s tokens (inside the \
         300 s lead and the 60 s skew), watched for {} s with 3 processes: {} refresh calls, {:.2} provider calls per \
         connection per half-lifetime (every refresh token presented once).\n",
        SHORT_WINDOW.as_secs(),
        short.calls,
        short.calls_per_half_life
    ));
    text.push_str(
        "\nTarget: at least 500 refreshes/s with 3 processes; exactly 1.00 provider calls per connection; at most 1.0 \
         provider calls per connection per half-lifetime for short-lived tokens.\n",
    );
    write_section("refresh", "Background refresh", &text)?;
    println!("\n{text}\nwrote BENCHMARKS.md");
    Ok(())
}
