from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="AgentKeyCreate")


@_attrs_define
class AgentKeyCreate:
    """
    Attributes:
        name (str): What the key is for, such as `claude-desktop` or `support-mcp-server`
        all_workspaces (bool | Unset): `true` for a key that reaches every workspace; must be explicit
        proxy_only (bool | Unset): `true` for a key that acts through `/v1/proxy` (and checks or requests connections)
            but
            never reads a credential: every operation that returns one answers 403 `proxy_only_key`
        workspace_ids (list[str] | Unset): Workspaces the key may reach (give this, or `all_workspaces: true`)
    """

    name: str
    all_workspaces: bool | Unset = UNSET
    proxy_only: bool | Unset = UNSET
    workspace_ids: list[str] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        all_workspaces = self.all_workspaces

        proxy_only = self.proxy_only

        workspace_ids: list[str] | Unset = UNSET
        if not isinstance(self.workspace_ids, Unset):
            workspace_ids = self.workspace_ids

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
            }
        )
        if all_workspaces is not UNSET:
            field_dict["all_workspaces"] = all_workspaces
        if proxy_only is not UNSET:
            field_dict["proxy_only"] = proxy_only
        if workspace_ids is not UNSET:
            field_dict["workspace_ids"] = workspace_ids

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        all_workspaces = d.pop("all_workspaces", UNSET)

        proxy_only = d.pop("proxy_only", UNSET)

        workspace_ids = cast(list[str], d.pop("workspace_ids", UNSET))

        agent_key_create = cls(
            name=name,
            all_workspaces=all_workspaces,
            proxy_only=proxy_only,
            workspace_ids=workspace_ids,
        )

        return agent_key_create
