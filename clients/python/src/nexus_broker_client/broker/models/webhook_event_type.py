from typing import Literal

WebhookEventType = Literal[
    "connection.active",
    "connection.attention_required",
    "connection.expired",
    "connection.failed",
    "connection.refresh_failed",
    "connection.revoked",
]

WEBHOOK_EVENT_TYPE_VALUES: set[WebhookEventType] = {
    "connection.active",
    "connection.attention_required",
    "connection.expired",
    "connection.failed",
    "connection.refresh_failed",
    "connection.revoked",
}


def check_webhook_event_type(value: str) -> WebhookEventType:
    if value in WEBHOOK_EVENT_TYPE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {WEBHOOK_EVENT_TYPE_VALUES!r}")
