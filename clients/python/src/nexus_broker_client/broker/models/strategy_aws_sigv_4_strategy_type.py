from typing import Literal

StrategyAwsSigv4StrategyType = Literal["aws_sigv4"]

STRATEGY_AWS_SIGV_4_STRATEGY_TYPE_VALUES: set[StrategyAwsSigv4StrategyType] = {
    "aws_sigv4",
}


def check_strategy_aws_sigv_4_strategy_type(value: str) -> StrategyAwsSigv4StrategyType:
    if value in STRATEGY_AWS_SIGV_4_STRATEGY_TYPE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {STRATEGY_AWS_SIGV_4_STRATEGY_TYPE_VALUES!r}")
