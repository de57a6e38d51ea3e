//! The database cut under running `nexus serve` processes, as an operator meets an outage. On
//! PostgreSQL the connections go through a TCP relay the test cuts (every open connection
//! closed, new ones refused: what a stopped server or a failover looks like to a client); on
//! SQLite another process takes the locks of the WAL index, so no connection can read. Under
//! one process and under a split Gateway:
//! - a connection read before the cut keeps answering 200 with `Nexus-Stale` (and its agent
//!   key keeps working) until the bound, then 503 with `Retry-After`;
//! - a connection never read answers 503 promptly;
//! - once the database is back, the audit trail holds every read, at its original time;
//! - nothing answers 500.

mod common;

use chrono::{DateTime, Utc};
use common::{Deployment, raw, start_split_gateway};
use nexus_test_utils::mock_provider::{CLIENT_ID, CLIENT_SECRET, MockProvider, TokenReply};
use nexus_test_utils::{Backend, TestDatabase, database_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

const ADMIN_KEY: &str = "admin-key-for-the-outage-tests-0123456789";
const SERVICE_KEY: &str = "service-key-for-the-outage-tests-0123456789";
/// `NEXUS_STALE_IF_ERROR_SECONDS` here: short, so the test sees the bound end.
const BOUND: Duration = Duration::from_secs(20);

/// One scenario at a time: each runs a Nexus process, and the machine has two cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A TCP relay in front of PostgreSQL that can be cut.
struct Relay {
    addr: SocketAddr,
    cut: watch::Sender<bool>,
}

impl Relay {
    async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the relay");
        let addr = listener.local_addr().expect("relay address");
        let (cut, watching) = watch::channel(false);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut cut = watching.clone();
                if *cut.borrow() {
                    continue; // dropped: refused
                }
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Self { addr, cut }
    }
}

/// What cuts this database.
enum Cutter {
    Relay(Relay),
    /// The SQLite file, and the process holding its WAL index's locks while cut.
    Sqlite(std::path::PathBuf, Option<Child>),
}

impl Cutter {
    fn cut(&mut self) {
        match self {
            Self::Relay(relay) => {
                relay.cut.send_replace(true);
            }
            Self::Sqlite(path, holder) => *holder = Some(lock_wal_index(path)),
        }
    }

    fn restore(&mut self) {
        match self {
            Self::Relay(relay) => {
                relay.cut.send_replace(false);
            }
            Self::Sqlite(_, holder) => {
                if let Some(mut child) = holder.take() {
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
        }
    }
}

impl Drop for Cutter {
    fn drop(&mut self) {
        self.restore();
    }
}

/// Another process takes write locks on the WAL index's lock bytes (the writer, checkpoint,
/// recovery and every reader slot), as a stuck process would: readers then fail with
/// SQLITE_PROTOCOL. Python's `fcntl` takes the POSIX locks SQLite honours.
fn lock_wal_index(db: &std::path::Path) -> Child {
    let shm = format!("{}-shm", db.display());
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import fcntl, os, sys, time\n\
             fd = os.open(sys.argv[1], os.O_RDWR)\n\
             fcntl.lockf(fd, fcntl.LOCK_EX, 8, 120, 0)\n\
             print('locked', flush=True)\n\
             time.sleep(600)\n",
            &shm,
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python3 runs (it holds SQLite's locks): {e}"));
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
        &mut line,
    )
    .expect("the lock holder answers");
    assert_eq!(line.trim(), "locked");
    child
}

/// The database as the processes reach it, and what cuts it.
async fn reachable(db: &TestDatabase) -> (String, Cutter) {
    match db.backend {
        Backend::Postgres => {
            let mut url = url::Url::parse(&db.url).expect("database url");
            let upstream: SocketAddr = format!("{}:{}", url.host_str().expect("host"), url.port().unwrap_or(5432))
                .parse()
                .expect("PostgreSQL on an address");
            let relay = Relay::start(upstream).await;
            url.set_port(Some(relay.addr.port())).expect("port");
            (url.to_string(), Cutter::Relay(relay))
        }
        Backend::Sqlite => (
            db.url.clone(),
            Cutter::Sqlite(db.sqlite_path.clone().expect("a file"), None),
        ),
    }
}

async fn admin(broker: &str, path: &str, body: &Value) -> Value {
    let response = raw()
        .post(format!("{broker}{path}"))
        .bearer_auth(ADMIN_KEY)
        .json(body)
        .send()
        .await
        .expect("POST");
    let status = response.status();
    let body: Value = response.json().await.expect("JSON");
    assert!(status.is_success(), "{path}: {status} {body}");
    body
}

/// The Prometheus text a listener at `base` exports.
async fn scrape(base: &str) -> String {
    raw()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text")
}

/// The API-key provider `keyed` every scenario reads.
async fn register_keyed(broker: &str) {
    admin(
        broker,
        "/v1/providers",
        &json!({"name": "keyed", "auth_type": "api_key", "api_base_url": "https://api.example.com"}),
    )
    .await;
}

/// An agent key for every workspace.
async fn agent_key(broker: &str, name: &str) -> String {
    admin(broker, "/v1/agent-keys", &json!({"name": name, "all_workspaces": true})).await["key"]
        .as_str()
        .expect("key")
        .to_owned()
}

/// An API-key connection of `workspace`, captured through the hosted form's JSON variant.
async fn connect(broker: &str, workspace: &str, api_key: &str) -> String {
    let consent = admin(
        broker,
        "/v1/consents",
        &json!({"workspace_id": workspace, "provider": "keyed", "return_url": "http://127.0.0.1:9/done"}),
    )
    .await;
    let captured = raw()
        .post(format!("{broker}/auth/capture"))
        .json(&json!({"state": consent["state"], "credentials": {"api_key": api_key}}))
        .send()
        .await
        .expect("capture");
    assert!(captured.status().is_success(), "{}", captured.status());
    consent["connection_id"].as_str().expect("id").to_owned()
}

/// A connection of `workspace` to the mock OAuth provider, its token issued now for
/// `expires_in` seconds.
async fn connect_oauth(broker: &str, workspace: &str) -> String {
    let consent = admin(
        broker,
        "/v1/consents",
        &json!({"workspace_id": workspace, "provider": "mock", "return_url": "http://127.0.0.1:9/done"}),
    )
    .await;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let back = browser
        .get(format!("{broker}/auth/callback"))
        .query(&[("state", consent["state"].as_str().expect("state")), ("code", "code")])
        .send()
        .await
        .expect("callback");
    assert_eq!(back.status(), StatusCode::FOUND);
    consent["connection_id"].as_str().expect("id").to_owned()
}

/// One resolve: status, `Nexus-Stale`, `Retry-After`, body, and how long it took.
struct Answer {
    status: StatusCode,
    stale: Option<u64>,
    retry_after: Option<String>,
    body: Value,
    took: Duration,
}

async fn resolve(gateway: &str, key: &str, workspace: &str) -> Answer {
    resolve_provider(gateway, key, workspace, "keyed").await
}

async fn resolve_provider(gateway: &str, key: &str, workspace: &str, provider: &str) -> Answer {
    let started = Instant::now();
    let response = raw()
        .get(format!(
            "{gateway}/v1/resolve?workspace_id={workspace}&provider={provider}"
        ))
        .bearer_auth(key)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .expect("answered");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (status, stale, retry_after) = (
        response.status(),
        header("nexus-stale").map(|v| v.parse().expect("Nexus-Stale is seconds")),
        header("retry-after"),
    );
    let body = response.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        stale,
        retry_after,
        body,
        took: started.elapsed(),
    }
}

/// The `token_read` rows of a connection: (reads, first_at, last_at) each.
async fn reads_audited(broker: &str, connection: &str) -> Vec<(u64, DateTime<Utc>, DateTime<Utc>)> {
    let page: Value = raw()
        .get(format!(
            "{broker}/v1/audit-events?event_type=token_read&connection_id={connection}&limit=500"
        ))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .expect("audit")
        .json()
        .await
        .expect("JSON");
    let time = |v: &Value| v.as_str().and_then(|s| s.parse().ok()).expect("a time");
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|row| {
            let data = &row["data"];
            (
                data["reads"].as_u64().expect("reads"),
                time(&data["first_at"]),
                time(&data["last_at"]),
            )
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    OneProcess,
    /// A Gateway of its own, reaching the Broker process through a relay: after the database,
    /// the Broker itself becomes unreachable.
    Split,
}

/// Reads `workspace` until `until` has passed since `since`, every one a 200 with the captured
/// key; returns how many were served and the `Nexus-Stale` ages seen.
async fn keep_reading(
    gateway: &str,
    key: &str,
    since: Instant,
    until: Duration,
    log: &mut Vec<StatusCode>,
) -> (u64, Vec<u64>) {
    let (mut served, mut ages) = (0, Vec::new());
    while since.elapsed() < until {
        let answer = resolve(gateway, key, "ws-read").await;
        log.push(answer.status);
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "a connection read before the cut is served: {}",
            answer.body
        );
        assert_eq!(answer.body["credentials"]["api_key"], "sk-read-before-the-cut");
        served += 1;
        if let Some(age) = answer.stale {
            assert!(age <= BOUND.as_secs(), "within the bound: {age}");
            ages.push(age);
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    (served, ages)
}

async fn outage(db: TestDatabase, mode: Mode) {
    let _one = ONE_AT_A_TIME.lock().await;
    common::install_tls_provider();
    let (url, mut database) = reachable(&db).await;
    let _db = db;
    let deployment = Deployment::new(ADMIN_KEY);
    let bound = BOUND.as_secs().to_string();
    let (nexus, _dir) = deployment.spawn_on(
        &url,
        &[
            ("NEXUS_STALE_IF_ERROR_SECONDS", bound.as_str()),
            ("NEXUS_SERVICE_KEYS", SERVICE_KEY),
            // A short skew, and no background refresh: the OAuth token below enters the skew
            // during the outage, and nothing may refresh it meanwhile.
            ("NEXUS_REFRESH_SKEW_SECONDS", "5"),
            ("NEXUS_REFRESH_AHEAD_SECONDS", "0"),
        ],
    );
    let broker = nexus.broker_url.clone();
    let (split, mut broker_link) = match mode {
        Mode::OneProcess => (None, None),
        Mode::Split => {
            let addr: SocketAddr = broker.trim_start_matches("http://").parse().expect("broker address");
            let relay = Relay::start(addr).await;
            let through = format!("http://{}", relay.addr);
            (
                Some(start_split_gateway(&through, SERVICE_KEY, 1 << 20).await),
                Some(Cutter::Relay(relay)),
            )
        }
    };
    let gateway = split.as_ref().map_or_else(
        || nexus.gateway_url.clone(),
        |running| format!("http://{}", running.gateway_addr.expect("a gateway")),
    );
    register_keyed(&broker).await;
    let read_before = connect(&broker, "ws-read", "sk-read-before-the-cut").await;
    let never_read = connect(&broker, "ws-never", "sk-never-read").await;
    let mock = MockProvider::start().await;
    mock.default_reply(TokenReply::Tokens {
        access_token: "at-expiring-soon".into(),
        refresh_token: Some("rt-expiring-soon".into()),
        expires_in: Some(14),
    });
    admin(
        &broker,
        "/v1/providers",
        &json!({"name": "mock", "auth_type": "oauth2", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                "authorization_url": mock.url("/authorize"), "token_url": mock.url("/token"), "scopes": ["read"]}),
    )
    .await;
    let key = agent_key(&broker, "outage").await;
    let mut answered = Vec::new();
    let mut served = 0_u64;
    // Valid for 14 s: beyond the 5 s skew for 9 s, then inside it.
    connect_oauth(&broker, "ws-soon").await;
    let soon_issued = Instant::now();
    let soon = resolve_provider(&gateway, &key, "ws-soon", "mock").await;
    assert_eq!(soon.status, StatusCode::OK, "{}", soon.body);
    for _ in 0..3 {
        let answer = resolve(&gateway, &key, "ws-read").await;
        answered.push(answer.status);
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(answer.stale, None, "fresh answers carry no Nexus-Stale");
        served += 1;
    }

    let cut_at = Utc::now();
    database.cut();
    let cut = Instant::now();
    // Past the fresh cache (2 s) and the agent key's (5 s): answered from the bounded memory,
    // with its age.
    let (count, ages) = keep_reading(&gateway, &key, cut, BOUND / 2, &mut answered).await;
    served += count;
    assert!(
        !ages.is_empty(),
        "reads during the cut are marked Nexus-Stale ({mode:?})"
    );
    let never = resolve(&gateway, &key, "ws-never").await;
    answered.push(never.status);
    assert_eq!(never.status, StatusCode::SERVICE_UNAVAILABLE, "{}", never.body);
    assert!(never.retry_after.is_some(), "503 says when to retry");
    assert!(
        never.took < Duration::from_secs(3),
        "a connection never read is refused promptly, not after a timeout: {:?}",
        never.took
    );
    // The OAuth token is now inside the skew: not served from memory (and not refreshed).
    if let Some(wait) = Duration::from_secs(10).checked_sub(soon_issued.elapsed()) {
        tokio::time::sleep(wait).await;
    }
    let soon = resolve_provider(&gateway, &key, "ws-soon", "mock").await;
    answered.push(soon.status);
    assert_eq!(
        soon.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "inside the skew: {}",
        soon.body
    );
    assert!(soon.retry_after.is_some());
    assert_eq!(
        mock.refresh_count(),
        0,
        "nothing is refreshed while the database is away"
    );

    if let Some(link) = &mut broker_link {
        // The Broker becomes unreachable too: the Gateway serves what it holds, within the
        // bound the Broker gave (counted from the database read), and reports the reads later.
        link.cut();
        let since = Instant::now();
        let (count, ages) = keep_reading(&gateway, &key, since, Duration::from_secs(4), &mut answered).await;
        served += count;
        assert!(!ages.is_empty(), "the Gateway marks what it serves from memory");
        let metrics_addr = split
            .as_ref()
            .and_then(|running| running.metrics_addr)
            .expect("metrics");
        let metrics = scrape(&format!("http://{metrics_addr}")).await;
        assert!(
            metrics.contains("nexus_stale_reads_total{provider=\"keyed\"}"),
            "the Gateway served from its own memory, and counted it: {metrics}"
        );
        let never = resolve(&gateway, &key, "ws-never").await;
        answered.push(never.status);
        assert_eq!(never.status, StatusCode::SERVICE_UNAVAILABLE, "{}", never.body);
        assert!(never.took < Duration::from_secs(3), "{:?}", never.took);
    }

    // Past the bound, memory is not used any more.
    let past = BOUND + Duration::from_secs(1);
    if let Some(wait) = past.checked_sub(cut.elapsed()) {
        tokio::time::sleep(wait).await;
    }
    let expired = resolve(&gateway, &key, "ws-read").await;
    answered.push(expired.status);
    assert_eq!(
        expired.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "past the bound: {}",
        expired.body
    );
    assert!(expired.retry_after.is_some());

    database.restore();
    if let Some(link) = &mut broker_link {
        link.restore();
    }
    let restored_at = Utc::now();
    let back = Instant::now();
    loop {
        let answer = resolve(&gateway, &key, "ws-read").await;
        answered.push(answer.status);
        if answer.status == StatusCode::OK {
            assert_eq!(answer.stale, None, "read from the database again");
            served += 1;
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(30),
            "the database is back: {}",
            answer.body
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        answered
            .iter()
            .all(|status| *status == StatusCode::OK || *status == StatusCode::SERVICE_UNAVAILABLE),
        "only 200s and 503s, never a 500: {answered:?}"
    );

    // Every read is in the audit trail once, those made during the cut at their own time.
    let wait = Instant::now();
    let rows = loop {
        let rows = reads_audited(&broker, &read_before).await;
        let total: u64 = rows.iter().map(|row| row.0).sum();
        if total >= served || wait.elapsed() > Duration::from_secs(15) {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let total: u64 = rows.iter().map(|row| row.0).sum();
    match mode {
        Mode::OneProcess => assert_eq!(total, served, "every read audited once: {rows:?}"),
        // A Gateway's reports are at least once: one whose answer the cut lost is sent again.
        Mode::Split => assert!(total >= served, "every read audited: {total} of {served}: {rows:?}"),
    }
    assert!(
        rows.iter().any(|(_, first, _)| *first > cut_at && *first < restored_at),
        "reads during the cut keep their time: {rows:?} (cut {cut_at}, restored {restored_at})"
    );
    assert!(reads_audited(&broker, &never_read).await.is_empty());
    if let Some(running) = split {
        running.stop().await.expect("the Gateway stops");
    }
    assert!(nexus.terminate(), "a clean shutdown");
}

async fn one_process(db: TestDatabase) {
    outage(db, Mode::OneProcess).await;
}

async fn split(db: TestDatabase) {
    outage(db, Mode::Split).await;
}

database_tests!(one_process, split);

/// Audit rows that could not be written are spooled to `NEXUS_AUDIT_SPOOL`, survive the
/// process stopping while the database is away, and are written by the next process.
async fn spooled_reads_survive_a_restart(db: TestDatabase) {
    let _one = ONE_AT_A_TIME.lock().await;
    let (url, mut cutter) = reachable(&db).await;
    let _db = db;
    let spool_dir = tempfile::tempdir().expect("tempdir");
    let spool = spool_dir.path().join("audit.spool");
    let spool_env = spool.display().to_string();
    let deployment = Deployment::new(ADMIN_KEY);
    let env = [
        ("NEXUS_STALE_IF_ERROR_SECONDS", "60"),
        ("NEXUS_AUDIT_SPOOL", spool_env.as_str()),
    ];
    let (nexus, _dir) = deployment.spawn_on(&url, &env);
    register_keyed(&nexus.broker_url).await;
    let connection = connect(&nexus.broker_url, "ws-spool", "sk-spooled").await;
    let key = agent_key(&nexus.broker_url, "spool").await;
    assert_eq!(
        resolve(&nexus.gateway_url, &key, "ws-spool").await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(1500)).await; // that read is written
    cutter.cut();
    let cut_at = Utc::now();
    let mut during = 0;
    for _ in 0..5 {
        let answer = resolve(&nexus.gateway_url, &key, "ws-spool").await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        during += 1;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(nexus.terminate(), "stops cleanly while the database is away");
    let spooled = std::fs::read_to_string(&spool).unwrap_or_default();
    assert!(spooled.contains("token_read"), "the reads were spooled: {spooled}");
    assert!(!spooled.contains("sk-spooled"), "never a secret in the spool");

    cutter.restore();
    let (nexus, _dir) = deployment.spawn_on(&url, &env);
    let wait = Instant::now();
    let rows = loop {
        let rows = reads_audited(&nexus.broker_url, &connection).await;
        if rows.iter().map(|row| row.0).sum::<u64>() > 1 || wait.elapsed() > Duration::from_secs(15) {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let total: u64 = rows.iter().map(|row| row.0).sum();
    assert_eq!(total, 1 + during, "{rows:?}");
    assert!(rows.iter().any(|(_, first, _)| *first > cut_at), "{rows:?}");
    assert_eq!(
        std::fs::read_to_string(&spool).unwrap_or_default(),
        "",
        "the spool is emptied once written"
    );
    assert!(nexus.terminate());
}

database_tests!(spooled_reads_survive_a_restart);

/// Past `NEXUS_AUDIT_BUFFER_EVENTS` (here 1) and without a spool, audit rows are lost, and the
/// loss is itself recorded: `nexus_audit_events_dropped_total` counts it and, once the database
/// answers, an `audit_events_dropped` event says how many and when.
async fn a_loss_past_the_bound_is_recorded(db: TestDatabase) {
    let _one = ONE_AT_A_TIME.lock().await;
    let (url, mut cutter) = reachable(&db).await;
    let _db = db;
    let deployment = Deployment::new(ADMIN_KEY);
    let (nexus, _dir) = deployment.spawn_on(
        &url,
        &[
            ("NEXUS_STALE_IF_ERROR_SECONDS", "60"),
            ("NEXUS_AUDIT_BUFFER_EVENTS", "1"),
        ],
    );
    let broker = nexus.broker_url.clone();
    register_keyed(&broker).await;
    let workspaces = ["ws-loss-a", "ws-loss-b", "ws-loss-c"];
    for workspace in workspaces {
        connect(&broker, workspace, "sk-loss").await;
    }
    let key = agent_key(&broker, "loss").await;
    for workspace in workspaces {
        assert_eq!(
            resolve(&nexus.gateway_url, &key, workspace).await.status,
            StatusCode::OK
        );
    }
    tokio::time::sleep(Duration::from_millis(1500)).await; // those reads are written
    cutter.cut();
    let cut_at = Utc::now();
    // Three connections read in the same second: three rows, and room for one.
    for workspace in workspaces {
        let answer = resolve(&nexus.gateway_url, &key, workspace).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }
    let counted = Instant::now();
    let dropped = loop {
        let metrics = scrape(&broker).await;
        let dropped: f64 = metrics
            .lines()
            .find(|line| line.starts_with("nexus_audit_events_dropped_total "))
            .and_then(|line| line.rsplit(' ').next()?.parse().ok())
            .unwrap_or(0.0);
        if dropped >= 2.0 || counted.elapsed() > Duration::from_secs(25) {
            break dropped;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(dropped >= 2.0, "two of the three rows did not fit: {dropped}");
    cutter.restore();
    let wait = Instant::now();
    let event = loop {
        let page: Value = raw()
            .get(format!("{broker}/v1/audit-events?event_type=audit_events_dropped"))
            .bearer_auth(ADMIN_KEY)
            .send()
            .await
            .expect("audit")
            .json()
            .await
            .unwrap_or(Value::Null);
        if let Some(event) = page["items"].as_array().and_then(|items| items.first()).cloned() {
            break event;
        }
        // The next write after the outage records the loss: give it one.
        let _ = resolve(&nexus.gateway_url, &key, "ws-loss-a").await;
        assert!(wait.elapsed() < Duration::from_secs(20), "the loss is recorded");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let recorded = event["data"]["events"].as_f64().expect("events");
    assert!(recorded >= dropped, "the event counts every loss: {event}");
    let metrics = scrape(&broker).await;
    assert!(
        metrics.contains(&format!("nexus_audit_events_dropped_total {recorded}")),
        "the metric and the event agree: {recorded}"
    );
    let first_at: DateTime<Utc> = event["data"]["first_at"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("first_at");
    assert!(first_at >= cut_at, "the loss's own time: {event}");
    assert!(nexus.terminate());
}

database_tests!(a_loss_past_the_bound_is_recorded);
