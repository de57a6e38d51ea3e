from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.connection_status import ConnectionStatus, check_connection_status
from ..types import UNSET, Unset

T = TypeVar("T", bound="ConnectionCheck")


@_attrs_define
class ConnectionCheck:
    """A connection's state, as an agent polls it: `pending` while the user is still consenting

    Attributes:
        connection_id (UUID):
        provider (str):
        scopes (list[str]):
        status (ConnectionStatus):
        updated_at (datetime.datetime):
        workspace_id (str):
        error (str | Unset): Why the consent or the last refresh failed
    """

    connection_id: UUID
    provider: str
    scopes: list[str]
    status: ConnectionStatus
    updated_at: datetime.datetime
    workspace_id: str
    error: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        connection_id = str(self.connection_id)

        provider = self.provider

        scopes = self.scopes

        status: str = self.status

        updated_at = self.updated_at.isoformat()

        workspace_id = self.workspace_id

        error = self.error

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "connection_id": connection_id,
                "provider": provider,
                "scopes": scopes,
                "status": status,
                "updated_at": updated_at,
                "workspace_id": workspace_id,
            }
        )
        if error is not UNSET:
            field_dict["error"] = error

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        connection_id = UUID(d.pop("connection_id"))

        provider = d.pop("provider")

        scopes = cast(list[str], d.pop("scopes"))

        status = check_connection_status(d.pop("status"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        workspace_id = d.pop("workspace_id")

        error = d.pop("error", UNSET)

        connection_check = cls(
            connection_id=connection_id,
            provider=provider,
            scopes=scopes,
            status=status,
            updated_at=updated_at,
            workspace_id=workspace_id,
            error=error,
        )

        connection_check.additional_properties = d
        return connection_check

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
