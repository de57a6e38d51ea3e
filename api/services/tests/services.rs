//! Service tests on real databases (SQLite always, PostgreSQL when configured).

use nexus_crypto::Keyring;
use nexus_domain::agent_key::{Actor, NewAgentKey};
use nexus_domain::audit::{AuditEventType, AuditQuery};
use nexus_domain::clock::SystemClock;
use nexus_domain::ports::{AdminAuthenticator, AgentKeyService, AuditService, ProviderService};
use nexus_domain::provider::{NewProvider, ProviderDraft, ProviderPatch, ProviderRef};
use nexus_domain::secret::{ExposeSecret, secret};
use nexus_domain::status::AuthType;
use nexus_domain::{ErrorCode, WorkspaceId};
use nexus_repositories::{ProviderRepository, SqlAgentKeyRepository, SqlAuditRepository, SqlProviderRepository};
use nexus_services::{
    AdminKeys, AgentKeyServiceImpl, AuditServiceImpl, OutboundPolicy, ProviderServiceImpl, client_secret_aad,
};
use nexus_test_utils::{TestDatabase, database_tests};
use std::sync::Arc;

struct Fixture {
    providers: ProviderServiceImpl,
    /// The pieces, to build the provider service again with another policy.
    parts: (Arc<SqlProviderRepository>, Arc<Keyring>, Arc<AuditServiceImpl>),
    provider_repo: Arc<SqlProviderRepository>,
    agent_keys: AgentKeyServiceImpl,
    audit: Arc<AuditServiceImpl>,
    keyring: Arc<Keyring>,
}

async fn fixture(test_db: &TestDatabase) -> Fixture {
    let db = test_db.connect_migrated().await;
    let clock = Arc::new(SystemClock);
    let keyring = Arc::new(Keyring::from_keys(&[[42u8; 32]]).expect("keyring"));
    let audit = Arc::new(AuditServiceImpl::new(
        Arc::new(SqlAuditRepository::new(db.clone())),
        clock.clone(),
    ));
    let provider_repo = Arc::new(SqlProviderRepository::new(db.clone()));
    Fixture {
        providers: ProviderServiceImpl::new(provider_repo.clone(), keyring.clone(), audit.clone(), clock.clone())
            .with_outbound_policy(OutboundPolicy::DEVELOPMENT),
        parts: (provider_repo.clone(), keyring.clone(), audit.clone()),
        provider_repo,
        agent_keys: AgentKeyServiceImpl::new(Arc::new(SqlAgentKeyRepository::new(db)), audit.clone(), clock),
        audit,
        keyring,
    }
}

fn admin() -> Actor {
    Actor::Admin {
        key_fingerprint: "abcd1234".into(),
    }
}

fn github(client_secret: Option<&str>) -> NewProvider {
    NewProvider {
        template: None,
        draft: ProviderDraft {
            name: "github".into(),
            auth_type: Some(AuthType::Oauth2),
            client_id: Some("client-1".into()),
            authorization_url: Some("https://github.com/login/oauth/authorize".into()),
            token_url: Some("https://github.com/login/oauth/access_token".into()),
            ..ProviderDraft::default()
        },
        client_secret: client_secret.map(secret),
    }
}

async fn client_secret_is_sealed_to_its_row(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    let created = f
        .providers
        .create(&admin(), github(Some("gh-secret-value")))
        .await
        .expect("create");
    assert!(created.has_client_secret);

    let stored = f
        .provider_repo
        .find(&ProviderRef::Id(created.id))
        .await
        .expect("find")
        .expect("stored");
    let sealed = stored.client_secret.expect("sealed secret");
    assert!(!sealed.bytes.windows(15).any(|w| w == b"gh-secret-value"));
    let opened = f
        .keyring
        .decrypt(&sealed, &client_secret_aad(created.id))
        .expect("opens on its row");
    assert_eq!(opened, b"gh-secret-value");
    let other_row = nexus_domain::ProviderId::new();
    assert!(f.keyring.decrypt(&sealed, &client_secret_aad(other_row)).is_err());

    // An update without a new secret keeps the sealed one; a new one replaces it.
    let patch = ProviderPatch {
        display_name: Some("GitHub".into()),
        ..ProviderPatch::default()
    };
    let updated = f
        .providers
        .update(&admin(), &ProviderRef::Id(created.id), patch)
        .await
        .expect("update");
    assert!(updated.has_client_secret);
    assert_eq!(updated.spec.display_name, "GitHub");
    let patch = ProviderPatch {
        client_secret: Some(secret("rotated-secret")),
        ..ProviderPatch::default()
    };
    f.providers
        .update(&admin(), &ProviderRef::Id(created.id), patch)
        .await
        .expect("rotate secret");
    let stored = f
        .provider_repo
        .find(&ProviderRef::Id(created.id))
        .await
        .expect("find")
        .expect("stored");
    let opened = f
        .keyring
        .decrypt(&stored.client_secret.expect("sealed"), &client_secret_aad(created.id))
        .expect("opens");
    assert_eq!(opened, b"rotated-secret");
}

async fn invalid_and_duplicate_providers_change_nothing(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    let missing_secret = f
        .providers
        .create(&admin(), github(None))
        .await
        .expect_err("needs a secret");
    assert_eq!(missing_secret.field(), Some("client_secret"));
    assert!(f.providers.list().await.expect("list").is_empty());

    f.providers.create(&admin(), github(Some("s"))).await.expect("create");
    let duplicate = f
        .providers
        .create(&admin(), github(Some("s")))
        .await
        .expect_err("duplicate");
    assert_eq!(duplicate.code(), ErrorCode::ProviderExists);
    assert_eq!(duplicate.status(), 409);

    let bad_patch = ProviderPatch {
        token_url: Some(Some("ftp://nope".into())),
        ..ProviderPatch::default()
    };
    let name = ProviderRef::parse("github").expect("ref");
    let error = f
        .providers
        .update(&admin(), &name, bad_patch)
        .await
        .expect_err("invalid patch");
    assert_eq!(error.field(), Some("token_url"));
    let unchanged = f.providers.get(&name).await.expect("get");
    assert_eq!(
        unchanged
            .spec
            .oauth
            .and_then(|o| o.token_url)
            .map(|u| u.to_string())
            .as_deref(),
        Some("https://github.com/login/oauth/access_token")
    );

    f.providers.delete(&admin(), &name, false).await.expect("delete");
    let gone = f.providers.get(&name).await.expect_err("deleted");
    assert_eq!(gone.code(), ErrorCode::ProviderNotFound);
    let events = f
        .audit
        .list(AuditQuery::default())
        .await
        .expect("audit")
        .items
        .into_iter()
        .map(|e| e.event_type)
        .collect::<Vec<_>>();
    assert_eq!(
        events,
        [AuditEventType::ProviderCreated, AuditEventType::ProviderDeleted]
    );
}

async fn agent_keys_authenticate_until_deleted(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    let issued = f
        .agent_keys
        .create(
            &admin(),
            NewAgentKey {
                name: "claude-desktop".into(),
                workspace_ids: Some(vec!["ws-b".into(), "ws-a".into(), "ws-a".into()]),
                all_workspaces: false,
                ..NewAgentKey::default()
            },
        )
        .await
        .expect("create");
    assert!(issued.secret.expose_secret().starts_with(&issued.key.prefix));
    let principal = f.agent_keys.authenticate(&issued.secret).await.expect("authenticates");
    assert_eq!(principal.key_id, issued.key.id);
    assert_eq!(
        principal.workspace_ids,
        Some(vec![
            WorkspaceId::parse("ws-a").expect("ws"),
            WorkspaceId::parse("ws-b").expect("ws")
        ])
    );

    // Right prefix, wrong secret.
    let forged = secret(format!("{}_{}", issued.key.prefix, "x".repeat(43)));
    assert_eq!(
        f.agent_keys.authenticate(&forged).await.expect_err("forged").code(),
        ErrorCode::Unauthenticated
    );
    assert_eq!(
        f.agent_keys
            .authenticate(&secret("garbage"))
            .await
            .expect_err("garbage")
            .code(),
        ErrorCode::Unauthenticated
    );

    f.agent_keys.delete(&admin(), issued.key.id).await.expect("delete");
    assert_eq!(
        f.agent_keys
            .authenticate(&issued.secret)
            .await
            .expect_err("revoked")
            .code(),
        ErrorCode::Unauthenticated
    );
    assert_eq!(
        f.agent_keys
            .delete(&admin(), issued.key.id)
            .await
            .expect_err("twice")
            .code(),
        ErrorCode::AgentKeyNotFound
    );

    for (workspace_ids, all_workspaces, field) in [
        (Some(vec![]), false, "workspace_ids"),
        (None, false, "workspace_ids"),
        (Some(vec!["ws-a".to_owned()]), true, "all_workspaces"),
        (Some(vec!["not valid!".to_owned()]), false, "workspace_ids"),
    ] {
        let input = NewAgentKey {
            name: "x".into(),
            workspace_ids,
            all_workspaces,
            ..NewAgentKey::default()
        };
        let error = f.agent_keys.create(&admin(), input).await.expect_err("invalid");
        assert_eq!(error.field(), Some(field));
    }
    let unrestricted = NewAgentKey {
        name: "x".into(),
        workspace_ids: None,
        all_workspaces: true,
        ..NewAgentKey::default()
    };
    let issued = f
        .agent_keys
        .create(&admin(), unrestricted)
        .await
        .expect("explicitly unrestricted");
    assert_eq!(issued.key.workspace_ids, None);

    let failures = f
        .audit
        .list(AuditQuery {
            event_type: Some(AuditEventType::AuthenticationFailed),
            ..AuditQuery::default()
        })
        .await
        .expect("audit");
    assert_eq!(failures.items.len(), 3);
    assert!(
        failures
            .items
            .iter()
            .all(|e| !e.data.to_string().contains(&"x".repeat(43)))
    );
}

async fn admin_keys_match_any_configured_key(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    let keys = AdminKeys::new(
        &[secret("first-admin-key"), secret("second-admin-key")],
        f.audit.clone(),
    );
    let actor = keys
        .authenticate(&secret("second-admin-key"))
        .await
        .expect("second key");
    assert_eq!(
        actor,
        Actor::Admin {
            key_fingerprint: nexus_crypto::fingerprint("second-admin-key")
        }
    );
    assert!(keys.authenticate(&secret("second-admin-ke")).await.is_err());
    assert!(!format!("{keys:?}").contains("admin-key"));
}

/// By default (production) a provider may not point Nexus at plain http, not even on loopback;
/// in development, relaxed explicitly, it may (local test providers).
async fn production_providers_use_https(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    let (repo, keyring, audit) = f.parts.clone();
    // No policy named: the constructor's default must be the strict one.
    let production = ProviderServiceImpl::new(repo, keyring, audit, Arc::new(SystemClock));
    let draft = |field: &str| {
        let mut draft = ProviderDraft {
            name: format!("local-{}", field.replace('_', "-")),
            auth_type: Some(AuthType::Oauth2),
            client_id: Some("c".into()),
            authorization_url: Some("https://idp.test/authorize".into()),
            token_url: Some("https://idp.test/token".into()),
            ..ProviderDraft::default()
        };
        let local = "http://127.0.0.1:9/endpoint".to_owned();
        match field {
            "token_url" => draft.token_url = Some(local),
            "authorization_url" => draft.authorization_url = Some(local),
            "revocation_url" => draft.revocation_url = Some(local),
            _ => unreachable!("a field of the test"),
        }
        NewProvider {
            template: None,
            draft,
            client_secret: Some(secret("s")),
        }
    };
    for field in ["token_url", "authorization_url", "revocation_url"] {
        let refused = production
            .create(&Actor::System, draft(field))
            .await
            .expect_err("plain http in production");
        assert_eq!(refused.code(), ErrorCode::InvalidRequest);
        assert_eq!(refused.field(), Some(field), "{refused}");
        f.providers
            .create(&Actor::System, draft(field))
            .await
            .expect("allowed in development");
    }
    assert_eq!(
        production.list().await.expect("list").len(),
        3,
        "nothing extra was stored"
    );
}

database_tests!(
    production_providers_use_https,
    client_secret_is_sealed_to_its_row,
    invalid_and_duplicate_providers_change_nothing,
    agent_keys_authenticate_until_deleted,
    admin_keys_match_any_configured_key,
);
