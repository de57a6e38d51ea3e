//! The strategy tagged union (`type` discriminator) as it appears in the spec.
//!
//! The variant objects cannot deny unknown fields: the discriminator itself reaches them.

use nexus_domain::strategy::{DEFAULT_CREDENTIAL_FIELD, DEFAULT_PASSWORD_FIELD, DEFAULT_USERNAME_FIELD, Strategy};
use poem_openapi::{Object, Union};

/// `Authorization: Bearer <credentials.access_token>`
#[derive(Object, Debug, Clone, PartialEq, Eq)]
#[oai(skip_serializing_if_is_none)]
pub struct Oauth2Strategy {}

/// `<header_name>: <value_prefix><credentials[credential_field]>`
#[derive(Object, Debug, Clone, PartialEq, Eq)]
#[oai(skip_serializing_if_is_none)]
pub struct HeaderStrategy {
    /// Header to set, such as `Authorization` or `X-Api-Token`
    #[oai(validator(pattern = r"^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$", max_length = 128))]
    pub header_name: String,
    /// Credential field whose value is sent (default `api_key`)
    #[oai(validator(min_length = 1, max_length = 64))]
    pub credential_field: Option<String>,
    /// Text put before the value, such as `token ` or `Bearer `
    #[oai(
        skip_serializing_if_is_none,
        validator(max_length = 64, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")
    )]
    pub value_prefix: Option<String>,
}

/// `?<param_name>=<credentials[credential_field]>`
#[derive(Object, Debug, Clone, PartialEq, Eq)]
#[oai(skip_serializing_if_is_none)]
pub struct QueryParamStrategy {
    /// Query parameter to set
    #[oai(validator(min_length = 1, max_length = 128))]
    pub param_name: String,
    /// Credential field whose value is sent (default `api_key`)
    #[oai(validator(min_length = 1, max_length = 64))]
    pub credential_field: Option<String>,
}

/// `Authorization: Basic base64(<username>:<password>)`
#[derive(Object, Debug, Clone, PartialEq, Eq)]
#[oai(skip_serializing_if_is_none)]
pub struct BasicAuthStrategy {
    /// Credential field holding the username (default `username`)
    #[oai(validator(min_length = 1, max_length = 64))]
    pub username_field: Option<String>,
    /// Credential field holding the password (default `password`)
    #[oai(validator(min_length = 1, max_length = 64))]
    pub password_field: Option<String>,
}

/// `<header_name>: <credentials.api_key>`, header `X-API-Key` unless named
#[derive(Object, Debug, Clone, PartialEq, Eq)]
#[oai(skip_serializing_if_is_none)]
pub struct ApiKeyStrategy {
    /// Header to set (default `X-API-Key`)
    #[oai(
        skip_serializing_if_is_none,
        validator(pattern = r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$", max_length = 128)
    )]
    pub header_name: Option<String>,
}

/// AWS Signature Version 4 for `service` in `region` (the SDKs sign each request with
/// `access_key_id`, `secret_access_key` and, when present, `session_token`)
#[derive(Object, Debug, Clone, PartialEq, Eq)]
#[oai(skip_serializing_if_is_none)]
pub struct AwsSigv4Strategy {
    /// The signing name of the service, such as `execute-api`, `s3` or `bedrock`
    #[oai(validator(pattern = r"^[a-z0-9-]+$", max_length = 64))]
    pub service: String,
    /// The region, such as `eu-west-1`
    #[oai(validator(pattern = r"^[a-z0-9-]+$", max_length = 64))]
    pub region: String,
}

/// How an agent injects the credential into its requests to the provider
#[derive(Union, Debug, Clone, PartialEq, Eq)]
#[oai(rename = "Strategy", discriminator_name = "type", one_of)]
pub enum StrategyDto {
    #[oai(mapping = "oauth2")]
    Oauth2(Oauth2Strategy),
    #[oai(mapping = "header")]
    Header(HeaderStrategy),
    #[oai(mapping = "query_param")]
    QueryParam(QueryParamStrategy),
    #[oai(mapping = "basic_auth")]
    BasicAuth(BasicAuthStrategy),
    #[oai(mapping = "api_key")]
    ApiKey(ApiKeyStrategy),
    #[oai(mapping = "aws_sigv4")]
    AwsSigv4(AwsSigv4Strategy),
}

fn or_default(field: Option<String>, default: &str) -> String {
    field.unwrap_or_else(|| default.to_owned())
}

impl From<StrategyDto> for Strategy {
    fn from(dto: StrategyDto) -> Self {
        match dto {
            StrategyDto::Oauth2(_) => Self::Oauth2,
            StrategyDto::Header(h) => Self::Header {
                header_name: h.header_name,
                credential_field: or_default(h.credential_field, DEFAULT_CREDENTIAL_FIELD),
                value_prefix: h.value_prefix,
            },
            StrategyDto::QueryParam(q) => Self::QueryParam {
                param_name: q.param_name,
                credential_field: or_default(q.credential_field, DEFAULT_CREDENTIAL_FIELD),
            },
            StrategyDto::BasicAuth(b) => Self::BasicAuth {
                username_field: or_default(b.username_field, DEFAULT_USERNAME_FIELD),
                password_field: or_default(b.password_field, DEFAULT_PASSWORD_FIELD),
            },
            StrategyDto::ApiKey(a) => Self::ApiKey {
                header_name: a.header_name,
            },
            StrategyDto::AwsSigv4(a) => Self::AwsSigv4 {
                service: a.service,
                region: a.region,
            },
        }
    }
}

impl From<Strategy> for StrategyDto {
    fn from(strategy: Strategy) -> Self {
        match strategy {
            Strategy::Oauth2 => Self::Oauth2(Oauth2Strategy {}),
            Strategy::Header {
                header_name,
                credential_field,
                value_prefix,
            } => Self::Header(HeaderStrategy {
                header_name,
                credential_field: Some(credential_field),
                value_prefix,
            }),
            Strategy::QueryParam {
                param_name,
                credential_field,
            } => Self::QueryParam(QueryParamStrategy {
                param_name,
                credential_field: Some(credential_field),
            }),
            Strategy::BasicAuth {
                username_field,
                password_field,
            } => Self::BasicAuth(BasicAuthStrategy {
                username_field: Some(username_field),
                password_field: Some(password_field),
            }),
            Strategy::ApiKey { header_name } => Self::ApiKey(ApiKeyStrategy { header_name }),
            Strategy::AwsSigv4 { service, region } => Self::AwsSigv4(AwsSigv4Strategy { service, region }),
        }
    }
}
