from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.auth_type import AuthType, check_auth_type
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.connection_param import ConnectionParam


T = TypeVar("T", bound="CatalogEntry")


@_attrs_define
class CatalogEntry:
    """A provider an agent may connect to: what it is and how it authenticates; no secrets

    Attributes:
        auth_type (AuthType):
        connection_params (list[ConnectionParam]): Values a connection request must supply (`connection_params` of
            request-connection)
        default_scopes (list[str]): Scopes requested when the agent names none
        display_name (str):
        name (str):
        api_base_url (str | Unset): May hold `{name}` placeholders that `connection_params` fill per connection
        category (str | Unset):
        description (str | Unset):
    """

    auth_type: AuthType
    connection_params: list[ConnectionParam]
    default_scopes: list[str]
    display_name: str
    name: str
    api_base_url: str | Unset = UNSET
    category: str | Unset = UNSET
    description: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        auth_type: str = self.auth_type

        connection_params = []
        for connection_params_item_data in self.connection_params:
            connection_params_item = connection_params_item_data.to_dict()
            connection_params.append(connection_params_item)

        default_scopes = self.default_scopes

        display_name = self.display_name

        name = self.name

        api_base_url = self.api_base_url

        category = self.category

        description = self.description

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "auth_type": auth_type,
                "connection_params": connection_params,
                "default_scopes": default_scopes,
                "display_name": display_name,
                "name": name,
            }
        )
        if api_base_url is not UNSET:
            field_dict["api_base_url"] = api_base_url
        if category is not UNSET:
            field_dict["category"] = category
        if description is not UNSET:
            field_dict["description"] = description

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.connection_param import ConnectionParam  # noqa: PLC0415

        d = dict(src_dict)
        auth_type = check_auth_type(d.pop("auth_type"))

        connection_params = []
        _connection_params = d.pop("connection_params")
        for connection_params_item_data in _connection_params:
            connection_params_item = ConnectionParam.from_dict(connection_params_item_data)

            connection_params.append(connection_params_item)

        default_scopes = cast(list[str], d.pop("default_scopes"))

        display_name = d.pop("display_name")

        name = d.pop("name")

        api_base_url = d.pop("api_base_url", UNSET)

        category = d.pop("category", UNSET)

        description = d.pop("description", UNSET)

        catalog_entry = cls(
            auth_type=auth_type,
            connection_params=connection_params,
            default_scopes=default_scopes,
            display_name=display_name,
            name=name,
            api_base_url=api_base_url,
            category=category,
            description=description,
        )

        catalog_entry.additional_properties = d
        return catalog_entry

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
