from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

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
            stale_for_ms (int | Unset): How long from now the Gateway may still serve it when the Broker cannot answer
                (absent
                from older Brokers: never)
            stale_seconds (int | Unset): Set when the Broker served it from memory (its database could not answer): how many
                seconds ago it was read from the database
    """

    cache_for_ms: int
    envelope: CredentialEnvelope
    receipt: str
    stale_for_ms: int | Unset = UNSET
    stale_seconds: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cache_for_ms = self.cache_for_ms

        envelope = self.envelope.to_dict()

        receipt = self.receipt

        stale_for_ms = self.stale_for_ms

        stale_seconds = self.stale_seconds

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "cache_for_ms": cache_for_ms,
                "envelope": envelope,
                "receipt": receipt,
            }
        )
        if stale_for_ms is not UNSET:
            field_dict["stale_for_ms"] = stale_for_ms
        if stale_seconds is not UNSET:
            field_dict["stale_seconds"] = stale_seconds

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.credential_envelope import CredentialEnvelope  # noqa: PLC0415

        d = dict(src_dict)
        cache_for_ms = d.pop("cache_for_ms")

        envelope = CredentialEnvelope.from_dict(d.pop("envelope"))

        receipt = d.pop("receipt")

        stale_for_ms = d.pop("stale_for_ms", UNSET)

        stale_seconds = d.pop("stale_seconds", UNSET)

        gateway_credential = cls(
            cache_for_ms=cache_for_ms,
            envelope=envelope,
            receipt=receipt,
            stale_for_ms=stale_for_ms,
            stale_seconds=stale_seconds,
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
