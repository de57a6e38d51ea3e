from typing import Literal

StrategyQueryParamStrategyType = Literal["query_param"]

STRATEGY_QUERY_PARAM_STRATEGY_TYPE_VALUES: set[StrategyQueryParamStrategyType] = {
    "query_param",
}


def check_strategy_query_param_strategy_type(value: str) -> StrategyQueryParamStrategyType:
    if value in STRATEGY_QUERY_PARAM_STRATEGY_TYPE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {STRATEGY_QUERY_PARAM_STRATEGY_TYPE_VALUES!r}")
