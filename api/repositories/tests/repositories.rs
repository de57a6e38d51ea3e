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
        pkce_verifier_ciphertext: Set(None),
        pkce_verifier_key_id: Set(None),
        nonce: Set(None),
        pending_expires_at: Set(None),
        error_code: Set(None),
        refresh_lease_owner: Set(None),
        refresh_lease_expires_at: Set(None),
        refresh_failures: Set(0),
        refresh_retry_at: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
        activated_at: Set(None),
    })
    .exec_without_returning(db)
    .await
    .expect("insert connection");
    credential::Entity::insert(credential::ActiveModel {
        connection_id: Set(id.as_uuid()),
        ciphertext: Set(vec![9; 40]),
        key_id: Set("k1".into()),
        expires_at: Set(None),
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
}

database_tests!(
    provider_round_trip,
    live_names_are_unique_and_reusable_after_delete,
    delete_refuses_with_live_connections_unless_cascade,
    agent_keys_by_prefix_and_revocation,
    audit_events_keep_unknown_ids_and_page_by_cursor,
);
