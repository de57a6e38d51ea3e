from typing import Literal

BackgroundTaskOutcome = Literal["failed", "succeeded", "timed_out"]

BACKGROUND_TASK_OUTCOME_VALUES: set[BackgroundTaskOutcome] = {
    "failed",
    "succeeded",
    "timed_out",
}


def check_background_task_outcome(value: str) -> BackgroundTaskOutcome:
    if value in BACKGROUND_TASK_OUTCOME_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {BACKGROUND_TASK_OUTCOME_VALUES!r}")
