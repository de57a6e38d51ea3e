//! `cargo xtask check-version`: `VERSION` is the single source of truth.

use crate::{read, root};
use anyhow::bail;

pub fn check() -> anyhow::Result<()> {
    let root = root();
    let version = read(&root.join("VERSION"))?.trim().to_owned();
    let mut problems = Vec::new();
    let manifest = read(&root.join("Cargo.toml"))?;
    if !manifest.contains(&format!("\nversion = \"{version}\"")) {
        problems.push(format!("Cargo.toml [workspace.package] version is not {version}"));
    }
    for spec in crate::openapi::SPECS {
        let text = read(&root.join("openapi").join(spec))?;
        let value: serde_json::Value = serde_json::from_str(&text)?;
        if value["info"]["version"] != version.as_str() {
            problems.push(format!(
                "openapi/{spec} info.version is {}, not {version}",
                value["info"]["version"]
            ));
        }
    }
    let pyproject = read(&root.join("clients").join("python").join("pyproject.toml"))?;
    if !pyproject.contains(&format!("\nversion = \"{version}\"\n")) {
        problems.push(format!("clients/python/pyproject.toml version is not {version}"));
    }
    let package: serde_json::Value =
        serde_json::from_str(&read(&root.join("clients").join("typescript").join("package.json"))?)?;
    if package["version"] != version.as_str() {
        problems.push(format!(
            "clients/typescript/package.json version is {}, not {version}",
            package["version"]
        ));
    }
    if !problems.is_empty() {
        bail!("version drift from VERSION ({version}):\n  {}", problems.join("\n  "));
    }
    println!("everything is at version {version}");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn manifests_and_specs_agree_with_the_version_file() {
        if let Err(error) = super::check() {
            panic!("{error}");
        }
    }
}
