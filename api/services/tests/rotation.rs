//! Key rotation on real databases: every sealed value moves to the newest key, runs are
//! resumable (a second run has nothing to do), and values no key opens are reported, not lost.

use chrono::Utc;
use nexus_crypto::{AssociatedData, Keyring};
use nexus_domain::agent_key::Actor;
use nexus_domain::ciphertext::Ciphertext;
use nexus_domain::clock::SystemClock;
use nexus_domain::connection::Connection;
use nexus_domain::ports::ProviderService;
use nexus_domain::provider::{NewProvider, ProviderDraft, ProviderRef};
use nexus_domain::secret::secret;
use nexus_domain::status::{AuthType, ConnectionStatus};
use nexus_domain::{ConnectionId, WorkspaceId};
use nexus_repositories::{
    ClientRegistrationRecord, ClientRegistrationRepository, ConnectionRepository, NewCredential, PendingConsent,
    ProviderRepository, SqlAuditRepository, SqlClientRegistrationRepository, SqlConnectionRepository,
    SqlProviderRepository, SqlSealedSecretRepository,
};
use nexus_services::{AuditServiceImpl, KeyRotation, ProviderServiceImpl, client_secret_aad};
use nexus_test_utils::{TestDatabase, database_tests};
use std::sync::Arc;

fn credential_aad(id: ConnectionId) -> AssociatedData {
    AssociatedData::for_row("credentials", &id, "secret")
}

fn pkce_aad(id: ConnectionId) -> AssociatedData {
    AssociatedData::for_row("connections", &id, "pkce_verifier")
}

async fn connection_sealed_with(
    repo: &SqlConnectionRepository,
    provider: &nexus_domain::provider::Provider,
    keyring: &Keyring,
) -> ConnectionId {
    let id = ConnectionId::new();
    let now = Utc::now();
    let connection = Connection {
        id,
        workspace_id: WorkspaceId::parse("ws").expect("ws"),
        provider_id: provider.id,
        provider_name: provider.spec.name.clone(),
        status: ConnectionStatus::Pending,
        requested_scopes: Vec::new(),
        granted_scopes: None,
        error: None,
        consent_expires_at: None,
        return_url: None,
        connection_params: Default::default(),
        created_at: now,
        updated_at: now,
        activated_at: None,
    };
    let consent = PendingConsent {
        nonce: format!("nonce-{id}"),
        pkce_verifier: Some(keyring.encrypt(b"verifier", &pkce_aad(id))),
        return_url: url::Url::parse("http://127.0.0.1:9/").expect("url"),
        expires_at: now + chrono::TimeDelta::minutes(10),
    };
    repo.insert_pending(&connection, &consent).await.expect("pending");
    let credential = NewCredential::issued(
        keyring.encrypt(br#"{"access_token":"tok"}"#, &credential_aad(id)),
        now,
        None,
    );
    repo.activate(id, &credential, None, None, "consent_completed", now)
        .await
        .expect("activate");
    id
}

async fn rotation_moves_every_secret_to_the_newest_key(test_db: TestDatabase) {
    let db = test_db.connect_migrated().await;
    let (old, new, unknown) = ([1u8; 32], [2u8; 32], [3u8; 32]);
    let old_ring = Arc::new(Keyring::from_keys(&[old]).expect("old"));
    let clock = Arc::new(SystemClock);
    let audit = Arc::new(AuditServiceImpl::new(
        Arc::new(SqlAuditRepository::new(db.clone())),
        clock.clone(),
    ));
    let provider_repo = Arc::new(SqlProviderRepository::new(db.clone()));
    let providers = ProviderServiceImpl::new(provider_repo.clone(), old_ring.clone(), audit, clock)
        .with_outbound_policy(nexus_services::OutboundPolicy::DEVELOPMENT);
    let provider = providers
        .create(
            &Actor::System,
            NewProvider {
                template: None,
                draft: ProviderDraft {
                    name: "acme".into(),
                    auth_type: Some(AuthType::Oauth2),
                    client_id: Some("c".into()),
                    authorization_url: Some("https://acme.test/auth".into()),
                    token_url: Some("https://acme.test/token".into()),
                    ..ProviderDraft::default()
                },
                client_secret: Some(secret("client-secret")),
            },
        )
        .await
        .expect("provider");
    let connections = SqlConnectionRepository::new(db.clone());
    let readable = connection_sealed_with(&connections, &provider, &old_ring).await;
    let unknown_ring = Keyring::from_keys(&[unknown]).expect("unknown");
    let lost = connection_sealed_with(&connections, &provider, &unknown_ring).await;

    // A client registered with a discovered authorization server.
    let registrations = SqlClientRegistrationRepository::new(db.clone());
    let registration_id = uuid::Uuid::new_v4();
    let aad = nexus_services::mcp::registration::secret_aad(registration_id);
    registrations
        .insert(&ClientRegistrationRecord {
            id: registration_id,
            issuer: "https://auth.example.com".into(),
            kind: "dynamic".into(),
            redirect_uri: "https://nexus.example.com/auth/callback".into(),
            client_id: "registered".into(),
            client_secret: Some(old_ring.encrypt(b"registered-secret", &aad)),
            token_endpoint_auth_method: "client_secret_basic".into(),
            client_secret_expires_at: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        })
        .await
        .expect("registration");

    let rotated_ring = Arc::new(Keyring::from_keys(&[new, old]).expect("rotated"));
    let rotation = KeyRotation::new(
        Arc::new(SqlSealedSecretRepository::new(db.clone())),
        rotated_ring.clone(),
    );
    let report = rotation.run().await.expect("rotate");
    assert_eq!(
        report.resealed, 4,
        "client secret, credential, PKCE verifier and a registration's client secret"
    );
    assert_eq!(report.unreadable, 2, "the values sealed with a key nobody has");

    // The newest key alone now opens everything that was readable.
    let new_only = Keyring::from_keys(&[new]).expect("new");
    let stored = provider_repo
        .find(&ProviderRef::Id(provider.id))
        .await
        .expect("find")
        .expect("provider");
    let sealed: Ciphertext = stored.client_secret.expect("secret");
    assert_eq!(
        new_only
            .decrypt(&sealed, &client_secret_aad(provider.id))
            .expect("opens"),
        b"client-secret"
    );
    let credential = connections
        .credential(readable)
        .await
        .expect("read")
        .expect("credential");
    assert_eq!(credential.ciphertext.key_id, new_only.primary_key_id());
    assert!(
        new_only
            .decrypt(&credential.ciphertext, &credential_aad(readable))
            .is_ok()
    );
    let untouched = connections.credential(lost).await.expect("read").expect("credential");
    assert_eq!(
        untouched.ciphertext.key_id,
        unknown_ring.primary_key_id(),
        "unreadable values are left as they were"
    );

    let registered = registrations
        .find_by_issuer("https://auth.example.com")
        .await
        .expect("read")
        .expect("registration")
        .client_secret
        .expect("sealed");
    assert_eq!(
        new_only.decrypt(&registered, &aad).expect("opens"),
        b"registered-secret"
    );

    let again = rotation.run().await.expect("rotate again");
    assert_eq!(again.resealed, 0, "a second run has nothing left to do");
}

database_tests!(rotation_moves_every_secret_to_the_newest_key);
