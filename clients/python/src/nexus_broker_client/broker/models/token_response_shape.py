from typing import Literal

TokenResponseShape = Literal["salesforce", "slack_bot", "slack_user", "standard"]

TOKEN_RESPONSE_SHAPE_VALUES: set[TokenResponseShape] = {
    "salesforce",
    "slack_bot",
    "slack_user",
    "standard",
}


def check_token_response_shape(value: str) -> TokenResponseShape:
    if value in TOKEN_RESPONSE_SHAPE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {TOKEN_RESPONSE_SHAPE_VALUES!r}")
