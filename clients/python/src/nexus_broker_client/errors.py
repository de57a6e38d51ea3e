"""The SDK's typed error: what the Gateway answered (its stable ``code``, ``message``,
``request_id``, and the ``field`` or ``connection_id`` it is about), or why the SDK itself
refused (``code`` such as ``missing_credential_field``). ``insufficient_scope`` is its own type,
``InsufficientScopeError``, with the scopes the connection lacks. Never holds a key or a
token."""

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


class InsufficientScopeError(NexusError):
    """The connection lacks scopes the read named: ``missing_scopes``. Start an incremental
    consent of ``connection_id`` with ``Credentials.request_scopes`` (the same connection id;
    the user grants the union of what it has and what is missing)."""

    def __init__(
        self,
        message: str,
        *,
        missing_scopes: list[str],
        connection_id: str,
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(
            "insufficient_scope", message, status=status, request_id=request_id, connection_id=connection_id
        )
        self.missing_scopes = missing_scopes
        self.connection_id: str = connection_id
