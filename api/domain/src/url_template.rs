//! URLs with `{param}` placeholders (`https://{subdomain}.zendesk.com/oauth/tokens`), the
//! parameters a connection supplies to fill them, and the checks that keep a filled URL on the
//! provider's scheme, port and registrable domain whatever a connection sends.

use crate::error::ServiceError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use url::{Host, Url};

/// At most this many parameters per provider, and characters per value.
pub const MAX_CONNECTION_PARAMS: usize = 20;
pub const MAX_VALUE_LENGTH: usize = 253;

/// A value a connection supplies, such as a Zendesk subdomain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionParam {
    /// Snake case; `{name}` in the provider's URLs.
    pub name: String,
    pub description: String,
    /// A fully anchored pattern in the `regex` crate's syntax that every value must match.
    pub pattern: String,
    /// The only values allowed, when the provider has a fixed list (regions, say).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Only used by an override: a connection may leave it out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

/// A connection's parameter values, checked against its provider's declarations. Not secret:
/// they name where the provider lives (a subdomain, a region), never a credential.
pub type ConnectionParams = BTreeMap<String, String>;

/// A URL that may hold `{param}` placeholders. The text is kept as written (placeholders would
/// not survive `Url`'s normalisation); `shape` is the URL with every placeholder filled with a
/// plain label, which tells its scheme and port.
#[derive(Clone, PartialEq, Eq)]
pub struct UrlTemplate {
    raw: String,
    shape: Url,
    templated: bool,
}

/// What every placeholder is filled with to check a template's shape.
const SHAPE_VALUE: &str = "x0";

impl UrlTemplate {
    /// Parses a URL whose placeholders (if any) are well formed and sit where a value cannot
    /// change the scheme or the port. Whether each one is declared is the provider's check.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let names = placeholders(raw);
        if raw.matches('{').count() != names.len() || raw.matches('}').count() != names.len() {
            return Err("has an unbalanced `{` or `}`".to_owned());
        }
        if let Some(bad) = names.iter().find(|name| !is_param_name(name)) {
            return Err(format!("placeholder `{{{bad}}}` is not a parameter name (snake case)"));
        }
        let (scheme, rest) = raw.split_once("://").ok_or("is not an absolute URL")?;
        if scheme.contains('{') {
            return Err("the scheme cannot come from a parameter".to_owned());
        }
        let authority = authority_part(rest);
        if authority.contains('@') {
            return Err("must not contain credentials".to_owned());
        }
        if authority.rsplit_once(':').is_some_and(|(_, port)| port.contains('{')) {
            return Err("the port cannot come from a parameter".to_owned());
        }
        let shape = Url::parse(&fill(raw, SHAPE_VALUE)).map_err(|e| format!("is not a valid URL: {e}"))?;
        Ok(Self {
            raw: raw.to_owned(),
            templated: !names.is_empty(),
            shape,
        })
    }

    /// A URL without placeholders.
    pub fn fixed_url(url: Url) -> Self {
        Self {
            raw: url.to_string(),
            shape: url,
            templated: false,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The URL itself when nothing in it comes from a connection.
    pub fn fixed(&self) -> Option<&Url> {
        (!self.templated).then_some(&self.shape)
    }

    /// The URL with every placeholder filled with a plain label: its scheme, host and port are
    /// the ones every filled URL has (but for the parameter's part of the host).
    pub fn shape(&self) -> &Url {
        &self.shape
    }

    pub fn placeholders(&self) -> Vec<&str> {
        placeholders(&self.raw)
    }

    /// Whether a parameter decides the host, and whether anything fixed follows it there.
    pub fn host_needs_suffixes(&self) -> bool {
        let host = authority_part(self.raw.split_once("://").map_or("", |(_, rest)| rest));
        !placeholders(host).is_empty() && fixed_domain(&self.raw).is_none()
    }

    /// The URL for a connection: every placeholder filled with its value, and the result checked
    /// to keep the template's scheme, port and domain (the fixed tail of a templated host, or one
    /// of `allowed_host_suffixes` when the whole host comes from a parameter).
    pub fn resolve(&self, values: &ConnectionParams, allowed_host_suffixes: &[String]) -> Result<Url, String> {
        if !self.templated {
            return Ok(self.shape.clone());
        }
        let mut filled = self.raw.clone();
        for name in placeholders(&self.raw) {
            let value = values
                .get(name)
                .ok_or_else(|| format!("needs connection parameter `{name}`"))?;
            value_shape_problem(value).map_or(Ok(()), |problem| Err(format!("`{name}` {problem}")))?;
            filled = filled.replace(&format!("{{{name}}}"), value);
        }
        let url = Url::parse(&filled).map_err(|e| format!("is not a valid URL once filled: {e}"))?;
        let same_shape = url.scheme() == self.shape.scheme()
            && url.port_or_known_default() == self.shape.port_or_known_default()
            && url.username().is_empty()
            && url.password().is_none()
            && url.fragment().is_none();
        let same_host = if placeholders(host_part(&self.raw)).is_empty() {
            // A fixed host (a domain, an IDN, an address): exactly the template's, as parsed.
            url.host() == self.shape.host()
        } else {
            matches!(url.host(), Some(Host::Domain(host)) if host_within(&self.raw, allowed_host_suffixes, host))
        };
        if !same_shape || !same_host {
            let host = url.host_str().unwrap_or_default();
            return Err(format!("would leave the provider's domain (host `{host}`)"));
        }
        Ok(url)
    }
}

impl fmt::Display for UrlTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl fmt::Debug for UrlTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UrlTemplate({})", self.raw)
    }
}

impl Serialize for UrlTemplate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for UrlTemplate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// The `{name}` placeholders in `text` (`{credential.x}` refers to a credential, not a parameter).
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let Some(length) = rest[start..].find('}') else {
            break;
        };
        let name = &rest[start + 1..start + length];
        if !name.starts_with("credential.") {
            found.push(name);
        }
        rest = &rest[start + length + 1..];
    }
    found
}

/// `text` with every `{param}` replaced by `value`.
pub fn fill(text: &str, value: &str) -> String {
    let mut filled = text.to_owned();
    for name in placeholders(text) {
        filled = filled.replace(&format!("{{{name}}}"), value);
    }
    filled
}

/// `https://{a}.example.com:8443/x` → `{a}.example.com:8443`.
pub fn authority_part(url_rest: &str) -> &str {
    url_rest.split(['/', '?', '#']).next().unwrap_or(url_rest)
}

/// `https://{a}.example.com/x` → `{a}.example.com` (no port).
pub fn host_part(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = authority_part(rest);
    authority.rsplit_once(':').map_or(authority, |(host, _)| host)
}

/// The domain a templated host keeps: what follows the first dot of the fixed tail after its
/// last placeholder (`{sub}.zendesk.com` → `zendesk.com`, `{id}-api.centrastage.net` →
/// `centrastage.net`), when it holds a registrable domain by the Public Suffix List. `None`
/// when the host has no such tail: `{instance}`, `{sub}.com`, `api.{brand}.co.uk` or
/// `{app}.herokuapp.com`, where a value would pick someone else's domain.
pub fn fixed_domain(url: &str) -> Option<&str> {
    let tail = host_part(url).rsplit('}').next().unwrap_or("");
    tail.split_once('.')
        .map(|(_, domain)| domain)
        .filter(|domain| !domain.starts_with('.') && psl::domain_str(&domain.to_ascii_lowercase()).is_some())
}

/// Where the endpoints a templated issuer's discovery document names must stay: the issuer
/// template's domain (or its allowed suffixes), like the issuer itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainRule {
    pub template: String,
    pub allowed_host_suffixes: Vec<String>,
}

impl DomainRule {
    pub fn allows(&self, url: &Url) -> bool {
        matches!(url.host(), Some(Host::Domain(host)) if host_within(&self.template, &self.allowed_host_suffixes, host))
    }
}

/// Whether `host` (of a URL filled from `url_template`) stays in the template's domain: its
/// fixed domain, or one of the allowed suffixes, or, for a host without placeholders, itself.
pub fn host_within(url_template: &str, allowed_host_suffixes: &[String], host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let template_host = host_part(url_template);
    if placeholders(template_host).is_empty() {
        return host == template_host.to_ascii_lowercase();
    }
    // Under the suffix, and not under a public suffix below it: `amazonaws.com` must not admit
    // `evil.execute-api.us-east-1.amazonaws.com`, a name anyone may hold.
    let public = psl::suffix_str(&host).unwrap_or(&host).to_owned();
    let within = |suffix: &str| {
        let suffix = suffix.to_ascii_lowercase();
        let under = host == suffix || host.ends_with(&format!(".{suffix}"));
        let not_below_a_public_suffix = suffix == public || suffix.ends_with(&format!(".{public}"));
        under && not_below_a_public_suffix
    };
    match fixed_domain(url_template) {
        Some(domain) => within(domain),
        // A shared suffix is refused when a provider is saved; one saved before that rule
        // existed is ignored here, so it admits no host.
        None => allowed_host_suffixes
            .iter()
            .any(|suffix| !crate::provider::is_shared_suffix(suffix) && within(suffix)),
    }
}

/// Snake case, starting with a letter, at most 64 characters.
pub fn is_param_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// What makes a value unfit for any URL position, whatever its pattern allows: only letters,
/// digits, `-`, `_`, `~` and inner dots (so never `/`, `@`, `:`, `%`, `?`, `#`, whitespace, a
/// dot segment or an empty label).
pub fn value_shape_problem(value: &str) -> Option<&'static str> {
    if value.is_empty() || value.len() > MAX_VALUE_LENGTH {
        return Some("must be 1 to 253 characters");
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '~' | '.'))
    {
        return Some("may hold only letters, digits, `-`, `_`, `~` and inner dots");
    }
    if value.starts_with('.') || value.ends_with('.') || value.contains("..") {
        return Some("must not start or end with a dot or hold two in a row");
    }
    None
}

/// Inline flags other than `(?:` and `(?i:` change what the anchors mean (`(?m)`), and a `|`
/// outside any group escapes them (`^a$|^b.*$`): a pattern must match whole values only.
pub fn pattern_problem(pattern: &str) -> Option<String> {
    if !pattern.starts_with('^') || !pattern.ends_with('$') {
        return Some("must be anchored (^...$)".to_owned());
    }
    let (mut escaped, mut in_class, mut depth) = (false, false, 0_i32);
    let chars: Vec<char> = pattern.chars().collect();
    for (index, &c) in chars.iter().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            ']' if in_class => in_class = false,
            _ if in_class => {}
            '[' => in_class = true,
            '(' => {
                depth += 1;
                if chars.get(index + 1) == Some(&'?') {
                    let rest: String = chars[index + 2..].iter().take(2).collect();
                    if !(rest.starts_with(':') || rest == "i:") {
                        return Some("uses inline flags (only `(?:` and `(?i:` groups)".to_owned());
                    }
                }
            }
            ')' => depth -= 1,
            '|' if depth == 0 => return Some("has a `|` outside any group".to_owned()),
            _ => {}
        }
    }
    regex::Regex::new(pattern)
        .err()
        .map(|error| format!("does not compile: {error}"))
}

/// A provider's declarations, checked when it is registered: names, descriptions, patterns
/// (anchored, compiled), choices and defaults that match them. `field` is where they sit.
pub fn validate_declarations(field: &str, declared: &[ConnectionParam]) -> Result<(), ServiceError> {
    if declared.len() > MAX_CONNECTION_PARAMS {
        return Err(ServiceError::invalid(field, "at most 20 connection parameters"));
    }
    for (index, param) in declared.iter().enumerate() {
        let at = format!("{field}[{index}]");
        if !is_param_name(&param.name) {
            return Err(ServiceError::invalid(
                format!("{at}.name"),
                "must be snake case (a-z, 0-9, _), starting with a letter, at most 64 characters",
            ));
        }
        if declared[..index].iter().any(|other| other.name == param.name) {
            return Err(ServiceError::invalid(
                format!("{at}.name"),
                format!("`{}` is declared twice", param.name),
            ));
        }
        if param.description.trim().is_empty() || param.description.len() > 500 {
            return Err(ServiceError::invalid(
                format!("{at}.description"),
                "must be 1 to 500 characters",
            ));
        }
        if let Some(problem) = pattern_problem(&param.pattern) {
            return Err(ServiceError::invalid(format!("{at}.pattern"), problem));
        }
        let pattern = regex::Regex::new(&param.pattern)
            .map_err(|e| ServiceError::invalid(format!("{at}.pattern"), e.to_string()))?;
        for value in param.choices.iter().chain(&param.default) {
            if !pattern.is_match(value) || value_shape_problem(value).is_some() {
                return Err(ServiceError::invalid(
                    format!("{at}.choices"),
                    format!("`{value}` does not match the pattern or is not URL-safe"),
                ));
            }
        }
    }
    Ok(())
}

/// A connection's values checked against its provider's declarations: every name declared,
/// every required one present (defaults fill the rest), every value URL-safe, one of the
/// choices when there are some, and matching its pattern. Errors name
/// `connection_params.<name>`.
pub fn check_values(declared: &[ConnectionParam], given: &ConnectionParams) -> Result<ConnectionParams, ServiceError> {
    if let Some(unknown) = given.keys().find(|name| !declared.iter().any(|p| &p.name == *name)) {
        let known: Vec<&str> = declared.iter().map(|p| p.name.as_str()).collect();
        let message = if known.is_empty() {
            "this provider takes no connection parameters".to_owned()
        } else {
            format!("is not a parameter of this provider (it takes: {})", known.join(", "))
        };
        return Err(ServiceError::invalid(format!("connection_params.{unknown}"), message));
    }
    let mut values = ConnectionParams::new();
    for param in declared {
        let field = format!("connection_params.{}", param.name);
        let Some(value) = given.get(&param.name).or(param.default.as_ref()) else {
            if param.optional {
                continue;
            }
            return Err(ServiceError::invalid(
                field,
                format!("is required: {}", param.description),
            ));
        };
        if let Some(problem) = value_shape_problem(value) {
            return Err(ServiceError::invalid(field, problem));
        }
        if !param.choices.is_empty() && !param.choices.contains(value) {
            return Err(ServiceError::invalid(
                field,
                format!("must be one of: {}", param.choices.join(", ")),
            ));
        }
        let matches = regex::Regex::new(&param.pattern).is_ok_and(|pattern| pattern.is_match(value));
        if !matches {
            return Err(ServiceError::invalid(
                field,
                format!("does not match {} ({})", param.pattern, param.description),
            ));
        }
        values.insert(param.name.clone(), value.clone());
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subdomain() -> ConnectionParam {
        ConnectionParam {
            name: "subdomain".into(),
            description: "Your Zendesk subdomain".into(),
            pattern: "^[a-z0-9][a-z0-9-]{0,62}$".into(),
            choices: vec![],
            default: None,
            optional: false,
        }
    }

    fn values(value: &str) -> ConnectionParams {
        [("subdomain".to_owned(), value.to_owned())].into()
    }

    #[test]
    fn a_templated_url_fills_and_keeps_its_domain() {
        let template = UrlTemplate::parse("https://{subdomain}.zendesk.com/oauth/tokens").expect("template");
        assert!(template.fixed().is_none());
        assert_eq!(template.shape().host_str(), Some("x0.zendesk.com"));
        let url = template.resolve(&values("acme"), &[]).expect("filled");
        assert_eq!(url.as_str(), "https://acme.zendesk.com/oauth/tokens");
        assert_eq!(template.to_string(), "https://{subdomain}.zendesk.com/oauth/tokens");
    }

    #[test]
    fn values_that_would_move_the_host_are_refused() {
        let declared = [subdomain()];
        for hostile in [
            "evil.com/x",
            "a.b",
            "%2e",
            "user@evil.com",
            "acme:8443",
            "..",
            "a b",
            "",
        ] {
            let error = check_values(&declared, &values(hostile)).expect_err(hostile);
            assert_eq!(error.field(), Some("connection_params.subdomain"), "{hostile}");
        }
        let template = UrlTemplate::parse("https://{subdomain}.zendesk.com/x").expect("template");
        // Even without a pattern, the fill itself refuses what would leave the domain.
        for hostile in ["evil.com/x", "evil.com?", "a@evil.com", "evil.com:1", "%2e"] {
            assert!(template.resolve(&values(hostile), &[]).is_err(), "{hostile}");
        }
        let whole_host = UrlTemplate::parse("https://{subdomain}/x").expect("template");
        assert!(whole_host.host_needs_suffixes());
        let allowed = ["my.salesforce.com".to_owned()];
        assert!(whole_host.resolve(&values("acme.my.salesforce.com"), &allowed).is_ok());
        assert!(whole_host.resolve(&values("evil.com"), &allowed).is_err());
        assert!(
            whole_host
                .resolve(&values("my.salesforce.com.evil.com"), &allowed)
                .is_err()
        );
    }

    #[test]
    fn a_tail_that_is_a_public_suffix_fixes_no_domain() {
        assert_eq!(fixed_domain("https://{sub}.zendesk.com/x"), Some("zendesk.com"));
        assert_eq!(
            fixed_domain("https://{id}-api.centrastage.net"),
            Some("centrastage.net")
        );
        for open in [
            "https://api.{brand}.co.uk/",
            "https://{x}-shop.com.au/",
            "https://{app}.herokuapp.com/",
            "https://{sub}.com/",
            "https://{instance}/",
        ] {
            assert_eq!(fixed_domain(open), None, "{open}");
            assert!(
                UrlTemplate::parse(open).expect("template").host_needs_suffixes(),
                "{open}"
            );
        }
        // A fixed host, an address, keeps working with a parameter in the path.
        let by_address = UrlTemplate::parse("https://192.0.2.7/t/{subdomain}/token").expect("template");
        assert!(by_address.resolve(&values("acme"), &[]).is_ok());
    }

    #[test]
    fn templates_may_not_put_parameters_in_the_scheme_port_or_userinfo() {
        for bad in [
            "{scheme}://x.example.com",
            "https://x.example.com:{port}/",
            "https://{user}@x.example.com/",
            "https://{sub.example.com/",
            "https://{Sub}.example.com/",
        ] {
            assert!(UrlTemplate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn declarations_and_values_are_checked() {
        let mut param = subdomain();
        param.pattern = "[a-z]+".into();
        let error = validate_declarations("connection_params", &[param]).expect_err("unanchored");
        assert_eq!(error.field(), Some("connection_params[0].pattern"));
        let error = check_values(&[subdomain()], &ConnectionParams::new()).expect_err("missing");
        assert_eq!(error.field(), Some("connection_params.subdomain"));
        let error =
            check_values(&[subdomain()], &[("region".to_owned(), "eu".to_owned())].into()).expect_err("unknown");
        assert_eq!(error.field(), Some("connection_params.region"));
        let mut with_default = subdomain();
        with_default.default = Some("www".into());
        let filled = check_values(&[with_default], &ConnectionParams::new()).expect("default");
        assert_eq!(filled["subdomain"], "www");
    }
}
