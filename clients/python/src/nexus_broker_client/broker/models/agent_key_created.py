from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="AgentKeyCreated")


@_attrs_define
class AgentKeyCreated:
    """A new agent key. `key` is shown this once; Nexus keeps only its hash

    Attributes:
        all_workspaces (bool):
        created_at (datetime.datetime):
        id (UUID):
        key (str): The agent key, for `Authorization: Bearer <key>` on the Gateway
        name (str):
        prefix (str):
        proxy_only (bool):
        workspace_ids (list[str]):
    """

    all_workspaces: bool
    created_at: datetime.datetime
    id: UUID
    key: str
    name: str
    prefix: str
    proxy_only: bool
    workspace_ids: list[str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        all_workspaces = self.all_workspaces

        created_at = self.created_at.isoformat()

        id = str(self.id)

        key = self.key

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
                "key": key,
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

        key = d.pop("key")

        name = d.pop("name")

        prefix = d.pop("prefix")

        proxy_only = d.pop("proxy_only")

        workspace_ids = cast(list[str], d.pop("workspace_ids"))

        agent_key_created = cls(
            all_workspaces=all_workspaces,
            created_at=created_at,
            id=id,
            key=key,
            name=name,
            prefix=prefix,
            proxy_only=proxy_only,
            workspace_ids=workspace_ids,
        )

        agent_key_created.additional_properties = d
        return agent_key_created

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
