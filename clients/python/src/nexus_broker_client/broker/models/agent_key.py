from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="AgentKey")


@_attrs_define
class AgentKey:
    """
    Attributes:
        all_workspaces (bool): Whether the key reaches every workspace
        created_at (datetime.datetime):
        id (UUID):
        name (str):
        prefix (str): Public prefix of the key, to tell keys apart
        proxy_only (bool): Whether the key may only act through the proxy (it never reads a credential)
        workspace_ids (list[str]): Workspaces the key may reach (empty when `all_workspaces`)
    """

    all_workspaces: bool
    created_at: datetime.datetime
    id: UUID
    name: str
    prefix: str
    proxy_only: bool
    workspace_ids: list[str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        all_workspaces = self.all_workspaces

        created_at = self.created_at.isoformat()

        id = str(self.id)

        name = self.name

        prefix = self.prefix

        proxy_only = self.proxy_only

        workspace_ids = self.workspace_ids

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "all_workspaces": all_workspaces,
                "created_at": created_at,
                "id": id,
                "name": name,
                "prefix": prefix,
                "proxy_only": proxy_only,
                "workspace_ids": workspace_ids,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        all_workspaces = d.pop("all_workspaces")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        id = UUID(d.pop("id"))

        name = d.pop("name")

        prefix = d.pop("prefix")

        proxy_only = d.pop("proxy_only")

        workspace_ids = cast(list[str], d.pop("workspace_ids"))

        agent_key = cls(
            all_workspaces=all_workspaces,
            created_at=created_at,
            id=id,
            name=name,
            prefix=prefix,
            proxy_only=proxy_only,
            workspace_ids=workspace_ids,
        )

        agent_key.additional_properties = d
        return agent_key

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
