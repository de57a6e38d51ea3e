"""The SDK's typed error: what the Gateway answered (its stable ``code``, ``message``,
``request_id``, and the ``field`` or ``connection_id`` it is about), or why the SDK itself
refused (``code`` such as ``missing_credential_field``). Never holds a key or a token."""

from __future__ import annotations


class NexusError(Exception):
    """An error from Nexus, or from the SDK applying what Nexus returned."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        field: str | None = None,
        connection_id: str | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.request_id = request_id
        self.field = field
        self.connection_id = connection_id
