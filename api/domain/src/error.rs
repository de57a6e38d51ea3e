//! The one transport-neutral error of every service, with its stable code and HTTP status.
//!
//! `status()` and `code()` are exhaustive matches: adding a variant forces a decision on both.
//! The external message (`Display`) is safe for callers; `internal_detail()` is for the log only.

use crate::{ConnectionId, Scope};

use std::collections::BTreeMap;
use std::fmt;

/// What kind of resource a `NotFound` or `AlreadyExists` is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    Provider,
    Connection,
    AgentKey,
    /// A provider template of the catalog.
    Template,
    Webhook,
    WebhookDelivery,
    /// A background task of the process (by name).
    BackgroundTask,
}

impl ResourceKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Provider => "provider",
            Self::Connection => "connection",
            Self::AgentKey => "agent key",
            Self::Template => "template",
            Self::Webhook => "webhook",
            Self::WebhookDelivery => "webhook delivery",
            Self::BackgroundTask => "background task",
        }
    }

    /// The kind with its indefinite article, for messages ("an agent key").
    pub const fn with_article(self) -> &'static str {
        match self {
            Self::Provider => "a provider",
            Self::Connection => "a connection",
            Self::AgentKey => "an agent key",
            Self::Template => "a template",
            Self::Webhook => "a webhook",
            Self::WebhookDelivery => "a webhook delivery",
            Self::BackgroundTask => "a background task",
        }
    }
}

/// Why a request conflicts with the current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictReason {
    /// A provider still has active connections and `cascade` was not asked for.
    ProviderInUse,
    ConnectionPending,
    ConnectionRevoked,
    ConnectionFailed,
    ConnectionExpired,
    /// Static credentials cannot be refreshed.
    NotRefreshable,
    /// The same scopes were asked for in too many consents without the provider granting them.
    ScopeNotGranted,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{} `{id}` was not found", kind.as_str())]
    NotFound { kind: ResourceKind, id: String },

    #[error("{} named `{name}` already exists", kind.with_article())]
    AlreadyExists { kind: ResourceKind, name: String },

    #[error("{field}: {message}")]
    InvalidInput { field: String, message: String },

    /// Several submitted fields were refused (the capture form shows each message).
    #[error("{}", summarize(errors))]
    InvalidFields { errors: BTreeMap<String, String> },

    /// An OAuth state or capture state that is not ours, has expired, or was already used.
    #[error("this link is invalid, has expired, or was already used: {reason}")]
    InvalidState { reason: &'static str },

    /// A provider's configuration cannot work (for example, discovery without a token endpoint).
    #[error("provider `{provider}` is misconfigured: {message}")]
    ProviderMisconfigured { provider: String, message: String },

    #[error("missing or invalid credentials")]
    Unauthenticated,

    /// The caller is known but may not do this (a split Gateway without a valid agent key).
    #[error("{reason}")]
    Forbidden { reason: &'static str },

    /// A `proxy_only` agent key asked for an operation that returns a credential.
    #[error("this agent key is proxy_only: it acts through /v1/proxy and never reads a credential")]
    ProxyOnlyKey,

    /// A proxied request names an origin the provider's credential may not go to, or an
    /// address the outbound policy refuses (a private one, in production).
    #[error("{message}")]
    OriginNotAllowed { message: String },

    /// A body larger than the limit of where it was sent.
    #[error("the request body exceeds {limit} bytes")]
    PayloadTooLarge { limit: usize },

    /// The request conflicts with the current state; `connection_id` names the connection whose
    /// state it is, when the caller did not name it (a resolve by workspace and provider).
    #[error("{message}")]
    Conflict {
        reason: ConflictReason,
        message: String,
        connection_id: Option<ConnectionId>,
    },

    /// The provider says the grant is gone: the user must consent again to this connection.
    #[error("the user must consent again before connection {connection_id} can be used")]
    AttentionRequired { connection_id: ConnectionId },

    /// The connection's grant lacks scopes the caller needs: an incremental consent on the same
    /// connection (`connection_id` with the scopes) adds them.
    #[error(
        "connection {connection_id} was not granted {}: request them with an incremental consent of this connection",
        missing.iter().map(Scope::as_str).collect::<Vec<_>>().join(", ")
    )]
    InsufficientScope {
        connection_id: ConnectionId,
        missing: Vec<Scope>,
    },

    /// The provider could not answer; `retry_after_seconds` says when to try again, when known.
    #[error("provider `{provider}` is unavailable; try again later")]
    Upstream {
        provider: String,
        retryable: bool,
        retry_after_seconds: Option<u64>,
    },

    #[error("{what} is unavailable; try again later")]
    Unavailable { what: &'static str },

    /// An error the Broker answered a split Gateway with, passed on unchanged.
    #[error("{message}")]
    Remote {
        status: u16,
        code: ErrorCode,
        message: String,
        field: Option<String>,
        connection_id: Option<ConnectionId>,
        retry_after_seconds: Option<u64>,
    },

    /// A split Gateway cannot reach its Broker.
    #[error("the Broker is unavailable; try again later")]
    BrokerUnavailable,

    #[error("internal error")]
    Internal { detail: String },
}

/// `Retry-After` on a 503 for Nexus's own database or Broker being away.
pub const UNAVAILABLE_RETRY_AFTER_SECONDS: u64 = 1;

impl ServiceError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidInput {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The provider's configuration (or what its servers publish) cannot work: an operator must
    /// act. `message` is shown to callers: it names what is wrong, never a secret.
    pub fn misconfigured(provider: &str, message: impl Into<String>) -> Self {
        Self::ProviderMisconfigured {
            provider: provider.to_owned(),
            message: message.into(),
        }
    }

    /// The provider failed or could not be reached now; worth retrying.
    pub fn upstream(provider: &str) -> Self {
        Self::Upstream {
            provider: provider.to_owned(),
            retryable: true,
            retry_after_seconds: None,
        }
    }

    pub fn not_found(kind: ResourceKind, id: impl ToString) -> Self {
        Self::NotFound {
            kind,
            id: id.to_string(),
        }
    }

    /// An internal failure, with context for the log (never shown to callers).
    pub fn internal(context: &str, cause: impl fmt::Display) -> Self {
        Self::Internal {
            detail: format!("{context}: {cause}"),
        }
    }

    /// The HTTP status this error maps to.
    pub const fn status(&self) -> u16 {
        match self {
            Self::NotFound { .. } => 404,
            Self::AlreadyExists { .. } => 409,
            Self::InvalidInput { .. } | Self::InvalidFields { .. } | Self::InvalidState { .. } => 400,
            Self::ProviderMisconfigured { .. } => 502,
            Self::Unauthenticated => 401,
            Self::Forbidden { .. } | Self::ProxyOnlyKey | Self::OriginNotAllowed { .. } => 403,
            Self::PayloadTooLarge { .. } => 413,
            Self::Conflict { reason, .. } => match reason {
                ConflictReason::NotRefreshable
                | ConflictReason::ProviderInUse
                | ConflictReason::ConnectionPending
                | ConflictReason::ConnectionRevoked
                | ConflictReason::ConnectionFailed
                | ConflictReason::ConnectionExpired
                | ConflictReason::ScopeNotGranted => 409,
            },
            Self::AttentionRequired { .. } | Self::InsufficientScope { .. } => 409,
            Self::Upstream { .. } => 502,
            Self::Unavailable { .. } | Self::BrokerUnavailable => 503,
            Self::Remote { status, .. } => *status,
            Self::Internal { .. } => 500,
        }
    }

    /// The stable, machine-readable code.
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound { kind, .. } => match kind {
                ResourceKind::Provider => ErrorCode::ProviderNotFound,
                ResourceKind::Connection => ErrorCode::ConnectionNotFound,
                ResourceKind::AgentKey => ErrorCode::AgentKeyNotFound,
                ResourceKind::Template => ErrorCode::TemplateNotFound,
                ResourceKind::Webhook => ErrorCode::WebhookNotFound,
                ResourceKind::WebhookDelivery => ErrorCode::WebhookDeliveryNotFound,
                ResourceKind::BackgroundTask => ErrorCode::BackgroundTaskNotFound,
            },
            Self::AlreadyExists { kind, .. } => match kind {
                ResourceKind::Provider => ErrorCode::ProviderExists,
                ResourceKind::Connection => ErrorCode::ConnectionExists,
                ResourceKind::AgentKey => ErrorCode::AgentKeyExists,
                // Templates are never created through the API; webhooks have no unique name.
                ResourceKind::Template
                | ResourceKind::Webhook
                | ResourceKind::WebhookDelivery
                | ResourceKind::BackgroundTask => ErrorCode::ProviderExists,
            },
            Self::InvalidInput { .. } | Self::InvalidFields { .. } => ErrorCode::InvalidRequest,
            Self::InvalidState { .. } => ErrorCode::InvalidState,
            Self::ProviderMisconfigured { .. } => ErrorCode::ProviderMisconfigured,
            Self::Unauthenticated => ErrorCode::Unauthenticated,
            Self::Forbidden { .. } => ErrorCode::Forbidden,
            Self::ProxyOnlyKey => ErrorCode::ProxyOnlyKey,
            Self::OriginNotAllowed { .. } => ErrorCode::OriginNotAllowed,
            Self::PayloadTooLarge { .. } => ErrorCode::PayloadTooLarge,
            Self::Conflict { reason, .. } => match reason {
                ConflictReason::ProviderInUse => ErrorCode::ProviderInUse,
                ConflictReason::ConnectionPending => ErrorCode::ConnectionPending,
                ConflictReason::ConnectionRevoked => ErrorCode::ConnectionRevoked,
                ConflictReason::ConnectionFailed => ErrorCode::ConnectionFailed,
                ConflictReason::ConnectionExpired => ErrorCode::ConnectionExpired,
                ConflictReason::NotRefreshable => ErrorCode::NotRefreshable,
                ConflictReason::ScopeNotGranted => ErrorCode::ScopeNotGranted,
            },
            Self::AttentionRequired { .. } => ErrorCode::AttentionRequired,
            Self::InsufficientScope { .. } => ErrorCode::InsufficientScope,
            Self::Upstream { .. } => ErrorCode::UpstreamUnavailable,
            Self::Unavailable { .. } => ErrorCode::ServiceUnavailable,
            Self::BrokerUnavailable => ErrorCode::BrokerUnavailable,
            Self::Remote { code, .. } => *code,
            Self::Internal { .. } => ErrorCode::InternalError,
        }
    }

    /// The field a client mistake is about, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::InvalidInput { field, .. } => Some(field),
            Self::InvalidFields { errors } => errors.keys().next().map(String::as_str),
            Self::Remote { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// The connection an error is about, for errors the agent can act on (re-consent it, wait).
    pub fn connection_id(&self) -> Option<ConnectionId> {
        match self {
            Self::AttentionRequired { connection_id } | Self::InsufficientScope { connection_id, .. } => {
                Some(*connection_id)
            }
            Self::Conflict { connection_id, .. } | Self::Remote { connection_id, .. } => *connection_id,
            _ => None,
        }
    }

    /// The scopes a connection lacks, for `insufficient_scope`.
    pub fn missing_scopes(&self) -> Option<&[Scope]> {
        match self {
            Self::InsufficientScope { missing, .. } => Some(missing),
            _ => None,
        }
    }

    /// How many seconds to wait before retrying: what the upstream said, or, when Nexus's own
    /// database or Broker is away, a second (a restart or failover is usually over by then,
    /// and clients that honour it do not all retry at once).
    pub fn retry_after_seconds(&self) -> Option<u64> {
        match self {
            Self::Upstream {
                retry_after_seconds, ..
            }
            | Self::Remote {
                retry_after_seconds, ..
            } => *retry_after_seconds,
            Self::Unavailable { .. } | Self::BrokerUnavailable => Some(UNAVAILABLE_RETRY_AFTER_SECONDS),
            _ => None,
        }
    }

    /// Whether the same request may succeed later without change.
    pub const fn retryable(&self) -> bool {
        match self {
            Self::Upstream { retryable, .. } => *retryable,
            Self::Unavailable { .. } | Self::BrokerUnavailable => true,
            Self::Remote { status, .. } => *status == 502 || *status == 503,
            _ => false,
        }
    }

    /// Detail for the server log; `None` when the public message says it all.
    pub fn internal_detail(&self) -> Option<&str> {
        match self {
            Self::Internal { detail } => Some(detail),
            _ => None,
        }
    }
}

/// Every stable error code an API can answer with. HTTP-only codes (routing, body size,
/// media type) are listed here too, so the whole catalogue lives in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    ProviderNotFound,
    ConnectionNotFound,
    AgentKeyNotFound,
    TemplateNotFound,
    WebhookNotFound,
    WebhookDeliveryNotFound,
    BackgroundTaskNotFound,
    ProviderExists,
    ConnectionExists,
    AgentKeyExists,
    InvalidRequest,
    InvalidState,
    ProviderMisconfigured,
    Unauthenticated,
    Forbidden,
    ProxyOnlyKey,
    OriginNotAllowed,
    ProviderInUse,
    ConnectionPending,
    ConnectionRevoked,
    ConnectionFailed,
    ConnectionExpired,
    NotRefreshable,
    AttentionRequired,
    InsufficientScope,
    ScopeNotGranted,
    UpstreamUnavailable,
    BrokerUnavailable,
    ServiceUnavailable,
    InternalError,
    RouteNotFound,
    MethodNotAllowed,
    PayloadTooLarge,
    UnsupportedMediaType,
}

impl ErrorCode {
    pub const ALL: [Self; 34] = [
        Self::ProviderNotFound,
        Self::ConnectionNotFound,
        Self::AgentKeyNotFound,
        Self::TemplateNotFound,
        Self::WebhookNotFound,
        Self::WebhookDeliveryNotFound,
        Self::BackgroundTaskNotFound,
        Self::ProviderExists,
        Self::ConnectionExists,
        Self::AgentKeyExists,
        Self::InvalidRequest,
        Self::InvalidState,
        Self::ProviderMisconfigured,
        Self::Unauthenticated,
        Self::Forbidden,
        Self::ProxyOnlyKey,
        Self::OriginNotAllowed,
        Self::ProviderInUse,
        Self::ConnectionPending,
        Self::ConnectionRevoked,
        Self::ConnectionFailed,
        Self::ConnectionExpired,
        Self::NotRefreshable,
        Self::AttentionRequired,
        Self::InsufficientScope,
        Self::ScopeNotGranted,
        Self::UpstreamUnavailable,
        Self::BrokerUnavailable,
        Self::ServiceUnavailable,
        Self::InternalError,
        Self::RouteNotFound,
        Self::MethodNotAllowed,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
    ];

    /// The code with this name, as another Nexus process sent it.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|code| code.as_str() == name)
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ProviderNotFound => "provider_not_found",
            Self::ConnectionNotFound => "connection_not_found",
            Self::AgentKeyNotFound => "agent_key_not_found",
            Self::TemplateNotFound => "template_not_found",
            Self::WebhookNotFound => "webhook_not_found",
            Self::WebhookDeliveryNotFound => "webhook_delivery_not_found",
            Self::BackgroundTaskNotFound => "background_task_not_found",
            Self::ProviderExists => "provider_exists",
            Self::ConnectionExists => "connection_exists",
            Self::AgentKeyExists => "agent_key_exists",
            Self::InvalidRequest => "invalid_request",
            Self::InvalidState => "invalid_state",
            Self::ProviderMisconfigured => "provider_misconfigured",
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden => "forbidden",
            Self::ProxyOnlyKey => "proxy_only_key",
            Self::OriginNotAllowed => "origin_not_allowed",
            Self::ProviderInUse => "provider_in_use",
            Self::ConnectionPending => "connection_pending",
            Self::ConnectionRevoked => "connection_revoked",
            Self::ConnectionFailed => "connection_failed",
            Self::ConnectionExpired => "connection_expired",
            Self::NotRefreshable => "not_refreshable",
            Self::AttentionRequired => "attention_required",
            Self::InsufficientScope => "insufficient_scope",
            Self::ScopeNotGranted => "scope_not_granted",
            Self::UpstreamUnavailable => "upstream_unavailable",
            Self::BrokerUnavailable => "broker_unavailable",
            Self::ServiceUnavailable => "service_unavailable",
            Self::InternalError => "internal_error",
            Self::RouteNotFound => "route_not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
        }
    }
}

impl ErrorCode {
    /// The HTTP status this code is answered with, and what it means, for the reference docs
    /// (the `Error` schema's `code` lists them).
    pub const fn meaning(self) -> (u16, &'static str) {
        match self {
            Self::ProviderNotFound => (404, "No provider has that name"),
            Self::ConnectionNotFound => (
                404,
                "No connection has that id in this workspace (or none is active for it)",
            ),
            Self::AgentKeyNotFound => (404, "No agent key has that id"),
            Self::TemplateNotFound => (404, "The provider catalog has no template of that name"),
            Self::WebhookNotFound => (404, "No webhook has that id"),
            Self::WebhookDeliveryNotFound => (404, "The webhook has no delivery with that id"),
            Self::BackgroundTaskNotFound => (404, "This process runs no background task of that name"),
            Self::ProviderExists => (409, "A provider with that name exists already"),
            Self::ConnectionExists => (409, "The connection exists already"),
            Self::AgentKeyExists => (409, "An agent key with that name exists already"),
            Self::InvalidRequest => (400, "The request is malformed or a field is invalid (`field` names it)"),
            Self::InvalidState => (400, "The consent's `state` is unknown, expired, already used or forged"),
            Self::ProviderMisconfigured => (
                502,
                "The provider refused Nexus's client credentials or endpoints: an operator must fix the provider",
            ),
            Self::Unauthenticated => (401, "No key, or a key that is not valid for this API"),
            Self::Forbidden => (403, "The key is valid but may not do this (another workspace, say)"),
            Self::ProxyOnlyKey => (
                403,
                "The agent key is `proxy_only`: call the API through `/v1/proxy`, which never hands out the credential",
            ),
            Self::OriginNotAllowed => (
                403,
                "The proxied request's URL is outside the provider's `api_origins`, or at an address the outbound policy refuses",
            ),
            Self::ProviderInUse => (409, "The provider still has connections: delete or revoke them first"),
            Self::ConnectionPending => (409, "The user has not finished the consent yet"),
            Self::ConnectionRevoked => (409, "The connection was revoked: request a new one"),
            Self::ConnectionFailed => (409, "The consent failed: request a new connection"),
            Self::ConnectionExpired => (
                409,
                "The credential expired and cannot be refreshed: the user must consent again",
            ),
            Self::NotRefreshable => (409, "The connection has no refresh token (or is not OAuth2)"),
            Self::AttentionRequired => (
                409,
                "The provider revoked the grant: send the user to consent again (`connection_id`)",
            ),
            Self::InsufficientScope => (
                409,
                "The connection lacks scopes the request names (`missing_scopes`): run an incremental consent of `connection_id` with them",
            ),
            Self::ScopeNotGranted => (
                409,
                "The provider did not grant these scopes in the last consents that asked for them: stop asking (the user or the provider's policy refuses them), or ask for other scopes",
            ),
            Self::UpstreamUnavailable => (
                502,
                "The provider failed or timed out; retry, after `Retry-After` when given",
            ),
            Self::BrokerUnavailable => (
                503,
                "A split Gateway cannot reach its Broker; retry after `Retry-After`",
            ),
            Self::ServiceUnavailable => (
                503,
                "Nexus cannot serve right now (its database refused, reset, restarted, locked or timed out; or it is shutting down); retry after `Retry-After`",
            ),
            Self::InternalError => (
                500,
                "A bug or an unexpected failure; quote `request_id` when reporting it",
            ),
            Self::RouteNotFound => (404, "No such path"),
            Self::MethodNotAllowed => (
                405,
                "The path exists but not with this method (`Allow` lists those it takes)",
            ),
            Self::PayloadTooLarge => (
                413,
                "The body is larger than the limit: 64 KiB for the APIs, `NEXUS_PROXY_MAX_BODY_BYTES` through the proxy",
            ),
            Self::UnsupportedMediaType => (415, "The body is not `application/json`"),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn summarize(errors: &BTreeMap<String, String>) -> String {
    errors
        .iter()
        .map(|(field, message)| format!("{field}: {message}"))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unavailable_database_or_broker_says_when_to_retry() {
        assert_eq!(
            ServiceError::Unavailable { what: "the database" }.retry_after_seconds(),
            Some(UNAVAILABLE_RETRY_AFTER_SECONDS)
        );
        assert_eq!(
            ServiceError::BrokerUnavailable.retry_after_seconds(),
            Some(UNAVAILABLE_RETRY_AFTER_SECONDS)
        );
        assert_eq!(ServiceError::internal("x", "y").retry_after_seconds(), None);
    }

    #[test]
    fn mapping_table() {
        let cases: Vec<(ServiceError, u16, &str)> = vec![
            (
                ServiceError::not_found(ResourceKind::Connection, "x"),
                404,
                "connection_not_found",
            ),
            (
                ServiceError::not_found(ResourceKind::Provider, "x"),
                404,
                "provider_not_found",
            ),
            (
                ServiceError::AlreadyExists {
                    kind: ResourceKind::Provider,
                    name: "github".into(),
                },
                409,
                "provider_exists",
            ),
            (ServiceError::invalid("name", "bad"), 400, "invalid_request"),
            (ServiceError::Unauthenticated, 401, "unauthenticated"),
            (ServiceError::Forbidden { reason: "no" }, 403, "forbidden"),
            (ServiceError::ProxyOnlyKey, 403, "proxy_only_key"),
            (
                ServiceError::Unavailable { what: "the database" },
                503,
                "service_unavailable",
            ),
            (
                ServiceError::OriginNotAllowed { message: "no".into() },
                403,
                "origin_not_allowed",
            ),
            (ServiceError::PayloadTooLarge { limit: 1 }, 413, "payload_too_large"),
            (
                ServiceError::Conflict {
                    reason: ConflictReason::NotRefreshable,
                    message: String::new(),
                    connection_id: None,
                },
                409,
                "not_refreshable",
            ),
            (
                ServiceError::Conflict {
                    reason: ConflictReason::ConnectionPending,
                    message: String::new(),
                    connection_id: None,
                },
                409,
                "connection_pending",
            ),
            (
                ServiceError::AttentionRequired {
                    connection_id: ConnectionId::new(),
                },
                409,
                "attention_required",
            ),
            (
                ServiceError::InsufficientScope {
                    connection_id: ConnectionId::new(),
                    missing: vec![Scope::parse("email").expect("scope")],
                },
                409,
                "insufficient_scope",
            ),
            (
                ServiceError::Upstream {
                    provider: "p".into(),
                    retryable: true,
                    retry_after_seconds: Some(3),
                },
                502,
                "upstream_unavailable",
            ),
            (
                ServiceError::Unavailable { what: "database" },
                503,
                "service_unavailable",
            ),
            (ServiceError::internal("ctx", "boom"), 500, "internal_error"),
        ];
        for (error, status, code) in cases {
            assert_eq!(error.status(), status, "{error:?}");
            assert_eq!(error.code().as_str(), code, "{error:?}");
            // The reference docs' table says what the API answers.
            assert_eq!(error.code().meaning().0, status, "{error:?}: meaning() disagrees");
        }
    }

    #[test]
    fn every_code_parses_back() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
        }
        assert_eq!(ErrorCode::parse("nope"), None);
    }

    #[test]
    fn internal_detail_never_reaches_the_public_message() {
        let error = ServiceError::internal("decrypting credential", "aead::Error tag mismatch");
        assert_eq!(error.to_string(), "internal error");
        assert!(error.internal_detail().is_some_and(|d| d.contains("tag mismatch")));
    }

    #[test]
    fn invalid_input_names_the_field() {
        let error = ServiceError::invalid("token_url", "is required for oauth2 providers");
        assert_eq!(error.field(), Some("token_url"));
        assert!(error.to_string().starts_with("token_url:"));
    }
}
