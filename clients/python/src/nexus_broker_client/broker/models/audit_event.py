from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.audit_event_type import AuditEventType, check_audit_event_type
from ..types import UNSET, Unset

T = TypeVar("T", bound="AuditEvent")


@_attrs_define
class AuditEvent:
    """
    Attributes:
        actor (str): `admin:<key fingerprint>`, `agent_key:<id>`, `system` or `anonymous`
        data (Any):
        event_type (AuditEventType): What happened
        id (UUID):
        occurred_at (datetime.datetime):
        connection_id (UUID | Unset):
        provider_id (UUID | Unset):
        workspace_id (str | Unset):
    """

    actor: str
    data: Any
    event_type: AuditEventType
    id: UUID
    occurred_at: datetime.datetime
    connection_id: UUID | Unset = UNSET
    provider_id: UUID | Unset = UNSET
    workspace_id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        actor = self.actor

        data = self.data

        event_type: str = self.event_type

        id = str(self.id)

        occurred_at = self.occurred_at.isoformat()

        connection_id: str | Unset = UNSET
        if not isinstance(self.connection_id, Unset):
            connection_id = str(self.connection_id)

        provider_id: str | Unset = UNSET
        if not isinstance(self.provider_id, Unset):
            provider_id = str(self.provider_id)

        workspace_id = self.workspace_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "actor": actor,
                "data": data,
                "event_type": event_type,
                "id": id,
                "occurred_at": occurred_at,
            }
        )
        if connection_id is not UNSET:
            field_dict["connection_id"] = connection_id
        if provider_id is not UNSET:
            field_dict["provider_id"] = provider_id
        if workspace_id is not UNSET:
            field_dict["workspace_id"] = workspace_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        actor = d.pop("actor")

        data = d.pop("data")

        event_type = check_audit_event_type(d.pop("event_type"))

        id = UUID(d.pop("id"))

        occurred_at = datetime.datetime.fromisoformat(d.pop("occurred_at"))

        _connection_id = d.pop("connection_id", UNSET)
        connection_id: UUID | Unset
        if isinstance(_connection_id, Unset):
            connection_id = UNSET
        else:
            connection_id = UUID(_connection_id)

        _provider_id = d.pop("provider_id", UNSET)
        provider_id: UUID | Unset
        if isinstance(_provider_id, Unset):
            provider_id = UNSET
        else:
            provider_id = UUID(_provider_id)

        workspace_id = d.pop("workspace_id", UNSET)

        audit_event = cls(
            actor=actor,
            data=data,
            event_type=event_type,
            id=id,
            occurred_at=occurred_at,
            connection_id=connection_id,
            provider_id=provider_id,
            workspace_id=workspace_id,
        )

        audit_event.additional_properties = d
        return audit_event

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
