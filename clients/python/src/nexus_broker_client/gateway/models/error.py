from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Error")


@_attrs_define
class Error:
    """The body of every non-2xx answer.

    Attributes:
        code (str): Stable, machine-readable error code (snake_case), one of:

            - `provider_not_found` (404): No provider has that name
            - `connection_not_found` (404): No connection has that id in this workspace (or none is active for it)
            - `agent_key_not_found` (404): No agent key has that id
            - `template_not_found` (404): The provider catalog has no template of that name
            - `webhook_not_found` (404): No webhook has that id
            - `webhook_delivery_not_found` (404): The webhook has no delivery with that id
            - `background_task_not_found` (404): This process runs no background task of that name
            - `provider_exists` (409): A provider with that name exists already
            - `connection_exists` (409): The connection exists already
            - `agent_key_exists` (409): An agent key with that name exists already
            - `invalid_request` (400): The request is malformed or a field is invalid (`field` names it)
            - `invalid_state` (400): The consent's `state` is unknown, expired, already used or forged
            - `provider_misconfigured` (502): The provider refused Nexus's client credentials or endpoints: an operator must
            fix the provider
            - `unauthenticated` (401): No key, or a key that is not valid for this API
            - `forbidden` (403): The key is valid but may not do this (another workspace, say)
            - `proxy_only_key` (403): The agent key is `proxy_only`: call the API through `/v1/proxy`, which never hands out
            the credential
            - `origin_not_allowed` (403): The proxied request's URL is outside the provider's `api_origins`, or at an
            address the outbound policy refuses
            - `provider_in_use` (409): The provider still has connections: delete or revoke them first
            - `connection_pending` (409): The user has not finished the consent yet
            - `connection_revoked` (409): The connection was revoked: request a new one
            - `connection_failed` (409): The consent failed: request a new connection
            - `connection_expired` (409): The credential expired and cannot be refreshed: the user must consent again
            - `not_refreshable` (409): The connection has no refresh token (or is not OAuth2)
            - `attention_required` (409): The provider revoked the grant: send the user to consent again (`connection_id`)
            - `insufficient_scope` (409): The connection lacks scopes the request names (`missing_scopes`): run an
            incremental consent of `connection_id` with them
            - `scope_not_granted` (409): The provider did not grant these scopes in the last consents that asked for them:
            stop asking (the user or the provider's policy refuses them), or ask for other scopes
            - `upstream_unavailable` (502): The provider failed or timed out; retry, after `Retry-After` when given
            - `broker_unavailable` (503): A split Gateway cannot reach its Broker; retry after `Retry-After`
            - `service_unavailable` (503): Nexus cannot serve right now (its database refused, reset, restarted, locked or
            timed out; or it is shutting down); retry after `Retry-After`
            - `internal_error` (500): A bug or an unexpected failure; quote `request_id` when reporting it
            - `route_not_found` (404): No such path
            - `method_not_allowed` (405): The path exists but not with this method (`Allow` lists those it takes)
            - `payload_too_large` (413): The body is larger than the limit: 64 KiB for the APIs,
            `NEXUS_PROXY_MAX_BODY_BYTES` through the proxy
            - `unsupported_media_type` (415): The body is not `application/json`
        message (str): What went wrong, safe to show to users
        request_id (str): Id of the request, also in the `X-Request-Id` header; quote it when reporting a problem
        connection_id (UUID | Unset): The connection the error is about, when the request did not name it: a resolve
            answered
            `attention_required` or `connection_pending` names the connection to re-consent or wait
            for, and `insufficient_scope` the one to consent again with more scopes
        field (str | Unset): The request field the error is about, for invalid input
        missing_scopes (list[str] | Unset): For `insufficient_scope`: the scopes the connection was not granted
    """

    code: str
    message: str
    request_id: str
    connection_id: UUID | Unset = UNSET
    field: str | Unset = UNSET
    missing_scopes: list[str] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        code = self.code

        message = self.message

        request_id = self.request_id

        connection_id: str | Unset = UNSET
        if not isinstance(self.connection_id, Unset):
            connection_id = str(self.connection_id)

        field = self.field

        missing_scopes: list[str] | Unset = UNSET
        if not isinstance(self.missing_scopes, Unset):
            missing_scopes = self.missing_scopes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "code": code,
                "message": message,
                "request_id": request_id,
            }
        )
        if connection_id is not UNSET:
            field_dict["connection_id"] = connection_id
        if field is not UNSET:
            field_dict["field"] = field
        if missing_scopes is not UNSET:
            field_dict["missing_scopes"] = missing_scopes

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        code = d.pop("code")

        message = d.pop("message")

        request_id = d.pop("request_id")

        _connection_id = d.pop("connection_id", UNSET)
        connection_id: UUID | Unset
        if isinstance(_connection_id, Unset):
            connection_id = UNSET
        else:
            connection_id = UUID(_connection_id)

        field = d.pop("field", UNSET)

        missing_scopes = cast(list[str], d.pop("missing_scopes", UNSET))

        error = cls(
            code=code,
            message=message,
            request_id=request_id,
            connection_id=connection_id,
            field=field,
            missing_scopes=missing_scopes,
        )

        error.additional_properties = d
        return error

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
