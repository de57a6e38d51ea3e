//! `cargo xtask check-version`: `VERSION` is the single source of truth. `STAMPS` lists every
//! hand-kept file that carries the version (the release rewrites them; the check reads them);
//! the specs and generated clients take it from `VERSION` when they are regenerated.

use crate::{read, root};
use anyhow::{Context, bail};
use std::path::Path;

/// A file that carries the version, and the text around it (`{}` is the version). Only the
/// first occurrence counts: the workspace's own version comes first in its manifest.
pub struct Stamp {
    pub path: &'static str,
    pub template: &'static str,
}

pub const STAMPS: &[Stamp] = &[
    Stamp {
        path: "Cargo.toml",
        template: "\nversion = \"{}\"\n",
    },
    Stamp {
        path: "clients/python/pyproject.toml",
        template: "\nversion = \"{}\"\n",
    },
    Stamp {
        path: "clients/python/src/nexus_broker_client/version.py",
        template: "__version__ = \"{}\"",
    },
    Stamp {
        path: "clients/typescript/package.json",
        template: "\n  \"version\": \"{}\",",
    },
    // The lock file names the package's version twice: at the top and under `packages[""]`.
    Stamp {
        path: "clients/typescript/package-lock.json",
        template: "\n  \"version\": \"{}\",",
    },
    Stamp {
        path: "clients/typescript/package-lock.json",
        template: "\n      \"version\": \"{}\",",
    },
    Stamp {
        path: "clients/typescript/src/version.ts",
        template: "export const VERSION = \"{}\";",
    },
    Stamp {
        path: "clients/go/nexus/version.go",
        template: "const Version = \"{}\"",
    },
];

impl Stamp {
    pub fn text(&self, version: &str) -> String {
        self.template.replace("{}", version)
    }

    /// The file with this stamp moved from `old` to `new` (first occurrence).
    pub fn apply(&self, content: &str, old: &str, new: &str) -> anyhow::Result<String> {
        let from = self.text(old);
        if !content.contains(&from) {
            bail!("{} does not carry version {old} as `{}`", self.path, from.trim());
        }
        Ok(content.replacen(&from, &self.text(new), 1))
    }
}

/// The version in `VERSION`.
pub fn current(root: &Path) -> anyhow::Result<String> {
    Ok(read(&root.join("VERSION"))?.trim().to_owned())
}

pub fn check() -> anyhow::Result<()> {
    check_at(&root())
}

/// The check of the checkout at `root`.
pub fn check_at(root: &Path) -> anyhow::Result<()> {
    let version = current(root)?;
    let mut problems = Vec::new();
    for stamp in STAMPS {
        let content = read(&root.join(stamp.path))?;
        if !content.contains(&stamp.text(&version)) {
            problems.push(format!("{} does not say {}", stamp.path, stamp.text(&version).trim()));
        }
    }
    for spec in crate::openapi::SPECS {
        let text = read(&root.join("openapi").join(spec))?;
        let value: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("openapi/{spec}"))?;
        if value["info"]["version"] != version.as_str() {
            problems.push(format!(
                "openapi/{spec} info.version is {}, not {version}",
                value["info"]["version"]
            ));
        }
    }
    if !problems.is_empty() {
        bail!(
            "version drift from VERSION ({version}):\n  {}\n(`cargo xtask release` stamps every one)",
            problems.join("\n  ")
        );
    }
    println!("everything is at version {version}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{STAMPS, Stamp};

    #[test]
    fn manifests_and_specs_agree_with_the_version_file() {
        if let Err(error) = super::check() {
            panic!("{error}");
        }
    }

    #[test]
    fn a_stamp_moves_only_the_first_occurrence_and_refuses_a_missing_one() {
        let stamp = Stamp {
            path: "Cargo.toml",
            template: "\nversion = \"{}\"\n",
        };
        let manifest = "[workspace.package]\nversion = \"0.1.0\"\n[x]\nversion = \"0.1.0\"\n";
        let moved = stamp.apply(manifest, "0.1.0", "0.2.0").expect("stamped");
        assert_eq!(
            moved,
            "[workspace.package]\nversion = \"0.2.0\"\n[x]\nversion = \"0.1.0\"\n"
        );
        let error = stamp.apply(manifest, "0.3.0", "0.4.0").expect_err("missing");
        assert!(error.to_string().contains("does not carry version 0.3.0"), "{error}");
        assert!(STAMPS.iter().any(|s| s.path == "Cargo.toml"));
    }
}
