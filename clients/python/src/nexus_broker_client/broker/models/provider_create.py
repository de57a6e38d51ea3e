from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.auth_type import AuthType, check_auth_type
from ..models.token_endpoint_auth_method import TokenEndpointAuthMethod, check_token_endpoint_auth_method
from ..models.token_request_format import TokenRequestFormat, check_token_request_format
from ..models.token_response_shape import TokenResponseShape, check_token_response_shape
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.connection_param import ConnectionParam
    from ..models.provider_create_api_headers import ProviderCreateApiHeaders
    from ..models.provider_create_api_query import ProviderCreateApiQuery
    from ..models.provider_create_authorization_params import ProviderCreateAuthorizationParams
    from ..models.provider_create_incremental_authorization_params import ProviderCreateIncrementalAuthorizationParams
    from ..models.provider_create_refresh_params import ProviderCreateRefreshParams
    from ..models.provider_create_token_params import ProviderCreateTokenParams
    from ..models.provider_create_url_overrides import ProviderCreateUrlOverrides
    from ..models.strategy_api_key_strategy import StrategyApiKeyStrategy
    from ..models.strategy_aws_sigv_4_strategy import StrategyAwsSigv4Strategy
    from ..models.strategy_basic_auth_strategy import StrategyBasicAuthStrategy
    from ..models.strategy_header_strategy import StrategyHeaderStrategy
    from ..models.strategy_oauth_2_strategy import StrategyOauth2Strategy
    from ..models.strategy_query_param_strategy import StrategyQueryParamStrategy
    from ..models.verification import Verification


T = TypeVar("T", bound="ProviderCreate")


@_attrs_define
class ProviderCreate:
    """A provider to register. `strategy` overrides the auth type's default strategy. With
    `template`, a template of the catalog (`GET /v1/catalog`) fills in every field the body leaves
    out (name, auth type, endpoints, scopes, strategy, ...); the body's fields win. `name` and
    `auth_type` are required unless the template gives them

        Attributes:
            allowed_host_suffixes (list[str] | Unset): Domains a host that comes entirely from a parameter may be or be
                under
            api_base_url (str | Unset):
            api_headers (ProviderCreateApiHeaders | Unset): Headers the provider's API wants besides the credential
                (`Notion-Version`); values may
                hold `{name}` (a connection parameter) and `{credential.field}` placeholders. Envelopes
                carry them filled, and the SDKs and the proxy send them
            api_origins (list[str] | Unset): Origins besides `api_base_url`'s that the credential may be sent to: exact
                origins
                (`https://uploads.example.com`) or one leading `*.` label under a registrable domain
                (`https://*.googleapis.com`); may hold `{name}` placeholders. SDKs and the proxy refuse
                every other origin
            api_query (ProviderCreateApiQuery | Unset): Query parameters the provider's API wants besides the credential, as
                `api_headers`
            auth_type (AuthType | Unset):
            authorization_params (ProviderCreateAuthorizationParams | Unset): Extra authorization parameters (such as
                `access_type=offline`); never the security parameters
            authorization_url (str | Unset):
            category (str | Unset):
            client_id (str | Unset): OAuth2 client id
            client_secret (str | Unset): OAuth2 client secret: write-only, encrypted at rest, never returned
            connection_params (list[ConnectionParam] | Unset): Values each connection supplies to fill `{name}` placeholders
                in the URLs above
            credential_schema (Any | Unset): For api_key and basic_auth providers: a JSON Schema subset describing the
                credential fields
            description (str | Unset):
            display_name (str | Unset):
            docs_url (str | Unset): Where users find their key or learn about the connection, linked from the capture form
            incremental_authorization_params (ProviderCreateIncrementalAuthorizationParams | Unset): Added by an incremental
                consent (more scopes for an existing connection), such as
                Google's `include_granted_scopes=true`
            issuer (str | Unset): OpenID issuer; endpoints are discovered when the URLs are not given
            logo_url (str | Unset): The provider's logo, shown on the hosted capture form (https)
            mcp_resource_on_refresh (bool | Unset): Whether refreshes carry `resource` too (default true; false for
                authorization servers
                that reject it there)
            mcp_server_url (str | Unset): A remote MCP server's URL, its canonical resource URI: the authorization server
                and its
                endpoints are discovered from it (RFC 9728, RFC 8414), and without `client_id` Nexus
                registers a client once per authorization server (its metadata document, or dynamic
                registration)
            name (str | Unset): Unique name, lower-case kebab (`google-drive`); agents resolve credentials by it.
                Required unless a template gives it
            pkce (bool | Unset): PKCE S256 (default true)
            refresh_params (ProviderCreateRefreshParams | Unset): Extra parameters of a refresh, as `token_params`
            refresh_url (str | Unset): Where refreshes go when not to `token_url` (Figma)
            revocation_url (str | Unset):
            scope_separator (str | Unset): How scopes are joined in the authorization request: `" "` (the default, RFC 6749)
                or
                `","` (Linear, Zoom, Strava, Todoist)
            scopes (list[str] | Unset): Default scopes requested at consent
            strategy (StrategyApiKeyStrategy | StrategyAwsSigv4Strategy | StrategyBasicAuthStrategy | StrategyHeaderStrategy
                | StrategyOauth2Strategy | StrategyQueryParamStrategy | Unset): How an agent injects the credential into its
                requests to the provider
            template (str | Unset): A template of the provider catalog to start from
            token_endpoint_auth_method (TokenEndpointAuthMethod | Unset):
            token_params (ProviderCreateTokenParams | Unset): Extra parameters of the authorization-code exchange (Shopify's
                `expiring=1`); values may
                hold `{name}` placeholders. Never the ones Nexus sets (`grant_type`, `code`, ...)
            token_request_format (TokenRequestFormat | Unset): The token request's body: `form` (RFC 6749) or `json`
                (Notion)
            token_response (TokenResponseShape | Unset): Where the token response keeps the token: `standard` (RFC 6749),
                `slack_bot` or `slack_user`
                (Slack's `oauth.v2.access`: the bot token at the top level, or the user token under
                `authed_user`; `ok: false` is an error), `salesforce` (`instance_url` becomes the
                connection's API base URL when it is one of the provider's API origins)
            token_url (str | Unset):
            url_overrides (ProviderCreateUrlOverrides | Unset): URLs used instead of `authorization_url`, `token_url`,
                `refresh_url`, `revocation_url`
                or `api_base_url` for a connection that gives every parameter they hold (Salesforce's My
                Domain, Intercom's regions); each holds a `{name}` placeholder of an optional parameter
            verification (Verification | Unset): A live check of captured credentials: the strategy is applied to a request
                to `url` (with
                `method`, `GET` when absent); any 2xx accepts them
    """

    allowed_host_suffixes: list[str] | Unset = UNSET
    api_base_url: str | Unset = UNSET
    api_headers: ProviderCreateApiHeaders | Unset = UNSET
    api_origins: list[str] | Unset = UNSET
    api_query: ProviderCreateApiQuery | Unset = UNSET
    auth_type: AuthType | Unset = UNSET
    authorization_params: ProviderCreateAuthorizationParams | Unset = UNSET
    authorization_url: str | Unset = UNSET
    category: str | Unset = UNSET
    client_id: str | Unset = UNSET
    client_secret: str | Unset = UNSET
    connection_params: list[ConnectionParam] | Unset = UNSET
    credential_schema: Any | Unset = UNSET
    description: str | Unset = UNSET
    display_name: str | Unset = UNSET
    docs_url: str | Unset = UNSET
    incremental_authorization_params: ProviderCreateIncrementalAuthorizationParams | Unset = UNSET
    issuer: str | Unset = UNSET
    logo_url: str | Unset = UNSET
    mcp_resource_on_refresh: bool | Unset = UNSET
    mcp_server_url: str | Unset = UNSET
    name: str | Unset = UNSET
    pkce: bool | Unset = UNSET
    refresh_params: ProviderCreateRefreshParams | Unset = UNSET
    refresh_url: str | Unset = UNSET
    revocation_url: str | Unset = UNSET
    scope_separator: str | Unset = UNSET
    scopes: list[str] | Unset = UNSET
    strategy: (
        StrategyApiKeyStrategy
        | StrategyAwsSigv4Strategy
        | StrategyBasicAuthStrategy
        | StrategyHeaderStrategy
        | StrategyOauth2Strategy
        | StrategyQueryParamStrategy
        | Unset
    ) = UNSET
    template: str | Unset = UNSET
    token_endpoint_auth_method: TokenEndpointAuthMethod | Unset = UNSET
    token_params: ProviderCreateTokenParams | Unset = UNSET
    token_request_format: TokenRequestFormat | Unset = UNSET
    token_response: TokenResponseShape | Unset = UNSET
    token_url: str | Unset = UNSET
    url_overrides: ProviderCreateUrlOverrides | Unset = UNSET
    verification: Verification | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.strategy_api_key_strategy import StrategyApiKeyStrategy  # noqa: PLC0415
        from ..models.strategy_basic_auth_strategy import StrategyBasicAuthStrategy  # noqa: PLC0415
        from ..models.strategy_header_strategy import StrategyHeaderStrategy  # noqa: PLC0415
        from ..models.strategy_oauth_2_strategy import StrategyOauth2Strategy  # noqa: PLC0415
        from ..models.strategy_query_param_strategy import StrategyQueryParamStrategy  # noqa: PLC0415

        allowed_host_suffixes: list[str] | Unset = UNSET
        if not isinstance(self.allowed_host_suffixes, Unset):
            allowed_host_suffixes = self.allowed_host_suffixes

        api_base_url = self.api_base_url

        api_headers: dict[str, Any] | Unset = UNSET
        if not isinstance(self.api_headers, Unset):
            api_headers = self.api_headers.to_dict()

        api_origins: list[str] | Unset = UNSET
        if not isinstance(self.api_origins, Unset):
            api_origins = self.api_origins

        api_query: dict[str, Any] | Unset = UNSET
        if not isinstance(self.api_query, Unset):
            api_query = self.api_query.to_dict()

        auth_type: str | Unset = UNSET
        if not isinstance(self.auth_type, Unset):
            auth_type = self.auth_type

        authorization_params: dict[str, Any] | Unset = UNSET
        if not isinstance(self.authorization_params, Unset):
            authorization_params = self.authorization_params.to_dict()

        authorization_url = self.authorization_url

        category = self.category

        client_id = self.client_id

        client_secret = self.client_secret

        connection_params: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.connection_params, Unset):
            connection_params = []
            for connection_params_item_data in self.connection_params:
                connection_params_item = connection_params_item_data.to_dict()
                connection_params.append(connection_params_item)

        credential_schema = self.credential_schema

        description = self.description

        display_name = self.display_name

        docs_url = self.docs_url

        incremental_authorization_params: dict[str, Any] | Unset = UNSET
        if not isinstance(self.incremental_authorization_params, Unset):
            incremental_authorization_params = self.incremental_authorization_params.to_dict()

        issuer = self.issuer

        logo_url = self.logo_url

        mcp_resource_on_refresh = self.mcp_resource_on_refresh

        mcp_server_url = self.mcp_server_url

        name = self.name

        pkce = self.pkce

        refresh_params: dict[str, Any] | Unset = UNSET
        if not isinstance(self.refresh_params, Unset):
            refresh_params = self.refresh_params.to_dict()

        refresh_url = self.refresh_url

        revocation_url = self.revocation_url

        scope_separator = self.scope_separator

        scopes: list[str] | Unset = UNSET
        if not isinstance(self.scopes, Unset):
            scopes = self.scopes

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

        template = self.template

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

        field_dict.update({})
        if allowed_host_suffixes is not UNSET:
            field_dict["allowed_host_suffixes"] = allowed_host_suffixes
        if api_base_url is not UNSET:
            field_dict["api_base_url"] = api_base_url
        if api_headers is not UNSET:
            field_dict["api_headers"] = api_headers
        if api_origins is not UNSET:
            field_dict["api_origins"] = api_origins
        if api_query is not UNSET:
            field_dict["api_query"] = api_query
        if auth_type is not UNSET:
            field_dict["auth_type"] = auth_type
        if authorization_params is not UNSET:
            field_dict["authorization_params"] = authorization_params
        if authorization_url is not UNSET:
            field_dict["authorization_url"] = authorization_url
        if category is not UNSET:
            field_dict["category"] = category
        if client_id is not UNSET:
            field_dict["client_id"] = client_id
        if client_secret is not UNSET:
            field_dict["client_secret"] = client_secret
        if connection_params is not UNSET:
            field_dict["connection_params"] = connection_params
        if credential_schema is not UNSET:
            field_dict["credential_schema"] = credential_schema
        if description is not UNSET:
            field_dict["description"] = description
        if display_name is not UNSET:
            field_dict["display_name"] = display_name
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
        if name is not UNSET:
            field_dict["name"] = name
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
        if scopes is not UNSET:
            field_dict["scopes"] = scopes
        if strategy is not UNSET:
            field_dict["strategy"] = strategy
        if template is not UNSET:
            field_dict["template"] = template
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
        from ..models.provider_create_api_headers import ProviderCreateApiHeaders  # noqa: PLC0415
        from ..models.provider_create_api_query import ProviderCreateApiQuery  # noqa: PLC0415
        from ..models.provider_create_authorization_params import ProviderCreateAuthorizationParams  # noqa: PLC0415
        from ..models.provider_create_incremental_authorization_params import (
            ProviderCreateIncrementalAuthorizationParams,  # noqa: PLC0415
        )
        from ..models.provider_create_refresh_params import ProviderCreateRefreshParams  # noqa: PLC0415
        from ..models.provider_create_token_params import ProviderCreateTokenParams  # noqa: PLC0415
        from ..models.provider_create_url_overrides import ProviderCreateUrlOverrides  # noqa: PLC0415
        from ..models.strategy_api_key_strategy import StrategyApiKeyStrategy  # noqa: PLC0415
        from ..models.strategy_aws_sigv_4_strategy import StrategyAwsSigv4Strategy  # noqa: PLC0415
        from ..models.strategy_basic_auth_strategy import StrategyBasicAuthStrategy  # noqa: PLC0415
        from ..models.strategy_header_strategy import StrategyHeaderStrategy  # noqa: PLC0415
        from ..models.strategy_oauth_2_strategy import StrategyOauth2Strategy  # noqa: PLC0415
        from ..models.strategy_query_param_strategy import StrategyQueryParamStrategy  # noqa: PLC0415
        from ..models.verification import Verification  # noqa: PLC0415

        d = dict(src_dict)
        allowed_host_suffixes = cast(list[str], d.pop("allowed_host_suffixes", UNSET))

        api_base_url = d.pop("api_base_url", UNSET)

        _api_headers = d.pop("api_headers", UNSET)
        api_headers: ProviderCreateApiHeaders | Unset
        if isinstance(_api_headers, Unset):
            api_headers = UNSET
        else:
            api_headers = ProviderCreateApiHeaders.from_dict(_api_headers)

        api_origins = cast(list[str], d.pop("api_origins", UNSET))

        _api_query = d.pop("api_query", UNSET)
        api_query: ProviderCreateApiQuery | Unset
        if isinstance(_api_query, Unset):
            api_query = UNSET
        else:
            api_query = ProviderCreateApiQuery.from_dict(_api_query)

        _auth_type = d.pop("auth_type", UNSET)
        auth_type: AuthType | Unset
        if isinstance(_auth_type, Unset):
            auth_type = UNSET
        else:
            auth_type = check_auth_type(_auth_type)

        _authorization_params = d.pop("authorization_params", UNSET)
        authorization_params: ProviderCreateAuthorizationParams | Unset
        if isinstance(_authorization_params, Unset):
            authorization_params = UNSET
        else:
            authorization_params = ProviderCreateAuthorizationParams.from_dict(_authorization_params)

        authorization_url = d.pop("authorization_url", UNSET)

        category = d.pop("category", UNSET)

        client_id = d.pop("client_id", UNSET)

        client_secret = d.pop("client_secret", UNSET)

        _connection_params = d.pop("connection_params", UNSET)
        connection_params: list[ConnectionParam] | Unset = UNSET
        if _connection_params is not UNSET:
            connection_params = []
            for connection_params_item_data in _connection_params:
                connection_params_item = ConnectionParam.from_dict(connection_params_item_data)

                connection_params.append(connection_params_item)

        credential_schema = d.pop("credential_schema", UNSET)

        description = d.pop("description", UNSET)

        display_name = d.pop("display_name", UNSET)

        docs_url = d.pop("docs_url", UNSET)

        _incremental_authorization_params = d.pop("incremental_authorization_params", UNSET)
        incremental_authorization_params: ProviderCreateIncrementalAuthorizationParams | Unset
        if isinstance(_incremental_authorization_params, Unset):
            incremental_authorization_params = UNSET
        else:
            incremental_authorization_params = ProviderCreateIncrementalAuthorizationParams.from_dict(
                _incremental_authorization_params
            )

        issuer = d.pop("issuer", UNSET)

        logo_url = d.pop("logo_url", UNSET)

        mcp_resource_on_refresh = d.pop("mcp_resource_on_refresh", UNSET)

        mcp_server_url = d.pop("mcp_server_url", UNSET)

        name = d.pop("name", UNSET)

        pkce = d.pop("pkce", UNSET)

        _refresh_params = d.pop("refresh_params", UNSET)
        refresh_params: ProviderCreateRefreshParams | Unset
        if isinstance(_refresh_params, Unset):
            refresh_params = UNSET
        else:
            refresh_params = ProviderCreateRefreshParams.from_dict(_refresh_params)

        refresh_url = d.pop("refresh_url", UNSET)

        revocation_url = d.pop("revocation_url", UNSET)

        scope_separator = d.pop("scope_separator", UNSET)

        scopes = cast(list[str], d.pop("scopes", UNSET))

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

        template = d.pop("template", UNSET)

        _token_endpoint_auth_method = d.pop("token_endpoint_auth_method", UNSET)
        token_endpoint_auth_method: TokenEndpointAuthMethod | Unset
        if isinstance(_token_endpoint_auth_method, Unset):
            token_endpoint_auth_method = UNSET
        else:
            token_endpoint_auth_method = check_token_endpoint_auth_method(_token_endpoint_auth_method)

        _token_params = d.pop("token_params", UNSET)
        token_params: ProviderCreateTokenParams | Unset
        if isinstance(_token_params, Unset):
            token_params = UNSET
        else:
            token_params = ProviderCreateTokenParams.from_dict(_token_params)

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
        url_overrides: ProviderCreateUrlOverrides | Unset
        if isinstance(_url_overrides, Unset):
            url_overrides = UNSET
        else:
            url_overrides = ProviderCreateUrlOverrides.from_dict(_url_overrides)

        _verification = d.pop("verification", UNSET)
        verification: Verification | Unset
        if isinstance(_verification, Unset):
            verification = UNSET
        else:
            verification = Verification.from_dict(_verification)

        provider_create = cls(
            allowed_host_suffixes=allowed_host_suffixes,
            api_base_url=api_base_url,
            api_headers=api_headers,
            api_origins=api_origins,
            api_query=api_query,
            auth_type=auth_type,
            authorization_params=authorization_params,
            authorization_url=authorization_url,
            category=category,
            client_id=client_id,
            client_secret=client_secret,
            connection_params=connection_params,
            credential_schema=credential_schema,
            description=description,
            display_name=display_name,
            docs_url=docs_url,
            incremental_authorization_params=incremental_authorization_params,
            issuer=issuer,
            logo_url=logo_url,
            mcp_resource_on_refresh=mcp_resource_on_refresh,
            mcp_server_url=mcp_server_url,
            name=name,
            pkce=pkce,
            refresh_params=refresh_params,
            refresh_url=refresh_url,
            revocation_url=revocation_url,
            scope_separator=scope_separator,
            scopes=scopes,
            strategy=strategy,
            template=template,
            token_endpoint_auth_method=token_endpoint_auth_method,
            token_params=token_params,
            token_request_format=token_request_format,
            token_response=token_response,
            token_url=token_url,
            url_overrides=url_overrides,
            verification=verification,
        )

        return provider_create
