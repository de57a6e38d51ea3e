//! Applying a strategy to an outbound request: how Nexus verifies captured credentials, and the
//! reference the SDKs follow. A missing field is an error and nothing is sent.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use nexus_domain::connection::CredentialValues;
use nexus_domain::strategy::{DEFAULT_API_KEY_HEADER, DEFAULT_CREDENTIAL_FIELD, Strategy};
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};

fn field<'a>(values: &'a CredentialValues, name: &str) -> Result<&'a str, String> {
    values
        .0
        .get(name)
        .map(String::as_str)
        .ok_or_else(|| format!("the credential has no `{name}` field"))
}

fn sensitive(value: &str) -> Result<HeaderValue, String> {
    let mut value = HeaderValue::from_str(value).map_err(|_| "the credential cannot be sent in a header".to_owned())?;
    value.set_sensitive(true);
    Ok(value)
}

/// Adds the credential to `request` as the strategy says.
pub fn apply_strategy(
    request: reqwest::RequestBuilder,
    strategy: &Strategy,
    values: &CredentialValues,
) -> Result<reqwest::RequestBuilder, String> {
    let header = |request: reqwest::RequestBuilder, name: &str, value: String| -> Result<_, String> {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("`{name}` is not a header name"))?;
        Ok(request.header(name, sensitive(&value)?))
    };
    match strategy {
        Strategy::Oauth2 => header(
            request,
            AUTHORIZATION.as_str(),
            format!("Bearer {}", field(values, "access_token")?),
        ),
        Strategy::Header {
            header_name,
            credential_field,
            value_prefix,
        } => header(
            request,
            header_name,
            format!(
                "{}{}",
                value_prefix.as_deref().unwrap_or(""),
                field(values, credential_field)?
            ),
        ),
        Strategy::QueryParam {
            param_name,
            credential_field,
        } => Ok(request.query(&[(param_name.as_str(), field(values, credential_field)?)])),
        Strategy::BasicAuth {
            username_field,
            password_field,
        } => {
            let pair = format!("{}:{}", field(values, username_field)?, field(values, password_field)?);
            header(
                request,
                AUTHORIZATION.as_str(),
                format!("Basic {}", STANDARD.encode(pair)),
            )
        }
        Strategy::ApiKey { header_name } => header(
            request,
            header_name.as_deref().unwrap_or(DEFAULT_API_KEY_HEADER),
            field(values, DEFAULT_CREDENTIAL_FIELD)?.to_owned(),
        ),
        // Registration refuses a verification request for these providers: Nexus does not sign.
        Strategy::AwsSigv4 { .. } => {
            Err("requests signed with AWS Signature Version 4 are made by the SDKs".to_owned())
        }
    }
}
