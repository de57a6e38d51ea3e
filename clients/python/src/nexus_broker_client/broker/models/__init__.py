"""Contains all the data models used in inputs/outputs"""

from .agent_key import AgentKey
from .agent_key_create import AgentKeyCreate
from .agent_key_created import AgentKeyCreated
from .agent_key_list import AgentKeyList
from .api_key_strategy import ApiKeyStrategy
from .audit_event import AuditEvent
from .audit_event_page import AuditEventPage
from .audit_event_type import AuditEventType
from .auth_type import AuthType
from .aws_sigv_4_strategy import AwsSigv4Strategy
from .background_task import BackgroundTask
from .background_task_activation import BackgroundTaskActivation
from .background_task_list import BackgroundTaskList
from .background_task_outcome import BackgroundTaskOutcome
from .background_task_run import BackgroundTaskRun
from .basic_auth_strategy import BasicAuthStrategy
from .catalog_entry import CatalogEntry
from .clearable_field import ClearableField
from .connection import Connection
from .connection_check import ConnectionCheck
from .connection_connection_params import ConnectionConnectionParams
from .connection_page import ConnectionPage
from .connection_param import ConnectionParam
from .connection_request import ConnectionRequest
from .connection_request_connection_params import ConnectionRequestConnectionParams
from .connection_requested import ConnectionRequested
from .connection_status import ConnectionStatus
from .consent_create import ConsentCreate
from .consent_create_connection_params import ConsentCreateConnectionParams
from .consent_created import ConsentCreated
from .credential_envelope import CredentialEnvelope
from .credential_envelope_api_headers import CredentialEnvelopeApiHeaders
from .credential_envelope_api_query import CredentialEnvelopeApiQuery
from .credential_envelope_credentials import CredentialEnvelopeCredentials
from .error import Error
from .gateway_credential import GatewayCredential
from .header_strategy import HeaderStrategy
from .health_status import HealthStatus
from .oauth_2_strategy import Oauth2Strategy
from .provider import Provider
from .provider_api_headers import ProviderApiHeaders
from .provider_api_query import ProviderApiQuery
from .provider_authorization_params import ProviderAuthorizationParams
from .provider_catalog import ProviderCatalog
from .provider_create import ProviderCreate
from .provider_create_api_headers import ProviderCreateApiHeaders
from .provider_create_api_query import ProviderCreateApiQuery
from .provider_create_authorization_params import ProviderCreateAuthorizationParams
from .provider_create_incremental_authorization_params import ProviderCreateIncrementalAuthorizationParams
from .provider_create_refresh_params import ProviderCreateRefreshParams
from .provider_create_token_params import ProviderCreateTokenParams
from .provider_create_url_overrides import ProviderCreateUrlOverrides
from .provider_incremental_authorization_params import ProviderIncrementalAuthorizationParams
from .provider_list import ProviderList
from .provider_refresh_params import ProviderRefreshParams
from .provider_token_params import ProviderTokenParams
from .provider_update import ProviderUpdate
from .provider_update_api_headers import ProviderUpdateApiHeaders
from .provider_update_api_query import ProviderUpdateApiQuery
from .provider_update_authorization_params import ProviderUpdateAuthorizationParams
from .provider_update_incremental_authorization_params import ProviderUpdateIncrementalAuthorizationParams
from .provider_update_refresh_params import ProviderUpdateRefreshParams
from .provider_update_token_params import ProviderUpdateTokenParams
from .provider_update_url_overrides import ProviderUpdateUrlOverrides
from .provider_url_overrides import ProviderUrlOverrides
from .query_param_strategy import QueryParamStrategy
from .refresh_result import RefreshResult
from .served_reads import ServedReads
from .served_reads_report import ServedReadsReport
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
from .template import Template
from .template_api_headers import TemplateApiHeaders
from .template_api_query import TemplateApiQuery
from .template_authorization_params import TemplateAuthorizationParams
from .template_connection_param import TemplateConnectionParam
from .template_incremental_authorization_params import TemplateIncrementalAuthorizationParams
from .template_list import TemplateList
from .template_overrides import TemplateOverrides
from .template_refresh_params import TemplateRefreshParams
from .template_summary import TemplateSummary
from .template_token_params import TemplateTokenParams
from .token_endpoint_auth_method import TokenEndpointAuthMethod
from .token_request_format import TokenRequestFormat
from .token_response_shape import TokenResponseShape
from .verification import Verification
from .verification_method import VerificationMethod
from .webhook import Webhook
from .webhook_attempt import WebhookAttempt
from .webhook_create import WebhookCreate
from .webhook_delivery import WebhookDelivery
from .webhook_delivery_page import WebhookDeliveryPage
from .webhook_delivery_status import WebhookDeliveryStatus
from .webhook_event_type import WebhookEventType
from .webhook_list import WebhookList
from .webhook_secret_rotate import WebhookSecretRotate
from .webhook_update import WebhookUpdate
from .webhook_with_secret import WebhookWithSecret

__all__ = (
    "AgentKey",
    "AgentKeyCreate",
    "AgentKeyCreated",
    "AgentKeyList",
    "ApiKeyStrategy",
    "AuditEvent",
    "AuditEventPage",
    "AuditEventType",
    "AuthType",
    "AwsSigv4Strategy",
    "BackgroundTask",
    "BackgroundTaskActivation",
    "BackgroundTaskList",
    "BackgroundTaskOutcome",
    "BackgroundTaskRun",
    "BasicAuthStrategy",
    "CatalogEntry",
    "ClearableField",
    "Connection",
    "ConnectionCheck",
    "ConnectionConnectionParams",
    "ConnectionPage",
    "ConnectionParam",
    "ConnectionRequest",
    "ConnectionRequestConnectionParams",
    "ConnectionRequested",
    "ConnectionStatus",
    "ConsentCreate",
    "ConsentCreateConnectionParams",
    "ConsentCreated",
    "CredentialEnvelope",
    "CredentialEnvelopeApiHeaders",
    "CredentialEnvelopeApiQuery",
    "CredentialEnvelopeCredentials",
    "Error",
    "GatewayCredential",
    "HeaderStrategy",
    "HealthStatus",
    "Oauth2Strategy",
    "Provider",
    "ProviderApiHeaders",
    "ProviderApiQuery",
    "ProviderAuthorizationParams",
    "ProviderCatalog",
    "ProviderCreate",
    "ProviderCreateApiHeaders",
    "ProviderCreateApiQuery",
    "ProviderCreateAuthorizationParams",
    "ProviderCreateIncrementalAuthorizationParams",
    "ProviderCreateRefreshParams",
    "ProviderCreateTokenParams",
    "ProviderCreateUrlOverrides",
    "ProviderIncrementalAuthorizationParams",
    "ProviderList",
    "ProviderRefreshParams",
    "ProviderTokenParams",
    "ProviderUpdate",
    "ProviderUpdateApiHeaders",
    "ProviderUpdateApiQuery",
    "ProviderUpdateAuthorizationParams",
    "ProviderUpdateIncrementalAuthorizationParams",
    "ProviderUpdateRefreshParams",
    "ProviderUpdateTokenParams",
    "ProviderUpdateUrlOverrides",
    "ProviderUrlOverrides",
    "QueryParamStrategy",
    "RefreshResult",
    "ServedReads",
    "ServedReadsReport",
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
    "Template",
    "TemplateApiHeaders",
    "TemplateApiQuery",
    "TemplateAuthorizationParams",
    "TemplateConnectionParam",
    "TemplateIncrementalAuthorizationParams",
    "TemplateList",
    "TemplateOverrides",
    "TemplateRefreshParams",
    "TemplateSummary",
    "TemplateTokenParams",
    "TokenEndpointAuthMethod",
    "TokenRequestFormat",
    "TokenResponseShape",
    "Verification",
    "VerificationMethod",
    "Webhook",
    "WebhookAttempt",
    "WebhookCreate",
    "WebhookDelivery",
    "WebhookDeliveryPage",
    "WebhookDeliveryStatus",
    "WebhookEventType",
    "WebhookList",
    "WebhookSecretRotate",
    "WebhookUpdate",
    "WebhookWithSecret",
)
