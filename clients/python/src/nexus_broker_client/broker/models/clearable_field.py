from typing import Literal

ClearableField = Literal[
    "api_base_url",
    "authorization_url",
    "category",
    "description",
    "docs_url",
    "issuer",
    "logo_url",
    "mcp_server_url",
    "refresh_url",
    "revocation_url",
    "strategy",
    "token_url",
    "verification",
]

CLEARABLE_FIELD_VALUES: set[ClearableField] = {
    "api_base_url",
    "authorization_url",
    "category",
    "description",
    "docs_url",
    "issuer",
    "logo_url",
    "mcp_server_url",
    "refresh_url",
    "revocation_url",
    "strategy",
    "token_url",
    "verification",
}


def check_clearable_field(value: str) -> ClearableField:
    if value in CLEARABLE_FIELD_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {CLEARABLE_FIELD_VALUES!r}")
