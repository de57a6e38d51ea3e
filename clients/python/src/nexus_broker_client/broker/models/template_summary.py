from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.auth_type import AuthType, check_auth_type
from ..types import UNSET, Unset

T = TypeVar("T", bound="TemplateSummary")


@_attrs_define
class TemplateSummary:
    """A template in the catalog's list.

    Attributes:
        auth_type (AuthType):
        categories (list[str]):
        connection_params (list[str]): Names of the values a connection supplies (a subdomain, a region)
        display_name (str):
        name (str): The template's name, and the provider's name when created from it
        unsupported (list[str]): What a provider created from this template would need that Nexus does not do yet; empty
            when `POST /v1/providers` with `"template"` can create it
        docs_url (str | Unset): The integration guide for this provider
        logo_url (str | Unset):
    """

    auth_type: AuthType
    categories: list[str]
    connection_params: list[str]
    display_name: str
    name: str
    unsupported: list[str]
    docs_url: str | Unset = UNSET
    logo_url: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        auth_type: str = self.auth_type

        categories = self.categories

        connection_params = self.connection_params

        display_name = self.display_name

        name = self.name

        unsupported = self.unsupported

        docs_url = self.docs_url

        logo_url = self.logo_url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "auth_type": auth_type,
                "categories": categories,
                "connection_params": connection_params,
                "display_name": display_name,
                "name": name,
                "unsupported": unsupported,
            }
        )
        if docs_url is not UNSET:
            field_dict["docs_url"] = docs_url
        if logo_url is not UNSET:
            field_dict["logo_url"] = logo_url

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        auth_type = check_auth_type(d.pop("auth_type"))

        categories = cast(list[str], d.pop("categories"))

        connection_params = cast(list[str], d.pop("connection_params"))

        display_name = d.pop("display_name")

        name = d.pop("name")

        unsupported = cast(list[str], d.pop("unsupported"))

        docs_url = d.pop("docs_url", UNSET)

        logo_url = d.pop("logo_url", UNSET)

        template_summary = cls(
            auth_type=auth_type,
            categories=categories,
            connection_params=connection_params,
            display_name=display_name,
            name=name,
            unsupported=unsupported,
            docs_url=docs_url,
            logo_url=logo_url,
        )

        template_summary.additional_properties = d
        return template_summary

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
