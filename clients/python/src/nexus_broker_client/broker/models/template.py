from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.auth_type import AuthType, check_auth_type
from ..models.token_endpoint_auth_method import TokenEndpointAuthMethod, check_token_endpoint_auth_method
from ..models.token_response_shape import TokenResponseShape, check_token_response_shape
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.strategy_api_key_strategy import StrategyApiKeyStrategy
    from ..models.strategy_aws_sigv_4_strategy import StrategyAwsSigv4Strategy
    from ..models.strategy_basic_auth_strategy import StrategyBasicAuthStrategy
    from ..models.strategy_header_strategy import StrategyHeaderStrategy
    from ..models.strategy_oauth_2_strategy import StrategyOauth2Strategy
    from ..models.strategy_query_param_strategy import StrategyQueryParamStrategy
    from ..models.template_api_headers import TemplateApiHeaders
    from ..models.template_api_query import TemplateApiQuery
    from ..models.template_authorization_params import TemplateAuthorizationParams
    from ..models.template_connection_param import TemplateConnectionParam
    from ..models.template_incremental_authorization_params import TemplateIncrementalAuthorizationParams
    from ..models.template_overrides import TemplateOverrides
    from ..models.template_refresh_params import TemplateRefreshParams
    from ..models.template_token_params import TemplateTokenParams


T = TypeVar("T", bound="Template")


@_attrs_define
class Template:
    """A whole template: what `POST /v1/providers` with `"template"` fills in.

    Attributes:
        allowed_host_suffixes (list[str]): The hosts (and their subdomains) a whole-host parameter may lead to
        api_headers (TemplateApiHeaders): Headers the provider's API also wants (`{param}`: a connection parameter,
            `{credential.field}`: a credential field)
        api_origins (list[str]): Origins besides `api_base_url`'s that the provider's API is served from
        api_query (TemplateApiQuery):
        auth_type (AuthType):
        authorization_params (TemplateAuthorizationParams):
        categories (list[str]):
        connection_params (list[TemplateConnectionParam]):
        display_name (str):
        name (str):
        overrides (TemplateOverrides): URL fields used instead of the plain ones when all their parameters are given
        refresh_params (TemplateRefreshParams):
        scopes (list[str]): Default scopes
        token_params (TemplateTokenParams):
        unsupported (list[str]): What a provider created from this template would need that Nexus does not do yet
        api_base_url (str | Unset):
        authorization_url (str | Unset):
        client_registration (str | Unset): MCP servers: `dynamic`, `static` or `cimd` client registration
        credential_schema (Any | Unset): The hosted form's fields (JSON Schema)
        docs_url (str | Unset):
        incremental_authorization_params (TemplateIncrementalAuthorizationParams | Unset): Added by an incremental
            consent (more scopes for an existing connection)
        logo_url (str | Unset):
        pkce (bool | Unset): `false` where the provider rejects PKCE
        refresh_url (str | Unset): Where refreshes go, when not to `token_url`
        registration_url (str | Unset):
        scope_separator (str | Unset): How scopes are joined, when not with a space
        strategy (StrategyApiKeyStrategy | StrategyAwsSigv4Strategy | StrategyBasicAuthStrategy | StrategyHeaderStrategy
            | StrategyOauth2Strategy | StrategyQueryParamStrategy | Unset): How an agent injects the credential into its
            requests to the provider
        token_endpoint_auth_method (TokenEndpointAuthMethod | Unset):
        token_request_format (str | Unset): `json` when the token request body is JSON
        token_response (TokenResponseShape | Unset): Where the token response keeps the token: `standard` (RFC 6749),
            `slack_bot` or `slack_user`
            (Slack's `oauth.v2.access`: the bot token at the top level, or the user token under
            `authed_user`; `ok: false` is an error), `salesforce` (`instance_url` becomes the
            connection's API base URL when it is one of the provider's API origins)
        token_url (str | Unset):
    """

    allowed_host_suffixes: list[str]
    api_headers: TemplateApiHeaders
    api_origins: list[str]
    api_query: TemplateApiQuery
    auth_type: AuthType
    authorization_params: TemplateAuthorizationParams
    categories: list[str]
    connection_params: list[TemplateConnectionParam]
    display_name: str
    name: str
    overrides: TemplateOverrides
    refresh_params: TemplateRefreshParams
    scopes: list[str]
    token_params: TemplateTokenParams
    unsupported: list[str]
    api_base_url: str | Unset = UNSET
    authorization_url: str | Unset = UNSET
    client_registration: str | Unset = UNSET
    credential_schema: Any | Unset = UNSET
    docs_url: str | Unset = UNSET
    incremental_authorization_params: TemplateIncrementalAuthorizationParams | Unset = UNSET
    logo_url: str | Unset = UNSET
    pkce: bool | Unset = UNSET
    refresh_url: str | Unset = UNSET
    registration_url: str | Unset = UNSET
    scope_separator: str | Unset = UNSET
    strategy: (
        StrategyApiKeyStrategy
        | StrategyAwsSigv4Strategy
        | StrategyBasicAuthStrategy
        | StrategyHeaderStrategy
        | StrategyOauth2Strategy
        | StrategyQueryParamStrategy
        | Unset
    ) = UNSET
    token_endpoint_auth_method: TokenEndpointAuthMethod | Unset = UNSET
    token_request_format: str | Unset = UNSET
    token_response: TokenResponseShape | Unset = UNSET
    token_url: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.strategy_api_key_strategy import StrategyApiKeyStrategy  # noqa: PLC0415
        from ..models.strategy_basic_auth_strategy import StrategyBasicAuthStrategy  # noqa: PLC0415
        from ..models.strategy_header_strategy import StrategyHeaderStrategy  # noqa: PLC0415
        from ..models.strategy_oauth_2_strategy import StrategyOauth2Strategy  # noqa: PLC0415
        from ..models.strategy_query_param_strategy import StrategyQueryParamStrategy  # noqa: PLC0415

        allowed_host_suffixes = self.allowed_host_suffixes

        api_headers = self.api_headers.to_dict()

        api_origins = self.api_origins

        api_query = self.api_query.to_dict()

        auth_type: str = self.auth_type

        authorization_params = self.authorization_params.to_dict()

        categories = self.categories

        connection_params = []
        for connection_params_item_data in self.connection_params:
            connection_params_item = connection_params_item_data.to_dict()
            connection_params.append(connection_params_item)

        display_name = self.display_name

        name = self.name

        overrides = self.overrides.to_dict()

        refresh_params = self.refresh_params.to_dict()

        scopes = self.scopes

        token_params = self.token_params.to_dict()

        unsupported = self.unsupported

        api_base_url = self.api_base_url

        authorization_url = self.authorization_url

        client_registration = self.client_registration

        credential_schema = self.credential_schema

        docs_url = self.docs_url

        incremental_authorization_params: dict[str, Any] | Unset = UNSET
        if not isinstance(self.incremental_authorization_params, Unset):
            incremental_authorization_params = self.incremental_authorization_params.to_dict()

        logo_url = self.logo_url

        pkce = self.pkce

        refresh_url = self.refresh_url

        registration_url = self.registration_url

        scope_separator = self.scope_separator

        strategy: dict[str, Any] | Unset
        if isinstance(self.strategy, Unset):
            strategy = UNSET
        elif isinstance(self.strategy, StrategyOauth2Strategy):
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

        token_endpoint_auth_method: str | Unset = UNSET
        if not isinstance(self.token_endpoint_auth_method, Unset):
            token_endpoint_auth_method = self.token_endpoint_auth_method

        token_request_format = self.token_request_format

        token_response: str | Unset = UNSET
        if not isinstance(self.token_response, Unset):
            token_response = self.token_response

        token_url = self.token_url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "allowed_host_suffixes": allowed_host_suffixes,
                "api_headers": api_headers,
                "api_origins": api_origins,
                "api_query": api_query,
                "auth_type": auth_type,
                "authorization_params": authorization_params,
                "categories": categories,
                "connection_params": connection_params,
                "display_name": display_name,
                "name": name,
                "overrides": overrides,
                "refresh_params": refresh_params,
                "scopes": scopes,
                "token_params": token_params,
                "unsupported": unsupported,
            }
        )
        if api_base_url is not UNSET:
            field_dict["api_base_url"] = api_base_url
        if authorization_url is not UNSET:
            field_dict["authorization_url"] = authorization_url
        if client_registration is not UNSET:
            field_dict["client_registration"] = client_registration
        if credential_schema is not UNSET:
            field_dict["credential_schema"] = credential_schema
        if docs_url is not UNSET:
            field_dict["docs_url"] = docs_url
        if incremental_authorization_params is not UNSET:
            field_dict["incremental_authorization_params"] = incremental_authorization_params
        if logo_url is not UNSET:
            field_dict["logo_url"] = logo_url
        if pkce is not UNSET:
            field_dict["pkce"] = pkce
        if refresh_url is not UNSET:
            field_dict["refresh_url"] = refresh_url
        if registration_url is not UNSET:
            field_dict["registration_url"] = registration_url
        if scope_separator is not UNSET:
            field_dict["scope_separator"] = scope_separator
        if strategy is not UNSET:
            field_dict["strategy"] = strategy
        if token_endpoint_auth_method is not UNSET:
            field_dict["token_endpoint_auth_method"] = token_endpoint_auth_method
        if token_request_format is not UNSET:
            field_dict["token_request_format"] = token_request_format
        if token_response is not UNSET:
            field_dict["token_response"] = token_response
        if token_url is not UNSET:
            field_dict["token_url"] = token_url

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.strategy_api_key_strategy import StrategyApiKeyStrategy  # noqa: PLC0415
        from ..models.strategy_aws_sigv_4_strategy import StrategyAwsSigv4Strategy  # noqa: PLC0415
        from ..models.strategy_basic_auth_strategy import StrategyBasicAuthStrategy  # noqa: PLC0415
        from ..models.strategy_header_strategy import StrategyHeaderStrategy  # noqa: PLC0415
        from ..models.strategy_oauth_2_strategy import StrategyOauth2Strategy  # noqa: PLC0415
        from ..models.strategy_query_param_strategy import StrategyQueryParamStrategy  # noqa: PLC0415
        from ..models.template_api_headers import TemplateApiHeaders  # noqa: PLC0415
        from ..models.template_api_query import TemplateApiQuery  # noqa: PLC0415
        from ..models.template_authorization_params import TemplateAuthorizationParams  # noqa: PLC0415
        from ..models.template_connection_param import TemplateConnectionParam  # noqa: PLC0415
        from ..models.template_incremental_authorization_params import TemplateIncrementalAuthorizationParams  # noqa: PLC0415
        from ..models.template_overrides import TemplateOverrides  # noqa: PLC0415
        from ..models.template_refresh_params import TemplateRefreshParams  # noqa: PLC0415
        from ..models.template_token_params import TemplateTokenParams  # noqa: PLC0415

        d = dict(src_dict)
        allowed_host_suffixes = cast(list[str], d.pop("allowed_host_suffixes"))

        api_headers = TemplateApiHeaders.from_dict(d.pop("api_headers"))

        api_origins = cast(list[str], d.pop("api_origins"))

        api_query = TemplateApiQuery.from_dict(d.pop("api_query"))

        auth_type = check_auth_type(d.pop("auth_type"))

        authorization_params = TemplateAuthorizationParams.from_dict(d.pop("authorization_params"))

        categories = cast(list[str], d.pop("categories"))

        connection_params = []
        _connection_params = d.pop("connection_params")
        for connection_params_item_data in _connection_params:
            connection_params_item = TemplateConnectionParam.from_dict(connection_params_item_data)

            connection_params.append(connection_params_item)

        display_name = d.pop("display_name")

        name = d.pop("name")

        overrides = TemplateOverrides.from_dict(d.pop("overrides"))

        refresh_params = TemplateRefreshParams.from_dict(d.pop("refresh_params"))

        scopes = cast(list[str], d.pop("scopes"))

        token_params = TemplateTokenParams.from_dict(d.pop("token_params"))

        unsupported = cast(list[str], d.pop("unsupported"))

        api_base_url = d.pop("api_base_url", UNSET)

        authorization_url = d.pop("authorization_url", UNSET)

        client_registration = d.pop("client_registration", UNSET)

        credential_schema = d.pop("credential_schema", UNSET)

        docs_url = d.pop("docs_url", UNSET)

        _incremental_authorization_params = d.pop("incremental_authorization_params", UNSET)
        incremental_authorization_params: TemplateIncrementalAuthorizationParams | Unset
        if isinstance(_incremental_authorization_params, Unset):
            incremental_authorization_params = UNSET
        else:
            incremental_authorization_params = TemplateIncrementalAuthorizationParams.from_dict(
                _incremental_authorization_params
            )

        logo_url = d.pop("logo_url", UNSET)

        pkce = d.pop("pkce", UNSET)

        refresh_url = d.pop("refresh_url", UNSET)

        registration_url = d.pop("registration_url", UNSET)

        scope_separator = d.pop("scope_separator", UNSET)

        def _parse_strategy(
            data: object,
        ) -> (
            StrategyApiKeyStrategy
            | StrategyAwsSigv4Strategy
            | StrategyBasicAuthStrategy
            | StrategyHeaderStrategy
            | StrategyOauth2Strategy
            | StrategyQueryParamStrategy
            | Unset
        ):
            if isinstance(data, Unset):
                return data
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

        strategy = _parse_strategy(d.pop("strategy", UNSET))

        _token_endpoint_auth_method = d.pop("token_endpoint_auth_method", UNSET)
        token_endpoint_auth_method: TokenEndpointAuthMethod | Unset
        if isinstance(_token_endpoint_auth_method, Unset):
            token_endpoint_auth_method = UNSET
        else:
            token_endpoint_auth_method = check_token_endpoint_auth_method(_token_endpoint_auth_method)

        token_request_format = d.pop("token_request_format", UNSET)

        _token_response = d.pop("token_response", UNSET)
        token_response: TokenResponseShape | Unset
        if isinstance(_token_response, Unset):
            token_response = UNSET
        else:
            token_response = check_token_response_shape(_token_response)

        token_url = d.pop("token_url", UNSET)

        template = cls(
            allowed_host_suffixes=allowed_host_suffixes,
            api_headers=api_headers,
            api_origins=api_origins,
            api_query=api_query,
            auth_type=auth_type,
            authorization_params=authorization_params,
            categories=categories,
            connection_params=connection_params,
            display_name=display_name,
            name=name,
            overrides=overrides,
            refresh_params=refresh_params,
            scopes=scopes,
            token_params=token_params,
            unsupported=unsupported,
            api_base_url=api_base_url,
            authorization_url=authorization_url,
            client_registration=client_registration,
            credential_schema=credential_schema,
            docs_url=docs_url,
            incremental_authorization_params=incremental_authorization_params,
            logo_url=logo_url,
            pkce=pkce,
            refresh_url=refresh_url,
            registration_url=registration_url,
            scope_separator=scope_separator,
            strategy=strategy,
            token_endpoint_auth_method=token_endpoint_auth_method,
            token_request_format=token_request_format,
            token_response=token_response,
            token_url=token_url,
        )

        template.additional_properties = d
        return template

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
