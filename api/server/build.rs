//! Records the commit the binary is built from (`nexus --version`, the start-up log and
//! `nexus_build_info`): `NEXUS_BUILD_COMMIT` when the builder sets it (the image build has no
//! `.git`), else `git rev-parse`, else `unknown`.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=NEXUS_BUILD_COMMIT");
    // A new commit moves the branch's ref; HEAD moves on checkout.
    for path in ["../../.git/HEAD", "../../.git/refs/heads", "../../.git/packed-refs"] {
        if std::path::Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    let commit = std::env::var("NEXUS_BUILD_COMMIT")
        .ok()
        .filter(|commit| !commit.trim().is_empty())
        .or_else(git_commit)
        .unwrap_or_else(|| "unknown".to_owned());
    let short: String = commit.trim().chars().take(12).collect();
    println!("cargo:rustc-env=NEXUS_COMMIT={short}");
}

fn git_commit() -> Option<String> {
    let output = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .filter(|commit| !commit.is_empty())
}
