//! Connection service tests on real databases, against the mock provider for the faults.

use chrono::{DateTime, TimeDelta, Utc};
use nexus_crypto::{Keyring, StateSigner, challenge_s256};
use nexus_domain::agent_key::{Actor, Caller};
use nexus_domain::clock::Clock;
use nexus_domain::connection::{CallbackParams, ConsentRequest, ConsentSpec};
use nexus_domain::ports::{ConnectionService, ProviderService};
use nexus_domain::provider::{NewProvider, ProviderDraft, TokenEndpointAuthMethod, VerificationMethod};
use nexus_domain::secret::secret;
use nexus_domain::status::{AuthType, ConnectionStatus};
use nexus_domain::strategy::Strategy;
use nexus_domain::{ConnectionId, ErrorCode, WorkspaceId};
use nexus_repositories::{ConnectionRepository, SqlAuditRepository, SqlConnectionRepository, SqlProviderRepository};
use nexus_services::oauth::{Discovery, Outbound};
use nexus_services::{
    AuditServiceImpl, ConnectionDeps, ConnectionServiceImpl, ConnectionSettings, Metrics, ProviderServiceImpl,
    ReturnUrlPolicy,
};
use nexus_test_utils::mock_provider::{CLIENT_ID, CLIENT_SECRET, MockProvider, TokenReply};
use nexus_test_utils::{TestDatabase, database_tests};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug)]
struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    fn advance(&self, by: TimeDelta) {
        let mut now = self.0.lock().expect("clock");
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock")
    }
}

struct Fixture {
    service: Arc<ConnectionServiceImpl>,
    providers: ProviderServiceImpl,
    repo: Arc<SqlConnectionRepository>,
    clock: Arc<ManualClock>,
    mock: MockProvider,
    registry: prometheus::Registry,
}

const RETURN_URL: &str = "http://127.0.0.1:9/done?keep=1";

async fn fixture(test_db: &TestDatabase) -> Fixture {
    let db = test_db.connect_migrated().await;
    let now = Utc::now().duration_trunc_micros();
    let clock = Arc::new(ManualClock(Mutex::new(now)));
    let keyring = Arc::new(Keyring::from_keys(&[[9u8; 32]]).expect("keyring"));
    let audit = Arc::new(AuditServiceImpl::new(
        Arc::new(SqlAuditRepository::new(db.clone())),
        clock.clone(),
    ));
    let provider_repo = Arc::new(SqlProviderRepository::new(db.clone()));
    let repo = Arc::new(SqlConnectionRepository::new(db));
    let outbound = Outbound::new(Duration::from_secs(1));
    let registry = prometheus::Registry::new();
    let service = Arc::new(ConnectionServiceImpl::new(ConnectionDeps {
        connections: repo.clone(),
        providers: provider_repo.clone(),
        keyring: keyring.clone(),
        signer: Arc::new(StateSigner::new([4u8; 32])),
        audit: audit.clone(),
        clock: clock.clone(),
        discovery: Arc::new(Discovery::new(outbound.clone(), Duration::from_secs(60))),
        outbound,
        metrics: Metrics::new(&registry),
        epoch: Arc::default(),
        settings: ConnectionSettings {
            public_url: url::Url::parse("https://nexus.test/base/").expect("url"),
            return_urls: ReturnUrlPolicy::parse("app.example.com", true).expect("policy"),
            refresh_skew: TimeDelta::seconds(60),
            instance_id: "test-instance".into(),
        },
    }));
    Fixture {
        service,
        providers: ProviderServiceImpl::new(provider_repo, keyring, audit, clock.clone()),
        repo,
        clock,
        mock: MockProvider::start().await,
        registry,
    }
}

trait TruncateMicros {
    fn duration_trunc_micros(self) -> Self;
}

impl TruncateMicros for DateTime<Utc> {
    fn duration_trunc_micros(self) -> Self {
        use chrono::DurationRound;
        self.duration_trunc(TimeDelta::microseconds(1)).expect("truncates")
    }
}

fn admin() -> Caller {
    Caller::unrestricted(Actor::Admin {
        key_fingerprint: "test".into(),
    })
}

impl Fixture {
    async fn oauth_provider(&self, name: &str, method: TokenEndpointAuthMethod) {
        self.providers
            .create(
                &admin().actor,
                NewProvider {
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

    async fn consent(&self, provider: &str, connection_id: Option<ConnectionId>) -> ConsentSpec {
        self.service
            .create_consent_spec(
                &admin(),
                ConsentRequest {
                    workspace_id: "ws-1".into(),
                    provider: provider.into(),
                    scopes: None,
                    return_url: RETURN_URL.into(),
                    connection_id,
                },
            )
            .await
            .expect("consent")
    }

    async fn callback(
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
            })
            .await
    }

    /// A connection activated through consent and callback.
    async fn connected(&self, provider: &str) -> ConnectionId {
        let spec = self.consent(provider, None).await;
        let flow = self
            .callback(&spec.state, Some("good-code"), None)
            .await
            .expect("callback");
        assert!(flow.succeeded, "{flow:?}");
        spec.connection_id
    }

    async fn status(&self, id: ConnectionId) -> ConnectionStatus {
        self.service.get(&admin(), id).await.expect("connection").status
    }

    fn refresh_requests(&self) -> Vec<BTreeMap<String, String>> {
        self.mock
            .token_requests()
            .into_iter()
            .filter(|r| r.form.get("grant_type").map(String::as_str) == Some("refresh_token"))
            .map(|r| r.form)
            .collect()
    }
}

async fn consent_callback_and_token_read(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    f.oauth_provider("acme", TokenEndpointAuthMethod::ClientSecretPost)
        .await;
    let spec = f.consent("acme", None).await;

    let query: BTreeMap<String, String> = spec.auth_url.query_pairs().into_owned().collect();
    assert_eq!(
        query.get("audience").map(String::as_str),
        Some("api"),
        "the provider's own query is kept"
    );
    assert_eq!(
        query.get("scope").map(String::as_str),
        Some("read write"),
        "ours, not the URL's"
    );
    assert_eq!(query.get("response_type").map(String::as_str), Some("code"));
    assert_eq!(query.get("client_id").map(String::as_str), Some(CLIENT_ID));
    assert_eq!(
        query.get("redirect_uri").map(String::as_str),
        Some("https://nexus.test/base/auth/callback")
    );
    assert_eq!(query.get("code_challenge_method").map(String::as_str), Some("S256"));
    assert_eq!(query.get("access_type").map(String::as_str), Some("offline"));
    assert_eq!(query.get("state"), Some(&spec.state));
    assert!(!query.contains_key("nonce"), "no nonce without openid");
    assert_eq!(f.status(spec.connection_id).await, ConnectionStatus::Pending);

    let flow = f
        .callback(&spec.state, Some("good-code"), None)
        .await
        .expect("callback");
    assert!(flow.succeeded);
    let redirect: BTreeMap<String, String> = flow.redirect_to.query_pairs().into_owned().collect();
    assert_eq!(redirect.get("status").map(String::as_str), Some("success"));
    assert_eq!(redirect.get("keep").map(String::as_str), Some("1"));
    assert_eq!(redirect.get("provider").map(String::as_str), Some("acme"));
    assert_eq!(redirect.get("connection_id"), Some(&spec.connection_id.to_string()));

    let exchange = &f.mock.token_requests()[0];
    assert_eq!(exchange.accept.as_deref(), Some("application/json"));
    assert_eq!(
        exchange.form.get("grant_type").map(String::as_str),
        Some("authorization_code")
    );
    let verifier = exchange.form.get("code_verifier").expect("PKCE verifier sent");
    assert_eq!(
        Some(&challenge_s256(verifier)),
        query.get("code_challenge"),
        "verifier matches the challenge"
    );

    let envelope = f.service.get_token(&admin(), spec.connection_id).await.expect("token");
    assert_eq!(
        envelope.credentials.0.get("access_token").map(String::as_str),
        Some("mock-access-1")
    );
    assert!(!envelope.credentials.0.contains_key("refresh_token"));
    assert_eq!(envelope.strategy, Strategy::Oauth2);
    assert_eq!(
        envelope.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        ["read", "write"]
    );
    let resolved = f
        .service
        .get_token_by_workspace_and_provider(&admin(), "ws-1", "acme")
        .await
        .expect("resolve");
    assert_eq!(resolved.connection_id, spec.connection_id);

    let replay = f
        .callback(&spec.state, Some("good-code"), None)
        .await
        .expect_err("replayed state");
    assert_eq!(replay.code(), ErrorCode::InvalidState);
    let mut tampered = spec.state.clone();
    tampered.insert(3, 'x');
    assert_eq!(
        f.callback(&tampered, Some("c"), None)
            .await
            .expect_err("tampered")
            .code(),
        ErrorCode::InvalidState
    );

    let restricted = Caller {
        actor: Actor::System,
        workspace_ids: Some(vec![WorkspaceId::parse("ws-2").expect("ws")]),
    };
    let hidden = f
        .service
        .get_token(&restricted, spec.connection_id)
        .await
        .expect_err("other workspace");
    assert_eq!(hidden.code(), ErrorCode::ConnectionNotFound);
}

async fn denied_consent_and_expired_state(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    f.oauth_provider("acme", TokenEndpointAuthMethod::ClientSecretPost)
        .await;
    let spec = f.consent("acme", None).await;
    let flow = f
        .callback(&spec.state, None, Some("access_denied"))
        .await
        .expect("valid state");
    assert!(!flow.succeeded);
    let redirect: BTreeMap<String, String> = flow.redirect_to.query_pairs().into_owned().collect();
    assert_eq!(redirect.get("status").map(String::as_str), Some("error"));
    assert_eq!(redirect.get("error").map(String::as_str), Some("access_denied"));
    assert_eq!(f.status(spec.connection_id).await, ConnectionStatus::Failed);
    let read = f
        .service
        .get_token(&admin(), spec.connection_id)
        .await
        .expect_err("failed");
    assert_eq!(read.code(), ErrorCode::ConnectionFailed);

    let missing_code = f.consent("acme", None).await;
    let flow = f.callback(&missing_code.state, None, None).await.expect("valid state");
    assert!(flow.redirect_to.as_str().contains("error=missing_code"));

    let late = f.consent("acme", None).await;
    let pending = f
        .service
        .get_token(&admin(), late.connection_id)
        .await
        .expect_err("pending");
    assert_eq!(pending.code(), ErrorCode::ConnectionPending);
    f.clock.advance(TimeDelta::minutes(11));
    let expired = f
        .callback(&late.state, Some("c"), None)
        .await
        .expect_err("expired state");
    assert_eq!(expired.code(), ErrorCode::InvalidState);
    assert_eq!(f.service.sweep_expired().await.expect("sweep"), 1);
    assert_eq!(f.status(late.connection_id).await, ConnectionStatus::Expired);

    let outside = f
        .service
        .create_consent_spec(
            &admin(),
            ConsentRequest {
                workspace_id: "ws-1".into(),
                provider: "acme".into(),
                scopes: None,
                return_url: "https://evil.test/steal".into(),
                connection_id: None,
            },
        )
        .await
        .expect_err("not allowed");
    assert_eq!(outside.field(), Some("return_url"));
}

async fn basic_auth_and_non_rotating_refresh(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    f.mock.require_basic_auth();
    f.oauth_provider("acme", TokenEndpointAuthMethod::ClientSecretBasic)
        .await;
    f.mock.reply(TokenReply::Tokens {
        access_token: "first".into(),
        refresh_token: Some("original-refresh".into()),
        expires_in: Some(30),
    });
    let id = f.connected("acme").await;
    // Within the skew: the read refreshes first. The provider does not rotate the refresh token.
    f.mock.reply(TokenReply::Tokens {
        access_token: "second".into(),
        refresh_token: None,
        expires_in: Some(3600),
    });
    let envelope = f.service.get_token(&admin(), id).await.expect("refreshed on read");
    assert_eq!(
        envelope.credentials.0.get("access_token").map(String::as_str),
        Some("second")
    );
    f.service.refresh(&admin(), id).await.expect("forced refresh");
    let refreshes = f.refresh_requests();
    assert_eq!(refreshes.len(), 2);
    assert!(
        refreshes
            .iter()
            .all(|r| r.get("refresh_token").map(String::as_str) == Some("original-refresh"))
    );
    assert!(
        f.mock
            .token_requests()
            .iter()
            .all(|r| { r.authorization.as_deref().is_some_and(|a| a.starts_with("Basic ")) })
    );
    assert!(
        f.mock
            .token_requests()
            .iter()
            .all(|r| !r.form.contains_key("client_secret"))
    );
}

async fn refresh_faults_keep_the_connection_active(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    f.oauth_provider("acme", TokenEndpointAuthMethod::ClientSecretPost)
        .await;
    f.mock.reply(TokenReply::Tokens {
        access_token: "current".into(),
        refresh_token: Some("r".into()),
        expires_in: Some(45),
    });
    let id = f.connected("acme").await;
    for fault in [
        TokenReply::Status(503),
        TokenReply::Malformed,
        TokenReply::Slow(Duration::from_secs(3), Box::new(TokenReply::Status(200))),
    ] {
        f.mock.reply(fault.clone());
        // Inside the skew but not yet expired: the current token is still served.
        let envelope = f
            .service
            .get_token(&admin(), id)
            .await
            .unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert_eq!(
            envelope.credentials.0.get("access_token").map(String::as_str),
            Some("current")
        );
        assert_eq!(f.status(id).await, ConnectionStatus::Active);
    }
    f.clock.advance(TimeDelta::seconds(60));
    f.mock.reply(TokenReply::Status(500));
    let expired = f
        .service
        .get_token(&admin(), id)
        .await
        .expect_err("expired and provider down");
    assert_eq!(expired.code(), ErrorCode::UpstreamUnavailable);
    assert_eq!(expired.status(), 502);
    assert_eq!(f.status(id).await, ConnectionStatus::Active);

    f.mock.reply(TokenReply::Error {
        status: 400,
        error: "invalid_grant".into(),
    });
    let rejected = f.service.get_token(&admin(), id).await.expect_err("invalid_grant");
    assert_eq!(rejected.code(), ErrorCode::AttentionRequired);
    assert!(!rejected.to_string().contains("secret provider detail"));
    let connection = f.service.get(&admin(), id).await.expect("connection");
    assert_eq!(connection.status, ConnectionStatus::AttentionRequired);
    assert_eq!(connection.error.as_deref(), Some("invalid_grant"));
    assert_eq!(
        f.service
            .get_token(&admin(), id)
            .await
            .expect_err("needs consent")
            .code(),
        ErrorCode::AttentionRequired
    );

    // Re-consent under the same id makes it active again.
    let spec = f.consent("acme", Some(id)).await;
    assert_eq!(spec.connection_id, id);
    f.callback(&spec.state, Some("again"), None).await.expect("callback");
    assert_eq!(f.status(id).await, ConnectionStatus::Active);
    f.service.get_token(&admin(), id).await.expect("usable again");
}

async fn concurrent_refreshes_collapse_into_one_call(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    f.oauth_provider("acme", TokenEndpointAuthMethod::ClientSecretPost)
        .await;
    f.mock.reply(TokenReply::Tokens {
        access_token: "stale".into(),
        refresh_token: Some("r".into()),
        expires_in: Some(10),
    });
    let id = f.connected("acme").await;
    f.mock.reply(TokenReply::Slow(
        Duration::from_millis(200),
        Box::new(TokenReply::Tokens {
            access_token: "fresh".into(),
            refresh_token: Some("r2".into()),
            expires_in: Some(3600),
        }),
    ));
    let reads = (0..50).map(|_| {
        let service = f.service.clone();
        tokio::spawn(async move { service.get_token(&admin(), id).await })
    });
    for read in futures::future::join_all(reads).await {
        let envelope = read.expect("task").expect("token");
        assert_eq!(
            envelope.credentials.0.get("access_token").map(String::as_str),
            Some("fresh")
        );
    }
    assert_eq!(f.refresh_requests().len(), 1, "one provider call for 50 readers");
    let credential = f.repo.credential(id).await.expect("read").expect("credential");
    assert_eq!(credential.version, 2, "persisted once");
}

async fn discovery_without_token_endpoint_is_a_clear_error(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    let issuer = f.mock.base_url.clone();
    f.mock.set_discovery(serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "jwks_uri": format!("{issuer}/jwks"),
    }));
    f.providers
        .create(
            &admin().actor,
            NewProvider {
                draft: ProviderDraft {
                    name: "oidc".into(),
                    auth_type: Some(AuthType::Oauth2),
                    client_id: Some(CLIENT_ID.into()),
                    issuer: Some(issuer),
                    ..ProviderDraft::default()
                },
                client_secret: Some(secret(CLIENT_SECRET)),
            },
        )
        .await
        .expect("provider");
    let error = f
        .service
        .create_consent_spec(
            &admin(),
            ConsentRequest {
                workspace_id: "ws-1".into(),
                provider: "oidc".into(),
                scopes: Some(vec!["openid".into()]),
                return_url: RETURN_URL.into(),
                connection_id: None,
            },
        )
        .await
        .expect_err("misconfigured");
    assert_eq!(error.code(), ErrorCode::ProviderMisconfigured);
    assert!(error.to_string().contains("token_endpoint"), "{error}");
}

async fn capture_validates_verifies_and_works_once(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    f.providers
        .create(
            &admin().actor,
            NewProvider {
                draft: ProviderDraft {
                    name: "keyed".into(),
                    auth_type: Some(AuthType::ApiKey),
                    verification_url: Some(f.mock.url("/verify")),
                    verification_method: Some(VerificationMethod::Get),
                    ..ProviderDraft::default()
                },
                client_secret: None,
            },
        )
        .await
        .expect("provider");
    let spec = f.consent("keyed", None).await;
    assert!(
        spec.auth_url
            .as_str()
            .starts_with("https://nexus.test/base/auth/capture?state=")
    );
    let form = f.service.capture_form(&spec.state).await.expect("form");
    assert!(form.schema.properties.contains_key("api_key"));
    assert_eq!(
        form.submit_url.as_str(),
        "https://nexus.test/base/auth/capture",
        "posts under the public URL"
    );

    let submit = |values: &[(&str, &str)]| {
        let values: BTreeMap<String, String> = values.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let service = f.service.clone();
        let state = spec.state.clone();
        async move { service.save_credential(&state, values).await }
    };
    let missing = submit(&[]).await.expect_err("missing");
    assert_eq!(missing.field(), Some("api_key"));
    let unknown = submit(&[("api_key", "good-key"), ("colour", "blue")])
        .await
        .expect_err("unknown");
    assert_eq!(unknown.field(), Some("colour"));
    let oversized = "k".repeat(9000);
    assert_eq!(
        submit(&[("api_key", &oversized)]).await.expect_err("oversized").field(),
        Some("api_key")
    );
    let wrong = submit(&[("api_key", "bad-key")])
        .await
        .expect_err("rejected by the provider");
    assert_eq!(wrong.field(), Some("credentials"));
    assert_eq!(
        f.status(spec.connection_id).await,
        ConnectionStatus::Pending,
        "mistakes change nothing"
    );

    let flow = submit(&[("api_key", "good-key")]).await.expect("captured");
    assert!(flow.redirect_to.as_str().contains("status=success"));
    let replay = submit(&[("api_key", "good-key")]).await.expect_err("state works once");
    assert_eq!(replay.code(), ErrorCode::InvalidState);
    let as_callback = f.callback(&spec.state, Some("c"), None).await.expect_err("wrong kind");
    assert_eq!(as_callback.code(), ErrorCode::InvalidState);

    let envelope = f.service.get_token(&admin(), spec.connection_id).await.expect("token");
    assert_eq!(
        envelope.credentials.0.get("api_key").map(String::as_str),
        Some("good-key")
    );
    assert_eq!(envelope.strategy, Strategy::ApiKey { header_name: None });
    assert_eq!(envelope.expires_at, None);
    let not_refreshable = f
        .service
        .refresh(&admin(), spec.connection_id)
        .await
        .expect_err("static");
    assert_eq!(not_refreshable.code(), ErrorCode::NotRefreshable);
    assert_eq!(not_refreshable.status(), 400);
}

async fn revocation_erases_and_tells_the_provider(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    f.oauth_provider("acme", TokenEndpointAuthMethod::ClientSecretPost)
        .await;
    let id = f.connected("acme").await;
    f.service.revoke(&admin(), id).await.expect("revoke");
    assert_eq!(f.status(id).await, ConnectionStatus::Revoked);
    assert!(
        f.repo.credential(id).await.expect("read").is_none(),
        "credentials erased"
    );
    let revocations = f.mock.revocations();
    assert_eq!(revocations.len(), 1);
    assert_eq!(revocations[0].get("token").map(String::as_str), Some("mock-refresh-1"));
    assert_eq!(
        revocations[0].get("token_type_hint").map(String::as_str),
        Some("refresh_token")
    );
    assert_eq!(
        f.service.get_token(&admin(), id).await.expect_err("revoked").code(),
        ErrorCode::ConnectionRevoked
    );
    f.service.revoke(&admin(), id).await.expect("idempotent");

    f.mock.fail_revocation(500);
    let other = f.connected("acme").await;
    f.service
        .revoke(&admin(), other)
        .await
        .expect("provider failure is not fatal");
    assert_eq!(f.status(other).await, ConnectionStatus::Revoked);

    let unknown = f
        .service
        .revoke(&admin(), ConnectionId::new())
        .await
        .expect_err("unknown");
    assert_eq!(unknown.code(), ErrorCode::ConnectionNotFound);

    f.service.poll_connection_counts().await.expect("poll");
    let text = prometheus::TextEncoder::new()
        .encode_to_string(&f.registry.gather())
        .expect("encode");
    assert!(text.contains("nexus_connections_total{status=\"revoked\"} 2"), "{text}");
    assert!(
        text.contains("oauth_token_exchanges_total{provider=\"acme\",status=\"success\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("oauth_consents_created_total{provider=\"acme\"} 2"),
        "{text}"
    );
}

async fn unverifiable_id_tokens_and_redirects_fail_the_exchange(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    let issuer = f.mock.base_url.clone();
    f.mock.set_discovery(serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
    }));
    f.providers
        .create(
            &admin().actor,
            NewProvider {
                draft: ProviderDraft {
                    name: "oidc".into(),
                    auth_type: Some(AuthType::Oauth2),
                    client_id: Some(CLIENT_ID.into()),
                    issuer: Some(issuer),
                    scopes: vec!["openid".into()],
                    ..ProviderDraft::default()
                },
                client_secret: Some(secret(CLIENT_SECRET)),
            },
        )
        .await
        .expect("provider");

    // A signed-looking id_token that no key in the provider's JWKS verifies.
    let spec = f.consent("oidc", None).await;
    let query: BTreeMap<String, String> = spec.auth_url.query_pairs().into_owned().collect();
    assert!(query.contains_key("nonce"), "openid consents carry a nonce");
    f.mock.reply(TokenReply::WithIdToken(
        "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJ4In0.c2lnbmF0dXJl".into(),
    ));
    let flow = f.callback(&spec.state, Some("code"), None).await.expect("valid state");
    assert!(!flow.succeeded);
    assert!(
        flow.redirect_to.as_str().contains("error=invalid_id_token"),
        "{}",
        flow.redirect_to
    );
    assert_eq!(f.status(spec.connection_id).await, ConnectionStatus::Failed);

    // A token endpoint that redirects is refused, not followed.
    let spec = f.consent("oidc", None).await;
    f.mock.reply(TokenReply::Redirect);
    let flow = f.callback(&spec.state, Some("code"), None).await.expect("valid state");
    assert!(!flow.succeeded);
    assert!(!f.mock.redirect_followed(), "the redirect was followed");
}

database_tests!(
    unverifiable_id_tokens_and_redirects_fail_the_exchange,
    consent_callback_and_token_read,
    denied_consent_and_expired_state,
    basic_auth_and_non_rotating_refresh,
    refresh_faults_keep_the_connection_active,
    concurrent_refreshes_collapse_into_one_call,
    discovery_without_token_endpoint_is_a_clear_error,
    capture_validates_verifies_and_works_once,
    revocation_erases_and_tells_the_provider,
);
