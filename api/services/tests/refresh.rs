//! Refresh on real databases against the mock provider: every fault a token endpoint can
//! produce, classified as CONTRACT.md says; single flight; a caller that goes away; a write that
//! fails after the provider already rotated the refresh token; background claiming.

mod common;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use common::*;
use nexus_domain::clock::Clock;
use nexus_domain::ports::{ConnectionService, ProviderService};
use nexus_domain::provider::{ProviderPatch, ProviderRef, TokenEndpointAuthMethod};
use nexus_domain::status::ConnectionStatus;
use nexus_domain::{ConnectionId, ErrorCode};
use nexus_repositories::{
    ConnectionRepository, NewCredential, RefreshFailure, RefreshLease, RefreshRepository, RepoError, RepoResult,
    RetryAt,
};
use nexus_test_utils::mock_provider::TokenReply;
use nexus_test_utils::{TestDatabase, database_tests};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn access_token(envelope: &nexus_domain::connection::CredentialEnvelope) -> &str {
    envelope.credentials.0.get("access_token").map_or("", String::as_str)
}

/// A connection whose token was issued `expires_in` seconds before it expires, and is now past
/// the middle of its life (a token is never refreshed before then; the skew is 60).
async fn connected_expiring(f: &Fixture, provider: &str, access: &str, expires_in: i64) -> ConnectionId {
    f.mock.reply(TokenReply::Tokens {
        access_token: access.into(),
        refresh_token: Some(format!("{access}-refresh")),
        expires_in: Some(expires_in),
    });
    let id = f.connected(provider).await;
    f.clock.advance(TimeDelta::milliseconds(expires_in * 500 + 1));
    id
}

struct Case {
    name: &'static str,
    reply: TokenReply,
    /// The code of an expired token's read; `None` when it is served.
    code: ErrorCode,
    status: ConnectionStatus,
    retry_after: Option<u64>,
}

fn cases() -> Vec<Case> {
    let transient = |name, reply| Case {
        name,
        reply,
        code: ErrorCode::UpstreamUnavailable,
        status: ConnectionStatus::Active,
        retry_after: Some(1),
    };
    vec![
        Case {
            retry_after: Some(120),
            ..transient("429 with a long Retry-After", TokenReply::RateLimited("120".into()))
        },
        transient("429 with Retry-After: 1", TokenReply::RateLimited("1".into())),
        transient("500", TokenReply::Status(500)),
        transient("503", TokenReply::Status(503)),
        transient(
            "200 with temporarily_unavailable",
            TokenReply::ErrorWithOk("temporarily_unavailable".into()),
        ),
        transient("malformed JSON", TokenReply::Malformed),
        transient(
            "a timeout",
            TokenReply::Slow(Duration::from_secs(3), Box::new(TokenReply::Status(200))),
        ),
        Case {
            name: "401 invalid_client",
            reply: TokenReply::Error {
                status: 401,
                error: "invalid_client".into(),
            },
            code: ErrorCode::ProviderMisconfigured,
            status: ConnectionStatus::Active,
            retry_after: None,
        },
        Case {
            name: "a bare 401",
            reply: TokenReply::Status(401),
            code: ErrorCode::ProviderMisconfigured,
            status: ConnectionStatus::Active,
            retry_after: None,
        },
        Case {
            name: "400 invalid_grant",
            reply: TokenReply::Error {
                status: 400,
                error: "invalid_grant".into(),
            },
            code: ErrorCode::AttentionRequired,
            status: ConnectionStatus::AttentionRequired,
            retry_after: None,
        },
        Case {
            name: "200 with invalid_grant",
            reply: TokenReply::ErrorWithOk("invalid_grant".into()),
            code: ErrorCode::AttentionRequired,
            status: ConnectionStatus::AttentionRequired,
            retry_after: None,
        },
    ]
}

/// Each fault against a token still valid (served) and an expired one (the documented error),
/// with the connection in the documented state afterwards.
async fn every_token_endpoint_fault_is_classified(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    f.oauth_provider("acme", TokenEndpointAuthMethod::ClientSecretPost)
        .await;
    for case in cases() {
        // Inside the skew, still valid: transient and registration failures serve the current token.
        let id = connected_expiring(&f, "acme", "current", 45).await;
        f.mock.default_reply(case.reply.clone());
        let before = f.mock.refresh_count();
        let read = f.service.get_token(&admin(), id).await;
        if case.status == ConnectionStatus::Active {
            let envelope = read.unwrap_or_else(|e| panic!("{}: a valid token is served: {e}", case.name));
            assert_eq!(access_token(&envelope), "current", "{}", case.name);
        } else {
            assert_eq!(read.expect_err(case.name).code(), case.code, "{}", case.name);
        }
        assert_eq!(f.status(id).await, case.status, "{}", case.name);
        let calls = f.mock.refresh_count() - before;
        assert!((1..=4).contains(&calls), "{}: {calls} provider calls", case.name);
        if case.code != ErrorCode::UpstreamUnavailable {
            assert_eq!(calls, 1, "{}: a final answer is not retried", case.name);
        }

        // Expired: the read fails with the documented status and code, and the connection is
        // only lost to an invalid_grant.
        let id = connected_expiring(&f, "acme", "old", 30).await;
        f.mock.default_reply(case.reply.clone());
        f.clock.advance(TimeDelta::seconds(31));
        let error = f.service.get_token(&admin(), id).await.expect_err(case.name);
        assert_eq!(error.code(), case.code, "{}: {error}", case.name);
        let status = match case.code {
            ErrorCode::AttentionRequired => 409,
            _ => 502,
        };
        assert_eq!(error.status(), status, "{}", case.name);
        assert_eq!(error.retry_after_seconds(), case.retry_after, "{}", case.name);
        assert!(!error.to_string().contains("secret provider detail"), "{}", case.name);
        assert_eq!(f.status(id).await, case.status, "{}", case.name);
        f.clock.advance(TimeDelta::seconds(-31));
    }
}

/// A provider whose token endpoint resets the connection: transient, the connection stays.
async fn a_reset_connection_is_transient(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    f.oauth_provider("acme", TokenEndpointAuthMethod::ClientSecretPost)
        .await;
    let id = connected_expiring(&f, "acme", "old", 30).await;
    f.providers
        .update(
            &admin().actor,
            &ProviderRef::parse("acme").expect("name"),
            ProviderPatch {
                token_url: Some(Some(f.mock.reset_url.clone())),
                ..ProviderPatch::default()
            },
        )
        .await
        .expect("point the token URL at the resetter");
    let served = f.service.get_token(&admin(), id).await.expect("valid token served");
    assert_eq!(access_token(&served), "old");
    f.clock.advance(TimeDelta::seconds(31));
    let error = f.service.get_token(&admin(), id).await.expect_err("reset");
    assert_eq!(error.code(), ErrorCode::UpstreamUnavailable);
    assert_eq!(f.status(id).await, ConnectionStatus::Active);
}

/// `invalid_client` until the operator fixes the secret; then the same connection works again.
async fn a_misconfigured_provider_recovers_without_reconsent(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    f.oauth_provider("acme", TokenEndpointAuthMethod::ClientSecretPost)
        .await;
    let id = connected_expiring(&f, "acme", "old", 30).await;
    f.clock.advance(TimeDelta::seconds(31));
    f.mock.reply(TokenReply::Error {
        status: 401,
        error: "invalid_client".into(),
    });
    let error = f.service.get_token(&admin(), id).await.expect_err("misconfigured");
    assert_eq!(error.code(), ErrorCode::ProviderMisconfigured);
    assert_eq!(f.status(id).await, ConnectionStatus::Active);
    let metrics = prometheus::TextEncoder::new()
        .encode_to_string(&f.registry.gather())
        .expect("metrics");
    assert!(
        metrics.contains(r#"nexus_refresh_failures_total{provider="acme",reason="provider_misconfigured"} 1"#),
        "{metrics}"
    );
    // Until the operator acts, reads answer from memory instead of hammering the provider.
    let again = f
        .service
        .get_token(&admin(), id)
        .await
        .expect_err("still misconfigured");
    assert_eq!(again.code(), ErrorCode::ProviderMisconfigured);
    assert_eq!(f.mock.refresh_count(), 1, "not asked again at once");
    // The operator fixes the provider: the next read refreshes under the same consent.
    f.providers
        .update(
            &admin().actor,
            &ProviderRef::parse("acme").expect("name"),
            ProviderPatch {
                client_secret: Some(nexus_domain::secret::secret(
                    nexus_test_utils::mock_provider::CLIENT_SECRET,
                )),
                ..ProviderPatch::default()
            },
        )
        .await
        .expect("the operator fixes the provider");
    let envelope = f.service.get_token(&admin(), id).await.expect("works again");
    assert!(access_token(&envelope).starts_with("mock-access-"));
    assert_eq!(f.status(id).await, ConnectionStatus::Active);
}

/// While the provider asks to wait (429 with Retry-After), reads answer from memory with the
/// time left instead of calling it again.
async fn reads_honour_retry_after_across_requests(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    f.oauth_provider("acme", TokenEndpointAuthMethod::ClientSecretPost)
        .await;
    let id = connected_expiring(&f, "acme", "old", 30).await;
    f.clock.advance(TimeDelta::seconds(31));
    f.mock.default_reply(TokenReply::RateLimited("120".into()));
    let first = f.service.get_token(&admin(), id).await.expect_err("rate limited");
    assert_eq!(first.retry_after_seconds(), Some(120));
    let second = f.service.get_token(&admin(), id).await.expect_err("still waiting");
    assert_eq!(second.code(), ErrorCode::UpstreamUnavailable);
    assert!(
        second.retry_after_seconds().is_some_and(|s| (119..=120).contains(&s)),
        "{second:?}"
    );
    assert_eq!(f.mock.refresh_count(), 1, "the provider was not asked again");
    assert_eq!(f.status(id).await, ConnectionStatus::Active);
}

/// 50 concurrent readers, one provider call, one write.
async fn concurrent_refreshes_collapse_into_one_call(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    f.oauth_provider("acme", TokenEndpointAuthMethod::ClientSecretPost)
        .await;
    let id = connected_expiring(&f, "acme", "stale", 10).await;
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
        assert_eq!(access_token(&read.expect("task").expect("token")), "fresh");
    }
    assert_eq!(f.mock.refresh_count(), 1, "one provider call for 50 readers");
    let credential = f.repo.credential(id).await.expect("read").expect("credential");
    assert_eq!(credential.version, 2, "persisted once");
}

/// The reader is cancelled while the provider is slow: the rotated token is stored anyway, and
/// the next read uses it without calling the provider again.
async fn a_caller_that_goes_away_loses_nothing(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    f.oauth_provider("acme", TokenEndpointAuthMethod::ClientSecretPost)
        .await;
    let id = connected_expiring(&f, "acme", "stale", 10).await;
    f.mock.reply(TokenReply::Slow(
        Duration::from_millis(600),
        Box::new(TokenReply::Tokens {
            access_token: "rotated".into(),
            refresh_token: Some("rotated-refresh".into()),
            expires_in: Some(3600),
        }),
    ));
    let service = f.service.clone();
    let read = tokio::spawn(async move { service.get_token(&admin(), id).await });
    eventually("the refresh is at the provider", || async {
        f.mock.refresh_count() == 1
    })
    .await;
    read.abort();
    assert!(read.await.expect_err("aborted").is_cancelled());
    eventually("the detached refresh finished", || async {
        f.service.refresher().in_flight() == 0
    })
    .await;
    let credential = f.repo.credential(id).await.expect("read").expect("credential");
    assert_eq!(credential.version, 2, "the rotated token was stored");
    let envelope = f.service.get_token(&admin(), id).await.expect("token");
    assert_eq!(access_token(&envelope), "rotated");
    assert_eq!(f.mock.refresh_count(), 1);
    // The next refresh presents the rotated refresh token, not the retired one.
    f.service.refresh_token(&admin(), id).await.expect("forced refresh");
    let requests = f.refresh_requests();
    assert_eq!(
        requests.last().and_then(|r| r.get("refresh_token")).map(String::as_str),
        Some("rotated-refresh")
    );
}

/// A refresh repository whose first few credential writes or lease renewals fail, as a database
/// that blinks would.
struct Blinking {
    inner: Arc<dyn RefreshRepository>,
    failing_writes: AtomicUsize,
    failing_renewals: AtomicUsize,
}

impl Blinking {
    fn new(inner: Arc<dyn RefreshRepository>, failing_writes: usize, failing_renewals: usize) -> Self {
        Self {
            inner,
            failing_writes: AtomicUsize::new(failing_writes),
            failing_renewals: AtomicUsize::new(failing_renewals),
        }
    }
}

/// Takes one from `left`, `true` while there was one.
fn fail_once_more(left: &AtomicUsize) -> bool {
    left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

#[async_trait]
impl RefreshRepository for Blinking {
    async fn take_lease(&self, id: ConnectionId, lease: &RefreshLease) -> RepoResult<bool> {
        self.inner.take_lease(id, lease).await
    }
    async fn renew_lease(&self, id: ConnectionId, lease: &RefreshLease) -> RepoResult<bool> {
        if fail_once_more(&self.failing_renewals) {
            return Err(RepoError::Corrupt("injected: the renewal timed out".into()));
        }
        self.inner.renew_lease(id, lease).await
    }
    async fn release_lease(&self, id: ConnectionId, owner: &str, refreshed: bool) -> RepoResult<()> {
        self.inner.release_lease(id, owner, refreshed).await
    }
    async fn claim_due(
        &self,
        due_before: DateTime<Utc>,
        now: DateTime<Utc>,
        lease: &RefreshLease,
        limit: u64,
    ) -> RepoResult<Vec<ConnectionId>> {
        self.inner.claim_due(due_before, now, lease, limit).await
    }
    async fn count_due(&self, due_before: DateTime<Utc>, now: DateTime<Utc>) -> RepoResult<u64> {
        self.inner.count_due(due_before, now).await
    }
    async fn store_refreshed(
        &self,
        id: ConnectionId,
        expected_version: i64,
        owner: &str,
        credential: &NewCredential,
        at: DateTime<Utc>,
    ) -> RepoResult<bool> {
        if fail_once_more(&self.failing_writes) {
            return Err(RepoError::Corrupt("injected: the database went away".into()));
        }
        self.inner
            .store_refreshed(id, expected_version, owner, credential, at)
            .await
    }
    async fn record_failure(
        &self,
        id: ConnectionId,
        retry_at: &RetryAt,
        failure: RefreshFailure<'_>,
    ) -> RepoResult<()> {
        self.inner.record_failure(id, retry_at, failure).await
    }
}

/// The provider rotated the refresh token, then the write failed: the reader is served the new
/// token from memory, the write is retried until it lands, and nothing is lost.
async fn a_failed_write_after_a_rotation_loses_nothing(test_db: TestDatabase) {
    let f = fixture_with(&test_db, |inner| Arc::new(Blinking::new(inner, 1, 0))).await;
    f.oauth_provider("acme", TokenEndpointAuthMethod::ClientSecretPost)
        .await;
    let id = connected_expiring(&f, "acme", "stale", 10).await;
    f.mock.reply(TokenReply::Tokens {
        access_token: "rotated".into(),
        refresh_token: Some("rotated-refresh".into()),
        expires_in: Some(3600),
    });
    let envelope = f.service.get_token(&admin(), id).await.expect("served from memory");
    assert_eq!(access_token(&envelope), "rotated");
    let mut stored = None;
    for _ in 0..50 {
        let credential = f.repo.credential(id).await.expect("read").expect("credential");
        if credential.version == 2 {
            stored = Some(credential);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(stored.is_some(), "the retried write landed");
    assert_eq!(f.mock.refresh_count(), 1, "the provider was called once");
    // The refresh task releases its lease and finishes, so the forced refresh is a new one.
    eventually("the refresh task finished", || async {
        f.service.refresher().in_flight() == 0
    })
    .await;
    f.service.refresh_token(&admin(), id).await.expect("forced refresh");
    assert_eq!(
        f.refresh_requests()
            .last()
            .and_then(|r| r.get("refresh_token"))
            .map(String::as_str),
        Some("rotated-refresh")
    );
}

/// Resolve without an active connection names the connection waiting on its user.
async fn resolve_names_the_connection_to_reconsent(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    f.oauth_provider("acme", TokenEndpointAuthMethod::ClientSecretPost)
        .await;
    let nothing = f
        .service
        .get_token_by_workspace_and_provider(&admin(), "ws-1", "acme")
        .await
        .expect_err("nothing yet");
    assert_eq!(nothing.code(), ErrorCode::ConnectionNotFound);
    assert_eq!(nothing.connection_id(), None);

    let pending = f.consent("acme", None).await;
    let waiting = f
        .service
        .get_token_by_workspace_and_provider(&admin(), "ws-1", "acme")
        .await
        .expect_err("pending");
    assert_eq!(waiting.code(), ErrorCode::ConnectionPending);
    assert_eq!(waiting.connection_id(), Some(pending.connection_id));

    f.callback(&pending.state, Some("code"), None).await.expect("callback");
    f.mock.reply(TokenReply::Error {
        status: 400,
        error: "invalid_grant".into(),
    });
    f.service
        .refresh_token(&admin(), pending.connection_id)
        .await
        .expect_err("grant gone");
    let attention = f
        .service
        .get_token_by_workspace_and_provider(&admin(), "ws-1", "acme")
        .await
        .expect_err("needs the user");
    assert_eq!(attention.code(), ErrorCode::AttentionRequired);
    assert_eq!(attention.status(), 409);
    assert_eq!(attention.connection_id(), Some(pending.connection_id));
}

/// Two background refreshers (as two processes would have) over the same database: every due
/// credential is claimed and refreshed exactly once, and nothing that is not due is touched.
async fn background_refresh_claims_each_due_credential_once(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    f.oauth_provider("acme", TokenEndpointAuthMethod::ClientSecretPost)
        .await;
    let mut due = Vec::new();
    for i in 0..20 {
        due.push(connected_expiring(&f, "acme", &format!("due-{i}"), 120).await);
    }
    let later = connected_expiring(&f, "acme", "later", 3600).await;
    let settings = nexus_services::BackgroundSettings {
        lead: Duration::from_secs(300),
        concurrency: 4,
        per_provider: 2,
        ..nexus_services::BackgroundSettings::default()
    };
    let first = nexus_services::BackgroundRefresh::new(f.service.refresher(), settings.clone());
    let second = nexus_services::BackgroundRefresh::new(another_replica(&f).refresher(), settings);
    for _ in 0..100 {
        let ((a, _), (b, _)) = tokio::join!(first.scan(), second.scan());
        if a + b == 0 && f.mock.refresh_count() >= due.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Every claimed refresh has finished: a second refresh of any credential would show now.
    eventually("both replicas' refreshes finished", || async {
        first.in_flight() == 0 && second.in_flight() == 0
    })
    .await;
    assert_eq!(f.mock.refresh_count(), due.len(), "each due credential refreshed once");
    let mut presented: Vec<String> = f
        .refresh_requests()
        .iter()
        .filter_map(|r| r.get("refresh_token").cloned())
        .collect();
    presented.sort();
    presented.dedup();
    assert_eq!(presented.len(), due.len(), "no refresh token presented twice");
    for id in &due {
        let credential = f.repo.credential(*id).await.expect("read").expect("credential");
        assert_eq!(credential.version, 2, "refreshed and stored once");
    }
    let untouched = f.repo.credential(later).await.expect("read").expect("credential");
    assert_eq!(untouched.version, 1);
    // Reads now find fresh tokens: no read waits on the provider.
    for id in &due {
        let envelope = f.service.get_token(&admin(), *id).await.expect("token");
        assert!(access_token(&envelope).starts_with("mock-access-"));
    }
    assert_eq!(f.mock.refresh_count(), due.len());
}

/// Tokens whose whole life is shorter than the lead time (300 s) and the read skew (60 s) are
/// refreshed once per half-life, by the background refresher and reads together, and every read
/// in that time is served a token that has not expired.
async fn short_lived_tokens_are_refreshed_once_per_half_life(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    f.oauth_provider("acme", TokenEndpointAuthMethod::ClientSecretPost)
        .await;
    let background = nexus_services::BackgroundRefresh::new(
        f.service.refresher(),
        nexus_services::BackgroundSettings {
            lead: Duration::from_secs(300),
            ..nexus_services::BackgroundSettings::default()
        },
    );
    for lifetime in [4i64, 30, 120, 300] {
        f.mock.refresh_reply_issues(lifetime);
        f.mock.reply(TokenReply::Tokens {
            access_token: format!("first-{lifetime}"),
            refresh_token: Some(format!("refresh-{lifetime}")),
            expires_in: Some(lifetime),
        });
        let id = f.connected("acme").await;
        let before = f.mock.refresh_count();
        // Three lifetimes in steps of an eighth: six half-lives.
        let step = TimeDelta::milliseconds(lifetime * 1000 / 8);
        for i in 0..24 {
            f.clock.advance(step);
            let version = f.repo.credential(id).await.expect("read").expect("credential").version;
            if background.scan().await.0 > 0 {
                // Let the background refresh store its token before the clock moves on.
                for _ in 0..200 {
                    let now = f.repo.credential(id).await.expect("read").expect("credential");
                    if now.version != version {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
            let envelope = f
                .service
                .get_token(&admin(), id)
                .await
                .unwrap_or_else(|e| panic!("{lifetime} s tokens, step {i}: {e:?}"));
            let expires_at = envelope.expires_at.expect("expiry");
            assert!(
                expires_at > f.clock.now(),
                "{lifetime} s tokens, step {i}: never an expired token"
            );
        }
        eventually("the background refreshes finished", || async {
            background.in_flight() == 0 && f.service.refresher().in_flight() == 0
        })
        .await;
        let refreshes = f.mock.refresh_count() - before;
        assert!(
            (5..=6).contains(&refreshes),
            "{lifetime} s tokens: {refreshes} refreshes in six half-lives (one per half-life)"
        );
        // Out of the next round's count.
        f.service.revoke(&admin(), id).await.expect("revoke");
    }
}

/// A refresh presenting the old grant is answered `invalid_grant` after the user re-consented
/// the same connection: the connection stays active with the new grant, and the reader gets it.
async fn a_stale_invalid_grant_never_undoes_a_reconsent(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    f.oauth_provider("acme", TokenEndpointAuthMethod::ClientSecretPost)
        .await;
    let id = connected_expiring(&f, "acme", "old", 30).await;
    f.clock.advance(TimeDelta::seconds(16));
    f.mock.reply(TokenReply::Slow(
        Duration::from_millis(800),
        Box::new(TokenReply::Error {
            status: 400,
            error: "invalid_grant".into(),
        }),
    ));
    let service = f.service.clone();
    let read = tokio::spawn(async move { service.get_token(&admin(), id).await });
    // The refresh is at the provider; the user completes a re-consent meanwhile.
    eventually("the refresh is at the provider", || async {
        f.mock.refresh_count() == 1
    })
    .await;
    f.mock.reply(TokenReply::Tokens {
        access_token: "reconsented".into(),
        refresh_token: Some("reconsented-refresh".into()),
        expires_in: Some(3600),
    });
    let again = f.consent("acme", Some(id)).await;
    let flow = f.callback(&again.state, Some("code-2"), None).await.expect("callback");
    assert!(flow.succeeded, "{flow:?}");
    let envelope = read.await.expect("joined").expect("the reader gets the newer grant");
    assert_eq!(access_token(&envelope), "reconsented");
    assert_eq!(f.status(id).await, ConnectionStatus::Active, "the new consent stands");
    let envelope = f.service.get_token(&admin(), id).await.expect("served");
    assert_eq!(access_token(&envelope), "reconsented");
}

/// A re-consent whose answer has no refresh token (the provider issues one only on the first
/// consent) keeps the stored one, and the next refresh presents it.
async fn a_reconsent_without_a_refresh_token_keeps_the_stored_one(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    f.oauth_provider("acme", TokenEndpointAuthMethod::ClientSecretPost)
        .await;
    let id = connected_expiring(&f, "acme", "first", 3600).await;
    f.mock.reply(TokenReply::Tokens {
        access_token: "second".into(),
        refresh_token: None,
        expires_in: Some(3600),
    });
    let again = f.consent("acme", Some(id)).await;
    let flow = f.callback(&again.state, Some("code-2"), None).await.expect("callback");
    assert!(flow.succeeded, "{flow:?}");
    let envelope = f.service.get_token(&admin(), id).await.expect("served");
    assert_eq!(access_token(&envelope), "second");
    f.service.refresh_token(&admin(), id).await.expect("forced refresh");
    assert_eq!(
        f.refresh_requests()
            .last()
            .and_then(|r| r.get("refresh_token"))
            .map(String::as_str),
        Some("first-refresh"),
        "the refresh token of the first consent was kept"
    );
}

/// A lease renewal that fails (the database blinked) makes no provider call: the read is a
/// transient failure, and the next read refreshes once.
async fn a_failed_lease_renewal_makes_no_provider_call(test_db: TestDatabase) {
    let f = fixture_with(&test_db, |inner| Arc::new(Blinking::new(inner, 0, 1))).await;
    f.oauth_provider("acme", TokenEndpointAuthMethod::ClientSecretPost)
        .await;
    let id = connected_expiring(&f, "acme", "old", 30).await;
    f.clock.advance(TimeDelta::seconds(16));
    let refused = f.service.get_token(&admin(), id).await.expect_err("no lease, no call");
    assert_eq!(refused.code(), ErrorCode::UpstreamUnavailable);
    assert_eq!(f.mock.refresh_count(), 0, "the provider was not called without a lease");
    assert_eq!(f.status(id).await, ConnectionStatus::Active);
    eventually("the failed refresh finished", || async {
        f.service.refresher().in_flight() == 0
    })
    .await;
    let envelope = f.service.get_token(&admin(), id).await.expect("refreshed");
    assert!(access_token(&envelope).starts_with("mock-access-"));
    assert_eq!(f.mock.refresh_count(), 1);
}

/// Two replicas whose clocks disagree by more than the lease: the one running ahead does not
/// take the other's lease while the provider is answering, so the refresh token is presented once.
async fn leases_hold_across_replicas_whose_clocks_disagree(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    f.oauth_provider("acme", TokenEndpointAuthMethod::ClientSecretPost)
        .await;
    let id = connected_expiring(&f, "acme", "old", 30).await;
    f.clock.advance(TimeDelta::seconds(16));
    let ahead = Arc::new(ManualClock::at(f.clock.now() + TimeDelta::minutes(5)));
    let replica = another_replica_on(&f, ahead);
    f.mock.reply(TokenReply::Slow(
        Duration::from_millis(700),
        Box::new(TokenReply::Tokens {
            access_token: "rotated".into(),
            refresh_token: Some("rotated-refresh".into()),
            expires_in: Some(3600),
        }),
    ));
    let service = f.service.clone();
    let first = tokio::spawn(async move { service.get_token(&admin(), id).await });
    eventually("the first replica's refresh is at the provider", || async {
        f.mock.refresh_count() == 1
    })
    .await;
    let second = replica
        .get_token(&admin(), id)
        .await
        .expect("the replica waits and serves");
    let first = first.await.expect("joined").expect("served");
    assert_eq!(access_token(&first), "rotated");
    assert_eq!(access_token(&second), "rotated");
    assert_eq!(
        f.mock.refresh_count(),
        1,
        "one provider call, whatever the replicas' clocks say"
    );
}

/// Reads racing a revocation: once the revocation has returned, no read serves the credential
/// (no read that started before it may leave the revoked envelope in the cache).
async fn a_revocation_racing_reads_is_seen_at_once(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    f.oauth_provider("acme", TokenEndpointAuthMethod::ClientSecretPost)
        .await;
    for round in 0..10 {
        let id = connected_expiring(&f, "acme", &format!("round-{round}"), 3600).await;
        let reads: Vec<_> = (0..20)
            .map(|_| {
                let service = f.service.clone();
                tokio::spawn(async move {
                    service
                        .get_token_by_workspace_and_provider(&admin(), "ws-1", "acme")
                        .await
                })
            })
            .collect();
        f.service.revoke(&admin(), id).await.expect("revoke");
        for read in reads {
            let _ = read.await.expect("joined");
        }
        let after = f.service.get_token(&admin(), id).await;
        assert!(
            after.is_err(),
            "round {round}: a revoked credential was served from the cache"
        );
        let resolved = f
            .service
            .get_token_by_workspace_and_provider(&admin(), "ws-1", "acme")
            .await;
        assert!(
            resolved.is_err(),
            "round {round}: a revoked credential was resolved from the cache"
        );
    }
}

/// A split Gateway may keep a short token's envelope until it is due by the lifetime rule: a 30 s
/// token just issued is not due for 15 s, although its whole life is inside the 60 s skew.
async fn a_split_gateway_caches_a_short_token_until_it_is_due(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    f.oauth_provider("acme", TokenEndpointAuthMethod::ClientSecretPost)
        .await;
    f.mock.reply(TokenReply::Tokens {
        access_token: "short".into(),
        refresh_token: Some("short-refresh".into()),
        expires_in: Some(30),
    });
    let id = f.connected("acme").await;
    let agent = nexus_domain::agent_key::Caller::agent(&nexus_domain::agent_key::AgentPrincipal {
        key_id: nexus_domain::AgentKeyId::new(),
        workspace_ids: None,
        proxy_only: false,
    });
    let envelope = f.service.get_token(&agent, id).await.expect("served");
    let read = f.service.gateway_read(&agent, envelope);
    assert!(
        read.cache_for > Duration::ZERO,
        "a token 15 s from its half-life may be cached: {:?}",
        read.cache_for
    );
    assert_eq!(f.mock.refresh_count(), 0);
}

/// A backlog larger than the provider's permits: connections waiting for a permit are not held,
/// so readers of them refresh at once instead of waiting on an idle lease (and answering 502
/// once their token has expired); every connection is still refreshed exactly once.
async fn readers_never_wait_on_a_claim_that_waits_for_a_permit(test_db: TestDatabase) {
    const BACKLOG: usize = 20;
    let f = fixture(&test_db).await;
    f.oauth_provider("acme", TokenEndpointAuthMethod::ClientSecretPost)
        .await;
    let mut ids = Vec::new();
    for i in 0..BACKLOG {
        f.mock.reply(TokenReply::Tokens {
            access_token: format!("old-{i}"),
            refresh_token: Some(format!("refresh-{i}")),
            expires_in: Some(30),
        });
        ids.push(f.connected("acme").await);
    }
    f.clock.advance(TimeDelta::seconds(31));
    // One refresh at a time against this provider, each taking 0.6 s: the last claimed one
    // would reach the provider after 12 s, past the 10 s a reader waits for a lease.
    f.mock.default_reply(TokenReply::Slow(
        Duration::from_millis(600),
        Box::new(TokenReply::Tokens {
            access_token: "renewed".into(),
            refresh_token: None,
            expires_in: Some(3600),
        }),
    ));
    let background = nexus_services::BackgroundRefresh::new(
        f.service.refresher(),
        nexus_services::BackgroundSettings {
            lead: Duration::from_secs(300),
            concurrency: BACKLOG,
            per_provider: 1,
            ..nexus_services::BackgroundSettings::default()
        },
    );
    assert_eq!(background.scan().await.0, BACKLOG, "the whole backlog is claimed");
    eventually("the first claimed refresh is at the provider", || async {
        f.mock.refresh_count() >= 1
    })
    .await;
    let started = std::time::Instant::now();
    let caller = admin();
    let reads = futures::future::join_all(ids.iter().map(|id| f.service.get_token(&caller, *id))).await;
    for (i, read) in reads.into_iter().enumerate() {
        let envelope = read.unwrap_or_else(|e| panic!("connection {i}: {e:?}"));
        assert_eq!(access_token(&envelope), "renewed");
    }
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(5), "readers waited {waited:?}");
    // The claimed jobs that get their permit later find the credential fresh and leave it.
    eventually("every claimed refresh finished", || async {
        background.in_flight() == 0
    })
    .await;
    assert_eq!(f.mock.refresh_count(), BACKLOG, "each connection refreshed once");
}

database_tests!(
    every_token_endpoint_fault_is_classified,
    reads_honour_retry_after_across_requests,
    a_reset_connection_is_transient,
    a_misconfigured_provider_recovers_without_reconsent,
    concurrent_refreshes_collapse_into_one_call,
    a_caller_that_goes_away_loses_nothing,
    a_failed_write_after_a_rotation_loses_nothing,
    resolve_names_the_connection_to_reconsent,
    background_refresh_claims_each_due_credential_once,
    short_lived_tokens_are_refreshed_once_per_half_life,
    a_stale_invalid_grant_never_undoes_a_reconsent,
    a_reconsent_without_a_refresh_token_keeps_the_stored_one,
    a_failed_lease_renewal_makes_no_provider_call,
    leases_hold_across_replicas_whose_clocks_disagree,
    a_revocation_racing_reads_is_seen_at_once,
    a_split_gateway_caches_a_short_token_until_it_is_due,
    readers_never_wait_on_a_claim_that_waits_for_a_permit,
);
