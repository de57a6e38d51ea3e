from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.verification_method import VerificationMethod, check_verification_method
from ..types import UNSET, Unset

T = TypeVar("T", bound="Verification")


@_attrs_define
class Verification:
    """A live check of captured credentials: the strategy is applied to a request to `url` (with
    `method`, `GET` when absent); any 2xx accepts them

        Attributes:
            url (str):
            method (VerificationMethod | Unset):
    """

    url: str
    method: VerificationMethod | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        url = self.url

        method: str | Unset = UNSET
        if not isinstance(self.method, Unset):
            method = self.method

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "url": url,
            }
        )
        if method is not UNSET:
            field_dict["method"] = method

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        url = d.pop("url")

        _method = d.pop("method", UNSET)
        method: VerificationMethod | Unset
        if isinstance(_method, Unset):
            method = UNSET
        else:
            method = check_verification_method(_method)

        verification = cls(
            url=url,
            method=method,
        )

        return verification
