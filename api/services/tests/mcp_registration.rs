//! Registration with discovered authorization servers, on SQLite and PostgreSQL against a fake
//! MCP server on 127.0.0.1: once per issuer (reused by a second instance on the same database,
//! as another process would), sealed, registered again when it no longer fits, one stored
//! registration when two race, the metadata document instead when the server takes one, and
//! the server's refusals as clear errors.

use nexus_crypto::Keyring;
use nexus_domain::ServiceError;
use nexus_domain::clock::SystemClock;
use nexus_domain::secret::ExposeSecret;
use nexus_repositories::{ClientRegistrationRepository, SqlClientRegistrationRepository};
use nexus_services::mcp::{ClientAuthentication, McpClients, McpDiscovery};
use nexus_services::oauth::Outbound;
use nexus_test_utils::mcp_fakes::{FakeMcpServer, McpShape};
use nexus_test_utils::{TestDatabase, database_tests};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

fn outbound() -> Outbound {
    Outbound::new(Duration::from_secs(5)).expect("outbound client")
}

type Repo = Arc<dyn ClientRegistrationRepository>;

/// The repository, and the database it lives in (dropping that removes a SQLite file).
async fn repo(db: TestDatabase) -> (TestDatabase, Repo) {
    let repo: Repo = Arc::new(SqlClientRegistrationRepository::new(db.connect_migrated().await));
    (db, repo)
}

fn clients(repo: &Repo, metadata_document: Option<&str>) -> McpClients {
    McpClients::new(
        repo.clone(),
        Arc::new(Keyring::from_keys(&[[7u8; 32]]).expect("keyring")),
        outbound(),
        Arc::new(SystemClock),
        metadata_document.map(|url| Url::parse(url).expect("url")),
    )
}

async fn server_of(fake: &FakeMcpServer) -> nexus_services::mcp::AuthorizationServer {
    let discovery = McpDiscovery::new(outbound(), Duration::from_secs(60));
    let url = Url::parse(&fake.mcp_url()).expect("url");
    discovery
        .discover("mcp-test", &url)
        .await
        .expect("discovered")
        .server
        .clone()
}

fn callback() -> Url {
    Url::parse("http://127.0.0.1:8080/auth/callback").expect("url")
}

async fn one_registration_per_issuer(db: TestDatabase) {
    let (_database, db) = repo(db).await;
    let fake = FakeMcpServer::start(McpShape::default()).await;
    let server = server_of(&fake).await;
    let first = clients(&db, None)
        .client_for("mcp-test", &server, &callback())
        .await
        .expect("registered");
    assert_eq!(first.client_id, "mcp-client-1");
    assert_eq!(first.authentication, ClientAuthentication::ClientSecretBasic);
    assert_eq!(
        first
            .client_secret
            .as_ref()
            .map(|s| s.expose_secret().to_owned())
            .as_deref(),
        Some("mcp-secret-1")
    );
    let asked = &fake.registrations()[0];
    assert_eq!(asked["redirect_uris"], serde_json::json!([callback().as_str()]));
    assert_eq!(
        asked["grant_types"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(asked["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(asked["application_type"], "web");
    assert!(
        asked.get("scope").is_none(),
        "no scope: it would hold the client to it: {asked}"
    );
    assert!(!format!("{first:?}").contains("mcp-secret-1"), "Debug hides the secret");

    // Another instance on the same database (another process): the same client, no new registration.
    let again = clients(&db, None)
        .client_for("mcp-test", &server, &callback())
        .await
        .expect("reused");
    assert_eq!(again.client_id, "mcp-client-1");
    assert_eq!(fake.registrations().len(), 1);
    let stored = db.find_by_issuer(&server.issuer).await.expect("read").expect("stored");
    let sealed = stored.client_secret.expect("a sealed secret");
    assert!(
        !String::from_utf8_lossy(&sealed.bytes).contains("mcp-secret-1"),
        "sealed, not plain"
    );

    // Nexus's callback URL changed: registered again, the row replaced.
    let moved = Url::parse("https://nexus.example.com/auth/callback").expect("url");
    let replaced = clients(&db, None)
        .client_for("mcp-test", &server, &moved)
        .await
        .expect("registered again");
    assert_eq!(replaced.client_id, "mcp-client-2");
    let stored = db.find_by_issuer(&server.issuer).await.expect("read").expect("stored");
    assert_eq!(
        (stored.client_id.as_str(), stored.redirect_uri.as_str()),
        ("mcp-client-2", moved.as_str())
    );
}

async fn an_expiring_secret_is_registered_again(db: TestDatabase) {
    let (_database, db) = repo(db).await;
    let soon = chrono::Utc::now().timestamp() + 60;
    let fake = FakeMcpServer::start(McpShape {
        secret_expires_at: soon,
        ..McpShape::default()
    })
    .await;
    let server = server_of(&fake).await;
    let clients = clients(&db, None);
    let first = clients
        .client_for("mcp-test", &server, &callback())
        .await
        .expect("registered");
    let second = clients
        .client_for("mcp-test", &server, &callback())
        .await
        .expect("registered again");
    assert_ne!(
        first.client_id, second.client_id,
        "a secret expiring within the margin is not used"
    );
    assert_eq!(fake.registrations().len(), 2);
}

async fn racing_registrations_store_one(db: TestDatabase) {
    let (_database, db) = repo(db).await;
    let fake = FakeMcpServer::start(McpShape::default()).await;
    let server = server_of(&fake).await;
    let (a, b) = (clients(&db, None), clients(&db, None));
    let redirect = callback();
    let (left, right) = tokio::join!(
        a.client_for("mcp-test", &server, &redirect),
        b.client_for("mcp-test", &server, &redirect)
    );
    let (left, right) = (left.expect("left"), right.expect("right"));
    assert_eq!(left.client_id, right.client_id, "both use the one stored registration");
    let stored = db.find_by_issuer(&server.issuer).await.expect("read").expect("stored");
    assert_eq!(stored.client_id, left.client_id);
}

async fn metadata_documents_and_refusals(db: TestDatabase) {
    let (_database, db) = repo(db).await;
    let cimd = FakeMcpServer::start(McpShape {
        client_id_metadata_documents: true,
        ..McpShape::default()
    })
    .await;
    let server = server_of(&cimd).await;
    let document = "https://nexus.example.com/.well-known/oauth-client";
    let client = clients(&db, Some(document))
        .client_for("mcp-test", &server, &callback())
        .await
        .expect("the document");
    assert_eq!(
        (client.client_id.as_str(), client.authentication),
        (document, ClientAuthentication::None)
    );
    assert!(
        cimd.registrations().is_empty(),
        "no registration when the document is taken"
    );
    // Without a public https URL there is no document to offer: registered instead.
    let registered = clients(&db, None)
        .client_for("mcp-test", &server, &callback())
        .await
        .expect("registered");
    assert_eq!(registered.client_id, "mcp-client-1");

    let public = FakeMcpServer::start(McpShape {
        token_endpoint_auth_methods: vec!["none".into()],
        ..McpShape::default()
    })
    .await;
    let server = server_of(&public).await;
    let client = clients(&db, None)
        .client_for("mcp-test", &server, &callback())
        .await
        .expect("public");
    assert_eq!(client.authentication, ClientAuthentication::None);
    assert!(client.client_secret.is_none());

    for (status, expected) in [
        (401, "initial access token"),
        (400, "invalid_client_metadata refused by the fake"),
    ] {
        let gated = FakeMcpServer::start(McpShape {
            registration_status: Some(status),
            ..McpShape::default()
        })
        .await;
        let server = server_of(&gated).await;
        match clients(&db, None).client_for("mcp-test", &server, &callback()).await {
            Err(ServiceError::ProviderMisconfigured { message, .. }) => {
                assert!(message.contains(expected), "{status}: {message}");
            }
            other => panic!("{status}: expected provider_misconfigured, got {other:?}"),
        }
    }
    let failing = FakeMcpServer::start(McpShape {
        registration_status: Some(503),
        ..McpShape::default()
    })
    .await;
    let server = server_of(&failing).await;
    assert!(matches!(
        clients(&db, None).client_for("mcp-test", &server, &callback()).await,
        Err(ServiceError::Upstream { retryable: true, .. })
    ));
}

async fn a_gated_registration_takes_its_initial_access_token(db: TestDatabase) {
    let (_database, db) = repo(db).await;
    let gated = FakeMcpServer::start(McpShape {
        registration_token: Some("iat-secret-1".into()),
        ..McpShape::default()
    })
    .await;
    let server = server_of(&gated).await;
    match clients(&db, None).client_for("mcp-test", &server, &callback()).await {
        Err(ServiceError::ProviderMisconfigured { message, .. }) => {
            assert!(message.contains("NEXUS_MCP_REGISTRATION_TOKENS"), "{message}");
            assert!(!message.contains("iat-secret"), "{message}");
        }
        other => panic!("expected provider_misconfigured, got {other:?}"),
    }
    let tokens = std::collections::BTreeMap::from([(
        server.issuer.clone(),
        nexus_domain::secret::SecretString::from("iat-secret-1".to_owned()),
    )]);
    let client = clients(&db, None)
        .with_registration_tokens(tokens)
        .client_for("mcp-test", &server, &callback())
        .await
        .expect("registered with the token");
    assert_eq!(
        client.client_id, "mcp-client-2",
        "the first, refused attempt counted at the server"
    );
}

database_tests!(
    a_gated_registration_takes_its_initial_access_token,
    one_registration_per_issuer,
    an_expiring_secret_is_registered_again,
    racing_registrations_store_one,
    metadata_documents_and_refusals,
);
