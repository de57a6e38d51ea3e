from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ConnectionRequest")


@_attrs_define
class ConnectionRequest:
    """An agent asks to connect a workspace to a provider

    Attributes:
        provider (str): Provider name, as in the catalog
        return_url (str): Where the user's browser returns afterwards
        workspace_id (str):
        scopes (list[str] | Unset): Scopes to request; the provider's defaults when absent or empty
    """

    provider: str
    return_url: str
    workspace_id: str
    scopes: list[str] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        provider = self.provider

        return_url = self.return_url

        workspace_id = self.workspace_id

        scopes: list[str] | Unset = UNSET
        if not isinstance(self.scopes, Unset):
            scopes = self.scopes

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "provider": provider,
                "return_url": return_url,
                "workspace_id": workspace_id,
            }
        )
        if scopes is not UNSET:
            field_dict["scopes"] = scopes

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        provider = d.pop("provider")

        return_url = d.pop("return_url")

        workspace_id = d.pop("workspace_id")

        scopes = cast(list[str], d.pop("scopes", UNSET))

        connection_request = cls(
            provider=provider,
            return_url=return_url,
            workspace_id=workspace_id,
            scopes=scopes,
        )

        return connection_request
