from typing import Literal

BackgroundTaskActivation = Literal["demand", "timer"]

BACKGROUND_TASK_ACTIVATION_VALUES: set[BackgroundTaskActivation] = {
    "demand",
    "timer",
}


def check_background_task_activation(value: str) -> BackgroundTaskActivation:
    if value in BACKGROUND_TASK_ACTIVATION_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {BACKGROUND_TASK_ACTIVATION_VALUES!r}")
