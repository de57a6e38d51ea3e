//! Headers and query parameters a provider's API wants on every call besides the credential
//! (Notion's `Notion-Version`, an `Accept` version, an account id from a connection parameter or
//! a credential field). They travel in the envelope, filled for the connection, and the SDKs and
//! the proxy send them with the credential. Values may hold `{param}` (a connection parameter)
//! and `{credential.field}` (a field of the credential) placeholders.

use crate::error::ServiceError;
use crate::url_template::ConnectionParams;
use std::collections::BTreeMap;

/// Headers no provider may set: they frame the request itself.
const FRAMING_HEADERS: [&str; 10] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
    "te",
    "keep-alive",
    "proxy-connection",
    "trailer",
    "expect",
];

/// At most this many headers (and as many query parameters) per provider.
const MAX_EXTRAS: usize = 20;

/// Checks a provider's extra headers (`query: false`) or query parameters.
pub fn validate_extras(
    field: &'static str,
    extras: BTreeMap<String, String>,
    query: bool,
) -> Result<BTreeMap<String, String>, ServiceError> {
    if extras.len() > MAX_EXTRAS {
        return Err(ServiceError::invalid(field, format!("at most {MAX_EXTRAS} entries")));
    }
    let token = |name: &str| {
        !name.is_empty()
            && name.len() <= 128
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    for (name, value) in &extras {
        let name_ok = if query {
            !name.is_empty() && name.len() <= 128 && !name.chars().any(char::is_control)
        } else {
            token(name) && !FRAMING_HEADERS.contains(&name.to_ascii_lowercase().as_str())
        };
        if !name_ok {
            return Err(ServiceError::invalid(
                format!("{field}.{name}"),
                "is not a name that can be sent (a header token, not one that frames the request)",
            ));
        }
        if value.len() > 512 || value.chars().any(char::is_control) {
            return Err(ServiceError::invalid(
                format!("{field}.{name}"),
                "must be at most 512 printable characters",
            ));
        }
    }
    Ok(extras)
}

/// `extras` filled for one connection: `{param}` from its parameters, `{credential.field}` from
/// its credential. An entry whose placeholder has no value is left out rather than sent half
/// filled.
pub fn fill_extras(
    extras: &BTreeMap<String, String>,
    params: &ConnectionParams,
    credential: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    extras
        .iter()
        .filter_map(|(name, value)| fill(value, params, credential).map(|filled| (name.clone(), filled)))
        // A captured field may hold anything: a value no HTTP library would send is left out
        // rather than failing every call.
        .filter(|(_, filled)| !filled.chars().any(char::is_control))
        .collect()
}

fn fill(text: &str, params: &ConnectionParams, credential: &BTreeMap<String, String>) -> Option<String> {
    let mut filled = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let length = rest[start..].find('}')?;
        let name = &rest[start + 1..start + length];
        let value = match name.strip_prefix("credential.") {
            Some(field) => credential.get(field)?,
            None => params.get(name)?,
        };
        filled.push_str(&rest[..start]);
        filled.push_str(value);
        rest = &rest[start + length + 1..];
    }
    filled.push_str(rest);
    Some(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extras_are_filled_from_parameters_and_credentials_or_left_out() {
        let extras: BTreeMap<String, String> = [
            ("notion-version".to_owned(), "2022-06-28".to_owned()),
            ("x-company-id".to_owned(), "{company_id}".to_owned()),
            ("x-app-key".to_owned(), "key {credential.app_key}".to_owned()),
            ("x-missing".to_owned(), "{credential.absent}".to_owned()),
            ("x-broken".to_owned(), "{credential.broken}".to_owned()),
        ]
        .into();
        let params: ConnectionParams = [("company_id".to_owned(), "42".to_owned())].into();
        let credential = [
            ("app_key".to_owned(), "k-1".to_owned()),
            ("broken".to_owned(), "a\r\nInjected: 1".to_owned()),
        ]
        .into();
        let filled = fill_extras(&extras, &params, &credential);
        assert_eq!(filled["notion-version"], "2022-06-28");
        assert_eq!(filled["x-company-id"], "42");
        assert_eq!(filled["x-app-key"], "key k-1");
        assert!(!filled.contains_key("x-missing"));
        assert!(!filled.contains_key("x-broken"), "a value with CR LF is left out");
    }

    #[test]
    fn framing_headers_and_control_characters_are_refused() {
        for (name, value) in [
            ("Host", "evil.example"),
            ("x-ok", "a\r\nInjected: 1"),
            ("bad name", "v"),
        ] {
            let extras = [(name.to_owned(), value.to_owned())].into();
            assert!(validate_extras("api_headers", extras, false).is_err(), "{name}");
        }
        let fine = [("Accept".to_owned(), "application/vnd.github+json".to_owned())].into();
        assert!(validate_extras("api_headers", fine, false).is_ok());
    }
}
