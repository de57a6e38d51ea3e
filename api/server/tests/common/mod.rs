//! End-to-end support: a real `nexus` server (in-process, ports 0) on a test database.

#![allow(dead_code)]

use nexus_server::config::{CommonArgs, generate_key};
use nexus_server::{Running, ServeOptions};
use nexus_test_utils::TestDatabase;
use tempfile::TempDir;

pub struct TestServer {
    pub broker_url: String,
    pub gateway_url: String,
    pub admin_key: String,
    pub db: TestDatabase,
    running: Option<Running>,
    _data_dir: TempDir,
}

impl TestServer {
    pub async fn start(db: TestDatabase) -> Self {
        install_tls_provider();
        let data_dir = tempfile::tempdir().expect("data dir");
        let admin_key = format!("admin-{}", generate_key());
        let running = nexus_server::start(ServeOptions {
            common: CommonArgs {
                production: false,
                data_dir: data_dir.path().to_path_buf(),
                database_url: Some(db.url.clone()),
                encryption_keys: Some(generate_key()),
                state_key: Some(generate_key()),
                admin_keys: Some(admin_key.clone()),
                public_url: None,
                allowed_return_urls: None,
                refresh_skew_seconds: 60,
                poll_interval_seconds: 1,
            },
            broker_listen: "127.0.0.1:0".parse().expect("addr"),
            gateway_listen: Some("127.0.0.1:0".parse().expect("addr")),
        })
        .await
        .expect("server starts");
        Self {
            broker_url: format!("http://{}", running.broker_addr),
            gateway_url: format!("http://{}", running.gateway_addr.expect("gateway listener")),
            admin_key,
            db,
            running: Some(running),
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
            name: "test-agent".into(),
            all_workspaces: Some(workspace_ids.is_none()),
            workspace_ids: workspace_ids
                .unwrap_or_default()
                .into_iter()
                .map(str::to_owned)
                .collect(),
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

    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await.expect("clean shutdown");
        }
    }
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
