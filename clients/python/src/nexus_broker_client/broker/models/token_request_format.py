from typing import Literal

TokenRequestFormat = Literal["form", "json"]

TOKEN_REQUEST_FORMAT_VALUES: set[TokenRequestFormat] = {
    "form",
    "json",
}


def check_token_request_format(value: str) -> TokenRequestFormat:
    if value in TOKEN_REQUEST_FORMAT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {TOKEN_REQUEST_FORMAT_VALUES!r}")
