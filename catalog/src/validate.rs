//! The catalog's schema rules, beyond the shape serde checks: kebab names, https everywhere, both
//! OAuth2 URLs, strategies Nexus knows, every placeholder declared, patterns that compile, are
//! anchored and cannot move a URL to another host.

use nexus_domain::catalog::{Template, placeholders};
use nexus_domain::provider::{parse_endpoint_template, validate_host_suffixes};
use nexus_domain::strategy::Strategy;
use nexus_domain::url_template::{fill, fixed_domain, host_part, host_within};
use std::collections::BTreeSet;

/// Values a connection might try in order to send a consent or a token elsewhere: a host
/// parameter's pattern must refuse each one (a fixed list of choices is checked separately).
const HOSTILE_VALUES: &[&str] = &[
    "",
    "evil.example/",
    "a@evil.example",
    "evil.example:443",
    "a/b",
    "a?b",
    "a#b",
    "a\\b",
    "a b",
    "a\r\nb",
    "..",
    "a%2fb",
];

/// The registrable domain of a URL's host (`docs.github.com` → `github.com`); for a templated
/// host, of its fixed tail (`{subdomain}.zendesk.com` → `zendesk.com`).
fn registrable_domain(url: &str) -> Option<String> {
    let host = host_part(url).to_ascii_lowercase();
    let fixed = host.rsplit('}').next().unwrap_or(&host).trim_start_matches(['.', '-']);
    psl::domain_str(fixed).map(str::to_owned)
}

/// A help link must be the provider's own: on the registrable domain of one of the template's
/// endpoints or API origins. A third party's page (an integration platform's guide) is refused:
/// no link is better than sending a user connecting Stripe to someone else's site.
fn docs_url_problem(template: &Template) -> Option<String> {
    let docs = template.docs_url.as_deref()?;
    let own: BTreeSet<String> = template
        .urls()
        .into_iter()
        .filter(|(field, _)| field != "docs_url" && field != "logo_url")
        .map(|(_, url)| url)
        .chain(template.api_origins.iter().map(String::as_str))
        .filter_map(registrable_domain)
        .collect();
    match registrable_domain(docs) {
        Some(domain) if own.contains(&domain) => None,
        _ => Some(format!(
            "docs_url `{docs}` is not on the provider's own domain ({}): link the provider's documentation or none",
            own.into_iter().collect::<Vec<_>>().join(", ")
        )),
    }
}

/// Every problem with `template`, each naming the field.
pub fn problems(template: &Template) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(text) = docs_url_problem(template) {
        problems.push(format!("{}: {text}", template.name));
    }
    let mut problem = |text: String| problems.push(format!("{}: {text}", template.name));
    if let Err(error) = nexus_domain::ProviderName::parse(&template.name) {
        problem(format!("name {error}"));
    }
    if template.display_name.trim().is_empty() || template.display_name.len() > 100 {
        problem("display_name must be 1 to 100 characters".to_owned());
    }
    if template.categories.is_empty() {
        problem("categories must name at least one".to_owned());
    }
    for category in &template.categories {
        if nexus_domain::ProviderName::parse(category).is_err() {
            problem(format!("category `{category}` is not kebab"));
        }
    }
    match template.auth_type.as_str() {
        "oauth2" => {
            for (field, value) in [
                ("authorization_url", &template.authorization_url),
                ("token_url", &template.token_url),
            ] {
                if value.is_none() {
                    problem(format!("an oauth2 template needs {field}"));
                }
            }
            if template.credential_schema.is_some() {
                problem("an oauth2 template has no credential_schema (the consent yields the token)".to_owned());
            }
        }
        "api_key" | "basic_auth" => {
            if template.authorization_url.is_some() || template.token_url.is_some() {
                problem(format!("a {} template has no OAuth2 endpoints", template.auth_type));
            }
        }
        other => problem(format!("auth_type `{other}` is not oauth2, api_key or basic_auth")),
    }
    if let Some(strategy) = &template.strategy {
        match serde_json::from_value::<Strategy>(strategy.clone()) {
            Ok(strategy) => {
                if let Err(error) = strategy.validate() {
                    problem(format!("strategy: {error}"));
                }
                if let Some(schema) = &template.credential_schema {
                    for field in strategy.credential_fields() {
                        if schema["properties"].get(field).is_none() {
                            problem(format!(
                                "strategy reads `{field}`, which credential_schema does not ask for"
                            ));
                        }
                    }
                }
            }
            Err(error) => problem(format!("strategy is not one Nexus knows: {error}")),
        }
    }
    for (field, url) in template.urls() {
        if let Err(error) = check_url(&field, url) {
            problem(format!("{field}: {error}"));
        }
    }
    for (index, origin) in template.api_origins.iter().enumerate() {
        match nexus_domain::origins::ApiOrigin::parse(origin) {
            Ok(parsed) if parsed.template().shape().scheme() != "https" => {
                problem(format!("api_origins[{index}]: `{origin}` is not https"));
            }
            Ok(_) => {}
            Err(error) => problem(format!("api_origins[{index}]: {error}")),
        }
    }
    for key in template.authorization_params.keys() {
        if nexus_domain::provider::RESERVED_AUTHORIZATION_PARAMS.contains(&key.as_str()) {
            problems.push(format!(
                "{}: authorization_params may not set `{key}` (Nexus sets it)",
                template.name
            ));
        }
    }
    for (field, value, allowed) in [
        (
            "token_endpoint_auth_method",
            &template.token_endpoint_auth_method,
            &["client_secret_basic", "client_secret_post"][..],
        ),
        ("token_request_format", &template.token_request_format, &["json"][..]),
        (
            "client_registration",
            &template.client_registration,
            &["dynamic", "static", "cimd"][..],
        ),
    ] {
        if let Some(value) = value
            && !allowed.contains(&value.as_str())
        {
            problems.push(format!(
                "{}: {field} `{value}` is not one of {allowed:?}",
                template.name
            ));
        }
    }
    if template
        .scope_separator
        .as_deref()
        .is_some_and(|separator| separator.is_empty() || separator.len() > 3)
    {
        problems.push(format!("{}: scope_separator must be 1 to 3 characters", template.name));
    }
    problems.extend(parameter_problems(template));
    problems
}

/// Values that would move a host elsewhere if a pattern let them through.
fn host_probes(template: &Template) -> Vec<String> {
    let mut probes: Vec<String> = ["evil.example", "a.evil.example", "a\nb", "x\n@evil.example/"]
        .iter()
        .map(|probe| (*probe).to_owned())
        .collect();
    for suffix in &template.allowed_host_suffixes {
        probes.push(format!("{suffix}.evil.example"));
        probes.push(format!("evil{suffix}"));
    }
    probes
}

/// What the Broker checks of a provider's URL (placeholders well placed, no credentials or
/// fragment), and https without the development exception for loopback.
fn check_url(field: &str, template_url: &str) -> Result<(), String> {
    let template = parse_endpoint_template(field, template_url).map_err(|e| e.to_string())?;
    if template.shape().scheme() != "https" {
        return Err(format!("`{template_url}` is not https"));
    }
    Ok(())
}

fn parameter_problems(template: &Template) -> Vec<String> {
    let mut problems = Vec::new();
    let name = &template.name;
    let declared: BTreeSet<&str> = template.connection_params.iter().map(|p| p.name.as_str()).collect();

    let mut used = BTreeSet::new();
    for (field, text) in template.templated_texts() {
        for placeholder in placeholders(text) {
            used.insert(placeholder);
            if !declared.contains(placeholder) {
                problems.push(format!(
                    "{name}: {field} uses `{{{placeholder}}}`, which connection_params does not declare"
                ));
            }
        }
    }
    let host_params = host_parameters(template);
    for param in &template.connection_params {
        let label = format!("{name}: connection parameter `{}`", param.name);
        if !used.contains(param.name.as_str()) {
            problems.push(format!("{label} is declared but never used"));
        }
        // Its pattern, choices and default are the domain's checks (`validate_declarations`).
        let Ok(pattern) = regex::Regex::new(&param.pattern) else {
            continue;
        };
        if host_params.contains(param.name.as_str()) && param.choices.is_empty() {
            for hostile in HOSTILE_VALUES {
                if pattern.is_match(hostile) {
                    problems.push(format!(
                        "{label}: pattern accepts {hostile:?}, which could change the host"
                    ));
                }
            }
            // Whatever the pattern lets through, the URL it makes must keep its domain.
            for probe in host_probes(template).iter().filter(|probe| pattern.is_match(probe)) {
                for (field, url) in template.urls() {
                    if !placeholders(host_part(url)).contains(&param.name.as_str()) {
                        continue;
                    }
                    let filled = fill(&url.replace(&format!("{{{}}}", param.name), probe), "x0");
                    let host = url::Url::parse(&filled)
                        .ok()
                        .and_then(|parsed| parsed.host_str().map(str::to_owned));
                    if let Some(host) = host
                        && !host_within(url, &template.allowed_host_suffixes, &host)
                    {
                        problems.push(format!("{label}: {probe:?} makes {field} go to `{host}`"));
                    }
                }
            }
        }
    }
    if let Err(error) =
        nexus_domain::url_template::validate_declarations("connection_params", &template.connection_params)
    {
        problems.push(format!("{name}: {error}"));
    }
    if let Err(error) = validate_host_suffixes(template.allowed_host_suffixes.clone()) {
        problems.push(format!("{name}: {error}"));
    }
    for (field, url) in template.urls() {
        if let Err(error) = keeps_its_host(template, url) {
            problems.push(format!("{name}: {field}: {error}"));
        }
    }
    problems
}

/// Parameters that appear in the host part of some URL.
fn host_parameters(template: &Template) -> BTreeSet<&str> {
    template
        .urls()
        .into_iter()
        .flat_map(|(_, url)| placeholders(host_part(url)))
        .collect()
}

/// A host with a parameter keeps the template's registrable domain: a fixed tail after the last
/// placeholder that holds a whole domain of two labels or more (`.zendesk.com`,
/// `-api.centrastage.net`), or declared `allowed_host_suffixes` that every choice of a
/// whole-host parameter ends in.
fn keeps_its_host(template: &Template, url: &str) -> Result<(), String> {
    let host = host_part(url);
    if placeholders(host).is_empty() {
        return Ok(());
    }
    if fixed_domain(url).is_some() {
        return Ok(());
    }
    if template.allowed_host_suffixes.is_empty() {
        return Err(format!(
            "the host of `{url}` comes from a parameter without a fixed domain: declare allowed_host_suffixes"
        ));
    }
    for param in &template.connection_params {
        if !placeholders(host).contains(&param.name.as_str()) {
            continue;
        }
        for choice in &param.choices {
            let with_choice = url.replace(&format!("{{{}}}", param.name), choice);
            let filled = host_part(&fill(&with_choice, "x0")).to_ascii_lowercase();
            let allowed = template
                .allowed_host_suffixes
                .iter()
                .any(|suffix| filled == *suffix || filled.ends_with(&format!(".{suffix}")));
            if !allowed {
                return Err(format!(
                    "choice `{choice}` makes host `{filled}`, outside allowed_host_suffixes"
                ));
            }
        }
    }
    Ok(())
}
