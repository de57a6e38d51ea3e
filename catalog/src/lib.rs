//! The provider catalog: templates (endpoints, scopes, strategies, connection parameters) for
//! hundreds of providers, from `catalog/providers/*.json`, compiled into the binary.

mod readme;
mod validate;

pub use nexus_domain::catalog::{ConnectionParam, Template, placeholders};

use std::sync::OnceLock;

include!(concat!(env!("OUT_DIR"), "/templates.rs"));

/// Every template, sorted by name. A file that does not parse is left out (the catalog's test
/// refuses such a file, so a release never has one).
pub fn templates() -> &'static [Template] {
    static TEMPLATES: OnceLock<Vec<Template>> = OnceLock::new();
    TEMPLATES.get_or_init(|| {
        let mut templates: Vec<Template> = FILES
            .iter()
            .filter_map(|(_, text)| serde_json::from_str(text).ok())
            .collect();
        // By name, not by file name: `zendesk` sorts before `zendesk-sell`, `zendesk.json` after.
        templates.sort_by(|a, b| a.name.cmp(&b.name));
        templates
    })
}

/// The template with this name.
pub fn template(name: &str) -> Option<&'static Template> {
    nexus_domain::catalog::find(templates(), name)
}

/// Every problem with the catalog's files: parse errors, a name that differs from its file's,
/// and each template's schema problems.
pub fn problems() -> Vec<String> {
    let mut problems = Vec::new();
    for (stem, text) in FILES {
        match serde_json::from_str::<Template>(text) {
            Ok(template) => {
                if template.name != *stem {
                    problems.push(format!("providers/{stem}.json names itself `{}`", template.name));
                }
                problems.extend(validate::problems(&template));
            }
            Err(error) => problems.push(format!("providers/{stem}.json: {error}")),
        }
    }
    problems
}

/// `catalog/README.md` with its summary (counts, one row per template) rendered afresh.
pub fn readme_with_summary(readme: &str) -> Result<String, String> {
    readme::replace_summary(readme, &readme::summary(templates()))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn every_template_passes_the_schema() {
        let problems = super::problems();
        assert!(
            problems.is_empty(),
            "{} problems:\n{}",
            problems.len(),
            problems.join("\n")
        );
        assert_eq!(super::templates().len(), super::FILES.len());
    }

    #[test]
    fn the_catalog_ships_at_least_600_templates_with_unique_names() {
        let templates = super::templates();
        assert!(templates.len() >= 600, "only {}", templates.len());
        let names: std::collections::BTreeSet<&str> = templates.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names.len(), templates.len(), "a name is used twice");
        assert!(super::template("github").is_some());
        assert!(super::template("no-such-provider").is_none());
    }

    /// `NEXUS_UPDATE_CATALOG_README=1 cargo test -p nexus-catalog` rewrites the table.
    #[test]
    fn the_readme_summary_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
        let readme = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let updated = super::readme_with_summary(&readme).unwrap_or_else(|e| panic!("catalog/README.md: {e}"));
        if std::env::var_os("NEXUS_UPDATE_CATALOG_README").is_some() {
            std::fs::write(&path, &updated).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        } else {
            assert!(
                readme == updated,
                "catalog/README.md's summary is out of date: run `NEXUS_UPDATE_CATALOG_README=1 cargo test -p nexus-catalog`"
            );
        }
    }

    /// Every template Nexus can run makes a valid provider with only the operator's client.
    #[test]
    fn every_creatable_template_makes_a_valid_provider() {
        let mut created = 0;
        for template in super::templates().iter().filter(|t| t.unsupported().is_empty()) {
            // A remote MCP server needs its URL (here one on the template's own host); its client
            // is registered by Nexus.
            let mcp_server_url = template.is_mcp().then(|| {
                let base = template
                    .api_base_url
                    .as_deref()
                    .or(template.authorization_url.as_deref())
                    .expect("an MCP template names a URL");
                let mut url = url::Url::parse(base).expect("a URL");
                url.set_path("/mcp");
                url.to_string()
            });
            let draft = nexus_domain::provider::ProviderDraft {
                client_id: (template.auth_type == "oauth2" && !template.is_mcp()).then(|| "client".to_owned()),
                mcp_server_url,
                ..Default::default()
            };
            if let Err(error) = template.fill(draft).validate() {
                panic!("{}: {error}", template.name);
            }
            created += 1;
        }
        assert!(
            created >= 740,
            "only {created} templates can be created (catalog/README.md says 740)"
        );
    }

    #[test]
    fn patterns_that_escape_their_anchors_or_move_a_host_are_refused() {
        let refused = |edit: &dyn Fn(&mut super::Template), expected: &str| {
            let mut template = super::template("zendesk").expect("zendesk").clone();
            edit(&mut template);
            let problems = super::validate::problems(&template);
            assert!(
                problems.iter().any(|p| p.contains(expected)),
                "{expected}: {problems:?}"
            );
        };
        refused(
            &|t| t.connection_params[0].pattern = "^(?m)[a-z0-9-]+$".to_owned(),
            "inline flags",
        );
        refused(
            &|t| t.connection_params[0].pattern = "^[a-z]+$|^x.*$".to_owned(),
            "outside any group",
        );
        refused(
            &|t| {
                t.authorization_params
                    .insert("redirect_uri".to_owned(), "https://evil.example/".to_owned());
            },
            "may not set `redirect_uri`",
        );
        let mut salesforce = super::template("salesforce").expect("salesforce").clone();
        salesforce.connection_params[0].pattern = "^(?:[a-z0-9-]+\\.)+[a-z]+$".to_owned();
        let problems = super::validate::problems(&salesforce);
        assert!(problems.iter().any(|p| p.contains("evil.example")), "{problems:?}");
    }

    #[test]
    fn a_help_link_off_the_providers_own_domain_is_refused() {
        let mut template = super::template("github").expect("github").clone();
        template.docs_url = Some("https://nango.dev/docs/api-integrations/github".to_owned());
        let problems = super::validate::problems(&template);
        assert!(
            problems.iter().any(|p| p.contains("not on the provider's own domain")),
            "{problems:?}"
        );
        template.docs_url = Some("https://docs.github.com/en/rest".to_owned());
        assert!(super::validate::problems(&template).is_empty());
        let mut zendesk = super::template("zendesk").expect("zendesk").clone();
        zendesk.docs_url = Some("https://developer.zendesk.com/api-reference/".to_owned());
        assert!(
            super::validate::problems(&zendesk).is_empty(),
            "a templated host's fixed domain counts"
        );
    }

    #[test]
    fn a_template_that_could_move_its_host_is_refused() {
        let mut template = super::template("zendesk").expect("zendesk").clone();
        template.connection_params[0].pattern = "^.+$".to_owned();
        let problems = super::validate::problems(&template);
        assert!(
            problems.iter().any(|p| p.contains("could change the host")),
            "{problems:?}"
        );
        let mut template = super::template("github").expect("github").clone();
        template.token_url = Some("http://github.com/login/oauth/access_token".to_owned());
        template.authorization_url = Some("https://{tenant}.github.com/authorize".to_owned());
        let problems = super::validate::problems(&template);
        assert!(problems.iter().any(|p| p.contains("must use https")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("does not declare")), "{problems:?}");
    }
}
