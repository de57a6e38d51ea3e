//! `cargo xtask bench resolve --refreshing`: the cached read path while connections refresh.
//! `CONNECTIONS` OAuth2 connections, each in its own workspace, are resolved at random by wrk
//! (so every envelope is in the cache and read again every few milliseconds) while 1% of them
//! are refreshed (a forced refresh through the Gateway, spread over the run). Measured twice in
//! the same command: with each refresh invalidating only its connection (what Nexus does), and
//! with each refresh invalidating every cached envelope of the process (what it did before, set
//! by `NEXUS_BENCH_INVALIDATE_EVERYTHING` in bench builds). Reports throughput, latency and the
//! cache hit rate (resolves that did not read the database).

use crate::bench::{Run, http, machine, post, release_binary, spawn_serve, tempfile_dir, wrk_run};
use crate::bench_refresh::{MockTokenEndpoint, generate_key};
use anyhow::{Context, bail};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const CONNECTIONS: usize = 2_000;
/// 1% of them refresh during each run.
const REFRESHING: usize = CONNECTIONS / 100;
const SECONDS: u32 = 10;
const WRK_CONNECTIONS: u32 = 32;
const ADMIN_KEY: &str = "bench-admin-key-0000000000000000000000";

struct Measured {
    run: Run,
    hit_rate: f64,
    refreshed: usize,
}

pub fn refreshing() -> anyhow::Result<String> {
    let binary = release_binary()?;
    let mock = MockTokenEndpoint::start()?;
    let mut results = Vec::new();
    for (label, everything) in [("per connection (now)", false), ("whole process (before)", true)] {
        let measured = measure(&binary, &mock, everything)?;
        println!(
            "{label}: {:.0} req/s, p99 {:.2} ms, hit rate {:.1}%, {} refreshes",
            measured.run.requests_per_second,
            measured.run.p99_ms,
            measured.hit_rate * 100.0,
            measured.refreshed
        );
        results.push((label, measured));
    }
    let now = &results[0].1;
    let before = &results[1].1;
    let mut text = format!(
        "Measured by `cargo xtask bench resolve --refreshing` (release build, `nexus serve` on SQLite, {SECONDS} s with \
         wrk at {WRK_CONNECTIONS} connections). {CONNECTIONS} OAuth2 connections, each in its own workspace, resolved \
         at random (every envelope stays cached: one read every few milliseconds each), while {REFRESHING} of them (1%) \
         are refreshed through the Gateway, spread over the run, against a local mock token endpoint. The baseline is \
         the same run with each refresh invalidating every cached envelope of the process, as before per-connection \
         invalidation (`NEXUS_BENCH_INVALIDATE_EVERYTHING`, bench builds only). Hit rate: resolves that did not read the \
         database.\n\nMachine: {}.\n\n\
         | a refresh invalidates | resolve req/s | p50 ms | p99 ms | cache hit rate | refreshes during the run |\n\
         |---|---|---|---|---|---|\n",
        machine()
    );
    for (label, m) in &results {
        text.push_str(&format!(
            "| {label} | {:.0} | {:.2} | {:.2} | {:.2}% | {} |\n",
            m.run.requests_per_second,
            m.run.p50_ms,
            m.run.p99_ms,
            m.hit_rate * 100.0,
            m.refreshed
        ));
    }
    text.push_str(&format!(
        "\nRatio (per connection / whole process): throughput {:.2}, p99 {:.2}; misses {:.1}% against {:.1}%. The misses \
         that remain are the envelope cache's 2 s lifetime.\n",
        now.run.requests_per_second / before.run.requests_per_second,
        now.run.p99_ms / before.run.p99_ms,
        (1.0 - now.hit_rate) * 100.0,
        (1.0 - before.hit_rate) * 100.0,
    ));
    Ok(text)
}

fn measure(binary: &std::path::Path, mock: &MockTokenEndpoint, everything: bool) -> anyhow::Result<Measured> {
    let dir = tempfile_dir()?.join(if everything {
        "refreshing-before"
    } else {
        "refreshing-now"
    });
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let encryption_key = generate_key(binary)?;
    let state_key = generate_key(binary)?;
    let mut env = vec![
        ("NEXUS_ENCRYPTION_KEYS", encryption_key.as_str()),
        ("NEXUS_STATE_KEY", state_key.as_str()),
        ("NEXUS_ADMIN_KEYS", ADMIN_KEY),
        // Only the forced refreshes below refresh anything.
        ("NEXUS_REFRESH_AHEAD_SECONDS", "0"),
    ];
    if everything {
        env.push(("NEXUS_BENCH_INVALIDATE_EVERYTHING", "1"));
    }
    let (process, broker, gateway) = spawn_serve(binary, &dir, &env)?;
    let client = http()?;
    post(
        &client,
        &format!("{broker}/v1/providers"),
        ADMIN_KEY,
        json!({"name": "bench-oauth", "auth_type": "oauth2", "client_id": "bench", "client_secret": "bench-secret",
               "authorization_url": "http://127.0.0.1:9/authorize", "token_url": mock.url, "scopes": ["read"]}),
    )?;
    crate::bench_refresh::seed_workspaces(&broker, ADMIN_KEY, CONNECTIONS)?;
    let key = post(
        &client,
        &format!("{broker}/v1/agent-keys"),
        ADMIN_KEY,
        json!({"name": "bench", "all_workspaces": true}),
    )?["key"]
        .as_str()
        .context("agent key")?
        .to_owned();
    let ids = connection_ids(&client, &broker)?;
    let script =
        crate::bench_uncached::write_script(&dir, "/v1/resolve?provider=bench-oauth&workspace_id=ws-", CONNECTIONS)?;
    // Every envelope in the cache before the measurement.
    wrk_run(&format!("{gateway}/"), &key, WRK_CONNECTIONS, 2, Some(&script))?;

    let reads_before = crate::bench_uncached::database_reads(&client, &broker)?;
    let done = Arc::new(AtomicBool::new(false));
    let refresher = {
        let (done, gateway, key) = (done.clone(), gateway.clone(), key.clone());
        let chosen: Vec<String> = ids
            .into_iter()
            .step_by(CONNECTIONS / REFRESHING)
            .take(REFRESHING)
            .collect();
        std::thread::spawn(move || -> anyhow::Result<usize> {
            let client = http()?;
            let pause = Duration::from_secs(u64::from(SECONDS)) / u32::try_from(REFRESHING + 1).unwrap_or(1);
            let mut refreshed = 0;
            for id in chosen {
                std::thread::sleep(pause);
                if done.load(Ordering::Relaxed) {
                    break;
                }
                let answer = client
                    .post(format!("{gateway}/v1/refresh/{id}"))
                    .bearer_auth(&key)
                    .send()
                    .context("refresh")?;
                if !answer.status().is_success() {
                    bail!("a forced refresh answered {}", answer.status());
                }
                refreshed += 1;
            }
            Ok(refreshed)
        })
    };
    let run = wrk_run(&format!("{gateway}/"), &key, WRK_CONNECTIONS, SECONDS, Some(&script))?;
    done.store(true, Ordering::Relaxed);
    let refreshed = refresher
        .join()
        .map_err(|_| anyhow::anyhow!("the refreshing thread panicked"))??;
    let reads = crate::bench_uncached::database_reads(&client, &broker)? - reads_before;
    let requests = run.requests_per_second * f64::from(SECONDS);
    drop(process);
    Ok(Measured {
        hit_rate: (1.0 - reads / requests).clamp(0.0, 1.0),
        run,
        refreshed,
    })
}

/// The ids of the seeded connections, in workspace order.
fn connection_ids(client: &reqwest::blocking::Client, broker: &str) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut request = client
            .get(format!("{broker}/v1/connections"))
            .bearer_auth(ADMIN_KEY)
            .query(&[("limit", "500")]);
        if let Some(cursor) = &cursor {
            request = request.query(&[("cursor", cursor.as_str())]);
        }
        let page: serde_json::Value = request.send()?.json()?;
        for item in page["items"].as_array().context("items")? {
            ids.push(item["connection_id"].as_str().context("connection_id")?.to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    if ids.len() != CONNECTIONS {
        bail!("seeded {} connections, expected {CONNECTIONS}", ids.len());
    }
    Ok(ids)
}
