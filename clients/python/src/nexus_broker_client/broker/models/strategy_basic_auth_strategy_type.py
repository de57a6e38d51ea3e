from typing import Literal

StrategyBasicAuthStrategyType = Literal["basic_auth"]

STRATEGY_BASIC_AUTH_STRATEGY_TYPE_VALUES: set[StrategyBasicAuthStrategyType] = {
    "basic_auth",
}


def check_strategy_basic_auth_strategy_type(value: str) -> StrategyBasicAuthStrategyType:
    if value in STRATEGY_BASIC_AUTH_STRATEGY_TYPE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {STRATEGY_BASIC_AUTH_STRATEGY_TYPE_VALUES!r}")
