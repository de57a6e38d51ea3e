from typing import Literal

AuditEventType = Literal[
    "agent_key_created",
    "agent_key_deleted",
    "audit_events_dropped",
    "authentication_failed",
    "connection_activated",
    "connection_attention_required",
    "connection_expired",
    "connection_failed",
    "connection_revoked",
    "consent_created",
    "credential_captured",
    "provider_created",
    "provider_deleted",
    "provider_updated",
    "proxy_call",
    "token_read",
    "token_refresh_failed",
    "token_refreshed",
    "webhook_created",
    "webhook_deleted",
    "webhook_redelivered",
    "webhook_secret_rotated",
    "webhook_updated",
]

AUDIT_EVENT_TYPE_VALUES: set[AuditEventType] = {
    "agent_key_created",
    "agent_key_deleted",
    "audit_events_dropped",
    "authentication_failed",
    "connection_activated",
    "connection_attention_required",
    "connection_expired",
    "connection_failed",
    "connection_revoked",
    "consent_created",
    "credential_captured",
    "provider_created",
    "provider_deleted",
    "provider_updated",
    "proxy_call",
    "token_read",
    "token_refresh_failed",
    "token_refreshed",
    "webhook_created",
    "webhook_deleted",
    "webhook_redelivered",
    "webhook_secret_rotated",
    "webhook_updated",
}


def check_audit_event_type(value: str) -> AuditEventType:
    if value in AUDIT_EVENT_TYPE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {AUDIT_EVENT_TYPE_VALUES!r}")
