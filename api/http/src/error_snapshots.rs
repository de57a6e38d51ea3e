//! The body, status and headers every error code is answered with, snapshot-tested with insta:
//! a change to what clients parse (a renamed field, a new header, a message that starts showing a
//! value) shows up as a reviewed snapshot diff, not a surprise in an SDK.

use crate::envelope::{normalize, too_large};
use crate::error::{ApiError, ErrorBody, REQUEST_ID};
use nexus_domain::error::{ConflictReason, ResourceKind};
use nexus_domain::names::Scope;
use nexus_domain::{ConnectionId, ErrorCode, ServiceError};
use poem::IntoResponse;
use poem::http::StatusCode;
use std::collections::BTreeMap;

const CONNECTION: ConnectionId = ConnectionId::from_uuid(uuid::Uuid::from_u128(0x0190a5b2_7c4e_7000_8000_000000000001));

fn conflict(reason: ConflictReason, message: &str) -> ServiceError {
    ServiceError::Conflict {
        reason,
        message: message.to_owned(),
        connection_id: Some(CONNECTION),
    }
}

/// One realistic way each code is answered. The match is exhaustive: a new code does not compile
/// until it has an example here, and so a snapshot.
fn example(code: ErrorCode) -> poem::Response {
    let service = |error: ServiceError| ApiError::from(error).into_response();
    match code {
        ErrorCode::ProviderNotFound => service(ServiceError::NotFound {
            kind: ResourceKind::Provider,
            id: "github".into(),
        }),
        ErrorCode::ConnectionNotFound => service(ServiceError::NotFound {
            kind: ResourceKind::Connection,
            id: CONNECTION.to_string(),
        }),
        ErrorCode::AgentKeyNotFound => service(ServiceError::NotFound {
            kind: ResourceKind::AgentKey,
            id: "0190a5b2-7c4e-7000-8000-000000000002".into(),
        }),
        ErrorCode::TemplateNotFound => service(ServiceError::NotFound {
            kind: ResourceKind::Template,
            id: "no-such-template".into(),
        }),
        ErrorCode::WebhookNotFound => service(ServiceError::NotFound {
            kind: ResourceKind::Webhook,
            id: "0190a5b2-7c4e-7000-8000-000000000003".into(),
        }),
        ErrorCode::WebhookDeliveryNotFound => service(ServiceError::NotFound {
            kind: ResourceKind::WebhookDelivery,
            id: "0190a5b2-7c4e-7000-8000-000000000004".into(),
        }),
        ErrorCode::BackgroundTaskNotFound => service(ServiceError::NotFound {
            kind: ResourceKind::BackgroundTask,
            id: "no_such_task".into(),
        }),
        ErrorCode::ProviderExists => service(ServiceError::AlreadyExists {
            kind: ResourceKind::Provider,
            name: "github".into(),
        }),
        ErrorCode::ConnectionExists => service(ServiceError::AlreadyExists {
            kind: ResourceKind::Connection,
            name: "ws-1/github".into(),
        }),
        ErrorCode::AgentKeyExists => service(ServiceError::AlreadyExists {
            kind: ResourceKind::AgentKey,
            name: "ci-agent".into(),
        }),
        ErrorCode::InvalidRequest => service(ServiceError::invalid("scopes", "must not be empty")),
        ErrorCode::InvalidState => service(ServiceError::InvalidState {
            reason: "the consent link expired or was already used",
        }),
        ErrorCode::ProviderMisconfigured => service(ServiceError::misconfigured(
            "acme",
            "OpenID discovery at https://acme.test answered HTTP 404",
        )),
        ErrorCode::Unauthenticated => service(ServiceError::Unauthenticated),
        ErrorCode::Forbidden => service(ServiceError::Forbidden {
            reason: "this key may not use that workspace",
        }),
        ErrorCode::ProxyOnlyKey => service(ServiceError::ProxyOnlyKey),
        ErrorCode::OriginNotAllowed => service(ServiceError::OriginNotAllowed {
            message: "https://evil.test is not one of the provider's API origins".into(),
        }),
        ErrorCode::ProviderInUse => service(ServiceError::Conflict {
            reason: ConflictReason::ProviderInUse,
            message: "provider `github` has 3 live connections; delete with cascade=true".into(),
            connection_id: None,
        }),
        ErrorCode::ConnectionPending => service(conflict(
            ConflictReason::ConnectionPending,
            "the connection is waiting for consent",
        )),
        ErrorCode::ConnectionRevoked => service(conflict(
            ConflictReason::ConnectionRevoked,
            "the connection was revoked",
        )),
        ErrorCode::ConnectionFailed => service(conflict(ConflictReason::ConnectionFailed, "the consent failed")),
        ErrorCode::ConnectionExpired => service(conflict(ConflictReason::ConnectionExpired, "the consent expired")),
        ErrorCode::NotRefreshable => service(conflict(
            ConflictReason::NotRefreshable,
            "static credentials cannot be refreshed",
        )),
        ErrorCode::ScopeNotGranted => service(conflict(
            ConflictReason::ScopeNotGranted,
            "the provider did not grant these scopes in 3 consents in a row",
        )),
        ErrorCode::AttentionRequired => service(ServiceError::AttentionRequired {
            connection_id: CONNECTION,
        }),
        ErrorCode::InsufficientScope => service(ServiceError::InsufficientScope {
            connection_id: CONNECTION,
            missing: vec![Scope::parse("repo").expect("a scope")],
        }),
        ErrorCode::UpstreamUnavailable => service(ServiceError::Upstream {
            provider: "github".into(),
            retryable: true,
            retry_after_seconds: Some(30),
        }),
        ErrorCode::BrokerUnavailable => service(ServiceError::BrokerUnavailable),
        ErrorCode::ServiceUnavailable => service(ServiceError::Unavailable { what: "the database" }),
        ErrorCode::InternalError => service(ServiceError::internal("reading a row", "secret detail never shown")),
        ErrorCode::RouteNotFound => normalize(poem::Error::from_status(StatusCode::NOT_FOUND)),
        ErrorCode::MethodNotAllowed => normalize(poem::Error::from_status(StatusCode::METHOD_NOT_ALLOWED)),
        ErrorCode::PayloadTooLarge => too_large(),
        ErrorCode::UnsupportedMediaType => normalize(poem::Error::from_string(
            "the content type `text/plain` is not supported",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        )),
    }
}

#[tokio::test]
async fn every_error_code_has_one_body_shape() {
    let mut answers = BTreeMap::new();
    for code in ErrorCode::ALL {
        let response = REQUEST_ID
            .scope("req-snapshot".to_owned(), async { example(code) })
            .await;
        let status = response.status();
        let headers: BTreeMap<String, String> = ["content-type", "www-authenticate", "retry-after"]
            .into_iter()
            .filter_map(|name| {
                let value = response.headers().get(name)?.to_str().ok()?;
                Some((name.to_owned(), value.to_owned()))
            })
            .collect();
        let bytes = response.into_body().into_vec().await.expect("a body");
        let body: serde_json::Value = serde_json::from_slice(&bytes).expect("a JSON body");
        // What every client parses: the schema's type, the code it names, the request's id.
        let parsed: ErrorBody = serde_json::from_value(body.clone()).expect("the Error schema");
        assert_eq!(parsed.code, code.as_str(), "{body}");
        assert_eq!(parsed.request_id, "req-snapshot");
        assert!(
            !body.to_string().contains("secret detail"),
            "internal detail reached the body: {body}"
        );
        answers.insert(
            code.as_str(),
            serde_json::json!({"status": status.as_u16(), "headers": headers, "body": body}),
        );
    }
    insta::assert_json_snapshot!("error_bodies", answers);
}
