from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="ConnectionParam")


@_attrs_define
class ConnectionParam:
    """A value each connection supplies to fill `{name}` placeholders in the provider's URLs (a
    Zendesk subdomain, a Salesforce instance). Values may only hold letters, digits, `-`, `_`,
    `~` and inner dots, and must match `pattern`

        Attributes:
            description (str): Shown to whoever supplies the value
            name (str): Snake case; `{name}` in the URLs
            pattern (str): A fully anchored pattern (`^...$`, the Rust `regex` crate's syntax) every value matches
            choices (list[str] | Unset): The only values allowed, when there is a fixed list (regions, say)
            default (str | Unset): Used when a connection gives no value
            optional (bool | Unset): A connection may leave it out: only `url_overrides` may use it (the override then
                applies only to connections that give it)
    """

    description: str
    name: str
    pattern: str
    choices: list[str] | Unset = UNSET
    default: str | Unset = UNSET
    optional: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        description = self.description

        name = self.name

        pattern = self.pattern

        choices: list[str] | Unset = UNSET
        if not isinstance(self.choices, Unset):
            choices = self.choices

        default = self.default

        optional = self.optional

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "description": description,
                "name": name,
                "pattern": pattern,
            }
        )
        if choices is not UNSET:
            field_dict["choices"] = choices
        if default is not UNSET:
            field_dict["default"] = default
        if optional is not UNSET:
            field_dict["optional"] = optional

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        description = d.pop("description")

        name = d.pop("name")

        pattern = d.pop("pattern")

        choices = cast(list[str], d.pop("choices", UNSET))

        default = d.pop("default", UNSET)

        optional = d.pop("optional", UNSET)

        connection_param = cls(
            description=description,
            name=name,
            pattern=pattern,
            choices=choices,
            default=default,
            optional=optional,
        )

        connection_param.additional_properties = d
        return connection_param

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
