//! The summary in `catalog/README.md`: counts by auth type and category, and one row per
//! template, rendered from the templates and drift-checked by the crate's test.

use nexus_domain::catalog::Template;
use std::collections::BTreeMap;
use std::fmt::Write;

const START: &str = "<!-- catalog:summary -->";
const END: &str = "<!-- /catalog:summary -->";

pub fn summary(templates: &[Template]) -> String {
    let mut out = String::new();
    let by_type = count(templates.iter().map(|t| t.auth_type.clone()));
    let templated = templates.iter().filter(|t| !t.connection_params.is_empty()).count();
    let _ = writeln!(
        out,
        "{} templates: {}; {templated} take connection parameters.\n",
        templates.len(),
        {
            by_type
                .iter()
                .map(|(kind, n)| format!("{n} `{kind}`"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    let creatable: Vec<&Template> = templates.iter().filter(|t| t.unsupported().is_empty()).collect();
    let creatable_by_type = count(creatable.iter().map(|t| t.auth_type.clone()));
    let by_type = creatable_by_type
        .iter()
        .map(|(kind, n)| format!("{n} `{kind}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let mcp = templates.iter().filter(|t| t.is_mcp()).count();
    let _ = writeln!(
        out,
        "{} can be created today ({by_type}). The {mcp} remote MCP servers among them (`client_registration` `dynamic` or `cimd`) need their MCP endpoint's URL, `mcp_server_url`: Nexus discovers the rest and registers its client.\n",
        creatable.len(),
    );
    let missing: Vec<&Template> = templates.iter().filter(|t| !t.unsupported().is_empty()).collect();
    if !missing.is_empty() {
        let _ = writeln!(out, "The others, with what they need that Nexus does not do yet:\n");
        let _ = writeln!(out, "| Template | Needs |\n|---|---|");
        for template in missing {
            let _ = writeln!(out, "| `{}` | {} |", template.name, template.unsupported().join(", "));
        }
        let _ = writeln!(out);
    }
    let categories = count(templates.iter().flat_map(|t| t.categories.clone()));
    let _ = writeln!(out, "| Category | Templates |\n|---|---|");
    for (category, n) in &categories {
        let _ = writeln!(out, "| {category} | {n} |");
    }
    let _ = writeln!(
        out,
        "\n| Name | Display name | Auth type | Categories | Connection parameters |\n|---|---|---|---|---|"
    );
    for template in templates {
        let params: Vec<String> = template
            .connection_params
            .iter()
            .map(|p| format!("`{}`", p.name))
            .collect();
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            template.name,
            template.display_name.replace('|', "\\|"),
            template.auth_type,
            template.categories.join(", "),
            params.join(", ")
        );
    }
    out
}

fn count(items: impl Iterator<Item = String>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for item in items {
        *counts.entry(item).or_insert(0) += 1;
    }
    counts
}

/// `readme` with the text between its markers replaced by `summary`.
pub fn replace_summary(readme: &str, summary: &str) -> Result<String, String> {
    let start = readme.find(START).ok_or(format!("no `{START}` marker"))?;
    let end = readme.find(END).ok_or(format!("no `{END}` marker"))?;
    if end < start {
        return Err("the summary markers are out of order".to_owned());
    }
    Ok(format!(
        "{}{START}\n{summary}{END}{}",
        &readme[..start],
        &readme[end + END.len()..]
    ))
}
