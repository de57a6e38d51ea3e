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
        granted_scopes (list[str]): What the provider granted (the requested scopes when it did not say); empty before
            the
            first grant, and unchanged by an incremental consent the user has not completed
        provider (str):
        scopes (list[str]): What the provider granted, or what was requested while it has not said
        status (ConnectionStatus):
        updated_at (datetime.datetime):
        workspace_id (str):
        error (str | Unset): Why the consent or the last refresh failed
        missing_scopes (list[str] | Unset): With `scopes=` in the request: those not granted (empty when all are)
    """

    connection_id: UUID
    granted_scopes: list[str]
    provider: str
    scopes: list[str]
    status: ConnectionStatus
    updated_at: datetime.datetime
    workspace_id: str
    error: str | Unset = UNSET
    missing_scopes: list[str] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        connection_id = str(self.connection_id)

        granted_scopes = self.granted_scopes

        provider = self.provider

        scopes = self.scopes

        status: str = self.status

        updated_at = self.updated_at.isoformat()

        workspace_id = self.workspace_id

        error = self.error

        missing_scopes: list[str] | Unset = UNSET
        if not isinstance(self.missing_scopes, Unset):
            missing_scopes = self.missing_scopes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "connection_id": connection_id,
                "granted_scopes": granted_scopes,
                "provider": provider,
                "scopes": scopes,
                "status": status,
                "updated_at": updated_at,
                "workspace_id": workspace_id,
            }
        )
        if error is not UNSET:
            field_dict["error"] = error
        if missing_scopes is not UNSET:
            field_dict["missing_scopes"] = missing_scopes

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        connection_id = UUID(d.pop("connection_id"))

        granted_scopes = cast(list[str], d.pop("granted_scopes"))

        provider = d.pop("provider")

        scopes = cast(list[str], d.pop("scopes"))

        status = check_connection_status(d.pop("status"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        workspace_id = d.pop("workspace_id")

        error = d.pop("error", UNSET)

        missing_scopes = cast(list[str], d.pop("missing_scopes", UNSET))

        connection_check = cls(
            connection_id=connection_id,
            granted_scopes=granted_scopes,
            provider=provider,
            scopes=scopes,
            status=status,
            updated_at=updated_at,
            workspace_id=workspace_id,
            error=error,
            missing_scopes=missing_scopes,
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
