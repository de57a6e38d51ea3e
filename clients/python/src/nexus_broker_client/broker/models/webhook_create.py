from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="WebhookCreate")


@_attrs_define
class WebhookCreate:
    """
    Attributes:
        event_types (list[str]): The events this endpoint receives: `connection.active`, `connection.failed`,
            `connection.expired`, `connection.attention_required`, `connection.revoked`,
            `connection.refresh_failed`
        url (str): Where events are posted: http(s), no user name or password; loopback and private
            addresses only when `NEXUS_WEBHOOK_ALLOW_PRIVATE` is on
        description (str | Unset): What the endpoint is for
        enabled (bool | Unset): Whether events are sent (default `true`)
        workspace_id (str | Unset): Only this workspace's events (every workspace's when absent)
    """

    event_types: list[str]
    url: str
    description: str | Unset = UNSET
    enabled: bool | Unset = UNSET
    workspace_id: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        event_types = self.event_types

        url = self.url

        description = self.description

        enabled = self.enabled

        workspace_id = self.workspace_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "event_types": event_types,
                "url": url,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description
        if enabled is not UNSET:
            field_dict["enabled"] = enabled
        if workspace_id is not UNSET:
            field_dict["workspace_id"] = workspace_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        event_types = cast(list[str], d.pop("event_types"))

        url = d.pop("url")

        description = d.pop("description", UNSET)

        enabled = d.pop("enabled", UNSET)

        workspace_id = d.pop("workspace_id", UNSET)

        webhook_create = cls(
            event_types=event_types,
            url=url,
            description=description,
            enabled=enabled,
            workspace_id=workspace_id,
        )

        return webhook_create
