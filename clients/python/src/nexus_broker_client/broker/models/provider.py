from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.auth_type import AuthType, check_auth_type
from ..models.token_endpoint_auth_method import TokenEndpointAuthMethod, check_token_endpoint_auth_method
from ..models.token_request_format import TokenRequestFormat, check_token_request_format
from ..models.token_response_shape import TokenResponseShape, check_token_response_shape
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.connection_param import ConnectionParam
    from ..models.provider_api_headers import ProviderApiHeaders
    from ..models.provider_api_query import ProviderApiQuery
    from ..models.provider_authorization_params import ProviderAuthorizationParams
    from ..models.provider_incremental_authorization_params import ProviderIncrementalAuthorizationParams
    from ..models.provider_refresh_params import ProviderRefreshParams
    from ..models.provider_token_params import ProviderTokenParams
    from ..models.provider_url_overrides import ProviderUrlOverrides
    from ..models.strategy_api_key_strategy import StrategyApiKeyStrategy
    from ..models.strategy_aws_sigv_4_strategy import StrategyAwsSigv4Strategy
    from ..models.strategy_basic_auth_strategy import StrategyBasicAuthStrategy
    from ..models.strategy_header_strategy import StrategyHeaderStrategy
    from ..models.strategy_oauth_2_strategy import StrategyOauth2Strategy
    from ..models.strategy_query_param_strategy import StrategyQueryParamStrategy
    from ..models.verification import Verification


T = TypeVar("T", bound="Provider")


@_attrs_define
class Provider:
    """A registered provider as operators see it; the client secret is never included. `strategy` is
    the one in effect (the auth type's default unless overridden)

        Attributes:
            allowed_host_suffixes (list[str]):
            api_origins (list[str]): Origins besides `api_base_url`'s that the credential may be sent to
            auth_type (AuthType):
            authorization_params (ProviderAuthorizationParams):
            connection_params (list[ConnectionParam]): Values each connection supplies to fill `{name}` placeholders in the
                URLs
            created_at (datetime.datetime):
            display_name (str):
            has_client_secret (bool): Whether a client secret is stored (the secret itself is write-only)
            id (UUID):
            name (str):
            scopes (list[str]):
            strategy (StrategyApiKeyStrategy | StrategyAwsSigv4Strategy | StrategyBasicAuthStrategy | StrategyHeaderStrategy
                | StrategyOauth2Strategy | StrategyQueryParamStrategy): How an agent injects the credential into its requests to
                the provider
            updated_at (datetime.datetime):
            api_base_url (str | Unset):
            api_headers (ProviderApiHeaders | Unset): Sent with the credential (absent: none)
            api_query (ProviderApiQuery | Unset):
            authorization_url (str | Unset):
            category (str | Unset):
            client_id (str | Unset):
            client_secret_fingerprint (str | Unset): A keyed hash of the stored client secret (HMAC-SHA256 keyed with the
                provider id,
                128 bits), so tools can tell whether a secret they hold is the stored one; never the
                secret
            credential_schema (Any | Unset):
            description (str | Unset):
            docs_url (str | Unset):
            incremental_authorization_params (ProviderIncrementalAuthorizationParams | Unset): Added by an incremental
                consent (absent: none)
            issuer (str | Unset):
            logo_url (str | Unset):
            mcp_resource_on_refresh (bool | Unset): For an MCP provider: whether refreshes carry `resource`
            mcp_server_url (str | Unset): A remote MCP server's URL (absent: not an MCP provider)
            pkce (bool | Unset):
            refresh_params (ProviderRefreshParams | Unset):
            refresh_url (str | Unset):
            revocation_url (str | Unset):
            scope_separator (str | Unset): How scopes are joined when not with a space (absent: a space)
            token_endpoint_auth_method (TokenEndpointAuthMethod | Unset):
            token_params (ProviderTokenParams | Unset):
            token_request_format (TokenRequestFormat | Unset): The token request's body: `form` (RFC 6749) or `json`
                (Notion)
            token_response (TokenResponseShape | Unset): Where the token response keeps the token: `standard` (RFC 6749),
                `slack_bot` or `slack_user`
                (Slack's `oauth.v2.access`: the bot token at the top level, or the user token under
                `authed_user`; `ok: false` is an error), `salesforce` (`instance_url` becomes the
                connection's API base URL when it is one of the provider's API origins)
            token_url (str | Unset):
            url_overrides (ProviderUrlOverrides | Unset):
            verification (Verification | Unset): A live check of captured credentials: the strategy is applied to a request
                to `url` (with
                `method`, `GET` when absent); any 2xx accepts them
    """

    allowed_host_suffixes: list[str]
    api_origins: list[str]
    auth_type: AuthType
    authorization_params: ProviderAuthorizationParams
    connection_params: list[ConnectionParam]
    created_at: datetime.datetime
    display_name: str
    has_client_secret: bool
    id: UUID
    name: str
    scopes: list[str]
    strategy: (
        StrategyApiKeyStrategy
        | StrategyAwsSigv4Strategy
        | StrategyBasicAuthStrategy
        | StrategyHeaderStrategy
        | StrategyOauth2Strategy
        | StrategyQueryParamStrategy
    )
    updated_at: datetime.datetime
    api_base_url: str | Unset = UNSET
    api_headers: ProviderApiHeaders | Unset = UNSET
    api_query: ProviderApiQuery | Unset = UNSET
    authorization_url: str | Unset = UNSET
    category: str | Unset = UNSET
    client_id: str | Unset = UNSET
    client_secret_fingerprint: str | Unset = UNSET
    credential_schema: Any | Unset = UNSET
    description: str | Unset = UNSET
    docs_url: str | Unset = UNSET
    incremental_authorization_params: ProviderIncrementalAuthorizationParams | Unset = UNSET
    issuer: str | Unset = UNSET
    logo_url: str | Unset = UNSET
    mcp_resource_on_refresh: bool | Unset = UNSET
    mcp_server_url: str | Unset = UNSET
    pkce: bool | Unset = UNSET
    refresh_params: ProviderRefreshParams | Unset = UNSET
    refresh_url: str | Unset = UNSET
    revocation_url: str | Unset = UNSET
    scope_separator: str | Unset = UNSET
    token_endpoint_auth_method: TokenEndpointAuthMethod | Unset = UNSET
    token_params: ProviderTokenParams | Unset = UNSET
    token_request_format: TokenRequestFormat | Unset = UNSET
    token_response: TokenResponseShape | Unset = UNSET
    token_url: str | Unset = UNSET
    url_overrides: ProviderUrlOverrides | Unset = UNSET
    verification: Verification | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.strategy_api_key_strategy import StrategyApiKeyStrategy  # noqa: PLC0415
        from ..models.strategy_basic_auth_strategy import StrategyBasicAuthStrategy  # noqa: PLC0415
        from ..models.strategy_header_strategy import StrategyHeaderStrategy  # noqa: PLC0415
        from ..models.strategy_oauth_2_strategy import StrategyOauth2Strategy  # noqa: PLC0415
        from ..models.strategy_query_param_strategy import StrategyQueryParamStrategy  # noqa: PLC0415

        allowed_host_suffixes = self.allowed_host_suffixes

        api_origins = self.api_origins

        auth_type: str = self.auth_type

        authorization_params = self.authorization_params.to_dict()

        connection_params = []
        for connection_params_item_data in self.connection_params:
            connection_params_item = connection_params_item_data.to_dict()
            connection_params.append(connection_params_item)

        created_at = self.created_at.isoformat()

        display_name = self.display_name

        has_client_secret = self.has_client_secret

        id = str(self.id)

        name = self.name

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

        updated_at = self.updated_at.isoformat()

        api_base_url = self.api_base_url

        api_headers: dict[str, Any] | Unset = UNSET
        if not isinstance(self.api_headers, Unset):
            api_headers = self.api_headers.to_dict()

        api_query: dict[str, Any] | Unset = UNSET
        if not isinstance(self.api_query, Unset):
            api_query = self.api_query.to_dict()

        authorization_url = self.authorization_url

        category = self.category

        client_id = self.client_id

        client_secret_fingerprint = self.client_secret_fingerprint

        credential_schema = self.credential_schema

        description = self.description

        docs_url = self.docs_url

        incremental_authorization_params: dict[str, Any] | Unset = UNSET
        if not isinstance(self.incremental_authorization_params, Unset):
            incremental_authorization_params = self.incremental_authorization_params.to_dict()

        issuer = self.issuer

        logo_url = self.logo_url

        mcp_resource_on_refresh = self.mcp_resource_on_refresh

        mcp_server_url = self.mcp_server_url

        pkce = self.pkce

        refresh_params: dict[str, Any] | Unset = UNSET
        if not isinstance(self.refresh_params, Unset):
            refresh_params = self.refresh_params.to_dict()

        refresh_url = self.refresh_url

        revocation_url = self.revocation_url

        scope_separator = self.scope_separator

        token_endpoint_auth_method: str | Unset = UNSET
        if not isinstance(self.token_endpoint_auth_method, Unset):
            token_endpoint_auth_method = self.token_endpoint_auth_method

        token_params: dict[str, Any] | Unset = UNSET
        if not isinstance(self.token_params, Unset):
            token_params = self.token_params.to_dict()

        token_request_format: str | Unset = UNSET
        if not isinstance(self.token_request_format, Unset):
            token_request_format = self.token_request_format

        token_response: str | Unset = UNSET
        if not isinstance(self.token_response, Unset):
            token_response = self.token_response

        token_url = self.token_url

        url_overrides: dict[str, Any] | Unset = UNSET
        if not isinstance(self.url_overrides, Unset):
            url_overrides = self.url_overrides.to_dict()

        verification: dict[str, Any] | Unset = UNSET
        if not isinstance(self.verification, Unset):
            verification = self.verification.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "allowed_host_suffixes": allowed_host_suffixes,
                "api_origins": api_origins,
                "auth_type": auth_type,
                "authorization_params": authorization_params,
                "connection_params": connection_params,
                "created_at": created_at,
                "display_name": display_name,
                "has_client_secret": has_client_secret,
                "id": id,
                "name": name,
                "scopes": scopes,
                "strategy": strategy,
                "updated_at": updated_at,
            }
        )
        if api_base_url is not UNSET:
            field_dict["api_base_url"] = api_base_url
        if api_headers is not UNSET:
            field_dict["api_headers"] = api_headers
        if api_query is not UNSET:
            field_dict["api_query"] = api_query
        if authorization_url is not UNSET:
            field_dict["authorization_url"] = authorization_url
        if category is not UNSET:
            field_dict["category"] = category
        if client_id is not UNSET:
            field_dict["client_id"] = client_id
        if client_secret_fingerprint is not UNSET:
            field_dict["client_secret_fingerprint"] = client_secret_fingerprint
        if credential_schema is not UNSET:
            field_dict["credential_schema"] = credential_schema
        if description is not UNSET:
            field_dict["description"] = description
        if docs_url is not UNSET:
            field_dict["docs_url"] = docs_url
        if incremental_authorization_params is not UNSET:
            field_dict["incremental_authorization_params"] = incremental_authorization_params
        if issuer is not UNSET:
            field_dict["issuer"] = issuer
        if logo_url is not UNSET:
            field_dict["logo_url"] = logo_url
        if mcp_resource_on_refresh is not UNSET:
            field_dict["mcp_resource_on_refresh"] = mcp_resource_on_refresh
        if mcp_server_url is not UNSET:
            field_dict["mcp_server_url"] = mcp_server_url
        if pkce is not UNSET:
            field_dict["pkce"] = pkce
        if refresh_params is not UNSET:
            field_dict["refresh_params"] = refresh_params
        if refresh_url is not UNSET:
            field_dict["refresh_url"] = refresh_url
        if revocation_url is not UNSET:
            field_dict["revocation_url"] = revocation_url
        if scope_separator is not UNSET:
            field_dict["scope_separator"] = scope_separator
        if token_endpoint_auth_method is not UNSET:
            field_dict["token_endpoint_auth_method"] = token_endpoint_auth_method
        if token_params is not UNSET:
            field_dict["token_params"] = token_params
        if token_request_format is not UNSET:
            field_dict["token_request_format"] = token_request_format
        if token_response is not UNSET:
            field_dict["token_response"] = token_response
        if token_url is not UNSET:
            field_dict["token_url"] = token_url
        if url_overrides is not UNSET:
            field_dict["url_overrides"] = url_overrides
        if verification is not UNSET:
            field_dict["verification"] = verification

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.connection_param import ConnectionParam  # noqa: PLC0415
        from ..models.provider_api_headers import ProviderApiHeaders  # noqa: PLC0415
        from ..models.provider_api_query import ProviderApiQuery  # noqa: PLC0415
        from ..models.provider_authorization_params import ProviderAuthorizationParams  # noqa: PLC0415
        from ..models.provider_incremental_authorization_params import ProviderIncrementalAuthorizationParams  # noqa: PLC0415
        from ..models.provider_refresh_params import ProviderRefreshParams  # noqa: PLC0415
        from ..models.provider_token_params import ProviderTokenParams  # noqa: PLC0415
        from ..models.provider_url_overrides import ProviderUrlOverrides  # noqa: PLC0415
        from ..models.strategy_api_key_strategy import StrategyApiKeyStrategy  # noqa: PLC0415
        from ..models.strategy_aws_sigv_4_strategy import StrategyAwsSigv4Strategy  # noqa: PLC0415
        from ..models.strategy_basic_auth_strategy import StrategyBasicAuthStrategy  # noqa: PLC0415
        from ..models.strategy_header_strategy import StrategyHeaderStrategy  # noqa: PLC0415
        from ..models.strategy_oauth_2_strategy import StrategyOauth2Strategy  # noqa: PLC0415
        from ..models.strategy_query_param_strategy import StrategyQueryParamStrategy  # noqa: PLC0415
        from ..models.verification import Verification  # noqa: PLC0415

        d = dict(src_dict)
        allowed_host_suffixes = cast(list[str], d.pop("allowed_host_suffixes"))

        api_origins = cast(list[str], d.pop("api_origins"))

        auth_type = check_auth_type(d.pop("auth_type"))

        authorization_params = ProviderAuthorizationParams.from_dict(d.pop("authorization_params"))

        connection_params = []
        _connection_params = d.pop("connection_params")
        for connection_params_item_data in _connection_params:
            connection_params_item = ConnectionParam.from_dict(connection_params_item_data)

            connection_params.append(connection_params_item)

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        display_name = d.pop("display_name")

        has_client_secret = d.pop("has_client_secret")

        id = UUID(d.pop("id"))

        name = d.pop("name")

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

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        api_base_url = d.pop("api_base_url", UNSET)

        _api_headers = d.pop("api_headers", UNSET)
        api_headers: ProviderApiHeaders | Unset
        if isinstance(_api_headers, Unset):
            api_headers = UNSET
        else:
            api_headers = ProviderApiHeaders.from_dict(_api_headers)

        _api_query = d.pop("api_query", UNSET)
        api_query: ProviderApiQuery | Unset
        if isinstance(_api_query, Unset):
            api_query = UNSET
        else:
            api_query = ProviderApiQuery.from_dict(_api_query)

        authorization_url = d.pop("authorization_url", UNSET)

        category = d.pop("category", UNSET)

        client_id = d.pop("client_id", UNSET)

        client_secret_fingerprint = d.pop("client_secret_fingerprint", UNSET)

        credential_schema = d.pop("credential_schema", UNSET)

        description = d.pop("description", UNSET)

        docs_url = d.pop("docs_url", UNSET)

        _incremental_authorization_params = d.pop("incremental_authorization_params", UNSET)
        incremental_authorization_params: ProviderIncrementalAuthorizationParams | Unset
        if isinstance(_incremental_authorization_params, Unset):
            incremental_authorization_params = UNSET
        else:
            incremental_authorization_params = ProviderIncrementalAuthorizationParams.from_dict(
                _incremental_authorization_params
            )

        issuer = d.pop("issuer", UNSET)

        logo_url = d.pop("logo_url", UNSET)

        mcp_resource_on_refresh = d.pop("mcp_resource_on_refresh", UNSET)

        mcp_server_url = d.pop("mcp_server_url", UNSET)

        pkce = d.pop("pkce", UNSET)

        _refresh_params = d.pop("refresh_params", UNSET)
        refresh_params: ProviderRefreshParams | Unset
        if isinstance(_refresh_params, Unset):
            refresh_params = UNSET
        else:
            refresh_params = ProviderRefreshParams.from_dict(_refresh_params)

        refresh_url = d.pop("refresh_url", UNSET)

        revocation_url = d.pop("revocation_url", UNSET)

        scope_separator = d.pop("scope_separator", UNSET)

        _token_endpoint_auth_method = d.pop("token_endpoint_auth_method", UNSET)
        token_endpoint_auth_method: TokenEndpointAuthMethod | Unset
        if isinstance(_token_endpoint_auth_method, Unset):
            token_endpoint_auth_method = UNSET
        else:
            token_endpoint_auth_method = check_token_endpoint_auth_method(_token_endpoint_auth_method)

        _token_params = d.pop("token_params", UNSET)
        token_params: ProviderTokenParams | Unset
        if isinstance(_token_params, Unset):
            token_params = UNSET
        else:
            token_params = ProviderTokenParams.from_dict(_token_params)

        _token_request_format = d.pop("token_request_format", UNSET)
        token_request_format: TokenRequestFormat | Unset
        if isinstance(_token_request_format, Unset):
            token_request_format = UNSET
        else:
            token_request_format = check_token_request_format(_token_request_format)

        _token_response = d.pop("token_response", UNSET)
        token_response: TokenResponseShape | Unset
        if isinstance(_token_response, Unset):
            token_response = UNSET
        else:
            token_response = check_token_response_shape(_token_response)

        token_url = d.pop("token_url", UNSET)

        _url_overrides = d.pop("url_overrides", UNSET)
        url_overrides: ProviderUrlOverrides | Unset
        if isinstance(_url_overrides, Unset):
            url_overrides = UNSET
        else:
            url_overrides = ProviderUrlOverrides.from_dict(_url_overrides)

        _verification = d.pop("verification", UNSET)
        verification: Verification | Unset
        if isinstance(_verification, Unset):
            verification = UNSET
        else:
            verification = Verification.from_dict(_verification)

        provider = cls(
            allowed_host_suffixes=allowed_host_suffixes,
            api_origins=api_origins,
            auth_type=auth_type,
            authorization_params=authorization_params,
            connection_params=connection_params,
            created_at=created_at,
            display_name=display_name,
            has_client_secret=has_client_secret,
            id=id,
            name=name,
            scopes=scopes,
            strategy=strategy,
            updated_at=updated_at,
            api_base_url=api_base_url,
            api_headers=api_headers,
            api_query=api_query,
            authorization_url=authorization_url,
            category=category,
            client_id=client_id,
            client_secret_fingerprint=client_secret_fingerprint,
            credential_schema=credential_schema,
            description=description,
            docs_url=docs_url,
            incremental_authorization_params=incremental_authorization_params,
            issuer=issuer,
            logo_url=logo_url,
            mcp_resource_on_refresh=mcp_resource_on_refresh,
            mcp_server_url=mcp_server_url,
            pkce=pkce,
            refresh_params=refresh_params,
            refresh_url=refresh_url,
            revocation_url=revocation_url,
            scope_separator=scope_separator,
            token_endpoint_auth_method=token_endpoint_auth_method,
            token_params=token_params,
            token_request_format=token_request_format,
            token_response=token_response,
            token_url=token_url,
            url_overrides=url_overrides,
            verification=verification,
        )

        provider.additional_properties = d
        return provider

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
