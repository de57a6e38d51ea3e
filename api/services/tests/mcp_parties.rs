//! Who Nexus speaks OAuth with for an MCP provider, against the fake MCP server on 127.0.0.1:
//! a grant (or a consent in flight) made at one authorization server never sends its secrets to
//! another the MCP server names later, and a grant's client is used for its refreshes.

use chrono::Utc;
use nexus_crypto::Keyring;
use nexus_domain::ServiceError;
use nexus_domain::clock::SystemClock;
use nexus_domain::provider::{Provider, ProviderDraft};
use nexus_domain::status::AuthType;
use nexus_repositories::{ProviderRecord, SqlClientRegistrationRepository};
use nexus_services::mcp::{ClientAuthentication, McpClients, McpDiscovery};
use nexus_services::oauth::{ClientSource, Discovery, GrantClient, OAuthParties, Outbound};
use nexus_test_utils::mcp_fakes::{FakeMcpServer, McpShape};
use nexus_test_utils::{TestDatabase, database_tests};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

fn record(server_url: &str) -> ProviderRecord {
    let spec = ProviderDraft {
        name: "pinned-mcp".into(),
        auth_type: Some(AuthType::Oauth2),
        mcp_server_url: Some(server_url.to_owned()),
        ..ProviderDraft::default()
    }
    .validate()
    .expect("an MCP provider");
    ProviderRecord {
        provider: Provider {
            id: nexus_domain::ProviderId::new(),
            spec,
            has_client_secret: false,
            client_secret_fingerprint: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        },
        client_secret: None,
    }
}

async fn a_grant_stays_with_its_authorization_server(db: TestDatabase) {
    let outbound = Outbound::new(Duration::from_secs(5)).expect("outbound");
    let keyring = Arc::new(Keyring::from_keys(&[[5u8; 32]]).expect("keyring"));
    let clients = McpClients::new(
        Arc::new(SqlClientRegistrationRepository::new(db.connect_migrated().await)),
        keyring.clone(),
        outbound.clone(),
        Arc::new(SystemClock),
        None,
    );
    let parties = OAuthParties::new(
        Arc::new(Discovery::new(outbound.clone(), Duration::from_secs(60))),
        Arc::new(McpDiscovery::new(outbound, Duration::from_secs(60))),
        Arc::new(clients),
        keyring,
    );
    let fake = FakeMcpServer::start(McpShape::default()).await;
    let provider = record(&fake.mcp_url());
    let spec = provider.provider.spec.clone();
    let grant = GrantClient {
        client_id: "grant-client".into(),
        client_secret: Some("grant-secret".to_owned().into()),
        authentication: ClientAuthentication::ClientSecretBasic,
    };

    // The grant's own server: its client, its resource.
    let party = parties
        .party(
            &provider,
            &spec,
            ClientSource::Grant {
                client: Some(grant.clone()),
                issuer: Some(fake.issuer()),
            },
        )
        .await
        .expect("the grant's server");
    assert_eq!(party.client.client_id, "grant-client");
    assert_eq!(party.issuer.as_deref(), Some(fake.issuer().as_str()));
    assert_eq!(party.resource_for(true), Some(fake.mcp_url().as_str()));

    // A grant made elsewhere: refused before anything is sent.
    let elsewhere = parties
        .party(
            &provider,
            &spec,
            ClientSource::Grant {
                client: Some(grant),
                issuer: Some("https://old-as.example.com".into()),
            },
        )
        .await;
    match elsewhere {
        Err(ServiceError::ProviderMisconfigured { message, .. }) => {
            assert!(message.contains("now names authorization server"), "{message}");
            assert!(!message.contains("grant-secret"), "{message}");
        }
        other => panic!("expected provider_misconfigured, got {other:?}"),
    }
    // A consent that started at another server: its code goes nowhere.
    let callback = Url::parse("http://127.0.0.1:9/auth/callback").expect("url");
    let consent = parties
        .party(
            &provider,
            &spec,
            ClientSource::Consent {
                redirect_uri: &callback,
                issuer: Some("https://old-as.example.com"),
            },
        )
        .await;
    assert!(
        matches!(consent, Err(ServiceError::ProviderMisconfigured { .. })),
        "{consent:?}"
    );
    assert!(fake.token_requests().is_empty());
    assert!(fake.registrations().is_empty(), "no registration for a refused party");
}

database_tests!(a_grant_stays_with_its_authorization_server);
