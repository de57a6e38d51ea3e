//! Repository tests on real databases: SQLite always, PostgreSQL when NEXUS_TEST_DATABASE_URL is set.

use chrono::{DurationRound, TimeDelta, Utc};
use nexus_domain::agent_key::{Actor, AgentKey};
use nexus_domain::audit::{AuditEventType, AuditQuery, NewAuditEvent};
use nexus_domain::ciphertext::Ciphertext;
use nexus_domain::provider::{Provider, ProviderDraft, ProviderRef};
use nexus_domain::status::{AuthType, ConnectionStatus};
use nexus_domain::{AgentKeyId, AuditEventId, ConnectionId, ProviderId, ProviderName, WorkspaceId};
use nexus_entities::{connection, credential};
use nexus_repositories::*;
use nexus_test_utils::{TestDatabase, database_tests};
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};

fn now() -> chrono::DateTime<Utc> {
    // Databases keep microseconds; truncate so round trips compare equal.
    Utc::now()
        .duration_trunc(TimeDelta::microseconds(1))
        .expect("truncates")
}

fn record(name: &str) -> ProviderRecord {
    let spec = ProviderDraft {
        name: name.into(),
        auth_type: Some(AuthType::Oauth2),
        client_id: Some("client-1".into()),
        authorization_url: Some("https://idp.test/authorize?audience=x".into()),
        token_url: Some("https://idp.test/token".into()),
        scopes: vec!["openid".into(), "email".into()],
        ..ProviderDraft::default()
    }
    .validate()
    .expect("valid draft");
    let at = now();
    ProviderRecord {
        provider: Provider {
            id: ProviderId::new(),
            spec,
            has_client_secret: true,
            client_secret_fingerprint: Some("hmac-sha256:0".into()),
            created_at: at,
            updated_at: at,
        },
        client_secret: Some(Ciphertext {
            key_id: "k1".into(),
            bytes: vec![1, 2, 3, 4],
        }),
    }
}

async fn insert_connection(db: &DatabaseConnection, provider: ProviderId, status: ConnectionStatus) -> ConnectionId {
    insert_expiring(db, provider, status, None).await
}

/// A connection whose credential expires at `expires_at`.
async fn insert_expiring(
    db: &DatabaseConnection,
    provider: ProviderId,
    status: ConnectionStatus,
    expires_at: Option<chrono::DateTime<Utc>>,
) -> ConnectionId {
    let id = ConnectionId::new();
    let at = now();
    connection::Entity::insert(connection::ActiveModel {
        id: Set(id.as_uuid()),
        workspace_id: Set("ws-1".into()),
        provider_id: Set(provider.as_uuid()),
        status: Set(status.as_str().into()),
        requested_scopes: Set(serde_json::json!([])),
        granted_scopes: Set(None),
        return_url: Set(None),
        connection_params: Set(None),
        pkce_verifier_ciphertext: Set(None),
        pkce_verifier_key_id: Set(None),
        nonce: Set(None),
        pending_expires_at: Set(None),
        error_code: Set(None),
        refresh_lease_owner: Set(None),
        refresh_lease_expires_at: Set(None),
        refresh_failures: Set(0),
        refresh_retry_at: Set(None),
        capture_attempts: Set(0),
        scope_step_ups: Set(0),
        created_at: Set(at),
        updated_at: Set(at),
        activated_at: Set(None),
    })
    .exec_without_returning(db)
    .await
    .expect("insert connection");
    credential::Entity::insert(credential::ActiveModel {
        refresh_not_before: Set(None),
        connection_id: Set(id.as_uuid()),
        ciphertext: Set(vec![9; 40]),
        key_id: Set("k1".into()),
        expires_at: Set(expires_at),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
    })
    .exec_without_returning(db)
    .await
    .expect("insert credential");
    id
}

async fn provider_round_trip(test_db: TestDatabase) {
    let db = test_db.connect_migrated().await;
    let repo = SqlProviderRepository::new(db);
    let github = record("github");
    repo.insert(&github).await.expect("insert");

    let by_id = repo.find(&ProviderRef::Id(github.provider.id)).await.expect("find");
    assert_eq!(by_id.as_ref(), Some(&github));
    let by_name = repo
        .find(&ProviderRef::Name(ProviderName::parse("github").expect("name")))
        .await
        .expect("find");
    assert_eq!(by_name, Some(github.clone()));

    let mut updated = github.clone();
    updated.provider.spec.description = Some("Code hosting".into());
    updated.client_secret = None;
    updated.provider.has_client_secret = false;
    assert!(repo.update(&updated).await.expect("update"));
    assert_eq!(
        repo.find(&ProviderRef::Id(github.provider.id)).await.expect("find"),
        Some(updated)
    );

    repo.insert(&record("asana")).await.expect("insert second");
    let names: Vec<String> = repo
        .list()
        .await
        .expect("list")
        .iter()
        .map(|r| r.provider.spec.name.to_string())
        .collect();
    assert_eq!(names, ["asana", "github"]);
}

async fn live_names_are_unique_and_reusable_after_delete(test_db: TestDatabase) {
    let db = test_db.connect_migrated().await;
    let repo = SqlProviderRepository::new(db);
    let first = record("slack");
    repo.insert(&first).await.expect("insert");
    let duplicate = repo.insert(&record("slack")).await;
    assert!(matches!(duplicate, Err(RepoError::UniqueViolation(_))), "{duplicate:?}");

    let deletion = repo.soft_delete(first.provider.id, now(), false).await.expect("delete");
    assert_eq!(deletion.map(|d| d.revoked_connections.len()), Some(0));
    assert_eq!(
        repo.find(&ProviderRef::Id(first.provider.id)).await.expect("find"),
        None
    );
    assert!(!repo.update(&first).await.expect("update of a deleted provider"));
    assert_eq!(
        repo.soft_delete(first.provider.id, now(), false).await.expect("again"),
        None
    );
    repo.insert(&record("slack")).await.expect("name is free again");
}

async fn delete_refuses_with_live_connections_unless_cascade(test_db: TestDatabase) {
    let db = test_db.connect_migrated().await;
    let repo = SqlProviderRepository::new(db.clone());
    let google = record("google");
    repo.insert(&google).await.expect("insert");
    let active = insert_connection(&db, google.provider.id, ConnectionStatus::Active).await;
    let revoked_before = insert_connection(&db, google.provider.id, ConnectionStatus::Revoked).await;

    let refused = repo.soft_delete(google.provider.id, now(), false).await;
    assert!(matches!(refused, Err(RepoError::Conflict(_))), "{refused:?}");
    assert!(
        repo.find(&ProviderRef::Id(google.provider.id))
            .await
            .expect("find")
            .is_some()
    );
    assert!(
        credential::Entity::find_by_id(active.as_uuid())
            .one(&db)
            .await
            .expect("q")
            .is_some()
    );

    let deletion = repo
        .soft_delete(google.provider.id, now(), true)
        .await
        .expect("cascade");
    assert_eq!(deletion.map(|d| d.revoked_connections), Some(vec![active]));
    let row = connection::Entity::find_by_id(active.as_uuid())
        .one(&db)
        .await
        .expect("q")
        .expect("row");
    assert_eq!(row.status, "revoked");
    assert!(
        credential::Entity::find_by_id(active.as_uuid())
            .one(&db)
            .await
            .expect("q")
            .is_none()
    );
    // Credentials of connections that were not live are not touched by the cascade.
    assert!(
        credential::Entity::find_by_id(revoked_before.as_uuid())
            .one(&db)
            .await
            .expect("q")
            .is_some()
    );
}

async fn agent_keys_by_prefix_and_revocation(test_db: TestDatabase) {
    let db = test_db.connect_migrated().await;
    let repo = SqlAgentKeyRepository::new(db);
    let key = AgentKey {
        id: AgentKeyId::new(),
        name: "mcp-server".into(),
        prefix: "nxa_abcd1234".into(),
        workspace_ids: Some(vec![WorkspaceId::parse("ws-1").expect("ws")]),
        proxy_only: true,
        created_at: now(),
        revoked_at: None,
    };
    let stored = AgentKeyRecord {
        key: key.clone(),
        key_hash: "hash".into(),
    };
    repo.insert(&stored).await.expect("insert");
    assert_eq!(
        repo.find_live_by_prefix("nxa_abcd1234").await.expect("find"),
        Some(stored.clone())
    );
    assert_eq!(repo.find_live_by_prefix("nxa_zzzz9999").await.expect("find"), None);
    assert!(matches!(repo.insert(&stored).await, Err(RepoError::UniqueViolation(_))));
    assert_eq!(repo.list_live().await.expect("list"), vec![key.clone()]);

    assert!(repo.revoke(key.id, now()).await.expect("revoke"));
    assert!(!repo.revoke(key.id, now()).await.expect("revoke twice"));
    assert_eq!(repo.find_live_by_prefix("nxa_abcd1234").await.expect("find"), None);
    assert!(repo.list_live().await.expect("list").is_empty());
}

async fn audit_events_keep_unknown_ids_and_page_by_cursor(test_db: TestDatabase) {
    let db = test_db.connect_migrated().await;
    let repo = SqlAuditRepository::new(db);
    let unknown_connection = ConnectionId::new();
    let mut ids = Vec::new();
    for (index, event_type) in [
        AuditEventType::TokenRead,
        AuditEventType::ProviderCreated,
        AuditEventType::TokenRead,
    ]
    .into_iter()
    .enumerate()
    {
        let id = AuditEventId::new();
        let event = NewAuditEvent::new(event_type, &Actor::System)
            .connection(unknown_connection)
            .data(serde_json::json!({"n": index}));
        repo.insert(id, now(), &event)
            .await
            .expect("insert event about an unknown id");
        ids.push(id);
    }
    let token_reads = repo
        .list(&AuditQuery {
            event_type: Some(AuditEventType::TokenRead),
            limit: 10,
            ..AuditQuery::default()
        })
        .await
        .expect("list");
    assert_eq!(token_reads.iter().map(|e| e.id).collect::<Vec<_>>(), [ids[0], ids[2]]);
    assert_eq!(token_reads[1].data, serde_json::json!({"n": 2}));
    assert_eq!(token_reads[0].connection_id, Some(unknown_connection));

    let batch: Vec<_> = (0..3)
        .map(|n| {
            let event =
                NewAuditEvent::new(AuditEventType::TokenRead, &Actor::System).data(serde_json::json!({"batch": n}));
            (AuditEventId::new(), now(), event)
        })
        .collect();
    repo.insert_many(&batch).await.expect("batch insert");
    let all = repo
        .list(&AuditQuery {
            limit: 100,
            ..AuditQuery::default()
        })
        .await
        .expect("list");
    assert_eq!(all.len(), 6);

    let page = repo
        .list(&AuditQuery {
            after: Some(ids[0]),
            limit: 1,
            ..AuditQuery::default()
        })
        .await
        .expect("list");
    assert_eq!(page.iter().map(|e| e.id).collect::<Vec<_>>(), [ids[1]]);
    // A flush after a busy second: more rows than one statement may bind on PostgreSQL.
    let busy: Vec<_> = (0..9_000)
        .map(|_| {
            let event = NewAuditEvent::new(AuditEventType::TokenRead, &Actor::System).connection(ConnectionId::new());
            (AuditEventId::new(), now(), event)
        })
        .collect();
    repo.insert_many(&busy)
        .await
        .expect("a batch above the parameter limit");
    let written = repo
        .list(&AuditQuery {
            event_type: Some(AuditEventType::TokenRead),
            limit: 10_000,
            ..AuditQuery::default()
        })
        .await
        .expect("list");
    assert_eq!(written.len(), 2 + 3 + 9_000);
}

/// The resolve read: one statement for the newest active connection and its credential; the
/// provider kept parsed only while its row is unchanged (an edit, or a re-sealed client secret,
/// shows at the next read); nothing outside the workspace, nothing revoked, nothing of a deleted
/// provider.
async fn the_resolve_read_sees_every_change(test_db: TestDatabase) {
    let db = test_db.connect_migrated().await;
    let providers = SqlProviderRepository::new(db.clone());
    let repo = SqlConnectionRepository::new(db.clone());
    let mut github = record("github");
    providers.insert(&github).await.expect("provider");
    providers.insert(&record("gitlab")).await.expect("provider");
    let (ws1, name) = (
        WorkspaceId::parse("ws-1").expect("ws"),
        ProviderName::parse("github").expect("name"),
    );
    assert_eq!(repo.find_active_for_read(&ws1, &name).await.expect("read"), None);

    let older = insert_connection(&db, github.provider.id, ConnectionStatus::Pending).await;
    let scopes = [nexus_domain::Scope::parse("openid").expect("scope")];
    repo.activate(older, &sealed(1), None, Some(&scopes), "consent_completed", now())
        .await
        .expect("activate");
    let read = repo
        .find_active_for_read(&ws1, &name)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(read.id, older);
    assert_eq!(read.workspace_id, ws1);
    assert_eq!(read.granted_scopes.as_deref(), Some(&scopes[..]));
    assert_eq!(
        read.credential.as_ref().map(|c| c.ciphertext.bytes.clone()),
        Some(vec![1; 40])
    );
    assert_eq!(
        read.credential.as_ref().map(|c| c.version),
        Some(2),
        "written twice: by the fixture, then by the activation"
    );
    assert_eq!(*read.provider, github, "the provider as stored");

    std::thread::sleep(std::time::Duration::from_millis(2));
    let newer = insert_connection(&db, github.provider.id, ConnectionStatus::Pending).await;
    repo.activate(newer, &sealed(2), None, None, "consent_completed", now())
        .await
        .expect("activate");
    let read = repo
        .find_active_for_read(&ws1, &name)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(read.id, newer, "the newest active connection");
    assert_eq!(read.granted_scopes, None);

    // An edit of the provider shows at once (its parsed form is kept per version).
    github.provider.spec.display_name = "GitHub Enterprise".into();
    github.provider.updated_at = now() + TimeDelta::seconds(1);
    assert!(providers.update(&github).await.expect("update"));
    let read = repo
        .find_active_for_read(&ws1, &name)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(read.provider.provider.spec.display_name, "GitHub Enterprise");
    // Even a second edit within the same tick of the clock (a frozen or coarse clock).
    github.provider.spec.display_name = "GitHub Cloud".into();
    assert!(providers.update(&github).await.expect("update"));
    let read = repo
        .find_active_for_read(&ws1, &name)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(read.provider.provider.spec.display_name, "GitHub Cloud");
    // So does a client secret re-sealed under another key, which leaves `updated_at` alone.
    nexus_entities::provider::Entity::update_many()
        .col_expr(
            nexus_entities::provider::Column::ClientSecretKeyId,
            sea_orm::sea_query::Expr::value("k2"),
        )
        .exec(&db)
        .await
        .expect("re-seal");
    let read = repo
        .find_active_for_read(&ws1, &name)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(
        read.provider.client_secret.as_ref().map(|c| c.key_id.as_str()),
        Some("k2")
    );

    let other = WorkspaceId::parse("ws-2").expect("ws");
    assert_eq!(
        repo.find_active_for_read(&other, &name).await.expect("read"),
        None,
        "another workspace"
    );
    let gitlab = ProviderName::parse("gitlab").expect("name");
    assert_eq!(
        repo.find_active_for_read(&ws1, &gitlab).await.expect("read"),
        None,
        "another provider"
    );

    assert!(repo.revoke(newer, now()).await.expect("revoke"));
    let read = repo
        .find_active_for_read(&ws1, &name)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(read.id, older, "a revoked connection is never read");
    providers
        .soft_delete(github.provider.id, now(), true)
        .await
        .expect("delete")
        .expect("deleted");
    assert_eq!(
        repo.find_active_for_read(&ws1, &name).await.expect("read"),
        None,
        "a deleted provider's connections are not read"
    );
}

fn lease(owner: &str, until: chrono::DateTime<Utc>) -> Lease {
    Lease {
        owner: owner.into(),
        until,
    }
}

fn refresh_lease(owner: &str, hold: std::time::Duration) -> RefreshLease {
    RefreshLease {
        owner: owner.into(),
        hold,
    }
}

/// A lease that holds for a minute, and one that lapses at once (its holder stalled).
const HELD: std::time::Duration = std::time::Duration::from_secs(60);
/// Long enough that a loaded 2-core machine checks a live lease well within it (20 ms was not).
const LAPSING: std::time::Duration = std::time::Duration::from_millis(1000);

/// Past the end a `LAPSING` lease had when it was taken, by the database's clock too.
async fn past_a_lapsing_lease() {
    tokio::time::sleep(LAPSING + std::time::Duration::from_millis(200)).await;
}

/// Takes the lease for `owner` once the current one lapses by the database's clock: the
/// condition, polled, not a guess at how long that is.
async fn taken_once_lapsed(repo: &SqlConnectionRepository, id: ConnectionId, owner: &str) -> bool {
    let deadline = std::time::Instant::now() + LAPSING * 5;
    while std::time::Instant::now() < deadline {
        if repo.take_lease(id, &refresh_lease(owner, HELD)).await.expect("take") {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

fn sealed(byte: u8) -> NewCredential {
    NewCredential::issued(
        Ciphertext {
            key_id: "k1".into(),
            bytes: vec![byte; 40],
        },
        now(),
        None,
    )
}

/// A holder whose lease lapsed and was taken over can no longer write, even at the version it
/// read; the new holder can, once; a write at a stale version never lands.
async fn credential_writes_are_fenced_by_version_and_lease(test_db: TestDatabase) {
    let db = test_db.connect_migrated().await;
    let providers = SqlProviderRepository::new(db.clone());
    let github = record("github");
    providers.insert(&github).await.expect("provider");
    let id = insert_connection(&db, github.provider.id, ConnectionStatus::Active).await;
    let repo = SqlConnectionRepository::new(db);
    let later = now();

    assert!(repo.take_lease(id, &refresh_lease("a", LAPSING)).await.expect("a"));
    assert!(
        !repo.take_lease(id, &refresh_lease("b", HELD)).await.expect("b"),
        "a live lease is not taken"
    );
    // A's lease lapses by the database's clock (A stalled); B takes over.
    assert!(
        taken_once_lapsed(&repo, id, "b").await,
        "B takes over once A's lease lapsed"
    );
    assert!(
        !repo
            .store_refreshed(id, 1, "a", &sealed(1), later)
            .await
            .expect("a writes"),
        "the holder that lost its lease is fenced off"
    );
    assert!(!repo.renew_lease(id, &refresh_lease("a", HELD)).await.expect("renew"));
    assert!(
        repo.store_refreshed(id, 1, "b", &sealed(2), later)
            .await
            .expect("b writes")
    );
    assert!(
        !repo
            .store_refreshed(id, 1, "b", &sealed(3), later)
            .await
            .expect("stale"),
        "a write at a version already replaced never lands"
    );
    let stored = repo.credential(id).await.expect("read").expect("credential");
    assert_eq!((stored.version, stored.ciphertext.bytes[0]), (2, 2));
    repo.release_lease(id, "a", false)
        .await
        .expect("release by a non-holder");
    assert!(
        !repo.take_lease(id, &refresh_lease("c", HELD)).await.expect("c"),
        "only the holder releases"
    );
    repo.release_lease(id, "b", true).await.expect("release");
    assert!(repo.take_lease(id, &refresh_lease("c", LAPSING)).await.expect("c"));
    // A renewal holds anew from the database's now: renewed, C's lease outlives its first hold.
    assert!(repo.renew_lease(id, &refresh_lease("c", HELD)).await.expect("renew"));
    past_a_lapsing_lease().await;
    assert!(
        !repo.take_lease(id, &refresh_lease("d", HELD)).await.expect("d"),
        "a renewed lease holds"
    );
}

/// A stale transition never undoes newer state: `require_attention` and a counted failure apply
/// only while the credential is the version the refresh read, and a credential written twice
/// (two consents racing) moves its version on twice.
async fn transitions_are_fenced_by_the_credential_version(test_db: TestDatabase) {
    let db = test_db.connect_migrated().await;
    let providers = SqlProviderRepository::new(db.clone());
    let github = record("github");
    providers.insert(&github).await.expect("provider");
    let id = insert_connection(&db, github.provider.id, ConnectionStatus::Active).await;
    let repo = SqlConnectionRepository::new(db.clone());
    let at = now();
    // Version 1 (inserted), then a re-consent stores version 2 while a refresh of version 1 is
    // in flight.
    let (seven, eight) = (sealed(7), sealed(8));
    let (a, b) = tokio::join!(
        repo.activate(id, &seven, None, None, "consent_completed", at),
        repo.activate(id, &eight, None, None, "consent_completed", at)
    );
    a.expect("first consent");
    b.expect("second consent");
    let current = repo.credential(id).await.expect("read").expect("credential");
    assert_eq!(
        current.version, 3,
        "each write moves the version on, even when they race"
    );
    assert!(
        !repo.require_attention(id, 1, "invalid_grant", at).await.expect("stale"),
        "a refresh of an older credential cannot undo the newer consent"
    );
    let retry_at = move |_: u32| at + TimeDelta::hours(1);
    let stale_failure = RefreshFailure {
        reason: "upstream_unavailable",
        notify_after: 3,
        at,
        credential_version: 1,
    };
    repo.record_failure(id, &retry_at, stale_failure)
        .await
        .expect("failure");
    let row = connection::Entity::find_by_id(id.as_uuid())
        .one(&db)
        .await
        .expect("read")
        .expect("row");
    assert_eq!(
        (row.status.as_str(), row.refresh_failures, row.refresh_retry_at),
        ("active", 0, None),
        "nothing recorded against the newer credential"
    );
    // A merge written over a version that moved on is refused, and leaves the row as it was.
    let refused = repo
        .activate(id, &sealed(9), Some(2), None, "consent_completed", at)
        .await
        .expect_err("the credential moved on");
    assert!(matches!(refused, RepoError::Conflict(_)), "{refused:?}");
    assert_eq!(
        repo.credential(id)
            .await
            .expect("read")
            .expect("credential")
            .ciphertext
            .bytes[0],
        current.ciphertext.bytes[0]
    );
    repo.activate(id, &sealed(9), Some(3), None, "consent_completed", at)
        .await
        .expect("merge over the version read");
    assert!(
        repo.require_attention(id, 4, "invalid_grant", at)
            .await
            .expect("current"),
        "the current credential's refresh does mark the connection"
    );
}

/// Two claimers at once split the due credentials between them, each claimed once; credentials
/// not due, not active, leased or backing off are left alone.
async fn due_credentials_are_claimed_once(test_db: TestDatabase) {
    let db = test_db.connect_migrated().await;
    let providers = SqlProviderRepository::new(db.clone());
    let github = record("github");
    providers.insert(&github).await.expect("provider");
    let t0 = now();
    let soon = Some(t0 + TimeDelta::seconds(100));
    let mut due = Vec::new();
    for _ in 0..40 {
        due.push(insert_expiring(&db, github.provider.id, ConnectionStatus::Active, soon).await);
    }
    let later = insert_expiring(
        &db,
        github.provider.id,
        ConnectionStatus::Active,
        Some(t0 + TimeDelta::hours(1)),
    )
    .await;
    let revoked = insert_expiring(&db, github.provider.id, ConnectionStatus::AttentionRequired, soon).await;
    let backing_off = insert_expiring(&db, github.provider.id, ConnectionStatus::Active, soon).await;
    let leased = insert_expiring(&db, github.provider.id, ConnectionStatus::Active, soon).await;
    let first = SqlConnectionRepository::new(db.clone());
    let second = SqlConnectionRepository::new(db);
    let retry_at = move |failures: u32| t0 + TimeDelta::seconds(60 * i64::from(failures));
    let failure = RefreshFailure {
        reason: "upstream_unavailable",
        notify_after: 3,
        at: t0,
        credential_version: 1,
    };
    first
        .record_failure(backing_off, &retry_at, failure)
        .await
        .expect("failure");
    assert!(
        first
            .take_lease(leased, &refresh_lease("reader", std::time::Duration::from_millis(500)))
            .await
            .expect("lease")
    );
    let horizon = t0 + TimeDelta::seconds(300);
    assert_eq!(
        first.count_due(horizon, t0).await.expect("count"),
        42,
        "due and active, leased or not"
    );

    let (mut a, mut b) = (Vec::new(), Vec::new());
    let (lease_a, lease_b) = (refresh_lease("first", HELD), refresh_lease("second", HELD));
    for _ in 0..5 {
        let (x, y) = tokio::join!(
            first.claim_due(horizon, t0, &lease_a, 7),
            second.claim_due(horizon, t0, &lease_b, 7)
        );
        a.extend(x.expect("first claims"));
        b.extend(y.expect("second claims"));
    }
    let mut all: Vec<ConnectionId> = a.iter().chain(&b).copied().collect();
    all.sort();
    let mut expected = due.clone();
    expected.sort();
    assert_eq!(all, expected, "every due credential claimed, once");
    assert!(!all.contains(&later) && !all.contains(&revoked) && !all.contains(&backing_off) && !all.contains(&leased));

    // Backoff ends and the reader's lease lapses: both are claimed then.
    tokio::time::sleep(std::time::Duration::from_millis(550)).await;
    let after = t0 + TimeDelta::seconds(61);
    let claimed = first
        .claim_due(
            after + TimeDelta::seconds(300),
            after,
            &refresh_lease("third", HELD),
            100,
        )
        .await
        .expect("claim");
    assert!(
        claimed.contains(&backing_off) && claimed.contains(&leased),
        "{claimed:?}"
    );
}

/// Replicas sweeping at once each report (and so audit) a disjoint share of the expired.
async fn expiry_sweeps_report_what_they_changed(test_db: TestDatabase) {
    let db = test_db.connect_migrated().await;
    let providers = SqlProviderRepository::new(db.clone());
    let github = record("github");
    providers.insert(&github).await.expect("provider");
    let mut pending = Vec::new();
    for _ in 0..30 {
        let id = insert_connection(&db, github.provider.id, ConnectionStatus::Pending).await;
        connection::Entity::update(connection::ActiveModel {
            id: Set(id.as_uuid()),
            pending_expires_at: Set(Some(now() - TimeDelta::seconds(1))),
            ..Default::default()
        })
        .exec(&db)
        .await
        .expect("past its window");
        pending.push(id);
    }
    let (first, second) = (
        SqlConnectionRepository::new(db.clone()),
        SqlConnectionRepository::new(db),
    );
    let at = now();
    let (a, b) = tokio::join!(first.expire_pending(at), second.expire_pending(at));
    let mut all: Vec<ConnectionId> = a
        .expect("first sweep")
        .into_iter()
        .chain(b.expect("second sweep"))
        .collect();
    all.sort();
    pending.sort();
    assert_eq!(all, pending, "each expired connection reported by exactly one sweep");
}

/// An enabled endpoint for `events`, optionally only for one workspace.
async fn insert_webhook(
    db: &DatabaseConnection,
    events: &[nexus_domain::webhook::WebhookEventType],
    workspace: Option<&str>,
    enabled: bool,
) -> nexus_domain::WebhookId {
    let webhook = nexus_domain::webhook::Webhook {
        id: nexus_domain::WebhookId::new(),
        url: url::Url::parse("https://hooks.example.com/in").expect("url"),
        event_types: events.to_vec(),
        workspace_id: workspace.map(|w| WorkspaceId::parse(w).expect("workspace")),
        enabled,
        description: None,
        previous_secret_expires_at: None,
        created_at: now(),
        updated_at: now(),
    };
    SqlWebhookRepository::new(db.clone())
        .insert(&WebhookRecord {
            webhook: webhook.clone(),
            secrets: Ciphertext {
                key_id: "k1".into(),
                bytes: vec![7; 40],
            },
        })
        .await
        .expect("webhook");
    webhook.id
}

/// Every state change writes its event in its own transaction; a change that does not happen
/// writes none; deliveries of one connection are claimed in order, each by one claimer.
async fn state_changes_write_their_events_and_deliveries_are_claimed_in_order(test_db: TestDatabase) {
    use nexus_domain::webhook::WebhookEventType as Event;
    let db = test_db.connect_migrated().await;
    let providers = SqlProviderRepository::new(db.clone());
    let github = record("github");
    providers.insert(&github).await.expect("provider");
    let webhook = insert_webhook(&db, &Event::ALL, None, true).await;
    insert_webhook(&db, &Event::ALL, None, false).await;
    insert_webhook(&db, &Event::ALL, Some("ws-elsewhere"), true).await;
    let repo = SqlConnectionRepository::new(db.clone());
    let outbox = SqlWebhookOutboxRepository::new(db.clone());
    let at = now();

    let pending = insert_connection(&db, github.provider.id, ConnectionStatus::Pending).await;
    assert!(
        !repo
            .transition(
                pending,
                &[ConnectionStatus::Active],
                ConnectionStatus::AttentionRequired,
                Some("invalid_grant"),
                at
            )
            .await
            .expect("no change"),
        "a pending connection is not active"
    );
    assert!(
        repo.transition(
            pending,
            &[ConnectionStatus::Pending],
            ConnectionStatus::Failed,
            Some("access_denied"),
            at
        )
        .await
        .expect("failed")
    );
    let active = insert_connection(&db, github.provider.id, ConnectionStatus::Active).await;
    repo.transition(
        active,
        &[ConnectionStatus::Active],
        ConnectionStatus::AttentionRequired,
        Some("invalid_grant"),
        at,
    )
    .await
    .expect("attention");
    let retrying = insert_connection(&db, github.provider.id, ConnectionStatus::Active).await;
    let retry_at = move |failures: u32| at + TimeDelta::seconds(i64::from(failures));
    for _ in 0..4 {
        let failure = RefreshFailure {
            reason: "upstream_unavailable",
            notify_after: 3,
            at,
            credential_version: 1,
        };
        repo.record_failure(retrying, &retry_at, failure)
            .await
            .expect("failure");
    }
    let revoked = insert_connection(&db, github.provider.id, ConnectionStatus::Active).await;
    assert!(repo.revoke(revoked, at).await.expect("revoke"));
    assert!(
        !repo.revoke(revoked, at).await.expect("revoked already"),
        "no second event"
    );
    let credential = sealed(1);
    assert!(
        repo.activate(revoked, &credential, None, None, "consent_completed", at)
            .await
            .is_err(),
        "a revoked connection is not activated, and its event is not written"
    );

    let log = outbox.list(webhook, None, 100).await.expect("log");
    let mut events: Vec<(ConnectionId, Event)> = log.iter().map(|d| (d.connection_id, d.event_type)).collect();
    events.reverse();
    assert_eq!(
        events,
        [
            (pending, Event::ConnectionFailed),
            (active, Event::ConnectionAttentionRequired),
            (retrying, Event::ConnectionRefreshFailed),
            (revoked, Event::ConnectionRevoked),
        ],
        "one event per change, refresh_failed on the third failure only; none for the disabled or filtered endpoints"
    );
    assert_eq!(outbox.count_pending().await.expect("depth"), 4);

    // Two events of one connection: the later waits for the earlier, and each is claimed once.
    let twice = insert_connection(&db, github.provider.id, ConnectionStatus::Active).await;
    repo.transition(
        twice,
        &[ConnectionStatus::Active],
        ConnectionStatus::AttentionRequired,
        Some("invalid_grant"),
        at,
    )
    .await
    .expect("attention");
    repo.revoke(twice, at).await.expect("revoke");
    let lease_until = at + TimeDelta::seconds(30);
    let (lease_a, lease_b) = (lease("a", lease_until), lease("b", lease_until));
    let other = SqlWebhookOutboxRepository::new(db.clone());
    let (a, b) = tokio::join!(outbox.claim_due(at, &lease_a, 100), other.claim_due(at, &lease_b, 100));
    let (a, b) = (a.expect("claim a"), b.expect("claim b"));
    let claimed: Vec<&ClaimedDelivery> = a.iter().chain(&b).collect();
    let mut ids: Vec<_> = claimed.iter().map(|d| d.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), claimed.len(), "no delivery claimed twice");
    assert_eq!(claimed.len(), 5, "the later event of `twice` waits: {claimed:#?}");
    let first_of_twice = claimed
        .iter()
        .find(|d| d.event_type == "connection.attention_required" && d.payload.contains(&twice.to_string()))
        .map(|d| (*d).clone())
        .expect("the earlier event of `twice`");
    let owner = if a.iter().any(|d| d.id == first_of_twice.id) {
        "a"
    } else {
        "b"
    };
    let attempt = nexus_domain::webhook::DeliveryAttempt {
        attempted_at: at,
        status_code: Some(200),
        error: None,
        duration_ms: 3,
    };
    assert!(
        !outbox
            .record_attempt(&first_of_twice, "intruder", &attempt, AttemptOutcome::Delivered)
            .await
            .expect("fenced"),
        "only the lease holder records"
    );
    assert!(
        outbox
            .record_attempt(&first_of_twice, owner, &attempt, AttemptOutcome::Delivered)
            .await
            .expect("recorded")
    );
    let next = outbox
        .claim_due(at, &lease("c", lease_until), 100)
        .await
        .expect("claim c");
    assert_eq!(next.len(), 1, "now the later event of `twice` is due: {next:#?}");
    assert_eq!(next[0].event_type, "connection.revoked");
    assert!(next[0].payload.contains(&twice.to_string()));
    let payload: serde_json::Value = serde_json::from_str(&next[0].payload).expect("JSON");
    assert_eq!(payload["data"]["reason"], "revoked");
    assert_eq!(payload["data"]["provider"], "github");

    // A redelivery never takes a delivery from the worker sending it.
    let in_flight = outbox
        .redeliver(webhook, next[0].id, at)
        .await
        .expect("redeliver")
        .expect("found");
    assert_eq!(in_flight.id, next[0].id);
    assert!(
        outbox
            .claim_due(at, &lease("d", lease_until), 100)
            .await
            .expect("claim d")
            .is_empty(),
        "still held by its worker"
    );
    // A finished one is due again, with the same id.
    let again = outbox
        .redeliver(webhook, first_of_twice.id, at)
        .await
        .expect("redeliver")
        .expect("found");
    assert_eq!(again.status, nexus_domain::webhook::DeliveryStatus::Pending);
    assert_eq!(again.attempts.len(), 1, "its attempts are kept");
    assert!(
        outbox
            .redeliver(
                insert_webhook(&db, &Event::ALL, None, true).await,
                first_of_twice.id,
                at
            )
            .await
            .expect("redeliver")
            .is_none(),
        "another endpoint's delivery is not found"
    );
}

/// A read receipt is claimed once across processes: a second claim, in another call or the
/// same one, is refused; an expired claim is deleted by the next call.
async fn read_receipts_are_claimed_once(db: TestDatabase) {
    let conn = db.connect_migrated().await;
    let (one, two) = (
        SqlReadReceiptRepository::new(conn.clone()),
        SqlReadReceiptRepository::new(db.connect().await),
    );
    let later = Utc::now() + TimeDelta::minutes(10);
    let claim = |digest: &str, expires_at| ReceiptClaim {
        digest: digest.to_owned(),
        expires_at,
    };
    assert_eq!(
        one.claim(&[claim("a", later), claim("b", later)]).await.expect("claim"),
        [true, true]
    );
    assert_eq!(
        two.claim(&[claim("a", later), claim("c", later), claim("c", later)])
            .await
            .expect("claim"),
        [false, true, false]
    );
    // An expired claim goes, so the table does not grow with every receipt ever reported.
    let past = Utc::now() - TimeDelta::seconds(5);
    assert_eq!(one.claim(&[claim("old", past)]).await.expect("claim"), [true]);
    assert_eq!(two.claim(&[claim("d", later)]).await.expect("claim"), [true]);
    let left = nexus_entities::gateway_read_receipt::Entity::find()
        .all(&conn)
        .await
        .expect("rows");
    let mut digests: Vec<String> = left.into_iter().map(|row| row.digest).collect();
    digests.sort();
    assert_eq!(digests, ["a", "b", "c", "d"]);
}

database_tests!(
    the_resolve_read_sees_every_change,
    state_changes_write_their_events_and_deliveries_are_claimed_in_order,
    credential_writes_are_fenced_by_version_and_lease,
    transitions_are_fenced_by_the_credential_version,
    due_credentials_are_claimed_once,
    expiry_sweeps_report_what_they_changed,
    provider_round_trip,
    live_names_are_unique_and_reusable_after_delete,
    delete_refuses_with_live_connections_unless_cascade,
    agent_keys_by_prefix_and_revocation,
    audit_events_keep_unknown_ids_and_page_by_cursor,
    read_receipts_are_claimed_once,
);
