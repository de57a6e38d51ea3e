from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.served_reads import ServedReads


T = TypeVar("T", bound="ServedReadsReport")


@_attrs_define
class ServedReadsReport:
    """Reads a split Gateway served from its cache since its last report

    Attributes:
        reads (list[ServedReads]): At most 50 entries, so that a full report stays well under the 64 KiB body limit.
    """

    reads: list[ServedReads]

    def to_dict(self) -> dict[str, Any]:
        reads = []
        for reads_item_data in self.reads:
            reads_item = reads_item_data.to_dict()
            reads.append(reads_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "reads": reads,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.served_reads import ServedReads  # noqa: PLC0415

        d = dict(src_dict)
        reads = []
        _reads = d.pop("reads")
        for reads_item_data in _reads:
            reads_item = ServedReads.from_dict(reads_item_data)

            reads.append(reads_item)

        served_reads_report = cls(
            reads=reads,
        )

        return served_reads_report
