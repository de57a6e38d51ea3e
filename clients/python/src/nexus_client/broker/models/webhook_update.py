from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

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
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

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
        field_dict.update(self.additional_properties)
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

        webhook_update.additional_properties = d
        return webhook_update

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
