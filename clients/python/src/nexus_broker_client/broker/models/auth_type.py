from typing import Literal

AuthType = Literal["api_key", "aws_sigv4", "basic_auth", "oauth2"]

AUTH_TYPE_VALUES: set[AuthType] = {
    "api_key",
    "aws_sigv4",
    "basic_auth",
    "oauth2",
}


def check_auth_type(value: str) -> AuthType:
    if value in AUTH_TYPE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {AUTH_TYPE_VALUES!r}")
