from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.strategy_oauth_2_strategy_type import StrategyOauth2StrategyType, check_strategy_oauth_2_strategy_type

T = TypeVar("T", bound="StrategyOauth2Strategy")


@_attrs_define
class StrategyOauth2Strategy:
    """How an agent injects the credential into its requests to the provider

    Attributes:
        type_ (StrategyOauth2StrategyType):  Example: oauth2.
    """

    type_: StrategyOauth2StrategyType
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_: str = self.type_

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        type_ = check_strategy_oauth_2_strategy_type(d.pop("type"))

        strategy_oauth_2_strategy = cls(
            type_=type_,
        )

        strategy_oauth_2_strategy.additional_properties = d
        return strategy_oauth_2_strategy

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
