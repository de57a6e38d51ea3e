"""Contains all the data models used in inputs/outputs"""

from .api_key_strategy import ApiKeyStrategy
from .auth_type import AuthType
from .aws_sigv_4_strategy import AwsSigv4Strategy
from .basic_auth_strategy import BasicAuthStrategy
from .catalog_entry import CatalogEntry
from .connection_check import ConnectionCheck
from .connection_param import ConnectionParam
from .connection_request import ConnectionRequest
from .connection_request_connection_params import ConnectionRequestConnectionParams
from .connection_requested import ConnectionRequested
from .connection_status import ConnectionStatus
from .credential_envelope import CredentialEnvelope
from .credential_envelope_api_headers import CredentialEnvelopeApiHeaders
from .credential_envelope_api_query import CredentialEnvelopeApiQuery
from .credential_envelope_credentials import CredentialEnvelopeCredentials
from .error import Error
from .header_strategy import HeaderStrategy
from .health_status import HealthStatus
from .oauth_2_strategy import Oauth2Strategy
from .provider_catalog import ProviderCatalog
from .query_param_strategy import QueryParamStrategy
from .strategy_api_key_strategy import StrategyApiKeyStrategy
from .strategy_api_key_strategy_type import StrategyApiKeyStrategyType
from .strategy_aws_sigv_4_strategy import StrategyAwsSigv4Strategy
from .strategy_aws_sigv_4_strategy_type import StrategyAwsSigv4StrategyType
from .strategy_basic_auth_strategy import StrategyBasicAuthStrategy
from .strategy_basic_auth_strategy_type import StrategyBasicAuthStrategyType
from .strategy_header_strategy import StrategyHeaderStrategy
from .strategy_header_strategy_type import StrategyHeaderStrategyType
from .strategy_oauth_2_strategy import StrategyOauth2Strategy
from .strategy_oauth_2_strategy_type import StrategyOauth2StrategyType
from .strategy_query_param_strategy import StrategyQueryParamStrategy
from .strategy_query_param_strategy_type import StrategyQueryParamStrategyType

__all__ = (
    "ApiKeyStrategy",
    "AuthType",
    "AwsSigv4Strategy",
    "BasicAuthStrategy",
    "CatalogEntry",
    "ConnectionCheck",
    "ConnectionParam",
    "ConnectionRequest",
    "ConnectionRequestConnectionParams",
    "ConnectionRequested",
    "ConnectionStatus",
    "CredentialEnvelope",
    "CredentialEnvelopeApiHeaders",
    "CredentialEnvelopeApiQuery",
    "CredentialEnvelopeCredentials",
    "Error",
    "HeaderStrategy",
    "HealthStatus",
    "Oauth2Strategy",
    "ProviderCatalog",
    "QueryParamStrategy",
    "StrategyApiKeyStrategy",
    "StrategyApiKeyStrategyType",
    "StrategyAwsSigv4Strategy",
    "StrategyAwsSigv4StrategyType",
    "StrategyBasicAuthStrategy",
    "StrategyBasicAuthStrategyType",
    "StrategyHeaderStrategy",
    "StrategyHeaderStrategyType",
    "StrategyOauth2Strategy",
    "StrategyOauth2StrategyType",
    "StrategyQueryParamStrategy",
    "StrategyQueryParamStrategyType",
)
