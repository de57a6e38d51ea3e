from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="TemplateConnectionParam")


@_attrs_define
class TemplateConnectionParam:
    """A value a connection supplies to fill `{name}` in the template's URLs and parameters.

    Attributes:
        choices (list[str]): The only values allowed, when the provider has a fixed list
        description (str):
        name (str):
        optional (bool): Only an override uses it: a connection may leave it out
        pattern (str): Every value must match this (the `regex` crate's syntax, anchored)
        default (str | Unset):
    """

    choices: list[str]
    description: str
    name: str
    optional: bool
    pattern: str
    default: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        choices = self.choices

        description = self.description

        name = self.name

        optional = self.optional

        pattern = self.pattern

        default = self.default

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "choices": choices,
                "description": description,
                "name": name,
                "optional": optional,
                "pattern": pattern,
            }
        )
        if default is not UNSET:
            field_dict["default"] = default

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        choices = cast(list[str], d.pop("choices"))

        description = d.pop("description")

        name = d.pop("name")

        optional = d.pop("optional")

        pattern = d.pop("pattern")

        default = d.pop("default", UNSET)

        template_connection_param = cls(
            choices=choices,
            description=description,
            name=name,
            optional=optional,
            pattern=pattern,
            default=default,
        )

        template_connection_param.additional_properties = d
        return template_connection_param

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
