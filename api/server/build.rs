//! Records the commit the binary is built from (`nexus --version`, the start-up log and
//! `nexus_build_info`): `NEXUS_BUILD_COMMIT` when the builder sets it (the image build has no
//! `.git`), else `git rev-parse`, else `unknown`.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=NEXUS_BUILD_COMMIT");
    // A new commit moves the branch's ref, a checkout moves HEAD. Git says where those live (in a
    // worktree or a submodule `.git` is a file, and refs are in the common directory).
    if let (Some(head), Some(common)) = (
        git(&["rev-parse", "--git-path", "HEAD"]),
        git(&["rev-parse", "--git-common-dir"]),
    ) {
        for path in [head, format!("{common}/refs/heads"), format!("{common}/packed-refs")] {
            if std::path::Path::new(&path).exists() {
                println!("cargo:rerun-if-changed={path}");
            }
        }
    }
    let commit = std::env::var("NEXUS_BUILD_COMMIT")
        .ok()
        .filter(|commit| !commit.trim().is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_owned());
    let short: String = commit.trim().chars().take(12).collect();
    println!("cargo:rustc-env=NEXUS_COMMIT={short}");
}

/// Git's answer, or `None` without git or outside a repository.
fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .filter(|answer| !answer.is_empty())
}
