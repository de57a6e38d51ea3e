from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ConnectionRequested")


@_attrs_define
class ConnectionRequested:
    """Where to send the user: the provider's consent page, or Nexus's hosted form

    Attributes:
        auth_url (str):
        connection_id (UUID):
        expires_at (datetime.datetime):
    """

    auth_url: str
    connection_id: UUID
    expires_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        auth_url = self.auth_url

        connection_id = str(self.connection_id)

        expires_at = self.expires_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "auth_url": auth_url,
                "connection_id": connection_id,
                "expires_at": expires_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        auth_url = d.pop("auth_url")

        connection_id = UUID(d.pop("connection_id"))

        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))

        connection_requested = cls(
            auth_url=auth_url,
            connection_id=connection_id,
            expires_at=expires_at,
        )

        connection_requested.additional_properties = d
        return connection_requested

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
