//! End-to-end support: a real `nexus` server (in-process, ports 0) on a test database.

#![allow(dead_code)]

pub mod browser;
pub mod null_guard;
pub mod oidc;

use nexus_server::config::{CommonArgs, generate_key};
use nexus_server::{Running, ServeOptions};
use nexus_test_utils::TestDatabase;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// How the Gateway runs: in the Broker's process, or in its own (calling the Broker over HTTP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    OneProcess,
    Split,
}

pub struct TestServer {
    pub broker_url: String,
    /// The browser-only and `/metrics`-only listeners, when the test asked for them.
    pub public_url: Option<String>,
    pub metrics_url: Option<String>,
    /// A split Gateway's own `/metrics` listener (split mode only).
    pub gateway_metrics_url: Option<String>,
    pub gateway_url: String,
    /// The Gateway itself, without the guard: for requests a guard in between would change
    /// (a body the Gateway refuses before reading it).
    pub gateway_direct_url: String,
    pub admin_key: String,
    pub service_key: String,
    pub db: TestDatabase,
    running: Option<Running>,
    split_gateway: Option<Running>,
    /// In front of `broker_url` and `gateway_url`: every JSON body is checked for `null`.
    guards: Vec<null_guard::NullGuard>,
    _data_dir: TempDir,
}

impl TestServer {
    pub async fn start(db: TestDatabase) -> Self {
        Self::start_in(db, Mode::OneProcess).await
    }

    /// A Broker (with its in-process Gateway) and, in split mode, a second Gateway in front of it;
    /// `gateway_url` is the Gateway the mode names.
    pub async fn start_in(db: TestDatabase, mode: Mode) -> Self {
        Self::start_with(db, mode, |_| {}).await
    }

    /// As `start_in`, with the configuration adjusted first (extra listeners, say).
    pub async fn start_with(db: TestDatabase, mode: Mode, configure: impl FnOnce(&mut CommonArgs)) -> Self {
        install_tls_provider();
        let data_dir = tempfile::tempdir().expect("data dir");
        let admin_key = format!("admin-{}", generate_key());
        let service_key = format!("service-{}", generate_key());
        let mut common = CommonArgs {
            production: false,
            data_dir: data_dir.path().to_path_buf(),
            database_url: Some(db.url.clone()),
            encryption_keys: Some(generate_key()),
            state_key: Some(generate_key()),
            admin_keys: Some(admin_key.clone()),
            service_keys: Some(service_key.clone()),
            public_url: None,
            allowed_return_urls: None,
            refresh_skew_seconds: 60,
            poll_interval_seconds: 1,
            // Off: these tests race reads against the provider on purpose. Background refresh
            // is tested with real processes (refresh_replicas.rs).
            refresh_ahead_seconds: 0,
            refresh_concurrency: 8,
            refresh_per_provider: 4,
            database_max_connections: None,
            public_listen: None,
            metrics_listen: None,
            audit_retention_days: 90,
            webhook_allow_private: None,
            webhook_concurrency: 16,
            // Fast scans and retries: the webhook tests wait for deliveries.
            webhook_poll_interval_ms: 100,
            webhook_timeout_seconds: 10,
            webhook_first_retry_ms: 200,
            proxy_max_body_bytes: 10 * 1024 * 1024,
            proxy_timeout_seconds: 25,
            stale_if_error_seconds: 900,
            audit_buffer_events: 100_000,
            audit_spool: None,
            client_metadata_url: None,
            registration_tokens: None,
        };
        configure(&mut common);
        let proxy_max_body_bytes = common.proxy_max_body_bytes;
        // Browsers and API clients alike reach the Broker through the guard, unless the test
        // gave Nexus a public URL or listener of its own.
        let broker_guard = null_guard::NullGuard::bind().await;
        if common.public_url.is_none() && common.public_listen.is_none() {
            common.public_url = Some(broker_guard.url.clone());
        }
        let running = nexus_server::start(ServeOptions {
            common,
            broker_listen: "127.0.0.1:0".parse().expect("addr"),
            gateway_listen: Some("127.0.0.1:0".parse().expect("addr")),
            bench_baseline: false,
        })
        .await
        .expect("server starts");
        broker_guard.forward_to(&format!("http://{}", running.broker_addr));
        let split_gateway = match mode {
            Mode::OneProcess => None,
            // Through the guard too: the internal API's answers are checked like any other.
            Mode::Split => Some(start_split_gateway(&broker_guard.url, &service_key, proxy_max_body_bytes).await),
        };
        let gateway_addr = split_gateway
            .as_ref()
            .and_then(|g| g.gateway_addr)
            .or(running.gateway_addr)
            .expect("gateway listener");
        let gateway_guard = null_guard::NullGuard::start(&format!("http://{gateway_addr}")).await;
        Self {
            public_url: running.public_addr.map(|addr| format!("http://{addr}")),
            metrics_url: running.metrics_addr.map(|addr| format!("http://{addr}")),
            gateway_metrics_url: split_gateway
                .as_ref()
                .and_then(|g| g.metrics_addr)
                .map(|addr| format!("http://{addr}")),
            broker_url: broker_guard.url.clone(),
            gateway_url: gateway_guard.url.clone(),
            gateway_direct_url: format!("http://{gateway_addr}"),
            admin_key,
            service_key,
            db,
            running: Some(running),
            split_gateway,
            guards: vec![broker_guard, gateway_guard],
            _data_dir: data_dir,
        }
    }

    pub fn broker(&self) -> nexus_client::broker::Client {
        nexus_client::broker_client(&self.broker_url, &self.admin_key).expect("broker client")
    }

    pub fn gateway(&self, agent_key: &str) -> nexus_client::gateway::Client {
        nexus_client::gateway_client(&self.gateway_url, agent_key).expect("gateway client")
    }

    /// Creates an agent key through the Broker and returns the key.
    pub async fn agent_key(&self, workspace_ids: Option<Vec<&str>>) -> String {
        let body = nexus_client::broker::types::AgentKeyCreate {
            name: "test-agent".parse().expect("a valid name"),
            all_workspaces: Some(workspace_ids.is_none()),
            workspace_ids: workspace_ids
                .unwrap_or_default()
                .into_iter()
                .map(|w| w.parse().expect("a valid workspace id"))
                .collect(),
            proxy_only: None,
        };
        self.broker()
            .agent_key_create()
            .body(body)
            .send()
            .await
            .expect("agent key")
            .into_inner()
            .key
    }

    /// Connects `workspace` to the API-key provider `provider` with `api_key`, through the
    /// hosted form's JSON variant; returns the connection id.
    pub async fn connect_api_key(&self, workspace: &str, provider: &str, api_key: &str) -> String {
        let consent = self
            .admin_post(
                "/v1/consents",
                serde_json::json!({"workspace_id": workspace, "provider": provider, "return_url": "http://127.0.0.1:9/done"}),
            )
            .await;
        let captured = raw()
            .post(format!("{}/auth/capture", self.broker_url))
            .json(&serde_json::json!({"state": consent["state"], "credentials": {"api_key": api_key}}))
            .send()
            .await
            .expect("capture");
        assert!(captured.status().is_success(), "capture: {}", captured.status());
        consent["connection_id"].as_str().expect("connection id").to_owned()
    }

    /// Deletes the agent key `key` on the Broker (found by its public prefix).
    pub async fn delete_agent_key(&self, key: &str) {
        let prefix = key.split('_').take(2).collect::<Vec<_>>().join("_");
        let keys = self
            .broker()
            .agent_key_list()
            .send()
            .await
            .expect("agent keys")
            .into_inner();
        let id = keys
            .items
            .iter()
            .find(|k| k.prefix == prefix)
            .map(|k| k.id)
            .expect("the key is listed");
        self.broker()
            .agent_key_delete()
            .agent_key_id(id.to_string())
            .send()
            .await
            .expect("delete the agent key");
    }

    /// POSTs JSON to the Broker with the admin key; the answer must be a success.
    pub async fn admin_post(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let response = raw()
            .post(format!("{}{path}", self.broker_url))
            .bearer_auth(&self.admin_key)
            .json(&body)
            .send()
            .await
            .expect("POST");
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }

    /// GETs JSON from the Broker with the admin key.
    pub async fn admin_get(&self, path: &str) -> serde_json::Value {
        raw()
            .get(format!("{}{path}", self.broker_url))
            .bearer_auth(&self.admin_key)
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON")
    }

    pub async fn stop(mut self) {
        // The split Gateway first: its last report of cached reads goes through the guard.
        if let Some(gateway) = self.split_gateway.take() {
            gateway.stop().await.expect("clean gateway shutdown");
        }
        let mut nulls = Vec::new();
        for guard in std::mem::take(&mut self.guards) {
            nulls.extend(guard.stop().await);
        }
        assert!(
            nulls.is_empty(),
            "JSON bodies with null (no field is nullable): {nulls:#?}"
        );
        if let Some(running) = self.running.take() {
            running.stop().await.expect("clean shutdown");
        }
    }
}

/// A Gateway in its own (in-process) server, calling the Broker at `broker_url`.
pub async fn start_split_gateway(broker_url: &str, service_key: &str, proxy_max_body_bytes: u64) -> Running {
    let settings = nexus_server::config::GatewaySettings {
        broker_url: url::Url::parse(broker_url).expect("broker url"),
        service_key: secrecy::SecretString::from(service_key.to_owned()),
        proxy_max_body_bytes: usize::try_from(proxy_max_body_bytes).expect("a limit"),
    };
    let loopback = "127.0.0.1:0".parse().expect("addr");
    nexus_server::start_gateway(settings, loopback, Some(loopback))
        .await
        .expect("gateway starts")
}

/// An OAuth2 provider body, as operators post it.
pub fn oauth_provider(name: &str, client_secret: &str) -> serde_json::Value {
    serde_json::json!({
        "name": name,
        "display_name": "GitHub",
        "category": "developer-tools",
        "auth_type": "oauth2",
        "client_id": "client-123",
        "client_secret": client_secret,
        "authorization_url": "https://github.com/login/oauth/authorize",
        "token_url": "https://github.com/login/oauth/access_token",
        "scopes": ["repo", "read:user"],
        "api_base_url": "https://api.github.com"
    })
}

/// A raw HTTP client (no default key), for what the typed client cannot send.
pub fn raw() -> reqwest::Client {
    install_tls_provider();
    reqwest::Client::new()
}

/// The test process builds HTTP clients too: one TLS provider for it, as the server does.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The `nexus` binary with a clean environment (no `NEXUS_*` from the caller's shell).
pub fn nexus_command(dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_nexus"));
    command.current_dir(dir);
    for (key, _) in std::env::vars() {
        if key.starts_with("NEXUS_") {
            command.env_remove(key);
        }
    }
    command
}

/// The keys every process of one deployment shares, for `nexus serve` processes on one database.
pub struct Deployment {
    pub admin_key: String,
    encryption: String,
    state: String,
}

impl Deployment {
    pub fn new(admin_key: &str) -> Self {
        Self {
            admin_key: admin_key.to_owned(),
            encryption: generate_key(),
            state: generate_key(),
        }
    }

    /// One more Nexus process of this deployment on `db` (8 database connections, info logs),
    /// with `extra_env` on top; the directory is its working directory.
    pub fn spawn(&self, db: &TestDatabase, extra_env: &[(&str, &str)]) -> (NexusProcess, tempfile::TempDir) {
        self.spawn_on(&db.url, extra_env)
    }

    /// As [`Deployment::spawn`], on the database at `url` (through a relay, say).
    pub fn spawn_on(&self, url: &str, extra_env: &[(&str, &str)]) -> (NexusProcess, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut command = nexus_command(dir.path());
        command
            .env("NEXUS_DATABASE_URL", url)
            .env("NEXUS_ENCRYPTION_KEYS", &self.encryption)
            .env("NEXUS_STATE_KEY", &self.state)
            .env("NEXUS_ADMIN_KEYS", &self.admin_key)
            .env("NEXUS_DATABASE_MAX_CONNECTIONS", "8")
            .env("NEXUS_LOG", "info");
        for (name, value) in extra_env {
            command.env(name, value);
        }
        (NexusProcess::spawn(command), dir)
    }
}

/// A `nexus serve` process with JSON logs, every log line kept for inspection.
pub struct NexusProcess {
    pub child: Child,
    pub broker_url: String,
    pub gateway_url: String,
    pub log: Arc<Mutex<String>>,
}

impl NexusProcess {
    /// Spawns `nexus serve` on free ports and waits for its "listening" line.
    pub fn spawn(mut command: Command) -> Self {
        let mut child = command
            .args([
                "serve",
                "--broker-listen",
                "127.0.0.1:0",
                "--gateway-listen",
                "127.0.0.1:0",
            ])
            .env("NEXUS_LOG_FORMAT", "json")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn nexus");
        let stderr = child.stderr.take().expect("stderr piped");
        let log = Arc::new(Mutex::new(String::new()));
        let (sender, receiver) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut sender = Some(sender);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line)
                    && entry["fields"]["message"] == "nexus is listening"
                    && let Some(sender) = sender.take()
                {
                    let broker = entry["fields"]["broker_addr"].as_str().unwrap_or_default().to_owned();
                    let gateway = entry["fields"]["gateway_addr"]
                        .as_str()
                        .unwrap_or_default()
                        .trim_start_matches("Some(")
                        .trim_end_matches(')')
                        .to_owned();
                    let _ = sender.send((broker, gateway));
                }
                let mut log = sink.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                log.push_str(&line);
                log.push('\n');
            }
        });
        let started = Instant::now();
        let (broker, gateway) = receiver.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| {
            let log = log.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
            panic!("nexus did not start ({:?}); its log:\n{log}", started.elapsed())
        });
        Self {
            child,
            broker_url: format!("http://{broker}"),
            gateway_url: format!("http://{gateway}"),
            log,
        }
    }

    pub fn log(&self) -> String {
        self.log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// SIGTERM, then waits; returns whether it exited cleanly. (A process a failed test leaves
    /// behind is killed on drop.)
    pub fn terminate(mut self) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().map(|status| status.success()).unwrap_or(false)
    }
}

impl Drop for NexusProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
