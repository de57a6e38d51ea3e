from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="HeaderStrategy")


@_attrs_define
class HeaderStrategy:
    """`<header_name>: <value_prefix><credentials[credential_field]>`

    Attributes:
        header_name (str): Header to set, such as `Authorization` or `X-Api-Token`
        credential_field (str | Unset): Credential field whose value is sent (default `api_key`)
        value_prefix (str | Unset): Text put before the value, such as `token ` or `Bearer `
    """

    header_name: str
    credential_field: str | Unset = UNSET
    value_prefix: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        header_name = self.header_name

        credential_field = self.credential_field

        value_prefix = self.value_prefix

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "header_name": header_name,
            }
        )
        if credential_field is not UNSET:
            field_dict["credential_field"] = credential_field
        if value_prefix is not UNSET:
            field_dict["value_prefix"] = value_prefix

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        header_name = d.pop("header_name")

        credential_field = d.pop("credential_field", UNSET)

        value_prefix = d.pop("value_prefix", UNSET)

        header_strategy = cls(
            header_name=header_name,
            credential_field=credential_field,
            value_prefix=value_prefix,
        )

        header_strategy.additional_properties = d
        return header_strategy

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
