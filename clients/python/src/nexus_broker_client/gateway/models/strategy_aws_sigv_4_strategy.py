from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.strategy_aws_sigv_4_strategy_type import (
    StrategyAwsSigv4StrategyType,
    check_strategy_aws_sigv_4_strategy_type,
)

T = TypeVar("T", bound="StrategyAwsSigv4Strategy")


@_attrs_define
class StrategyAwsSigv4Strategy:
    """How an agent injects the credential into its requests to the provider

    Attributes:
        region (str): The region, such as `eu-west-1`
        service (str): The signing name of the service, such as `execute-api`, `s3` or `bedrock`
        type_ (StrategyAwsSigv4StrategyType):  Example: aws_sigv4.
    """

    region: str
    service: str
    type_: StrategyAwsSigv4StrategyType
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        region = self.region

        service = self.service

        type_: str = self.type_

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "region": region,
                "service": service,
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        region = d.pop("region")

        service = d.pop("service")

        type_ = check_strategy_aws_sigv_4_strategy_type(d.pop("type"))

        strategy_aws_sigv_4_strategy = cls(
            region=region,
            service=service,
            type_=type_,
        )

        strategy_aws_sigv_4_strategy.additional_properties = d
        return strategy_aws_sigv_4_strategy

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
