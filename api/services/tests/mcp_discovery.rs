//! MCP discovery against a fake MCP server on 127.0.0.1: each place the specification lets a
//! server publish its metadata, in the specification's order, and each way a server can be
//! wrong (a resource that is not its own, an issuer that does not echo, no S256, failures).

use nexus_domain::ServiceError;
use nexus_services::mcp::McpDiscovery;
use nexus_services::oauth::Outbound;
use nexus_test_utils::mcp_fakes::{FakeMcpServer, McpShape, ResourceMetadataAt, ServerMetadataAt};
use std::time::Duration;
use url::Url;

fn discovery() -> McpDiscovery {
    McpDiscovery::new(
        Outbound::new(Duration::from_secs(5)).expect("outbound client"),
        Duration::from_secs(300),
    )
}

async fn discover(
    shape: McpShape,
) -> (
    FakeMcpServer,
    Result<std::sync::Arc<nexus_services::mcp::McpAuthorization>, ServiceError>,
) {
    let server = FakeMcpServer::start(shape).await;
    let url = Url::parse(&server.mcp_url()).expect("url");
    let found = discovery().discover("mcp-test", &url).await;
    (server, found)
}

fn misconfigured(result: Result<std::sync::Arc<nexus_services::mcp::McpAuthorization>, ServiceError>) -> String {
    match result {
        Err(ServiceError::ProviderMisconfigured { message, .. }) => message,
        other => panic!("expected provider_misconfigured, got {other:?}"),
    }
}

#[tokio::test]
async fn the_challenge_leads_to_the_metadata_and_the_authorization_server() {
    let (server, found) = discover(McpShape::default()).await;
    let found = found.expect("discovered");
    assert_eq!(found.resource, server.mcp_url());
    assert_eq!(found.scopes, ["mcp:read"], "scopes_supported without a challenge scope");
    assert_eq!(found.server.issuer, server.issuer());
    assert_eq!(
        found.server.token_endpoint.as_str(),
        format!("{}/auth/token", server.base_url)
    );
    assert_eq!(
        found.server.registration_endpoint.as_ref().map(Url::as_str),
        Some(format!("{}/auth/register", server.base_url).as_str())
    );
    assert!(found.server.iss_parameter);
    assert_eq!(
        server.requests(),
        [
            "POST /mcp",
            "GET /.well-known/oauth-protected-resource/mcp",
            "GET /.well-known/oauth-authorization-server/auth"
        ]
    );
}

#[tokio::test]
async fn without_a_challenge_the_well_known_locations_are_tried_in_order() {
    let (server, found) = discover(McpShape {
        challenge_names_metadata: false,
        resource_metadata_at: ResourceMetadataAt::Root,
        server_metadata_at: ServerMetadataAt::OpenIdAppended,
        ..McpShape::default()
    })
    .await;
    found.expect("discovered");
    assert_eq!(
        server.requests(),
        [
            "POST /mcp",
            "GET /.well-known/oauth-protected-resource/mcp",
            "GET /.well-known/oauth-protected-resource",
            "GET /.well-known/oauth-authorization-server/auth",
            "GET /.well-known/openid-configuration/auth",
            "GET /auth/.well-known/openid-configuration"
        ]
    );
    let (server, found) = discover(McpShape {
        server_metadata_at: ServerMetadataAt::OpenIdInserted,
        ..McpShape::default()
    })
    .await;
    found.expect("discovered");
    assert_eq!(
        server.requests().last().map(String::as_str),
        Some("GET /.well-known/openid-configuration/auth")
    );
}

#[tokio::test]
async fn a_custom_location_is_found_only_through_the_challenge() {
    let (_, found) = discover(McpShape {
        resource_metadata_at: ResourceMetadataAt::Custom,
        ..McpShape::default()
    })
    .await;
    found.expect("the challenge names it");
    let (_, found) = discover(McpShape {
        resource_metadata_at: ResourceMetadataAt::Custom,
        challenge_names_metadata: false,
        ..McpShape::default()
    })
    .await;
    assert!(misconfigured(found).contains("publishes no OAuth protected resource metadata"));
}

#[tokio::test]
async fn the_challenges_scope_comes_before_scopes_supported() {
    let (_, found) = discover(McpShape {
        challenge_scope: Some("files:read files:write".into()),
        ..McpShape::default()
    })
    .await;
    assert_eq!(found.expect("discovered").scopes, ["files:read", "files:write"]);
    let (_, found) = discover(McpShape {
        scopes_supported: vec![],
        ..McpShape::default()
    })
    .await;
    assert!(
        found.expect("discovered").scopes.is_empty(),
        "no scopes: none asked for"
    );
}

#[tokio::test]
async fn the_resource_is_kept_exactly_as_published() {
    // A bare origin stays without the `/` a URL parser would add: the server compares strings.
    let shape = McpShape {
        resource_metadata_at: ResourceMetadataAt::Root,
        ..McpShape::default()
    };
    let server = FakeMcpServer::start(shape.clone()).await;
    server.reshape(McpShape {
        resource: Some(server.base_url.clone()),
        ..shape
    });
    let url = Url::parse(&server.mcp_url()).expect("url");
    let found = discovery().discover("mcp-test", &url).await.expect("discovered");
    assert_eq!(found.resource, server.base_url);
    assert!(!found.resource.ends_with('/'));
}

#[tokio::test]
async fn a_resource_not_in_canonical_form_is_refused() {
    // Sent as published, it must be what every parser reads: `/x/../mcp` is not.
    let shape = McpShape::default();
    let server = FakeMcpServer::start(shape.clone()).await;
    server.reshape(McpShape {
        resource: Some(format!("{}/x/../mcp", server.base_url)),
        ..shape
    });
    let url = Url::parse(&server.mcp_url()).expect("url");
    match discovery().discover("mcp-test", &url).await {
        Err(ServiceError::ProviderMisconfigured { message, .. }) => assert!(message.contains("canonical"), "{message}"),
        other => panic!("expected provider_misconfigured, got {other:?}"),
    }
}

#[tokio::test]
async fn a_wrong_server_is_refused_with_the_reason() {
    let (_, found) = discover(McpShape {
        resource: Some("https://other.example.com/mcp".into()),
        ..McpShape::default()
    })
    .await;
    assert!(misconfigured(found).contains("names resource https://other.example.com/mcp"));
    let (_, found) = discover(McpShape {
        echoed_issuer: Some("https://evil.example.com/auth".into()),
        ..McpShape::default()
    })
    .await;
    assert!(misconfigured(found).contains("names issuer https://evil.example.com/auth"));
    let (_, found) = discover(McpShape {
        code_challenge_methods: vec!["plain".into()],
        ..McpShape::default()
    })
    .await;
    assert!(misconfigured(found).contains("S256"));
}

#[tokio::test]
async fn failing_servers_are_the_upstreams_failure() {
    for status in [500, 503, 429] {
        let (_, found) = discover(McpShape {
            metadata_status: Some(status),
            ..McpShape::default()
        })
        .await;
        assert!(
            matches!(found, Err(ServiceError::Upstream { retryable: true, .. })),
            "{status}: {found:?}"
        );
    }
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let url = Url::parse(&format!("http://127.0.0.1:{port}/mcp")).expect("url");
    let found = discovery().discover("mcp-test", &url).await;
    assert!(matches!(found, Err(ServiceError::Upstream { .. })), "{found:?}");
}

#[tokio::test]
async fn discovery_is_cached_until_forgotten() {
    let server = FakeMcpServer::start(McpShape::default()).await;
    let url = Url::parse(&server.mcp_url()).expect("url");
    let discovery = discovery();
    let first = discovery.discover("mcp-test", &url).await.expect("discovered");
    let again = discovery.discover("mcp-test", &url).await.expect("cached");
    assert_eq!(first, again);
    assert_eq!(server.requests().len(), 3, "the second discovery made no request");
    server.reshape(McpShape {
        scopes_supported: vec!["mcp:write".into()],
        ..McpShape::default()
    });
    discovery.forget(&url);
    let changed = discovery.discover("mcp-test", &url).await.expect("discovered again");
    assert_eq!(changed.scopes, ["mcp:write"]);
    assert_eq!(server.requests().len(), 6);
}
