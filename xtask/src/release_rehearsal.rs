//! `cargo xtask release-rehearsal`: the release command's test. It drives the release (the
//! same code `cargo xtask release` runs) on a temporary clone of `HEAD`: every refusal
//! (malformed version, build metadata, no increase, existing tag, dirty tree, empty changelog)
//! and a failing check leave the clone exactly as it was; a dry run lists the files and changes
//! nothing; a real release commits, tags (annotated) and pushes nothing.

use crate::release::{Options, git};
use anyhow::{Context, bail, ensure};
use std::path::Path;

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
        crate::release::symlink_dir(&modules, &clone.join("clients/typescript/node_modules"))?;
    }
    let version = crate::version::current(clone)?;
    let current = semver::Version::parse(&version).context("VERSION")?;
    // The next minor version: never one this checkout's own builds use.
    let next = semver::Version::new(current.major, current.minor + 1, 0).to_string();
    let next = next.as_str();
    // The checkout's own target dir: the clone's builds (at `next`) reuse its compiled crates.
    let target = crate::target_dir();
    let options = |version: &str| Options {
        version: version.to_owned(),
        dry_run: false,
        skip_tests: true,
        check_command: None,
        target_dir: Some(target.clone()),
    };

    refused(clone, &options("0.2"), "is not a version")?;
    refused(clone, &options("v0.2.0"), "is not a version")?;
    refused(clone, &options(&version), "does not increase")?;
    refused(clone, &options(&format!("{next}+build.1")), "build metadata")?;

    git(clone, &["tag", &format!("v{next}")])?;
    refused(clone, &options(next), "already exists")?;
    git(clone, &["tag", "--delete", &format!("v{next}")])?;

    std::fs::write(clone.join("README.md"), "changed\n").context("dirtying the clone")?;
    refused(clone, &options(next), "uncommitted changes")?;
    git(clone, &["checkout", "--", "README.md"])?;

    let changelog = crate::read(&clone.join(crate::changelog::FILE))?;
    let emptied = crate::changelog::without_unreleased_entries(&changelog)?;
    std::fs::write(clone.join(crate::changelog::FILE), emptied).context("emptying the changelog")?;
    git(clone, &["commit", "--quiet", "--all", "--message", "Empty changelog"])?;
    refused(clone, &options(next), "has nothing under `## Unreleased`")?;
    git(clone, &["reset", "--quiet", "--hard", "HEAD~1"])?;

    // A check that fails after everything was regenerated still changes nothing.
    let failing_check = Options {
        check_command: Some("false".to_owned()),
        ..options(next)
    };
    refused(clone, &failing_check, "failed")?;

    let before = state(clone)?;
    let dry_run = Options {
        dry_run: true,
        ..options(next)
    };
    let listed = crate::release::run_at(clone, &dry_run)
        .context("the dry run failed")?
        .join("\n");
    for file in [
        "VERSION",
        "Cargo.toml",
        "Cargo.lock",
        "CHANGELOG.md",
        "openapi/broker.json",
        "openapi/gateway.json",
        "clients/python/pyproject.toml",
        "clients/python/src/nexus_broker_client/version.py",
        "clients/typescript/package.json",
        "clients/typescript/package-lock.json",
        "clients/typescript/src/version.ts",
        "docs/api/broker.md",
    ] {
        ensure!(listed.contains(file), "the dry run does not list {file}:\n{listed}");
    }
    ensure!(state(clone)? == before, "the dry run changed the clone");

    crate::release::run_at(clone, &options(next)).context("the release failed")?;
    let tag = format!("v{next}");
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
        git(clone, &["log", "-1", "--format=%s"])?.trim() == format!("Release {next}"),
        "unexpected release commit message"
    );
    ensure!(
        git(clone, &["status", "--porcelain"])?.trim().is_empty(),
        "the release left changes behind"
    );
    ensure!(crate::version::current(clone)? == next, "VERSION is not {next}");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let changelog = crate::read(&clone.join(crate::changelog::FILE))?;
    ensure!(
        changelog.contains(&format!("## Unreleased\n\n## {next} — {today}\n")),
        "the changelog did not move its entries under {next}:\n{changelog}"
    );
    crate::version::check_at(clone).context("check-version fails after the release")?;
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

/// The release fails, says `reason`, and leaves the clone as it was.
fn refused(clone: &Path, options: &Options, reason: &str) -> anyhow::Result<()> {
    let before = state(clone)?;
    let said = match crate::release::run_at(clone, options) {
        Ok(_) => bail!("releasing {options:?} succeeded; it should refuse ({reason})"),
        Err(error) => format!("{error:#}"),
    };
    ensure!(
        said.contains(reason),
        "releasing {options:?} failed without saying `{reason}`: {said}"
    );
    ensure!(
        state(clone)? == before,
        "releasing {options:?} changed the clone before refusing"
    );
    println!("refused as expected: {} ({reason})", options.version);
    Ok(())
}
