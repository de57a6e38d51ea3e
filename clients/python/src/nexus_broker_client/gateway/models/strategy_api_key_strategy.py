from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.strategy_api_key_strategy_type import StrategyApiKeyStrategyType, check_strategy_api_key_strategy_type
from ..types import UNSET, Unset

T = TypeVar("T", bound="StrategyApiKeyStrategy")


@_attrs_define
class StrategyApiKeyStrategy:
    """How an agent injects the credential into its requests to the provider

    Attributes:
        type_ (StrategyApiKeyStrategyType):  Example: api_key.
        header_name (str | Unset): Header to set (default `X-API-Key`)
    """

    type_: StrategyApiKeyStrategyType
    header_name: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_: str = self.type_

        header_name = self.header_name

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
            }
        )
        if header_name is not UNSET:
            field_dict["header_name"] = header_name

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        type_ = check_strategy_api_key_strategy_type(d.pop("type"))

        header_name = d.pop("header_name", UNSET)

        strategy_api_key_strategy = cls(
            type_=type_,
            header_name=header_name,
        )

        strategy_api_key_strategy.additional_properties = d
        return strategy_api_key_strategy

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
