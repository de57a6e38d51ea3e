from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="BasicAuthStrategy")


@_attrs_define
class BasicAuthStrategy:
    """`Authorization: Basic base64(<username>:<password>)`

    Attributes:
        password_field (str | Unset): Credential field holding the password (default `password`)
        username_field (str | Unset): Credential field holding the username (default `username`)
    """

    password_field: str | Unset = UNSET
    username_field: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        password_field = self.password_field

        username_field = self.username_field

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if password_field is not UNSET:
            field_dict["password_field"] = password_field
        if username_field is not UNSET:
            field_dict["username_field"] = username_field

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        password_field = d.pop("password_field", UNSET)

        username_field = d.pop("username_field", UNSET)

        basic_auth_strategy = cls(
            password_field=password_field,
            username_field=username_field,
        )

        basic_auth_strategy.additional_properties = d
        return basic_auth_strategy

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
