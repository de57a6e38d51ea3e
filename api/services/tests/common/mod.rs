//! The connection-service fixture shared by the service tests: a real database, the mock
//! provider, a manual clock, and helpers that consent and connect.

#![allow(dead_code)]

use chrono::{DateTime, TimeDelta, Utc};
use nexus_crypto::{Keyring, StateSigner};
use nexus_domain::ConnectionId;
use nexus_domain::agent_key::{Actor, Caller};
use nexus_domain::clock::Clock;
use nexus_domain::connection::{CallbackParams, ConsentRequest, ConsentSpec};
use nexus_domain::ports::{ConnectionService, ProviderService};
use nexus_domain::provider::{NewProvider, ProviderDraft, TokenEndpointAuthMethod};
use nexus_domain::secret::secret;
use nexus_domain::status::{AuthType, ConnectionStatus};
use nexus_repositories::{RefreshRepository, SqlAuditRepository, SqlConnectionRepository, SqlProviderRepository};
use nexus_services::oauth::{Discovery, Outbound};
use nexus_services::{
    AuditServiceImpl, CacheEpoch, ConnectionDeps, ConnectionServiceImpl, ConnectionSettings, Metrics,
    ProviderServiceImpl, ReturnUrlPolicy,
};
use nexus_test_utils::TestDatabase;
use nexus_test_utils::mock_provider::{CLIENT_ID, CLIENT_SECRET, MockProvider};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn at(now: DateTime<Utc>) -> Self {
        Self(Mutex::new(now))
    }

    pub fn advance(&self, by: TimeDelta) {
        let mut now = self.0.lock().expect("clock");
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock")
    }
}

pub struct Fixture {
    pub service: Arc<ConnectionServiceImpl>,
    pub providers: ProviderServiceImpl,
    pub repo: Arc<SqlConnectionRepository>,
    pub clock: Arc<ManualClock>,
    pub mock: MockProvider,
    pub registry: prometheus::Registry,
    pub repos: Repos,
    pub keyring: Arc<Keyring>,
}

/// The repositories over the fixture's database, for building more services on it.
#[derive(Clone)]
pub struct Repos {
    connections: SqlConnectionRepository,
    providers: SqlProviderRepository,
    audit: SqlAuditRepository,
    registrations: nexus_repositories::SqlClientRegistrationRepository,
    receipts: nexus_repositories::SqlReadReceiptRepository,
}

pub const RETURN_URL: &str = "http://127.0.0.1:9/done?keep=1";

pub async fn fixture(test_db: &TestDatabase) -> Fixture {
    fixture_with(test_db, |repo| repo).await
}

/// A fixture whose refresh repository is `leases(the real one)`: for fault injection.
pub async fn fixture_with(
    test_db: &TestDatabase,
    leases: impl FnOnce(Arc<dyn RefreshRepository>) -> Arc<dyn RefreshRepository>,
) -> Fixture {
    let db = test_db.connect_migrated().await;
    let now = Utc::now().duration_trunc_micros();
    let clock = Arc::new(ManualClock(Mutex::new(now)));
    let keyring = Arc::new(Keyring::from_keys(&[[9u8; 32]]).expect("keyring"));
    let audit = Arc::new(AuditServiceImpl::new(
        Arc::new(SqlAuditRepository::new(db.clone())),
        clock.clone(),
    ));
    let provider_repo = Arc::new(SqlProviderRepository::new(db.clone()));
    let repo = Arc::new(SqlConnectionRepository::new(db.clone()));
    let registry = prometheus::Registry::new();
    let repos = Repos {
        connections: SqlConnectionRepository::new(db.clone()),
        providers: SqlProviderRepository::new(db.clone()),
        registrations: nexus_repositories::SqlClientRegistrationRepository::new(db.clone()),
        receipts: nexus_repositories::SqlReadReceiptRepository::new(db.clone()),
        audit: SqlAuditRepository::new(db),
    };
    // Shared, as the server wires it: a provider update is seen by the connection service.
    let epoch = Arc::new(CacheEpoch::default());
    let service = service_on(
        &repos,
        clock.clone(),
        keyring.clone(),
        "test-instance",
        &registry,
        leases(repo.clone()),
        epoch.clone(),
    );
    Fixture {
        service,
        providers: ProviderServiceImpl::new(provider_repo, keyring.clone(), audit, clock.clone())
            .with_outbound_policy(nexus_services::OutboundPolicy::DEVELOPMENT)
            .with_epoch(epoch),
        repo,
        clock,
        mock: MockProvider::start().await,
        registry,
        repos,
        keyring,
    }
}

/// A connection service over `db`, as one Nexus process would build it.
fn service_on(
    repos: &Repos,
    clock: Arc<ManualClock>,
    keyring: Arc<Keyring>,
    instance_id: &str,
    registry: &prometheus::Registry,
    leases: Arc<dyn RefreshRepository>,
    epoch: Arc<CacheEpoch>,
) -> Arc<ConnectionServiceImpl> {
    let outbound = Outbound::new(Duration::from_secs(1)).expect("the outbound client builds");
    let mcp_clients = Arc::new(nexus_services::mcp::McpClients::new(
        Arc::new(repos.registrations.clone()),
        keyring.clone(),
        outbound.clone(),
        clock.clone(),
        None,
    ));
    Arc::new(ConnectionServiceImpl::new(ConnectionDeps {
        connections: Arc::new(repos.connections.clone()),
        providers: Arc::new(repos.providers.clone()),
        keyring,
        signer: Arc::new(StateSigner::new([4u8; 32])),
        audit: Arc::new(AuditServiceImpl::new(Arc::new(repos.audit.clone()), clock.clone())),
        clock,
        discovery: Arc::new(Discovery::new(outbound.clone(), Duration::from_secs(60))),
        mcp_discovery: Arc::new(nexus_services::mcp::McpDiscovery::new(
            outbound.clone(),
            Duration::from_secs(60),
        )),
        mcp_clients,
        outbound,
        metrics: Metrics::new(registry),
        epoch,
        leases,
        receipts: Arc::new(repos.receipts.clone()),
        settings: ConnectionSettings {
            public_url: url::Url::parse("https://nexus.test/base/").expect("url"),
            return_urls: ReturnUrlPolicy::parse("app.example.com", true).expect("policy"),
            refresh_skew: TimeDelta::seconds(60),
            instance_id: instance_id.into(),
            stale_if_error: nexus_services::DEFAULT_STALE_IF_ERROR,
        },
    }))
}

/// A second connection service on the fixture's database, as another replica would be.
pub fn another_replica(f: &Fixture) -> Arc<ConnectionServiceImpl> {
    another_replica_on(f, f.clock.clone())
}

/// Another replica whose clock is `clock` (one that disagrees with the fixture's, say).
pub fn another_replica_on(f: &Fixture, clock: Arc<ManualClock>) -> Arc<ConnectionServiceImpl> {
    service_on(
        &f.repos,
        clock,
        f.keyring.clone(),
        "another-replica",
        &prometheus::Registry::new(),
        Arc::new(f.repos.connections.clone()),
        Arc::default(),
    )
}

pub trait TruncateMicros {
    fn duration_trunc_micros(self) -> Self;
}

impl TruncateMicros for DateTime<Utc> {
    fn duration_trunc_micros(self) -> Self {
        use chrono::DurationRound;
        self.duration_trunc(TimeDelta::microseconds(1)).expect("truncates")
    }
}

pub fn admin() -> Caller {
    Caller::unrestricted(Actor::Admin {
        key_fingerprint: "test".into(),
    })
}

impl Fixture {
    pub async fn oauth_provider(&self, name: &str, method: TokenEndpointAuthMethod) {
        self.providers
            .create(
                &admin().actor,
                NewProvider {
                    template: None,
                    draft: ProviderDraft {
                        name: name.into(),
                        auth_type: Some(AuthType::Oauth2),
                        client_id: Some(CLIENT_ID.into()),
                        authorization_url: Some(self.mock.url("/authorize?audience=api&scope=ignored")),
                        token_url: Some(self.mock.url("/token")),
                        revocation_url: Some(self.mock.url("/revoke")),
                        token_endpoint_auth_method: Some(method),
                        scopes: vec!["read".into(), "write".into()],
                        authorization_params: BTreeMap::from([("access_type".to_owned(), "offline".to_owned())]),
                        ..ProviderDraft::default()
                    },
                    client_secret: Some(secret(CLIENT_SECRET)),
                },
            )
            .await
            .expect("provider");
    }

    pub async fn consent(&self, provider: &str, connection_id: Option<ConnectionId>) -> ConsentSpec {
        self.service
            .create_consent_spec(
                &admin(),
                ConsentRequest {
                    workspace_id: "ws-1".into(),
                    provider: provider.into(),
                    scopes: None,
                    return_url: RETURN_URL.into(),
                    connection_id,
                    connection_params: Default::default(),
                },
            )
            .await
            .expect("consent")
    }

    pub async fn callback(
        &self,
        state: &str,
        code: Option<&str>,
        error: Option<&str>,
    ) -> Result<nexus_domain::connection::CompletedFlow, nexus_domain::ServiceError> {
        self.service
            .exchange_code_for_tokens(CallbackParams {
                state: Some(state.into()),
                code: code.map(str::to_owned),
                error: error.map(str::to_owned),
                error_description: None,
                iss: None,
            })
            .await
    }

    /// A connection activated through consent and callback.
    pub async fn connected(&self, provider: &str) -> ConnectionId {
        let spec = self.consent(provider, None).await;
        let flow = self
            .callback(&spec.state, Some("good-code"), None)
            .await
            .expect("callback");
        assert!(flow.succeeded, "{flow:?}");
        spec.connection_id
    }

    pub async fn status(&self, id: ConnectionId) -> ConnectionStatus {
        self.service.get(&admin(), id).await.expect("connection").status
    }

    pub fn refresh_requests(&self) -> Vec<BTreeMap<String, String>> {
        self.mock
            .token_requests()
            .into_iter()
            .filter(|r| r.form.get("grant_type").map(String::as_str) == Some("refresh_token"))
            .map(|r| r.form)
            .collect()
    }
}

/// Waits until `condition` holds, checking every 10 ms; fails naming `what` after 10 s. Tests
/// synchronise on what they wait for, never on a fixed sleep.
pub async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !condition().await {
        assert!(std::time::Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
