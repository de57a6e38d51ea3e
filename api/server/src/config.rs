//! Configuration: read once in `main` from flags and `NEXUS_*` variables (`*_FILE` for secrets),
//! validated with messages that name the variable, say what was wrong and how to fix it.
//! This is the only module that reads the environment.

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clap::Args;
use nexus_crypto::{KeyConfigError, Keyring, decode_key, random_bytes};
use nexus_domain::secret::{ExposeSecret, SecretString};
use nexus_services::ReturnUrlPolicy;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use url::Url;

pub const ENCRYPTION_KEYS_VAR: &str = "NEXUS_ENCRYPTION_KEYS";
pub const STATE_KEY_VAR: &str = "NEXUS_STATE_KEY";
pub const ADMIN_KEYS_VAR: &str = "NEXUS_ADMIN_KEYS";
pub const DATABASE_URL_VAR: &str = "NEXUS_DATABASE_URL";
pub const PUBLIC_URL_VAR: &str = "NEXUS_PUBLIC_URL";
pub const ALLOWED_RETURN_URLS_VAR: &str = "NEXUS_ALLOWED_RETURN_URLS";
pub const SERVICE_KEYS_VAR: &str = "NEXUS_SERVICE_KEYS";
/// Where development mode keeps the service key a local split Gateway uses.
pub const DEV_SERVICE_KEY_FILE: &str = "service.key";
/// Shortest admin key accepted in production.
const MIN_ADMIN_KEY_LEN: usize = 32;

/// Options shared by every command that opens the database or serves.
#[derive(Args, Clone, Default)]
pub struct CommonArgs {
    /// Refuse to start without explicit keys, database URL and public URL (also `NEXUS_ENV=production`)
    #[arg(long, env = "NEXUS_PRODUCTION", default_value_t = false)]
    pub production: bool,
    /// Where development mode keeps its SQLite database and generated keys
    #[arg(long, env = "NEXUS_DATA_DIR", default_value = ".nexus")]
    pub data_dir: PathBuf,
    /// `sqlite://path?mode=rwc` or `postgres://user@host/db` (default: SQLite in the data directory)
    #[arg(long, env = DATABASE_URL_VAR, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Comma-separated base64 AES-256 keys; the first encrypts, all decrypt
    #[arg(long, env = ENCRYPTION_KEYS_VAR, hide_env_values = true)]
    pub encryption_keys: Option<String>,
    /// Base64 32-byte HMAC key that signs OAuth state
    #[arg(long, env = STATE_KEY_VAR, hide_env_values = true)]
    pub state_key: Option<String>,
    /// Comma-separated admin keys for the Broker API
    #[arg(long, env = ADMIN_KEYS_VAR, hide_env_values = true)]
    pub admin_keys: Option<String>,
    /// Comma-separated service keys with which split Gateways call the Broker
    #[arg(long, env = SERVICE_KEYS_VAR, hide_env_values = true)]
    pub service_keys: Option<String>,
    /// The URL users' browsers reach the Broker at (OAuth callback, capture form)
    #[arg(long, env = PUBLIC_URL_VAR)]
    pub public_url: Option<String>,
    /// Hosts consents may return to: `app.example.com,*.example.com,localhost:3000`
    /// (development also allows loopback; production requires this)
    #[arg(long, env = ALLOWED_RETURN_URLS_VAR)]
    pub allowed_return_urls: Option<String>,
    /// Tokens expiring within this many seconds are refreshed before they are served
    #[arg(long, env = "NEXUS_REFRESH_SKEW_SECONDS", default_value_t = 60)]
    pub refresh_skew_seconds: u32,
    /// How often pending connections are expired and the connection gauge is refreshed
    #[arg(long, env = "NEXUS_POLL_INTERVAL_SECONDS", default_value_t = 30)]
    pub poll_interval_seconds: u32,
    /// A listener for the browser routes only (`/auth/*`, `/healthz`): the one to expose to the
    /// internet. When set, the Broker listener no longer serves `/auth/*`
    #[arg(long, env = "NEXUS_PUBLIC_LISTEN")]
    pub public_listen: Option<SocketAddr>,
    /// A listener for `/metrics` only. When set, the Broker listener no longer serves it
    #[arg(long, env = "NEXUS_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Audit events older than this many days are deleted (0 keeps them forever)
    #[arg(long, env = "NEXUS_AUDIT_RETENTION_DAYS", default_value_t = 90)]
    pub audit_retention_days: u32,
    /// Database connections this process keeps at most (default 8 on SQLite; on PostgreSQL 4 per
    /// core, from 8 to 20)
    #[arg(long, env = "NEXUS_DATABASE_MAX_CONNECTIONS")]
    pub database_max_connections: Option<u32>,
    /// Tokens expiring within this many seconds are refreshed in the background, before anyone
    /// asks (0 turns background refresh off)
    #[arg(long, env = "NEXUS_REFRESH_AHEAD_SECONDS", default_value_t = 300)]
    pub refresh_ahead_seconds: u32,
    /// Background refreshes in flight at once in this process
    #[arg(long, env = "NEXUS_REFRESH_CONCURRENCY", default_value_t = 32)]
    pub refresh_concurrency: u32,
    /// Background refreshes in flight at once in this process against one provider
    #[arg(long, env = "NEXUS_REFRESH_PER_PROVIDER", default_value_t = 16)]
    pub refresh_per_provider: u32,
    /// Let webhooks reach loopback and private addresses (default: on in development, off in production)
    #[arg(long, env = "NEXUS_WEBHOOK_ALLOW_PRIVATE")]
    pub webhook_allow_private: Option<bool>,
    /// Webhook deliveries in flight at once in this process (0: this process delivers none)
    #[arg(long, env = "NEXUS_WEBHOOK_CONCURRENCY", default_value_t = 16)]
    pub webhook_concurrency: u32,
    /// Pause between outbox scans when nothing is due, in milliseconds
    #[arg(long, env = "NEXUS_WEBHOOK_POLL_INTERVAL_MS", default_value_t = 1000)]
    pub webhook_poll_interval_ms: u32,
    /// Deadline of one delivery attempt (connect, send, answer), in seconds
    #[arg(long, env = "NEXUS_WEBHOOK_TIMEOUT_SECONDS", default_value_t = 10)]
    pub webhook_timeout_seconds: u32,
    /// Wait after the first failed attempt, in milliseconds; it doubles per failure (up to 2 hours)
    #[arg(long, env = "NEXUS_WEBHOOK_FIRST_RETRY_MS", default_value_t = 5000)]
    pub webhook_first_retry_ms: u32,
    /// Largest request body the proxy forwards, in bytes
    #[arg(long, env = "NEXUS_PROXY_MAX_BODY_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub proxy_max_body_bytes: u64,
    /// Deadline of one proxied request (connect, send, the whole answer), in seconds
    #[arg(long, env = "NEXUS_PROXY_TIMEOUT_SECONDS", default_value_t = 25)]
    pub proxy_timeout_seconds: u32,
    /// While the database cannot answer, a credential read from it no longer than this many
    /// seconds ago (and valid beyond the refresh skew) is still served from memory, with
    /// `Nexus-Stale`; 0 turns that off
    #[arg(long, env = "NEXUS_STALE_IF_ERROR_SECONDS", default_value_t = 900)]
    pub stale_if_error_seconds: u32,
    /// Audit events kept in memory at most while the database cannot take them
    #[arg(long, env = "NEXUS_AUDIT_BUFFER_EVENTS", default_value_t = 100_000)]
    pub audit_buffer_events: u32,
    /// A file audit events are appended to while the database cannot take them (instead of
    /// memory), written when it returns, after a restart too
    #[arg(long, env = "NEXUS_AUDIT_SPOOL")]
    pub audit_spool: Option<PathBuf>,
    /// The https URL of the Client ID Metadata Document describing Nexus's client, used as its
    /// client id with MCP servers' authorization servers that accept one, instead of registering
    /// a client. Default: `/auth/client-metadata.json` under an https public URL (Nexus serves
    /// it there); `off` registers instead
    #[arg(long, env = "NEXUS_CLIENT_METADATA_URL")]
    pub client_metadata_url: Option<String>,
    /// Initial access tokens for authorization servers that gate dynamic client registration
    /// (RFC 7591 §3): `<issuer>=<token>`, comma-separated (or from `<VAR>_FILE`)
    #[arg(long, env = REGISTRATION_TOKENS_VAR, hide_env_values = true)]
    pub registration_tokens: Option<String>,
}

pub const REGISTRATION_TOKENS_VAR: &str = "NEXUS_MCP_REGISTRATION_TOKENS";

impl fmt::Debug for CommonArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommonArgs")
            .field("production", &self.production)
            .field("data_dir", &self.data_dir)
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

/// Validated settings. Secrets are wrapped; `Debug` shows fingerprints only.
pub struct Settings {
    pub production: bool,
    pub database_url: SecretString,
    pub keyring: Keyring,
    pub state_key: [u8; 32],
    pub admin_keys: Vec<SecretString>,
    /// Keys of split Gateways; empty when none may call the internal API.
    pub service_keys: Vec<SecretString>,
    pub public_url: Url,
    pub return_urls: ReturnUrlPolicy,
    pub refresh_skew: chrono::TimeDelta,
    pub poll_interval: std::time::Duration,
    pub background_refresh: nexus_services::BackgroundSettings,
    pub database_pool_size: Option<u32>,
    /// `None`: audit events are kept forever.
    pub audit_retention: Option<std::time::Duration>,
    pub webhooks: nexus_services::WebhookSettings,
    pub proxy: nexus_services::ProxySettings,
    /// `NEXUS_STALE_IF_ERROR_SECONDS`.
    pub stale_if_error: std::time::Duration,
    /// Where audit events wait while the database is away.
    pub audit_backlog: nexus_services::AuditBacklogSettings,
    /// `NEXUS_CLIENT_METADATA_URL`: Nexus's Client ID Metadata Document, when it has one.
    pub client_metadata_url: Option<Url>,
    /// `NEXUS_MCP_REGISTRATION_TOKENS`: initial access tokens by issuer.
    pub registration_tokens: std::collections::BTreeMap<String, SecretString>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("production", &self.production)
            .field("keyring", &self.keyring)
            .field("admin_keys", &self.admin_keys.len())
            .field("public_url", &self.public_url.as_str())
            .field("return_urls", &self.return_urls)
            .finish_non_exhaustive()
    }
}

/// `<issuer>=<token>,...`: each entry splits at its first `=` (an issuer URL with a query would
/// not do; a token may hold `=`). Issuers are matched exactly as their metadata states them.
fn parse_registration_tokens(
    raw: Option<SecretString>,
) -> anyhow::Result<std::collections::BTreeMap<String, SecretString>> {
    let mut tokens = std::collections::BTreeMap::new();
    let Some(raw) = raw else {
        return Ok(tokens);
    };
    for entry in raw.expose_secret().split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let Some((issuer, token)) = entry
            .split_once('=')
            .filter(|(issuer, token)| Url::parse(issuer).is_ok() && !token.trim().is_empty())
        else {
            // The entry may hold a token: name only its position.
            bail!("{REGISTRATION_TOKENS_VAR}: an entry is not `<issuer URL>=<token>`");
        };
        tokens.insert(issuer.to_owned(), SecretString::from(token.trim().to_owned()));
    }
    Ok(tokens)
}

/// A secret from its variable, or from the file named by `<VAR>_FILE`.
fn from_env_or_file(value: Option<String>, var: &str) -> anyhow::Result<Option<SecretString>> {
    if let Some(value) = value {
        return Ok(Some(SecretString::from(value)));
    }
    let file_var = format!("{var}_FILE");
    match std::env::var_os(&file_var) {
        None => Ok(None),
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("{file_var}: cannot read {}", Path::new(&path).display()))?;
            Ok(Some(SecretString::from(text.trim().to_owned())))
        }
    }
}

fn key_error(var: &str, error: KeyConfigError) -> anyhow::Error {
    anyhow::anyhow!(
        "{var}: {error}; each key must be 32 random bytes in base64: generate one with `nexus keys generate`"
    )
}

fn parse_state_key(raw: &SecretString) -> anyhow::Result<[u8; 32]> {
    decode_key(raw.expose_secret(), 1).map_err(|e| match e {
        KeyConfigError::WrongLength { length, .. } => anyhow::anyhow!(
            "{STATE_KEY_VAR} decoded to {length} bytes, expected 32; generate one with `nexus keys generate`"
        ),
        other => key_error(STATE_KEY_VAR, other),
    })
}

fn parse_admin_keys(raw: &SecretString, production: bool) -> anyhow::Result<Vec<SecretString>> {
    parse_keys(raw, production, ADMIN_KEYS_VAR)
}

fn parse_keys(raw: &SecretString, production: bool, var: &str) -> anyhow::Result<Vec<SecretString>> {
    let keys: Vec<SecretString> = raw
        .expose_secret()
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| SecretString::from(k.to_owned()))
        .collect();
    if keys.is_empty() {
        bail!("{var} holds no key; generate one with `nexus keys generate`");
    }
    if production && let Some(position) = keys.iter().position(|k| k.expose_secret().len() < MIN_ADMIN_KEY_LEN) {
        bail!(
            "{var}: key #{} is shorter than {MIN_ADMIN_KEY_LEN} characters; generate one with `nexus keys generate`",
            position + 1
        );
    }
    Ok(keys)
}

/// A base64 32-byte key, as `nexus keys generate` prints.
pub fn generate_key() -> String {
    STANDARD.encode(random_bytes::<32>())
}

/// Reads a development key file, creating it (mode 0600) when absent. Returns whether it was created.
fn dev_key_file(dir: &Path, name: &str) -> anyhow::Result<(SecretString, bool)> {
    let path = dir.join(name);
    if path.exists() {
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        return Ok((SecretString::from(text.trim().to_owned()), false));
    }
    let key = generate_key();
    write_private(&path, &key)?;
    Ok((SecretString::from(key), true))
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    std::fs::write(path, contents).with_context(|| format!("writing {}", path.display()))
}

impl CommonArgs {
    /// Validates the configuration. In development, whatever is missing is generated in the
    /// data directory and announced; in production, whatever is missing is an error.
    pub fn resolve(&self, default_public_url: SocketAddr) -> anyhow::Result<Settings> {
        let encryption = from_env_or_file(self.encryption_keys.clone(), ENCRYPTION_KEYS_VAR)?;
        let state = from_env_or_file(self.state_key.clone(), STATE_KEY_VAR)?;
        let admin = from_env_or_file(self.admin_keys.clone(), ADMIN_KEYS_VAR)?;
        let service = from_env_or_file(self.service_keys.clone(), SERVICE_KEYS_VAR)?;
        let database = from_env_or_file(self.database_url.clone(), DATABASE_URL_VAR)?;
        let production = self.production || std::env::var("NEXUS_ENV").is_ok_and(|env| env == "production");

        if production {
            let missing: Vec<&str> = [
                (ENCRYPTION_KEYS_VAR, encryption.is_none()),
                (STATE_KEY_VAR, state.is_none()),
                (ADMIN_KEYS_VAR, admin.is_none()),
                (DATABASE_URL_VAR, database.is_none()),
                (PUBLIC_URL_VAR, self.public_url.is_none()),
                (ALLOWED_RETURN_URLS_VAR, self.allowed_return_urls.is_none()),
            ]
            .into_iter()
            .filter_map(|(var, missing)| missing.then_some(var))
            .collect();
            if !missing.is_empty() {
                bail!(
                    "production mode needs {} (or the matching *_FILE); generate keys with `nexus keys generate`",
                    missing.join(", ")
                );
            }
        }

        let needs_dev_dir =
            [&encryption, &state, &admin, &database].iter().any(|v| v.is_none()) || (service.is_none() && !production);
        if needs_dev_dir {
            std::fs::create_dir_all(&self.data_dir)
                .with_context(|| format!("creating the data directory {}", self.data_dir.display()))?;
        }
        let mut generated = Vec::new();
        let mut dev_key = |value: Option<SecretString>, file: &str| -> anyhow::Result<SecretString> {
            match value {
                Some(value) => Ok(value),
                None => {
                    let (key, created) = dev_key_file(&self.data_dir, file)?;
                    if created {
                        generated.push(file.to_owned());
                    }
                    Ok(key)
                }
            }
        };
        let encryption = dev_key(encryption, "encryption.key")?;
        let state = dev_key(state, "state.key")?;
        let admin = dev_key(admin, "admin.key")?;
        // Production without service keys simply has no split Gateway.
        let service = match service {
            Some(keys) => Some(keys),
            None if production => None,
            None => Some(dev_key(None, DEV_SERVICE_KEY_FILE)?),
        };
        if !generated.is_empty() {
            tracing::warn!(
                data_dir = %self.data_dir.display(),
                files = ?generated,
                "DEVELOPMENT MODE: generated keys (mode 0600); never use them in production"
            );
        }

        let keyring = Keyring::parse(encryption.expose_secret()).map_err(|e| key_error(ENCRYPTION_KEYS_VAR, e))?;
        let database_url = database.unwrap_or_else(|| {
            SecretString::from(format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("nexus.db").display()
            ))
        });
        let public_url = match &self.public_url {
            Some(raw) => Url::parse(raw).with_context(|| format!("{PUBLIC_URL_VAR}: `{raw}` is not a URL"))?,
            None => Url::parse(&format!("http://{default_public_url}")).context("default public URL")?,
        };
        if production && public_url.scheme() != "https" {
            bail!("{PUBLIC_URL_VAR} must be https in production (browsers carry OAuth codes to it)");
        }
        let return_urls = ReturnUrlPolicy::parse(self.allowed_return_urls.as_deref().unwrap_or(""), !production)
            .map_err(|e| anyhow::anyhow!("{ALLOWED_RETURN_URLS_VAR}: {e}"))?;
        if self.poll_interval_seconds == 0 {
            bail!("NEXUS_POLL_INTERVAL_SECONDS must be at least 1");
        }
        if self.refresh_ahead_seconds != 0 && self.refresh_ahead_seconds <= self.refresh_skew_seconds {
            bail!(
                "NEXUS_REFRESH_AHEAD_SECONDS ({}) must be larger than NEXUS_REFRESH_SKEW_SECONDS ({}), or 0 to turn \
                 background refresh off: otherwise reads refresh before the background does",
                self.refresh_ahead_seconds,
                self.refresh_skew_seconds
            );
        }
        if self.webhook_poll_interval_ms == 0 || self.webhook_timeout_seconds == 0 {
            bail!("NEXUS_WEBHOOK_POLL_INTERVAL_MS and NEXUS_WEBHOOK_TIMEOUT_SECONDS must be at least 1");
        }
        let webhooks = nexus_services::WebhookSettings {
            allow_private: self.webhook_allow_private.unwrap_or(!production),
            concurrency: usize::try_from(self.webhook_concurrency).unwrap_or(usize::MAX),
            poll_interval: std::time::Duration::from_millis(u64::from(self.webhook_poll_interval_ms)),
            timeout: std::time::Duration::from_secs(u64::from(self.webhook_timeout_seconds)),
            first_retry_wait: std::time::Duration::from_millis(u64::from(self.webhook_first_retry_ms)),
            ..nexus_services::WebhookSettings::default()
        };
        if self.proxy_timeout_seconds == 0 || self.proxy_max_body_bytes == 0 {
            bail!("NEXUS_PROXY_TIMEOUT_SECONDS and NEXUS_PROXY_MAX_BODY_BYTES must be at least 1");
        }
        if self.audit_buffer_events == 0 {
            bail!("NEXUS_AUDIT_BUFFER_EVENTS must be at least 1");
        }
        let audit_backlog = nexus_services::AuditBacklogSettings {
            max_events: usize::try_from(self.audit_buffer_events).unwrap_or(usize::MAX),
            spool: self.audit_spool.clone(),
            dropped_metric: None,
        };
        // Production sends only https, never inside; development also reaches loopback and
        // private addresses (a laptop's own services, the tests' local APIs).
        let proxy = nexus_services::ProxySettings {
            max_body_bytes: usize::try_from(self.proxy_max_body_bytes).unwrap_or(usize::MAX),
            timeout: std::time::Duration::from_secs(u64::from(self.proxy_timeout_seconds)),
            allow_private: !production,
        };
        if production && webhooks.allow_private {
            tracing::warn!("NEXUS_WEBHOOK_ALLOW_PRIVATE is on: webhooks may reach loopback and private addresses");
        }
        let client_metadata_url = match self.client_metadata_url.as_deref() {
            Some("off") => None,
            // Nexus serves the document itself; an authorization server must be able to fetch it.
            None if public_url.scheme() == "https" => Some(nexus_services::client_metadata_url(&public_url)),
            None => None,
            Some(raw) => {
                let url =
                    Url::parse(raw).with_context(|| format!("NEXUS_CLIENT_METADATA_URL: `{raw}` is not a URL"))?;
                // An authorization server fetches the document by its id: an https URL with a path.
                if url.scheme() != "https" || url.path() == "/" || url.fragment().is_some() {
                    bail!("NEXUS_CLIENT_METADATA_URL must be an https URL with a path (`{raw}`)");
                }
                Some(url)
            }
        };
        let registration_tokens = parse_registration_tokens(from_env_or_file(
            self.registration_tokens.clone(),
            REGISTRATION_TOKENS_VAR,
        )?)?;
        Ok(Settings {
            client_metadata_url,
            registration_tokens,
            webhooks,
            proxy,
            audit_backlog,
            stale_if_error: std::time::Duration::from_secs(u64::from(self.stale_if_error_seconds)),
            return_urls,
            refresh_skew: chrono::TimeDelta::seconds(i64::from(self.refresh_skew_seconds)),
            poll_interval: std::time::Duration::from_secs(u64::from(self.poll_interval_seconds)),
            database_pool_size: self.database_max_connections,
            audit_retention: (self.audit_retention_days > 0)
                .then(|| std::time::Duration::from_secs(u64::from(self.audit_retention_days) * 86_400)),
            background_refresh: nexus_services::BackgroundSettings {
                lead: std::time::Duration::from_secs(u64::from(self.refresh_ahead_seconds)),
                concurrency: usize::try_from(self.refresh_concurrency.max(1)).unwrap_or(1),
                per_provider: usize::try_from(self.refresh_per_provider.max(1)).unwrap_or(1),
                ..nexus_services::BackgroundSettings::default()
            },
            production,
            database_url,
            keyring,
            state_key: parse_state_key(&state)?,
            admin_keys: parse_admin_keys(&admin, production)?,
            service_keys: match &service {
                Some(keys) => parse_keys(keys, production, SERVICE_KEYS_VAR)?,
                None => Vec::new(),
            },
            public_url,
        })
    }
}

pub const BROKER_URL_VAR: &str = "NEXUS_BROKER_URL";
pub const BROKER_SERVICE_KEY_VAR: &str = "NEXUS_BROKER_SERVICE_KEY";

/// Options of a Gateway in its own process: no database, no encryption key, only the Broker.
#[derive(Args, Clone, Default)]
pub struct GatewayArgs {
    /// Refuse to start without an explicit service key
    #[arg(long, env = "NEXUS_PRODUCTION", default_value_t = false)]
    pub production: bool,
    /// The Broker's URL, such as `https://nexus-broker.internal:8080`
    #[arg(long, env = BROKER_URL_VAR)]
    pub broker_url: String,
    /// A key from the Broker's NEXUS_SERVICE_KEYS (development falls back to `<data dir>/service.key`)
    #[arg(long, env = BROKER_SERVICE_KEY_VAR, hide_env_values = true)]
    pub broker_service_key: Option<String>,
    /// Where development mode finds the Broker's generated service key
    #[arg(long, env = "NEXUS_DATA_DIR", default_value = ".nexus")]
    pub data_dir: PathBuf,
    /// Largest request body the proxy forwards to the Broker, in bytes (set it as on the Broker)
    #[arg(long, env = "NEXUS_PROXY_MAX_BODY_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub proxy_max_body_bytes: u64,
}

impl fmt::Debug for GatewayArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatewayArgs")
            .field("production", &self.production)
            .field("broker_url", &self.broker_url)
            .finish_non_exhaustive()
    }
}

/// Validated Gateway settings.
pub struct GatewaySettings {
    pub broker_url: Url,
    pub service_key: SecretString,
    /// Bodies larger than this are refused here (413), before the Broker would refuse them.
    pub proxy_max_body_bytes: usize,
}

impl fmt::Debug for GatewaySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatewaySettings")
            .field("broker_url", &self.broker_url.as_str())
            .finish_non_exhaustive()
    }
}

impl GatewayArgs {
    pub fn resolve(&self) -> anyhow::Result<GatewaySettings> {
        let production = self.production || std::env::var("NEXUS_ENV").is_ok_and(|env| env == "production");
        let broker_url = Url::parse(&self.broker_url)
            .with_context(|| format!("{BROKER_URL_VAR}: `{}` is not a URL", self.broker_url))?;
        if production && broker_url.scheme() != "https" {
            bail!("{BROKER_URL_VAR} must be https in production (service keys and tokens cross it)");
        }
        let service_key = match from_env_or_file(self.broker_service_key.clone(), BROKER_SERVICE_KEY_VAR)? {
            Some(key) => key,
            None if production => {
                bail!("production mode needs {BROKER_SERVICE_KEY_VAR} (or {BROKER_SERVICE_KEY_VAR}_FILE)")
            }
            None => {
                let path = self.data_dir.join(DEV_SERVICE_KEY_FILE);
                let key = std::fs::read_to_string(&path).with_context(|| {
                    format!("{BROKER_SERVICE_KEY_VAR} is not set and {} is not readable; start the Broker first or set the key", path.display())
                })?;
                SecretString::from(key.trim().to_owned())
            }
        };
        Ok(GatewaySettings {
            broker_url,
            service_key,
            proxy_max_body_bytes: usize::try_from(self.proxy_max_body_bytes).unwrap_or(usize::MAX),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The flags' defaults where a zero would be refused (`Default` gives zeros).
    #[test]
    fn registration_tokens_are_read_by_issuer() {
        let raw = SecretString::from("https://auth.example.com=tok-1, https://idp.example.net/tenant=tok=2".to_owned());
        let tokens = parse_registration_tokens(Some(raw)).expect("parsed");
        assert_eq!(tokens["https://auth.example.com"].expose_secret(), "tok-1");
        assert_eq!(tokens["https://idp.example.net/tenant"].expose_secret(), "tok=2");
        let error =
            parse_registration_tokens(Some(SecretString::from("not-a-url=secret-x".to_owned()))).expect_err("refused");
        assert!(!error.to_string().contains("secret-x"), "{error}");
        assert!(parse_registration_tokens(None).expect("none").is_empty());
    }

    fn defaults() -> CommonArgs {
        CommonArgs {
            poll_interval_seconds: 30,
            webhook_concurrency: 16,
            webhook_poll_interval_ms: 1000,
            webhook_timeout_seconds: 10,
            webhook_first_retry_ms: 5000,
            proxy_max_body_bytes: 10 * 1024 * 1024,
            proxy_timeout_seconds: 25,
            audit_buffer_events: 100_000,
            ..CommonArgs::default()
        }
    }

    fn listen() -> SocketAddr {
        "127.0.0.1:8080".parse().expect("addr")
    }

    #[test]
    fn development_generates_private_keys_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let args = CommonArgs {
            data_dir: dir.path().join("data"),
            poll_interval_seconds: 30,
            ..defaults()
        };
        let first = args.resolve(listen()).expect("dev settings");
        let second = args.resolve(listen()).expect("dev settings again");
        assert_eq!(first.keyring.primary_key_id(), second.keyring.primary_key_id());
        assert_eq!(first.state_key, second.state_key);
        #[cfg(unix)]
        for file in ["encryption.key", "state.key", "admin.key"] {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("data").join(file))
                .expect("file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
        assert!(first.database_url.expose_secret().starts_with("sqlite://"));
        assert_eq!(first.public_url.as_str(), "http://127.0.0.1:8080/");
    }

    #[test]
    fn production_names_every_missing_variable() {
        let args = CommonArgs {
            production: true,
            ..defaults()
        };
        let message = args.resolve(listen()).expect_err("refused").to_string();
        for var in [
            ENCRYPTION_KEYS_VAR,
            STATE_KEY_VAR,
            ADMIN_KEYS_VAR,
            DATABASE_URL_VAR,
            PUBLIC_URL_VAR,
        ] {
            assert!(message.contains(var), "{message}");
        }
    }

    fn production_args() -> CommonArgs {
        CommonArgs {
            production: true,
            encryption_keys: Some(generate_key()),
            state_key: Some(generate_key()),
            admin_keys: Some("a".repeat(40)),
            database_url: Some("postgres://db.internal/nexus".into()),
            public_url: Some("https://nexus.example.com".into()),
            allowed_return_urls: Some("app.example.com".into()),
            refresh_skew_seconds: 60,
            poll_interval_seconds: 30,
            ..defaults()
        }
    }

    #[test]
    fn production_accepts_complete_configuration_and_redacts_it() {
        let settings = production_args().resolve(listen()).expect("valid");
        let printed = format!("{settings:?}");
        assert!(!printed.contains(&"a".repeat(40)), "{printed}");
        assert!(!printed.contains("db.internal"), "{printed}");
    }

    #[test]
    fn background_refresh_must_lead_the_skew() {
        let args = CommonArgs {
            refresh_ahead_seconds: 30,
            ..production_args()
        };
        let message = args.resolve(listen()).expect_err("inside the skew").to_string();
        assert!(message.contains("NEXUS_REFRESH_AHEAD_SECONDS (30)"), "{message}");
        let off = CommonArgs {
            refresh_ahead_seconds: 0,
            ..production_args()
        };
        assert!(off.resolve(listen()).expect("off").background_refresh.lead.is_zero());
        let on = CommonArgs {
            refresh_ahead_seconds: 300,
            refresh_concurrency: 4,
            ..production_args()
        };
        let settings = on.resolve(listen()).expect("valid");
        assert_eq!(settings.background_refresh.lead, std::time::Duration::from_secs(300));
        assert_eq!(settings.background_refresh.concurrency, 4);
    }

    #[test]
    fn short_keys_are_reported_with_their_decoded_length() {
        let args = CommonArgs {
            state_key: Some(STANDARD.encode([1u8; 16])),
            ..production_args()
        };
        let message = args.resolve(listen()).expect_err("short").to_string();
        assert!(
            message.contains("NEXUS_STATE_KEY decoded to 16 bytes, expected 32"),
            "{message}"
        );
        assert!(message.contains("nexus keys generate"), "{message}");

        let args = CommonArgs {
            encryption_keys: Some(format!("{},{}", generate_key(), STANDARD.encode([1u8; 24]))),
            ..production_args()
        };
        let message = args.resolve(listen()).expect_err("short").to_string();
        assert!(
            message.contains("NEXUS_ENCRYPTION_KEYS: key #2 decoded to 24 bytes"),
            "{message}"
        );

        let args = CommonArgs {
            admin_keys: Some("short".into()),
            ..production_args()
        };
        assert!(
            args.resolve(listen())
                .expect_err("short")
                .to_string()
                .contains(ADMIN_KEYS_VAR)
        );

        let args = CommonArgs {
            public_url: Some("http://nexus.example.com".into()),
            ..production_args()
        };
        assert!(
            args.resolve(listen())
                .expect_err("http")
                .to_string()
                .contains(PUBLIC_URL_VAR)
        );
    }
}
