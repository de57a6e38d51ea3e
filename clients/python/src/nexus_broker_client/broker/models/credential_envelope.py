from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.credential_envelope_api_headers import CredentialEnvelopeApiHeaders
    from ..models.credential_envelope_api_query import CredentialEnvelopeApiQuery
    from ..models.credential_envelope_credentials import CredentialEnvelopeCredentials
    from ..models.strategy_api_key_strategy import StrategyApiKeyStrategy
    from ..models.strategy_aws_sigv_4_strategy import StrategyAwsSigv4Strategy
    from ..models.strategy_basic_auth_strategy import StrategyBasicAuthStrategy
    from ..models.strategy_header_strategy import StrategyHeaderStrategy
    from ..models.strategy_oauth_2_strategy import StrategyOauth2Strategy
    from ..models.strategy_query_param_strategy import StrategyQueryParamStrategy


T = TypeVar("T", bound="CredentialEnvelope")


@_attrs_define
class CredentialEnvelope:
    """The current credential and how to inject it. Never a refresh token, client secret or PKCE verifier

    Attributes:
        api_origins (list[str]): The origins this credential may be sent to (`scheme://host[:port]`, lowercase, an IDN
            in
            punycode, a default port left out; a host may start with `*.`, standing for exactly one
            label): `api_base_url`'s and those the provider declares. SDKs refuse, without sending,
            a request to any other origin, and never carry the credential across a redirect to
            another origin. Empty: the provider declares none, and nothing may carry it
        connection_id (UUID):
        credentials (CredentialEnvelopeCredentials): `access_token` and `token_type` for OAuth2; the captured fields for
            API keys and basic auth
        provider (str): Provider name
        scopes (list[str]):
        strategy (StrategyApiKeyStrategy | StrategyAwsSigv4Strategy | StrategyBasicAuthStrategy | StrategyHeaderStrategy
            | StrategyOauth2Strategy | StrategyQueryParamStrategy): How an agent injects the credential into its requests to
            the provider
        workspace_id (str):
        api_base_url (str | Unset): The provider's API base URL for this connection, its parameters filled in
        api_headers (CredentialEnvelopeApiHeaders | Unset): Headers the provider's API wants besides the credential
            (Notion's `Notion-Version`, an
            account id), set before the strategy is applied (the strategy's header wins). Absent: none
        api_query (CredentialEnvelopeApiQuery | Unset): Query parameters the provider's API wants besides the
            credential, added before the
            strategy is applied. Absent: none
        expires_at (datetime.datetime | Unset): When the credential expires; absent when it does not
    """

    api_origins: list[str]
    connection_id: UUID
    credentials: CredentialEnvelopeCredentials
    provider: str
    scopes: list[str]
    strategy: (
        StrategyApiKeyStrategy
        | StrategyAwsSigv4Strategy
        | StrategyBasicAuthStrategy
        | StrategyHeaderStrategy
        | StrategyOauth2Strategy
        | StrategyQueryParamStrategy
    )
    workspace_id: str
    api_base_url: str | Unset = UNSET
    api_headers: CredentialEnvelopeApiHeaders | Unset = UNSET
    api_query: CredentialEnvelopeApiQuery | Unset = UNSET
    expires_at: datetime.datetime | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.strategy_api_key_strategy import StrategyApiKeyStrategy  # noqa: PLC0415
        from ..models.strategy_basic_auth_strategy import StrategyBasicAuthStrategy  # noqa: PLC0415
        from ..models.strategy_header_strategy import StrategyHeaderStrategy  # noqa: PLC0415
        from ..models.strategy_oauth_2_strategy import StrategyOauth2Strategy  # noqa: PLC0415
        from ..models.strategy_query_param_strategy import StrategyQueryParamStrategy  # noqa: PLC0415

        api_origins = self.api_origins

        connection_id = str(self.connection_id)

        credentials = self.credentials.to_dict()

        provider = self.provider

        scopes = self.scopes

        strategy: dict[str, Any]
        if isinstance(self.strategy, StrategyOauth2Strategy):
            strategy = self.strategy.to_dict()
        elif isinstance(self.strategy, StrategyHeaderStrategy):
            strategy = self.strategy.to_dict()
        elif isinstance(self.strategy, StrategyQueryParamStrategy):
            strategy = self.strategy.to_dict()
        elif isinstance(self.strategy, StrategyBasicAuthStrategy):
            strategy = self.strategy.to_dict()
        elif isinstance(self.strategy, StrategyApiKeyStrategy):
            strategy = self.strategy.to_dict()
        else:
            strategy = self.strategy.to_dict()

        workspace_id = self.workspace_id

        api_base_url = self.api_base_url

        api_headers: dict[str, Any] | Unset = UNSET
        if not isinstance(self.api_headers, Unset):
            api_headers = self.api_headers.to_dict()

        api_query: dict[str, Any] | Unset = UNSET
        if not isinstance(self.api_query, Unset):
            api_query = self.api_query.to_dict()

        expires_at: str | Unset = UNSET
        if not isinstance(self.expires_at, Unset):
            expires_at = self.expires_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "api_origins": api_origins,
                "connection_id": connection_id,
                "credentials": credentials,
                "provider": provider,
                "scopes": scopes,
                "strategy": strategy,
                "workspace_id": workspace_id,
            }
        )
        if api_base_url is not UNSET:
            field_dict["api_base_url"] = api_base_url
        if api_headers is not UNSET:
            field_dict["api_headers"] = api_headers
        if api_query is not UNSET:
            field_dict["api_query"] = api_query
        if expires_at is not UNSET:
            field_dict["expires_at"] = expires_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.credential_envelope_api_headers import CredentialEnvelopeApiHeaders  # noqa: PLC0415
        from ..models.credential_envelope_api_query import CredentialEnvelopeApiQuery  # noqa: PLC0415
        from ..models.credential_envelope_credentials import CredentialEnvelopeCredentials  # noqa: PLC0415
        from ..models.strategy_api_key_strategy import StrategyApiKeyStrategy  # noqa: PLC0415
        from ..models.strategy_aws_sigv_4_strategy import StrategyAwsSigv4Strategy  # noqa: PLC0415
        from ..models.strategy_basic_auth_strategy import StrategyBasicAuthStrategy  # noqa: PLC0415
        from ..models.strategy_header_strategy import StrategyHeaderStrategy  # noqa: PLC0415
        from ..models.strategy_oauth_2_strategy import StrategyOauth2Strategy  # noqa: PLC0415
        from ..models.strategy_query_param_strategy import StrategyQueryParamStrategy  # noqa: PLC0415

        d = dict(src_dict)
        api_origins = cast(list[str], d.pop("api_origins"))

        connection_id = UUID(d.pop("connection_id"))

        credentials = CredentialEnvelopeCredentials.from_dict(d.pop("credentials"))

        provider = d.pop("provider")

        scopes = cast(list[str], d.pop("scopes"))

        def _parse_strategy(
            data: object,
        ) -> (
            StrategyApiKeyStrategy
            | StrategyAwsSigv4Strategy
            | StrategyBasicAuthStrategy
            | StrategyHeaderStrategy
            | StrategyOauth2Strategy
            | StrategyQueryParamStrategy
        ):
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_strategy_type_0 = StrategyOauth2Strategy.from_dict(data)

                return componentsschemas_strategy_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_strategy_type_1 = StrategyHeaderStrategy.from_dict(data)

                return componentsschemas_strategy_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_strategy_type_2 = StrategyQueryParamStrategy.from_dict(data)

                return componentsschemas_strategy_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_strategy_type_3 = StrategyBasicAuthStrategy.from_dict(data)

                return componentsschemas_strategy_type_3
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_strategy_type_4 = StrategyApiKeyStrategy.from_dict(data)

                return componentsschemas_strategy_type_4
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            componentsschemas_strategy_type_5 = StrategyAwsSigv4Strategy.from_dict(data)

            return componentsschemas_strategy_type_5

        strategy = _parse_strategy(d.pop("strategy"))

        workspace_id = d.pop("workspace_id")

        api_base_url = d.pop("api_base_url", UNSET)

        _api_headers = d.pop("api_headers", UNSET)
        api_headers: CredentialEnvelopeApiHeaders | Unset
        if isinstance(_api_headers, Unset):
            api_headers = UNSET
        else:
            api_headers = CredentialEnvelopeApiHeaders.from_dict(_api_headers)

        _api_query = d.pop("api_query", UNSET)
        api_query: CredentialEnvelopeApiQuery | Unset
        if isinstance(_api_query, Unset):
            api_query = UNSET
        else:
            api_query = CredentialEnvelopeApiQuery.from_dict(_api_query)

        _expires_at = d.pop("expires_at", UNSET)
        expires_at: datetime.datetime | Unset
        if isinstance(_expires_at, Unset):
            expires_at = UNSET
        else:
            expires_at = datetime.datetime.fromisoformat(_expires_at)

        credential_envelope = cls(
            api_origins=api_origins,
            connection_id=connection_id,
            credentials=credentials,
            provider=provider,
            scopes=scopes,
            strategy=strategy,
            workspace_id=workspace_id,
            api_base_url=api_base_url,
            api_headers=api_headers,
            api_query=api_query,
            expires_at=expires_at,
        )

        credential_envelope.additional_properties = d
        return credential_envelope

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
