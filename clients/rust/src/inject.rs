//! Applying a credential envelope's strategy to an outgoing `reqwest::Request`, exactly as the
//! shared vectors in `clients/testdata/strategies.json` say. A missing field, a strategy this
//! crate does not know or a value that cannot be sent is an `InjectError`, and the request is
//! not sent. A request to an origin outside the envelope's `api_origins` is refused the same way
//! (`origin_not_allowed`). The provider's `api_headers` and `api_query` are added before the
//! strategy is applied. Header values carrying the credential are marked sensitive (hidden from
//! `Debug`).

use crate::gateway::types::{CredentialEnvelope, Strategy};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};

const DEFAULT_API_KEY_HEADER: &str = "X-API-Key";
const DEFAULT_CREDENTIAL_FIELD: &str = "api_key";
const KNOWN_STRATEGIES: [&str; 6] = ["oauth2", "header", "query_param", "basic_auth", "api_key", "aws_sigv4"];

/// Why a credential could not be applied. Never holds the credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InjectError {
    #[error("missing_credential_field: the credential has no `{0}` field")]
    MissingCredentialField(String),
    #[error("unsupported_strategy: strategy `{0}` is not supported by this SDK; upgrade it")]
    UnsupportedStrategy(String),
    #[error("malformed_envelope: the credential envelope is malformed")]
    MalformedEnvelope,
    #[error("invalid_header: `{0}` cannot carry the credential in an HTTP header")]
    InvalidHeader(String),
    /// The request's origin (named here: it is not secret) is not one the credential may go to.
    #[error("origin_not_allowed: the credential may not be sent to {0}")]
    OriginNotAllowed(String),
}

impl InjectError {
    /// The stable code, as in the shared vectors.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingCredentialField(_) => "missing_credential_field",
            Self::UnsupportedStrategy(_) => "unsupported_strategy",
            Self::MalformedEnvelope => "malformed_envelope",
            Self::InvalidHeader(_) => "invalid_header",
            Self::OriginNotAllowed(_) => "origin_not_allowed",
        }
    }
}

/// Reads an envelope from JSON; a strategy from a newer server is `UnsupportedStrategy`.
pub fn envelope_from_json(value: &serde_json::Value) -> Result<CredentialEnvelope, InjectError> {
    let kind = value["strategy"]["type"].as_str().unwrap_or_default();
    if !KNOWN_STRATEGIES.contains(&kind) {
        return Err(InjectError::UnsupportedStrategy(kind.to_owned()));
    }
    serde_json::from_value(value.clone()).map_err(|_| InjectError::MalformedEnvelope)
}

/// A strategy's optional name (a schema-checked string type), or its default.
fn or<'a, T: std::ops::Deref<Target = String>>(value: &'a Option<T>, default: &'a str) -> &'a str {
    value.as_deref().map_or(default, String::as_str)
}

fn field<'a>(envelope: &'a CredentialEnvelope, name: &str) -> Result<&'a str, InjectError> {
    envelope
        .credentials
        .get(name)
        .map(String::as_str)
        .ok_or_else(|| InjectError::MissingCredentialField(name.to_owned()))
}

fn set_header(request: &mut reqwest::Request, name: &str, value: &str) -> Result<(), InjectError> {
    let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| InjectError::InvalidHeader(name.to_owned()))?;
    let mut value = HeaderValue::from_str(value).map_err(|_| InjectError::InvalidHeader(name.to_string()))?;
    value.set_sensitive(true);
    request.headers_mut().insert(name, value);
    Ok(())
}

/// Signs `request` with AWS Signature Version 4 (the `aws-sigv4` crate) at `time`.
fn sign_aws(
    envelope: &CredentialEnvelope,
    service: &str,
    region: &str,
    request: &mut reqwest::Request,
    time: std::time::SystemTime,
) -> Result<(), InjectError> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let identity: aws_smithy_runtime_api::client::identity::Identity = aws_credential_types::Credentials::new(
        field(envelope, "access_key_id")?,
        field(envelope, "secret_access_key")?,
        envelope.credentials.get("session_token").cloned(),
        None,
        "nexus",
    )
    .into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|_| InjectError::InvalidHeader("aws_sigv4".to_owned()))?
        .into();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
        .collect();
    let body = request.body().and_then(reqwest::Body::as_bytes).unwrap_or_default();
    let signable = SignableRequest::new(
        request.method().as_str(),
        request.url().as_str(),
        headers.iter().map(|(name, value)| (name.as_str(), value.as_str())),
        SignableBody::Bytes(body),
    )
    .map_err(|_| InjectError::InvalidHeader("aws_sigv4".to_owned()))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|_| InjectError::InvalidHeader("aws_sigv4".to_owned()))?
        .into_parts();
    for (name, value) in instructions.headers() {
        set_header(request, name, value)?;
    }
    Ok(())
}

/// `request`, carrying the credential the way the envelope's strategy says.
pub fn inject(envelope: &CredentialEnvelope, request: reqwest::Request) -> Result<reqwest::Request, InjectError> {
    inject_at(envelope, request, std::time::SystemTime::now())
}

/// As [`inject`], with the clock a signature (AWS Signature Version 4) is made at.
pub fn inject_at(
    envelope: &CredentialEnvelope,
    mut request: reqwest::Request,
    time: std::time::SystemTime,
) -> Result<reqwest::Request, InjectError> {
    if !crate::origins::allows(&envelope.api_origins, request.url()) {
        return Err(InjectError::OriginNotAllowed(
            request.url().origin().ascii_serialization(),
        ));
    }
    // The provider's own headers and query parameters first: the strategy's header wins a
    // clash, and a signature covers them.
    for (name, value) in &envelope.api_headers {
        set_header(&mut request, name, value)?;
    }
    if !envelope.api_query.is_empty() {
        request.url_mut().query_pairs_mut().extend_pairs(&envelope.api_query);
    }
    match &envelope.strategy {
        Strategy::Oauth2Strategy(_) => {
            let token = field(envelope, "access_token")?;
            set_header(&mut request, AUTHORIZATION.as_str(), &format!("Bearer {token}"))?;
        }
        Strategy::HeaderStrategy(header) => {
            let value = field(envelope, or(&header.credential_field, DEFAULT_CREDENTIAL_FIELD))?;
            let prefix = or(&header.value_prefix, "");
            set_header(&mut request, &header.header_name, &format!("{prefix}{value}"))?;
        }
        Strategy::QueryParamStrategy(query) => {
            let value = field(envelope, or(&query.credential_field, DEFAULT_CREDENTIAL_FIELD))?;
            request
                .url_mut()
                .query_pairs_mut()
                .append_pair(&query.param_name, value);
        }
        Strategy::BasicAuthStrategy(basic) => {
            let username = field(envelope, or(&basic.username_field, "username"))?;
            let password = field(envelope, or(&basic.password_field, "password"))?;
            let encoded = STANDARD.encode(format!("{username}:{password}"));
            set_header(&mut request, AUTHORIZATION.as_str(), &format!("Basic {encoded}"))?;
        }
        Strategy::ApiKeyStrategy(api_key) => {
            let value = field(envelope, DEFAULT_CREDENTIAL_FIELD)?;
            set_header(&mut request, or(&api_key.header_name, DEFAULT_API_KEY_HEADER), value)?;
        }
        Strategy::AwsSigv4Strategy(aws) => sign_aws(envelope, &aws.service, &aws.region, &mut request, time)?,
    }
    Ok(request)
}
