from typing import Literal

StrategyApiKeyStrategyType = Literal["api_key"]

STRATEGY_API_KEY_STRATEGY_TYPE_VALUES: set[StrategyApiKeyStrategyType] = {
    "api_key",
}


def check_strategy_api_key_strategy_type(value: str) -> StrategyApiKeyStrategyType:
    if value in STRATEGY_API_KEY_STRATEGY_TYPE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {STRATEGY_API_KEY_STRATEGY_TYPE_VALUES!r}")
