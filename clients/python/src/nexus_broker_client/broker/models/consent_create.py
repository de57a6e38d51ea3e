from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.consent_create_connection_params import ConsentCreateConnectionParams


T = TypeVar("T", bound="ConsentCreate")


@_attrs_define
class ConsentCreate:
    """Start a consent (OAuth2) or a credential capture (API key, basic auth)

    Attributes:
        provider (str): Provider name (or id)
        return_url (str): Where the user's browser returns, with `status`, `connection_id` and `provider` added
        workspace_id (str):
        connection_id (UUID | Unset): Re-consent this existing connection, keeping its id; with `scopes`, an incremental
            consent
            asking for the union of its grant and these
        connection_params (ConsentCreateConnectionParams | Unset): Values for the provider's connection parameters (its
            `connection_params`, such as a
            Zendesk `subdomain`): each checked against the declared pattern, stored with the
            connection and used for all its URLs. A re-consent keeps the connection's values
        scopes (list[str] | Unset): Scopes to request; the provider's defaults when absent or empty
    """

    provider: str
    return_url: str
    workspace_id: str
    connection_id: UUID | Unset = UNSET
    connection_params: ConsentCreateConnectionParams | Unset = UNSET
    scopes: list[str] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        provider = self.provider

        return_url = self.return_url

        workspace_id = self.workspace_id

        connection_id: str | Unset = UNSET
        if not isinstance(self.connection_id, Unset):
            connection_id = str(self.connection_id)

        connection_params: dict[str, Any] | Unset = UNSET
        if not isinstance(self.connection_params, Unset):
            connection_params = self.connection_params.to_dict()

        scopes: list[str] | Unset = UNSET
        if not isinstance(self.scopes, Unset):
            scopes = self.scopes

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "provider": provider,
                "return_url": return_url,
                "workspace_id": workspace_id,
            }
        )
        if connection_id is not UNSET:
            field_dict["connection_id"] = connection_id
        if connection_params is not UNSET:
            field_dict["connection_params"] = connection_params
        if scopes is not UNSET:
            field_dict["scopes"] = scopes

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.consent_create_connection_params import ConsentCreateConnectionParams  # noqa: PLC0415

        d = dict(src_dict)
        provider = d.pop("provider")

        return_url = d.pop("return_url")

        workspace_id = d.pop("workspace_id")

        _connection_id = d.pop("connection_id", UNSET)
        connection_id: UUID | Unset
        if isinstance(_connection_id, Unset):
            connection_id = UNSET
        else:
            connection_id = UUID(_connection_id)

        _connection_params = d.pop("connection_params", UNSET)
        connection_params: ConsentCreateConnectionParams | Unset
        if isinstance(_connection_params, Unset):
            connection_params = UNSET
        else:
            connection_params = ConsentCreateConnectionParams.from_dict(_connection_params)

        scopes = cast(list[str], d.pop("scopes", UNSET))

        consent_create = cls(
            provider=provider,
            return_url=return_url,
            workspace_id=workspace_id,
            connection_id=connection_id,
            connection_params=connection_params,
            scopes=scopes,
        )

        return consent_create
