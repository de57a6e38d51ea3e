from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ServedReads")


@_attrs_define
class ServedReads:
    """Reads served under one receipt

    Attributes:
        first_at (datetime.datetime):
        last_at (datetime.datetime):
        reads (int):
        receipt (str):
        stale (bool | Unset): Reads served while the Broker could not answer. A receipt's fresh reads and its stale
            reads are each counted once: a second report of either is not counted. Default: False.
    """

    first_at: datetime.datetime
    last_at: datetime.datetime
    reads: int
    receipt: str
    stale: bool | Unset = False

    def to_dict(self) -> dict[str, Any]:
        first_at = self.first_at.isoformat()

        last_at = self.last_at.isoformat()

        reads = self.reads

        receipt = self.receipt

        stale = self.stale

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "first_at": first_at,
                "last_at": last_at,
                "reads": reads,
                "receipt": receipt,
            }
        )
        if stale is not UNSET:
            field_dict["stale"] = stale

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        first_at = datetime.datetime.fromisoformat(d.pop("first_at"))

        last_at = datetime.datetime.fromisoformat(d.pop("last_at"))

        reads = d.pop("reads")

        receipt = d.pop("receipt")

        stale = d.pop("stale", UNSET)

        served_reads = cls(
            first_at=first_at,
            last_at=last_at,
            reads=reads,
            receipt=receipt,
            stale=stale,
        )

        return served_reads
