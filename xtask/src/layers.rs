//! `cargo xtask check-layers`: the architecture test. Reads `cargo metadata` and fails on any
//! workspace dependency edge the layer table (ARCHITECTURE.md section 2) does not allow, and on
//! sea-orm or poem used outside their layers.

use anyhow::{Context, bail};
use std::collections::BTreeMap;
use std::process::Command;

/// Workspace crate -> workspace crates it may depend on (normal and build dependencies).
const ALLOWED: &[(&str, &[&str])] = &[
    ("nexus-domain", &[]),
    ("nexus-catalog", &["nexus-domain"]),
    ("nexus-crypto", &["nexus-domain"]),
    ("nexus-entities", &[]),
    ("nexus-migration", &[]),
    ("nexus-repositories", &["nexus-domain", "nexus-entities"]),
    (
        "nexus-services",
        // nexus-broker-client: the proxy applies credentials with the Rust SDK's strategy code, so
        // the proxy and the SDKs send exactly what the shared vectors say.
        &[
            "nexus-domain",
            "nexus-crypto",
            "nexus-repositories",
            "nexus-broker-client",
        ],
    ),
    ("nexus-http", &["nexus-domain"]),
    ("nexus-remote", &["nexus-domain", "nexus-broker-client"]),
    (
        "nexus-server",
        &[
            "nexus-domain",
            "nexus-crypto",
            "nexus-entities",
            "nexus-migration",
            "nexus-repositories",
            "nexus-services",
            "nexus-http",
            "nexus-remote",
            "nexus-catalog",
            // `nexus providers` manages a (possibly remote) Broker through its API.
            "nexus-broker-client",
        ],
    ),
    ("nexus-test-utils", &["nexus-migration", "nexus-test-macros"]),
    ("nexus-test-macros", &[]),
    ("nexus-broker-client", &[]),
    ("xtask", &[]),
];

/// External crate families and the workspace crates allowed to use them.
const RESTRICTED: &[(&str, &[&str])] = &[
    (
        "sea-orm",
        &[
            "nexus-entities",
            "nexus-migration",
            "nexus-repositories",
            "nexus-server",
            "nexus-test-utils",
        ],
    ),
    ("poem", &["nexus-http", "nexus-server", "nexus-test-utils"]),
];

/// Workspace crates any crate may use in its tests only.
const TEST_ONLY: &[&str] = &["nexus-test-utils", "nexus-broker-client", "nexus-entities"];

fn metadata() -> anyhow::Result<serde_json::Value> {
    let output = Command::new(env!("CARGO"))
        .current_dir(crate::root())
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .context("running cargo metadata")?;
    if !output.status.success() {
        bail!("cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    serde_json::from_slice(&output.stdout).context("parsing cargo metadata")
}

/// Edges as (crate, dependency, kind), kind being `normal`, `dev` or `build`.
fn edges(metadata: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut edges = Vec::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        let name = package["name"].as_str().unwrap_or_default();
        for dep in package["dependencies"].as_array().into_iter().flatten() {
            edges.push((
                name.to_owned(),
                dep["name"].as_str().unwrap_or_default().to_owned(),
                dep["kind"].as_str().unwrap_or("normal").to_owned(),
            ));
        }
    }
    edges
}

pub fn violations(edges: &[(String, String, String)], workspace: &[String]) -> Vec<String> {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut problems = Vec::new();
    for member in workspace {
        if !allowed.contains_key(member.as_str()) {
            problems.push(format!(
                "{member} is not in the layer table: add it to xtask/src/layers.rs and ARCHITECTURE.md"
            ));
        }
    }
    for (krate, dep, kind) in edges {
        let is_test = kind == "dev";
        if workspace.contains(dep) {
            let ok = allowed
                .get(krate.as_str())
                .is_some_and(|deps| deps.contains(&dep.as_str()))
                || (is_test && TEST_ONLY.contains(&dep.as_str()));
            if !ok {
                problems.push(format!("{krate} -> {dep} ({kind}) is not allowed by the layer table"));
            }
        }
        for (family, users) in RESTRICTED {
            let in_family = dep == family || dep.starts_with(&format!("{family}-"));
            if in_family && !is_test && !users.contains(&krate.as_str()) {
                problems.push(format!("{krate} uses {dep}, which only {} may use", users.join(", ")));
            }
        }
    }
    problems
}

pub fn check() -> anyhow::Result<()> {
    let metadata = metadata()?;
    let workspace: Vec<String> = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    let problems = violations(&edges(&metadata), &workspace);
    if !problems.is_empty() {
        bail!("layer violations:\n  {}", problems.join("\n  "));
    }
    println!("layers ok: {} crates", workspace.len());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(a: &str, b: &str, kind: &str) -> (String, String, String) {
        (a.to_owned(), b.to_owned(), kind.to_owned())
    }

    fn workspace() -> Vec<String> {
        ALLOWED.iter().map(|(name, _)| (*name).to_owned()).collect()
    }

    #[test]
    fn the_workspace_respects_its_layers() {
        if let Err(error) = check() {
            panic!("{error}");
        }
    }

    #[test]
    fn upward_and_sideways_edges_are_caught() {
        let bad = [
            edge("nexus-http", "nexus-repositories", "normal"),
            edge("nexus-domain", "nexus-crypto", "normal"),
            edge("nexus-services", "poem", "normal"),
            edge("nexus-http", "sea-orm", "normal"),
            edge("nexus-services", "sea-orm-migration", "normal"),
            edge("nexus-http", "nexus-services", "dev"),
        ];
        for case in bad {
            assert_eq!(
                violations(std::slice::from_ref(&case), &workspace()).len(),
                1,
                "{case:?}"
            );
        }
        let fine = [
            edge("nexus-services", "nexus-repositories", "normal"),
            edge("nexus-services", "nexus-test-utils", "dev"),
            edge("nexus-server", "poem", "normal"),
            edge("nexus-repositories", "sea-orm", "normal"),
        ];
        assert!(violations(&fine, &workspace()).is_empty());
    }
}
