//! `cargo xtask release-rehearsal`: the release command's test. It drives `cargo xtask release`
//! in a temporary clone of `HEAD`: every refusal (malformed version, no increase, existing tag,
//! dirty tree, empty changelog) and a failing check leave the clone exactly as it was; a dry run
//! lists the files and changes nothing; a real release commits, tags (annotated) and pushes
//! nothing.

use crate::release::git;
use anyhow::{Context, bail, ensure};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const NEXT: &str = "0.2.0";

pub fn run() -> anyhow::Result<()> {
    let root = crate::root();
    let scratch = std::env::temp_dir().join(format!("nexus-release-rehearsal-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let result = rehearse(&root, &scratch.join("nexus"));
    let _ = std::fs::remove_dir_all(&scratch);
    result?;
    println!("release rehearsal passed");
    Ok(())
}

fn rehearse(root: &Path, clone: &Path) -> anyhow::Result<()> {
    git(
        root,
        &[
            "clone",
            "--quiet",
            "--no-hardlinks",
            &root.to_string_lossy(),
            &clone.to_string_lossy(),
        ],
    )?;
    git(clone, &["config", "user.email", "rehearsal@nexus.invalid"])?;
    git(clone, &["config", "user.name", "Release rehearsal"])?;
    let modules = root.join("clients/typescript/node_modules");
    if modules.is_dir() {
        std::os::unix::fs::symlink(&modules, clone.join("clients/typescript/node_modules"))
            .context("linking node_modules")?;
    }
    let version = crate::version::current(clone)?;
    ensure!(
        semver::Version::parse(NEXT)? > semver::Version::parse(&version)?,
        "the rehearsal releases {NEXT}, which must be above VERSION ({version}): raise NEXT"
    );

    refused(root, clone, &["0.2"], "is not a version")?;
    refused(root, clone, &["v0.2.0"], "is not a version")?;
    refused(root, clone, &[&version], "does not increase")?;

    git(clone, &["tag", &format!("v{NEXT}")])?;
    refused(root, clone, &[NEXT], "already exists")?;
    git(clone, &["tag", "--delete", &format!("v{NEXT}")])?;

    std::fs::write(clone.join("README.md"), "changed\n").context("dirtying the clone")?;
    refused(root, clone, &[NEXT], "uncommitted changes")?;
    git(clone, &["checkout", "--", "README.md"])?;

    let changelog = crate::read(&clone.join(crate::release::CHANGELOG))?;
    let emptied = empty_unreleased(&changelog)?;
    std::fs::write(clone.join(crate::release::CHANGELOG), emptied).context("emptying the changelog")?;
    git(clone, &["commit", "--quiet", "--all", "--message", "Empty changelog"])?;
    refused(root, clone, &[NEXT], "has nothing under `## Unreleased`")?;
    git(clone, &["reset", "--quiet", "--hard", "HEAD~1"])?;

    // A check that fails after everything was regenerated still changes nothing.
    refused(root, clone, &[NEXT, "--check-command", "false"], "failed")?;

    let before = state(clone)?;
    let dry = release(root, clone, &[NEXT, "--dry-run"])?;
    ensure!(dry.status.success(), "the dry run failed:\n{}", stderr(&dry));
    let listed = String::from_utf8_lossy(&dry.stdout);
    for file in [
        "VERSION",
        "Cargo.toml",
        "Cargo.lock",
        "CHANGELOG.md",
        "openapi/broker.json",
        "openapi/gateway.json",
        "clients/python/pyproject.toml",
        "clients/python/src/nexus_client/version.py",
        "clients/typescript/package.json",
        "clients/typescript/package-lock.json",
        "clients/typescript/src/version.ts",
        "docs/api/broker.md",
    ] {
        ensure!(listed.contains(file), "the dry run does not list {file}:\n{listed}");
    }
    ensure!(state(clone)? == before, "the dry run changed the clone");

    let released = release(root, clone, &[NEXT, "--skip-tests"])?;
    ensure!(released.status.success(), "the release failed:\n{}", stderr(&released));
    let tag = format!("v{NEXT}");
    ensure!(
        git(clone, &["cat-file", "-t", &tag])?.trim() == "tag",
        "{tag} is not an annotated tag"
    );
    let head = git(clone, &["rev-parse", "HEAD"])?;
    ensure!(
        git(clone, &["rev-parse", &format!("{tag}^{{commit}}")])? == head,
        "{tag} does not point at HEAD"
    );
    ensure!(
        git(clone, &["rev-parse", "HEAD~1"])?.trim() == before.head,
        "the release is not one commit on top of the previous HEAD"
    );
    ensure!(
        git(clone, &["log", "-1", "--format=%s"])?.trim() == format!("Release {NEXT}"),
        "unexpected release commit message"
    );
    ensure!(
        git(clone, &["status", "--porcelain"])?.trim().is_empty(),
        "the release left changes behind"
    );
    ensure!(crate::version::current(clone)? == NEXT, "VERSION is not {NEXT}");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let changelog = crate::read(&clone.join(crate::release::CHANGELOG))?;
    ensure!(
        changelog.contains(&format!("## Unreleased\n\n## {NEXT} — {today}\n")),
        "the changelog did not move its entries under {NEXT}:\n{changelog}"
    );
    let check = cargo_xtask(root, clone, &["check-version"])?;
    ensure!(
        check.status.success(),
        "check-version fails after the release:\n{}",
        stderr(&check)
    );
    // Never pushed: the clone's origin (this checkout) has no such tag.
    ensure!(
        !git(clone, &["ls-remote", "--tags", "origin"])?.contains(&tag),
        "the release pushed {tag}"
    );
    Ok(())
}

#[derive(Debug, PartialEq, Eq)]
struct State {
    head: String,
    status: String,
    tags: String,
    worktrees: String,
}

fn state(clone: &Path) -> anyhow::Result<State> {
    Ok(State {
        head: git(clone, &["rev-parse", "HEAD"])?.trim().to_owned(),
        status: git(clone, &["status", "--porcelain", "--untracked-files=all"])?,
        tags: git(clone, &["tag", "--list"])?,
        worktrees: git(clone, &["worktree", "list", "--porcelain"])?,
    })
}

/// `release args` fails, says `reason`, and leaves the clone as it was.
fn refused(root: &Path, clone: &Path, args: &[&str], reason: &str) -> anyhow::Result<()> {
    let before = state(clone)?;
    let output = release(root, clone, args)?;
    let said = stderr(&output);
    if output.status.success() {
        bail!("`release {}` succeeded; it should refuse ({reason})", args.join(" "));
    }
    ensure!(
        said.contains(reason),
        "`release {}` failed without saying `{reason}`:\n{said}",
        args.join(" ")
    );
    ensure!(
        state(clone)? == before,
        "`release {}` changed the clone before refusing",
        args.join(" ")
    );
    println!("refused as expected: release {} ({reason})", args.join(" "));
    Ok(())
}

fn release(root: &Path, clone: &Path, args: &[&str]) -> anyhow::Result<Output> {
    let mut all = vec!["release"];
    all.extend_from_slice(args);
    cargo_xtask(root, clone, &all)
}

fn cargo_xtask(root: &Path, clone: &Path, args: &[&str]) -> anyhow::Result<Output> {
    Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--package", "xtask", "--"])
        .args(args)
        .current_dir(clone)
        .env("CARGO_TARGET_DIR", target_dir(root))
        .output()
        .context("running cargo xtask in the clone")
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

fn stderr(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The changelog with nothing under `## Unreleased`.
fn empty_unreleased(changelog: &str) -> anyhow::Result<String> {
    let start = changelog
        .find("\n## Unreleased\n")
        .context("the changelog has no `## Unreleased`")?
        + "\n## Unreleased\n".len();
    let rest = &changelog[start..];
    let end = rest.find("\n## ").map_or(rest.len(), |end| end + 1);
    Ok(format!("{}\n{}", &changelog[..start], &rest[end..]))
}
