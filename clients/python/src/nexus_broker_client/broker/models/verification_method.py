from typing import Literal

VerificationMethod = Literal["GET", "HEAD", "POST"]

VERIFICATION_METHOD_VALUES: set[VerificationMethod] = {
    "GET",
    "HEAD",
    "POST",
}


def check_verification_method(value: str) -> VerificationMethod:
    if value in VERIFICATION_METHOD_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {VERIFICATION_METHOD_VALUES!r}")
