//! Connection service tests on real databases, against the mock provider for the faults.

use chrono::TimeDelta;
use nexus_crypto::challenge_s256;
use nexus_domain::agent_key::{Actor, Caller};
use nexus_domain::connection::ConsentRequest;
use nexus_domain::ports::{ConnectionService, ProviderService};
use nexus_domain::provider::{NewProvider, ProviderDraft, TokenEndpointAuthMethod, VerificationMethod};
use nexus_domain::secret::secret;
use nexus_domain::status::{AuthType, ConnectionStatus};
use nexus_domain::strategy::Strategy;
use nexus_domain::{ConnectionId, ErrorCode, WorkspaceId};
use nexus_repositories::ConnectionRepository;
use nexus_services::MAX_CAPTURE_ATTEMPTS;
use nexus_test_utils::mock_provider::{CLIENT_ID, CLIENT_SECRET, TokenReply};
use nexus_test_utils::{TestDatabase, database_tests};
use std::collections::BTreeMap;

mod common;

use common::*;

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
        via_proxy: false,
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
                connection_params: Default::default(),
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
    // Within the skew and past the middle of its life: the read refreshes first. The provider
    // does not rotate the refresh token.
    f.clock.advance(TimeDelta::seconds(16));
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
                template: None,
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
                connection_params: Default::default(),
            },
        )
        .await
        .expect_err("misconfigured");
    assert_eq!(error.code(), ErrorCode::ProviderMisconfigured);
    assert!(error.to_string().contains("token_endpoint"), "{error}");
}

/// An API-key provider named `keyed` whose keys the mock provider's `/verify` checks.
async fn keyed_provider_verified_by_mock(f: &Fixture) {
    f.providers
        .create(
            &admin().actor,
            NewProvider {
                template: None,
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
}

async fn capture_validates_verifies_and_works_once(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    keyed_provider_verified_by_mock(&f).await;
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
    assert_eq!(not_refreshable.status(), 409);
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
                template: None,
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

/// A provider without an issuer asks for `openid` and gets an id_token back: nothing to verify
/// it against, and nothing reads it, so the consent succeeds; the id_token never reaches the
/// envelope.
async fn an_id_token_without_an_issuer_does_not_fail_the_consent(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    f.providers
        .create(
            &admin().actor,
            NewProvider {
                template: None,
                draft: ProviderDraft {
                    name: "no-issuer".into(),
                    auth_type: Some(AuthType::Oauth2),
                    client_id: Some(CLIENT_ID.into()),
                    authorization_url: Some(f.mock.url("/authorize")),
                    token_url: Some(f.mock.url("/token")),
                    scopes: vec!["openid".into(), "offline_access".into()],
                    ..ProviderDraft::default()
                },
                client_secret: Some(secret(CLIENT_SECRET)),
            },
        )
        .await
        .expect("provider");
    let spec = f.consent("no-issuer", None).await;
    f.mock.reply(TokenReply::WithIdToken(
        "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJ4In0.c2lnbmF0dXJl".into(),
    ));
    let flow = f.callback(&spec.state, Some("code"), None).await.expect("valid state");
    assert!(flow.succeeded, "{}", flow.redirect_to);
    assert_eq!(f.status(spec.connection_id).await, ConnectionStatus::Active);
}

/// A superseded or used-up capture link sends nothing to the provider's verification endpoint,
/// and one link allows a handful of submissions, not an unlimited key-testing oracle.
async fn capture_links_are_checked_first_and_capped(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    keyed_provider_verified_by_mock(&f).await;
    let first = f.consent("keyed", None).await;
    let second = f.consent("keyed", Some(first.connection_id)).await;
    assert_eq!(second.connection_id, first.connection_id);
    let good = || BTreeMap::from([("api_key".to_owned(), "good-key".to_owned())]);
    let wrong = || BTreeMap::from([("api_key".to_owned(), "guess".to_owned())]);

    // The replaced link: refused before anything reaches the provider.
    let shown = f.service.capture_form(&first.state).await.expect_err("replaced link");
    assert_eq!(shown.code(), ErrorCode::InvalidState);
    let sent = f
        .service
        .save_credential(&first.state, good())
        .await
        .expect_err("replaced link");
    assert_eq!(sent.code(), ErrorCode::InvalidState);
    assert_eq!(f.mock.verification_count(), 0);

    // Sent to the OAuth callback with a code: refused, and the link still works.
    let misrouted = f
        .callback(&second.state, Some("code"), None)
        .await
        .expect_err("not OAuth");
    assert_eq!(misrouted.code(), ErrorCode::InvalidState);
    f.service
        .capture_form(&second.state)
        .await
        .expect("the link is still open");

    // The current link: five tries, then no more.
    for attempt in 1..=MAX_CAPTURE_ATTEMPTS {
        let refused = f
            .service
            .save_credential(&second.state, wrong())
            .await
            .expect_err("wrong key");
        assert_eq!(refused.code(), ErrorCode::InvalidRequest, "attempt {attempt}");
    }
    assert_eq!(f.mock.verification_count(), u64::from(MAX_CAPTURE_ATTEMPTS));
    let capped = f
        .service
        .save_credential(&second.state, good())
        .await
        .expect_err("used up");
    assert_eq!(capped.code(), ErrorCode::InvalidState);
    assert!(capped.to_string().contains("too many"), "{capped}");
    assert_eq!(f.mock.verification_count(), u64::from(MAX_CAPTURE_ATTEMPTS));
    assert_eq!(f.status(first.connection_id).await, ConnectionStatus::Pending);

    // A new link starts afresh.
    let third = f.consent("keyed", Some(first.connection_id)).await;
    f.service.save_credential(&third.state, good()).await.expect("captured");
    assert_eq!(f.status(first.connection_id).await, ConnectionStatus::Active);
}

/// A key restricted to one of three workspaces whose connections interleave pages through its
/// own: every page full while more of its rows exist, the cursors stable, nothing of the others.
async fn a_restricted_listing_pages_through_its_workspace_only(test_db: TestDatabase) {
    let f = fixture(&test_db).await;
    f.oauth_provider("listed", TokenEndpointAuthMethod::ClientSecretPost)
        .await;
    let mut mine = Vec::new();
    for round in 0..5 {
        for workspace in ["ws-a", "ws-b", "ws-c"] {
            let spec = f
                .service
                .create_consent_spec(
                    &admin(),
                    ConsentRequest {
                        workspace_id: workspace.into(),
                        provider: "listed".into(),
                        scopes: None,
                        return_url: RETURN_URL.into(),
                        connection_id: None,
                        connection_params: Default::default(),
                    },
                )
                .await
                .unwrap_or_else(|e| panic!("consent {round} {workspace}: {e}"));
            if workspace == "ws-b" {
                mine.push(spec.connection_id);
            }
        }
    }
    let restricted = Caller {
        actor: Actor::Agent {
            key_id: nexus_domain::AgentKeyId::new(),
        },
        workspace_ids: Some(vec![WorkspaceId::parse("ws-b").expect("workspace")]),
        via_proxy: false,
    };
    let mut seen = Vec::new();
    let mut cursors = Vec::new();
    let mut after = None;
    loop {
        let page = f
            .service
            .list(
                &restricted,
                nexus_domain::connection::ConnectionQuery {
                    after,
                    limit: 2,
                    ..Default::default()
                },
            )
            .await
            .expect("list");
        assert!(page.items.iter().all(|c| c.workspace_id.as_str() == "ws-b"), "{page:?}");
        seen.extend(page.items.iter().map(|c| c.id));
        match page.next_cursor {
            Some(cursor) => {
                assert_eq!(page.items.len(), 2, "a page with a next cursor is full");
                cursors.push(cursor.clone());
                after = Some(cursor.parse::<ConnectionId>().expect("a connection id"));
            }
            None => break,
        }
    }
    assert_eq!(seen, mine, "every one of its connections, in order, once");
    // Pages of 2 over 5: two full pages, then the last one.
    assert_eq!(cursors.len(), 2);
    // The same cursor gives the same page again.
    let again = f
        .service
        .list(
            &restricted,
            nexus_domain::connection::ConnectionQuery {
                after: Some(cursors[0].parse::<ConnectionId>().expect("id")),
                limit: 2,
                ..Default::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(again.items.iter().map(|c| c.id).collect::<Vec<_>>(), mine[2..4]);
    // A key restricted to no workspace sees nothing, and the operator sees all fifteen.
    let nowhere = Caller {
        workspace_ids: Some(Vec::new()),
        ..restricted.clone()
    };
    let none = f.service.list(&nowhere, Default::default()).await.expect("list");
    assert!(none.items.is_empty());
    let all = f.service.list(&admin(), Default::default()).await.expect("list");
    assert_eq!(all.items.len(), 15);
}

database_tests!(
    a_restricted_listing_pages_through_its_workspace_only,
    capture_links_are_checked_first_and_capped,
    unverifiable_id_tokens_and_redirects_fail_the_exchange,
    an_id_token_without_an_issuer_does_not_fail_the_consent,
    consent_callback_and_token_read,
    denied_consent_and_expired_state,
    basic_auth_and_non_rotating_refresh,
    discovery_without_token_endpoint_is_a_clear_error,
    capture_validates_verifies_and_works_once,
    revocation_erases_and_tells_the_provider,
);
