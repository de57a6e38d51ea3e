from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.connection_status import ConnectionStatus, check_connection_status
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.connection_connection_params import ConnectionConnectionParams


T = TypeVar("T", bound="Connection")


@_attrs_define
class Connection:
    """A connection as operators see it; no secrets

    Attributes:
        connection_id (UUID):
        connection_params (ConnectionConnectionParams): The values this connection gave the provider's connection
            parameters
        created_at (datetime.datetime):
        provider (str):
        provider_id (UUID):
        requested_scopes (list[str]):
        status (ConnectionStatus):
        updated_at (datetime.datetime):
        workspace_id (str):
        activated_at (datetime.datetime | Unset):
        consent_expires_at (datetime.datetime | Unset): Set while a consent or capture is in progress
        error (str | Unset): Why the last consent or refresh failed (such as `access_denied`, `invalid_grant`)
        granted_scopes (list[str] | Unset): What the provider granted, when it said (absent until then)
    """

    connection_id: UUID
    connection_params: ConnectionConnectionParams
    created_at: datetime.datetime
    provider: str
    provider_id: UUID
    requested_scopes: list[str]
    status: ConnectionStatus
    updated_at: datetime.datetime
    workspace_id: str
    activated_at: datetime.datetime | Unset = UNSET
    consent_expires_at: datetime.datetime | Unset = UNSET
    error: str | Unset = UNSET
    granted_scopes: list[str] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        connection_id = str(self.connection_id)

        connection_params = self.connection_params.to_dict()

        created_at = self.created_at.isoformat()

        provider = self.provider

        provider_id = str(self.provider_id)

        requested_scopes = self.requested_scopes

        status: str = self.status

        updated_at = self.updated_at.isoformat()

        workspace_id = self.workspace_id

        activated_at: str | Unset = UNSET
        if not isinstance(self.activated_at, Unset):
            activated_at = self.activated_at.isoformat()

        consent_expires_at: str | Unset = UNSET
        if not isinstance(self.consent_expires_at, Unset):
            consent_expires_at = self.consent_expires_at.isoformat()

        error = self.error

        granted_scopes: list[str] | Unset = UNSET
        if not isinstance(self.granted_scopes, Unset):
            granted_scopes = self.granted_scopes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "connection_id": connection_id,
                "connection_params": connection_params,
                "created_at": created_at,
                "provider": provider,
                "provider_id": provider_id,
                "requested_scopes": requested_scopes,
                "status": status,
                "updated_at": updated_at,
                "workspace_id": workspace_id,
            }
        )
        if activated_at is not UNSET:
            field_dict["activated_at"] = activated_at
        if consent_expires_at is not UNSET:
            field_dict["consent_expires_at"] = consent_expires_at
        if error is not UNSET:
            field_dict["error"] = error
        if granted_scopes is not UNSET:
            field_dict["granted_scopes"] = granted_scopes

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.connection_connection_params import ConnectionConnectionParams  # noqa: PLC0415

        d = dict(src_dict)
        connection_id = UUID(d.pop("connection_id"))

        connection_params = ConnectionConnectionParams.from_dict(d.pop("connection_params"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        provider = d.pop("provider")

        provider_id = UUID(d.pop("provider_id"))

        requested_scopes = cast(list[str], d.pop("requested_scopes"))

        status = check_connection_status(d.pop("status"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        workspace_id = d.pop("workspace_id")

        _activated_at = d.pop("activated_at", UNSET)
        activated_at: datetime.datetime | Unset
        if isinstance(_activated_at, Unset):
            activated_at = UNSET
        else:
            activated_at = datetime.datetime.fromisoformat(_activated_at)

        _consent_expires_at = d.pop("consent_expires_at", UNSET)
        consent_expires_at: datetime.datetime | Unset
        if isinstance(_consent_expires_at, Unset):
            consent_expires_at = UNSET
        else:
            consent_expires_at = datetime.datetime.fromisoformat(_consent_expires_at)

        error = d.pop("error", UNSET)

        granted_scopes = cast(list[str], d.pop("granted_scopes", UNSET))

        connection = cls(
            connection_id=connection_id,
            connection_params=connection_params,
            created_at=created_at,
            provider=provider,
            provider_id=provider_id,
            requested_scopes=requested_scopes,
            status=status,
            updated_at=updated_at,
            workspace_id=workspace_id,
            activated_at=activated_at,
            consent_expires_at=consent_expires_at,
            error=error,
            granted_scopes=granted_scopes,
        )

        connection.additional_properties = d
        return connection

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
