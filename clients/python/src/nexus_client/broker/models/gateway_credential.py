from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.credential_envelope import CredentialEnvelope


T = TypeVar("T", bound="GatewayCredential")


@_attrs_define
class GatewayCredential:
    """A credential for a split Gateway: it may serve it again to the same agent key for
    `cache_for_ms` milliseconds, and reports those reads with `receipt`

        Attributes:
            cache_for_ms (int):
            envelope (CredentialEnvelope): The current credential and how to inject it. Never a refresh token, client secret
                or PKCE verifier
            receipt (str):
    """

    cache_for_ms: int
    envelope: CredentialEnvelope
    receipt: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cache_for_ms = self.cache_for_ms

        envelope = self.envelope.to_dict()

        receipt = self.receipt

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "cache_for_ms": cache_for_ms,
                "envelope": envelope,
                "receipt": receipt,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.credential_envelope import CredentialEnvelope  # noqa: PLC0415

        d = dict(src_dict)
        cache_for_ms = d.pop("cache_for_ms")

        envelope = CredentialEnvelope.from_dict(d.pop("envelope"))

        receipt = d.pop("receipt")

        gateway_credential = cls(
            cache_for_ms=cache_for_ms,
            envelope=envelope,
            receipt=receipt,
        )

        gateway_credential.additional_properties = d
        return gateway_credential

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
