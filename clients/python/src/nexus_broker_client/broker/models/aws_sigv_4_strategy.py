from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="AwsSigv4Strategy")


@_attrs_define
class AwsSigv4Strategy:
    """AWS Signature Version 4 for `service` in `region` (the SDKs sign each request with
    `access_key_id`, `secret_access_key` and, when present, `session_token`)

        Attributes:
            region (str): The region, such as `eu-west-1`
            service (str): The signing name of the service, such as `execute-api`, `s3` or `bedrock`
    """

    region: str
    service: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        region = self.region

        service = self.service

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "region": region,
                "service": service,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        region = d.pop("region")

        service = d.pop("service")

        aws_sigv_4_strategy = cls(
            region=region,
            service=service,
        )

        aws_sigv_4_strategy.additional_properties = d
        return aws_sigv_4_strategy

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
