from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.background_task_activation import BackgroundTaskActivation, check_background_task_activation
from ..models.background_task_outcome import BackgroundTaskOutcome, check_background_task_outcome

T = TypeVar("T", bound="BackgroundTaskLastRun")


@_attrs_define
class BackgroundTaskLastRun:
    """Absent before the first run

    Attributes:
        activation (BackgroundTaskActivation): Why a run started
        duration_ms (int):
        outcome (BackgroundTaskOutcome): How a run ended
        started_at (datetime.datetime):
        summary (str): What it did, or why it failed
    """

    activation: BackgroundTaskActivation
    duration_ms: int
    outcome: BackgroundTaskOutcome
    started_at: datetime.datetime
    summary: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        activation: str = self.activation

        duration_ms = self.duration_ms

        outcome: str = self.outcome

        started_at = self.started_at.isoformat()

        summary = self.summary

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "activation": activation,
                "duration_ms": duration_ms,
                "outcome": outcome,
                "started_at": started_at,
                "summary": summary,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        activation = check_background_task_activation(d.pop("activation"))

        duration_ms = d.pop("duration_ms")

        outcome = check_background_task_outcome(d.pop("outcome"))

        started_at = datetime.datetime.fromisoformat(d.pop("started_at"))

        summary = d.pop("summary")

        background_task_last_run = cls(
            activation=activation,
            duration_ms=duration_ms,
            outcome=outcome,
            started_at=started_at,
            summary=summary,
        )

        background_task_last_run.additional_properties = d
        return background_task_last_run

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
