from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.webhook_delivery_status import WebhookDeliveryStatus, check_webhook_delivery_status
from ..models.webhook_event_type import WebhookEventType, check_webhook_event_type
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.webhook_attempt import WebhookAttempt


T = TypeVar("T", bound="WebhookDelivery")


@_attrs_define
class WebhookDelivery:
    """One event for one endpoint; `id` is the `webhook-id` header of every attempt

    Attributes:
        attempts (list[WebhookAttempt]): Every attempt, oldest first
        connection_id (UUID):
        created_at (datetime.datetime):
        event_type (WebhookEventType): A connection event a webhook can receive
        id (UUID):
        status (WebhookDeliveryStatus): Where a delivery stands
        webhook_id (UUID):
        delivered_at (datetime.datetime | Unset):
        next_attempt_at (datetime.datetime | Unset): When the next attempt is due (pending deliveries only)
    """

    attempts: list[WebhookAttempt]
    connection_id: UUID
    created_at: datetime.datetime
    event_type: WebhookEventType
    id: UUID
    status: WebhookDeliveryStatus
    webhook_id: UUID
    delivered_at: datetime.datetime | Unset = UNSET
    next_attempt_at: datetime.datetime | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempts = []
        for attempts_item_data in self.attempts:
            attempts_item = attempts_item_data.to_dict()
            attempts.append(attempts_item)

        connection_id = str(self.connection_id)

        created_at = self.created_at.isoformat()

        event_type: str = self.event_type

        id = str(self.id)

        status: str = self.status

        webhook_id = str(self.webhook_id)

        delivered_at: str | Unset = UNSET
        if not isinstance(self.delivered_at, Unset):
            delivered_at = self.delivered_at.isoformat()

        next_attempt_at: str | Unset = UNSET
        if not isinstance(self.next_attempt_at, Unset):
            next_attempt_at = self.next_attempt_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attempts": attempts,
                "connection_id": connection_id,
                "created_at": created_at,
                "event_type": event_type,
                "id": id,
                "status": status,
                "webhook_id": webhook_id,
            }
        )
        if delivered_at is not UNSET:
            field_dict["delivered_at"] = delivered_at
        if next_attempt_at is not UNSET:
            field_dict["next_attempt_at"] = next_attempt_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.webhook_attempt import WebhookAttempt  # noqa: PLC0415

        d = dict(src_dict)
        attempts = []
        _attempts = d.pop("attempts")
        for attempts_item_data in _attempts:
            attempts_item = WebhookAttempt.from_dict(attempts_item_data)

            attempts.append(attempts_item)

        connection_id = UUID(d.pop("connection_id"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        event_type = check_webhook_event_type(d.pop("event_type"))

        id = UUID(d.pop("id"))

        status = check_webhook_delivery_status(d.pop("status"))

        webhook_id = UUID(d.pop("webhook_id"))

        _delivered_at = d.pop("delivered_at", UNSET)
        delivered_at: datetime.datetime | Unset
        if isinstance(_delivered_at, Unset):
            delivered_at = UNSET
        else:
            delivered_at = datetime.datetime.fromisoformat(_delivered_at)

        _next_attempt_at = d.pop("next_attempt_at", UNSET)
        next_attempt_at: datetime.datetime | Unset
        if isinstance(_next_attempt_at, Unset):
            next_attempt_at = UNSET
        else:
            next_attempt_at = datetime.datetime.fromisoformat(_next_attempt_at)

        webhook_delivery = cls(
            attempts=attempts,
            connection_id=connection_id,
            created_at=created_at,
            event_type=event_type,
            id=id,
            status=status,
            webhook_id=webhook_id,
            delivered_at=delivered_at,
            next_attempt_at=next_attempt_at,
        )

        webhook_delivery.additional_properties = d
        return webhook_delivery

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
