from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="QueryParamStrategy")


@_attrs_define
class QueryParamStrategy:
    """`?<param_name>=<credentials[credential_field]>`

    Attributes:
        param_name (str): Query parameter to set
        credential_field (str | Unset): Credential field whose value is sent (default `api_key`)
    """

    param_name: str
    credential_field: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        param_name = self.param_name

        credential_field = self.credential_field

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "param_name": param_name,
            }
        )
        if credential_field is not UNSET:
            field_dict["credential_field"] = credential_field

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        param_name = d.pop("param_name")

        credential_field = d.pop("credential_field", UNSET)

        query_param_strategy = cls(
            param_name=param_name,
            credential_field=credential_field,
        )

        query_param_strategy.additional_properties = d
        return query_param_strategy

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
