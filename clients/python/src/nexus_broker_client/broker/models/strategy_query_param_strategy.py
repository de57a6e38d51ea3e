from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.strategy_query_param_strategy_type import (
    StrategyQueryParamStrategyType,
    check_strategy_query_param_strategy_type,
)
from ..types import UNSET, Unset

T = TypeVar("T", bound="StrategyQueryParamStrategy")


@_attrs_define
class StrategyQueryParamStrategy:
    """How an agent injects the credential into its requests to the provider

    Attributes:
        param_name (str): Query parameter to set
        type_ (StrategyQueryParamStrategyType):  Example: query_param.
        credential_field (str | Unset): Credential field whose value is sent (default `api_key`)
    """

    param_name: str
    type_: StrategyQueryParamStrategyType
    credential_field: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        param_name = self.param_name

        type_: str = self.type_

        credential_field = self.credential_field

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "param_name": param_name,
                "type": type_,
            }
        )
        if credential_field is not UNSET:
            field_dict["credential_field"] = credential_field

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        param_name = d.pop("param_name")

        type_ = check_strategy_query_param_strategy_type(d.pop("type"))

        credential_field = d.pop("credential_field", UNSET)

        strategy_query_param_strategy = cls(
            param_name=param_name,
            type_=type_,
            credential_field=credential_field,
        )

        strategy_query_param_strategy.additional_properties = d
        return strategy_query_param_strategy

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
