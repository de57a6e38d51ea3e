from typing import Literal

StrategyOauth2StrategyType = Literal["oauth2"]

STRATEGY_OAUTH_2_STRATEGY_TYPE_VALUES: set[StrategyOauth2StrategyType] = {
    "oauth2",
}


def check_strategy_oauth_2_strategy_type(value: str) -> StrategyOauth2StrategyType:
    if value in STRATEGY_OAUTH_2_STRATEGY_TYPE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {STRATEGY_OAUTH_2_STRATEGY_TYPE_VALUES!r}")
