from typing import Literal

StrategyHeaderStrategyType = Literal["header"]

STRATEGY_HEADER_STRATEGY_TYPE_VALUES: set[StrategyHeaderStrategyType] = {
    "header",
}


def check_strategy_header_strategy_type(value: str) -> StrategyHeaderStrategyType:
    if value in STRATEGY_HEADER_STRATEGY_TYPE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {STRATEGY_HEADER_STRATEGY_TYPE_VALUES!r}")
