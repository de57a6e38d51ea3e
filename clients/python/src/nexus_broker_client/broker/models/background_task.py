from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.background_task_run import BackgroundTaskRun


T = TypeVar("T", bound="BackgroundTask")


@_attrs_define
class BackgroundTask:
    """One background task of the process that answered (`last_run` is absent before its first run)

    Attributes:
        description (str):
        failures (int): Runs that failed or timed out
        name (str): Stable name (also the `task` label of the `nexus_background_task_*` metrics)
        overruns (int): Runs that took longer than the period (the next run started late, never alongside)
        period_ms (int): Time between runs (from the end of one to the start of the next, before jitter)
        running (bool): Whether a run is in progress now
        runs (int):
        last_run (BackgroundTaskRun | Unset): A task's last run
        next_activation_at (datetime.datetime | Unset): When it runs next unless asked earlier; absent while it runs and
            after shutdown began
        timeout_ms (int | Unset): Longest a run may take before it is stopped; absent when runs are not cut off (the
            audit
            flush, and the claim runs, which end at shutdown)
    """

    description: str
    failures: int
    name: str
    overruns: int
    period_ms: int
    running: bool
    runs: int
    last_run: BackgroundTaskRun | Unset = UNSET
    next_activation_at: datetime.datetime | Unset = UNSET
    timeout_ms: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        description = self.description

        failures = self.failures

        name = self.name

        overruns = self.overruns

        period_ms = self.period_ms

        running = self.running

        runs = self.runs

        last_run: dict[str, Any] | Unset = UNSET
        if not isinstance(self.last_run, Unset):
            last_run = self.last_run.to_dict()

        next_activation_at: str | Unset = UNSET
        if not isinstance(self.next_activation_at, Unset):
            next_activation_at = self.next_activation_at.isoformat()

        timeout_ms = self.timeout_ms

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "description": description,
                "failures": failures,
                "name": name,
                "overruns": overruns,
                "period_ms": period_ms,
                "running": running,
                "runs": runs,
            }
        )
        if last_run is not UNSET:
            field_dict["last_run"] = last_run
        if next_activation_at is not UNSET:
            field_dict["next_activation_at"] = next_activation_at
        if timeout_ms is not UNSET:
            field_dict["timeout_ms"] = timeout_ms

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.background_task_run import BackgroundTaskRun  # noqa: PLC0415

        d = dict(src_dict)
        description = d.pop("description")

        failures = d.pop("failures")

        name = d.pop("name")

        overruns = d.pop("overruns")

        period_ms = d.pop("period_ms")

        running = d.pop("running")

        runs = d.pop("runs")

        _last_run = d.pop("last_run", UNSET)
        last_run: BackgroundTaskRun | Unset
        if isinstance(_last_run, Unset):
            last_run = UNSET
        else:
            last_run = BackgroundTaskRun.from_dict(_last_run)

        _next_activation_at = d.pop("next_activation_at", UNSET)
        next_activation_at: datetime.datetime | Unset
        if isinstance(_next_activation_at, Unset):
            next_activation_at = UNSET
        else:
            next_activation_at = datetime.datetime.fromisoformat(_next_activation_at)

        timeout_ms = d.pop("timeout_ms", UNSET)

        background_task = cls(
            description=description,
            failures=failures,
            name=name,
            overruns=overruns,
            period_ms=period_ms,
            running=running,
            runs=runs,
            last_run=last_run,
            next_activation_at=next_activation_at,
            timeout_ms=timeout_ms,
        )

        background_task.additional_properties = d
        return background_task

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
