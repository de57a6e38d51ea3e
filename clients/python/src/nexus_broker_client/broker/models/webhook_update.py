from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="WebhookUpdate")


@_attrs_define
class WebhookUpdate:
    """Changes to an endpoint: absent fields stay as they are

    Attributes:
        all_workspaces (bool | Unset): `true` removes the workspace filter: every workspace's events
        description (str | Unset): An empty description removes it
        enabled (bool | Unset):
        event_types (list[str] | Unset): Replaces the events this endpoint receives (names as on creation)
        url (str | Unset):
        workspace_id (str | Unset): Only this workspace's events from now on
    """

    all_workspaces: bool | Unset = UNSET
    description: str | Unset = UNSET
    enabled: bool | Unset = UNSET
    event_types: list[str] | Unset = UNSET
    url: str | Unset = UNSET
    workspace_id: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        all_workspaces = self.all_workspaces

        description = self.description

        enabled = self.enabled

        event_types: list[str] | Unset = UNSET
        if not isinstance(self.event_types, Unset):
            event_types = self.event_types

        url = self.url

        workspace_id = self.workspace_id

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if all_workspaces is not UNSET:
            field_dict["all_workspaces"] = all_workspaces
        if description is not UNSET:
            field_dict["description"] = description
        if enabled is not UNSET:
            field_dict["enabled"] = enabled
        if event_types is not UNSET:
            field_dict["event_types"] = event_types
        if url is not UNSET:
            field_dict["url"] = url
        if workspace_id is not UNSET:
            field_dict["workspace_id"] = workspace_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        all_workspaces = d.pop("all_workspaces", UNSET)

        description = d.pop("description", UNSET)

        enabled = d.pop("enabled", UNSET)

        event_types = cast(list[str], d.pop("event_types", UNSET))

        url = d.pop("url", UNSET)

        workspace_id = d.pop("workspace_id", UNSET)

        webhook_update = cls(
            all_workspaces=all_workspaces,
            description=description,
            enabled=enabled,
            event_types=event_types,
            url=url,
            workspace_id=workspace_id,
        )

        return webhook_update
