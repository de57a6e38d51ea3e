//! `cargo xtask release X.Y.Z [--dry-run]`: stamps the version everywhere, moves the changelog's
//! `## Unreleased` under it, regenerates specs, clients and docs, runs the checks, commits and
//! tags `vX.Y.Z` (annotated). It never pushes or publishes.
//!
//! All or nothing: the work happens in a worktree of `HEAD` under `target/`; the checkout is
//! touched only at the end, by a fast-forward to the finished commit and the tag. Any refusal or
//! failure before that leaves the checkout, its branch and its tags as they were.

use crate::changelog;
use crate::version::{STAMPS, current};
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Clone)]
pub struct Options {
    pub version: String,
    pub dry_run: bool,
    /// Run `cargo xtask check` (drift, versions, layers) instead of the whole test suite.
    pub skip_tests: bool,
    /// A shell command to run as the check instead (the rehearsal uses `false`).
    pub check_command: Option<String>,
    /// Where the worktree's builds go (default: `CARGO_TARGET_DIR`, else the checkout's `target`).
    /// Builds at the new version never collide with the checkout's; only the binaries cargo
    /// copies to `debug/` are shared, and those are removed afterwards.
    pub target_dir: Option<PathBuf>,
}

pub fn run(options: &Options) -> anyhow::Result<()> {
    run_at(&crate::root(), options).map(|_| ())
}

/// The release of the checkout at `root`; returns `git status --porcelain` lines of the files it
/// changed (or would change, in a dry run).
pub fn run_at(root: &Path, options: &Options) -> anyhow::Result<Vec<String>> {
    let plan = preflight(root, options)?;
    println!(
        "releasing {} (from {}), commit {}",
        plan.version,
        plan.previous,
        short(&plan.head)
    );
    let target = options.target_dir.clone().unwrap_or_else(crate::target_dir);
    let worktree = Worktree::create(root, &target)?;
    prepare(root, &worktree.path, &target, &plan)?;
    let changed = git(&worktree.path, &["status", "--porcelain", "--untracked-files=all"])?;
    let changed: Vec<String> = changed.lines().map(str::to_owned).collect();
    println!("files {}:", if options.dry_run { "it would change" } else { "changed" });
    for line in &changed {
        println!("  {line}");
    }
    if options.dry_run {
        println!(
            "dry run: nothing was committed or tagged; `cargo xtask release {}` does it",
            plan.version
        );
        return Ok(changed);
    }
    check(&worktree.path, &target, options)?;
    git(&worktree.path, &["add", "--all"])?;
    git(
        &worktree.path,
        &["commit", "--quiet", "--message", &format!("Release {}", plan.version)],
    )?;
    let commit = git(&worktree.path, &["rev-parse", "HEAD"])?.trim().to_owned();
    // Nothing may have moved underneath while the check ran.
    let head = git(root, &["rev-parse", "HEAD"])?.trim().to_owned();
    if head != plan.head || !git(root, &["status", "--porcelain"])?.trim().is_empty() {
        bail!("the checkout changed while the release was prepared (HEAD or files); nothing was released");
    }
    // The tag first: if it cannot be made, the branch has not moved; if the fast-forward fails,
    // the tag goes again.
    let message = format!("Nexus {}\n\n{}", plan.version, plan.notes.trim());
    git(root, &["tag", "--annotate", &plan.tag, "--message", &message, &commit])?;
    if let Err(error) = git(root, &["merge", "--ff-only", "--quiet", &commit]) {
        let _ = git(root, &["tag", "--delete", &plan.tag]);
        return Err(error.context("fast-forwarding to the release commit; nothing was released"));
    }
    println!(
        "released {}: commit {} tagged {}. Nothing was pushed; publish with `git push origin HEAD {}`",
        plan.version,
        short(&commit),
        plan.tag,
        plan.tag
    );
    Ok(changed)
}

/// What the release will do, once every precondition holds.
struct Plan {
    version: String,
    previous: String,
    tag: String,
    head: String,
    /// The changelog's `## Unreleased` section: the release notes and the tag's message.
    notes: String,
}

fn preflight(root: &Path, options: &Options) -> anyhow::Result<Plan> {
    let requested = options.version.trim();
    let version = semver::Version::parse(requested).map_err(|error| {
        anyhow::anyhow!("`{requested}` is not a version: give it as X.Y.Z, such as 0.2.0 ({error})")
    })?;
    if !version.build.is_empty() {
        bail!(
            "`{requested}` carries build metadata (`+{}`): registries and image tags refuse it",
            version.build
        );
    }
    let previous_text = current(root)?;
    let previous = semver::Version::parse(&previous_text)
        .with_context(|| format!("VERSION holds `{previous_text}`, which is not a version"))?;
    if version <= previous {
        bail!("{version} does not increase the current version {previous}: a release goes forward");
    }
    let tag = format!("v{version}");
    if git_succeeds(root, &["rev-parse", "--quiet", "--verify", &format!("refs/tags/{tag}")]) {
        bail!("tag {tag} already exists: {version} was released before");
    }
    let dirty = git(root, &["status", "--porcelain"])?;
    if !dirty.trim().is_empty() {
        let files: Vec<&str> = dirty.lines().take(10).collect();
        if options.dry_run {
            println!(
                "warning: uncommitted changes are not part of the release (it starts from HEAD):\n  {}",
                files.join("\n  ")
            );
        } else {
            bail!(
                "the working tree has uncommitted changes; commit or stash them first:\n  {}",
                files.join("\n  ")
            );
        }
    }
    let notes = changelog::unreleased(&crate::read(&root.join(changelog::FILE))?)?;
    if notes.trim().is_empty() {
        bail!(
            "{} has nothing under `## Unreleased`: say what changed before releasing",
            changelog::FILE
        );
    }
    Ok(Plan {
        version: version.to_string(),
        previous: previous.to_string(),
        tag,
        head: git(root, &["rev-parse", "HEAD"])?.trim().to_owned(),
        notes,
    })
}

fn prepare(root: &Path, worktree: &Path, target: &Path, plan: &Plan) -> anyhow::Result<()> {
    std::fs::write(worktree.join("VERSION"), format!("{}\n", plan.version)).context("writing VERSION")?;
    for stamp in STAMPS {
        let path = worktree.join(stamp.path);
        let content = crate::read(&path)?;
        let stamped = stamp.apply(&content, &plan.previous, &plan.version)?;
        std::fs::write(&path, stamped).with_context(|| format!("writing {}", path.display()))?;
    }
    let changelog_path = worktree.join(changelog::FILE);
    let date = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let released = changelog::release(&crate::read(&changelog_path)?, &plan.version, &date)?;
    std::fs::write(&changelog_path, released).context("writing CHANGELOG.md")?;
    // The TypeScript tools come from the checkout's `npm ci` when it has them.
    let modules = root.join("clients/typescript/node_modules");
    if modules.is_dir() {
        symlink_dir(&modules, &worktree.join("clients/typescript/node_modules"))?;
    }
    cargo(target, worktree, &["update", "--workspace", "--offline", "--quiet"])?;
    for (what, action) in [("openapi", "generate"), ("clients", "generate"), ("docs", "generate")] {
        cargo(
            target,
            worktree,
            &["run", "--quiet", "--package", "xtask", "--", what, action],
        )?;
    }
    Ok(())
}

fn check(worktree: &Path, target: &Path, options: &Options) -> anyhow::Result<()> {
    let (description, status) = match &options.check_command {
        Some(command) => (
            command.clone(),
            Command::new("sh")
                .args(["-c", command])
                .current_dir(worktree)
                .env("CARGO_TARGET_DIR", target)
                .env_remove("CARGO_MANIFEST_DIR")
                .status(),
        ),
        None => {
            let task = if options.skip_tests { "check" } else { "test" };
            let status = cargo_status(target, worktree, &["run", "--quiet", "--package", "xtask", "--", task]);
            (format!("cargo xtask {task}"), status)
        }
    };
    let status = status.with_context(|| format!("running `{description}`"))?;
    if !status.success() {
        bail!("the check (`{description}`) failed ({status}); nothing was committed or tagged");
    }
    Ok(())
}

/// The release's worktree, removed when dropped (whatever happened).
struct Worktree {
    root: PathBuf,
    target: PathBuf,
    path: PathBuf,
    created: std::time::SystemTime,
}

impl Worktree {
    fn create(root: &Path, target: &Path) -> anyhow::Result<Self> {
        // Per process: a release's check may itself rehearse a release (`cargo xtask test`).
        let path = target.join(format!("release-worktree-{}", std::process::id()));
        remove_worktree(root, &path);
        git(
            root,
            &[
                "worktree",
                "add",
                "--quiet",
                "--detach",
                &path.to_string_lossy(),
                "HEAD",
            ],
        )?;
        Ok(Self {
            root: root.to_path_buf(),
            target: target.to_path_buf(),
            path,
            created: std::time::SystemTime::now(),
        })
    }
}

impl Drop for Worktree {
    fn drop(&mut self) {
        remove_worktree(&self.root, &self.path);
        // The worktree's builds (at the new version) replaced the binaries cargo copies to
        // `target/debug/`; without them the checkout's next build puts its own back.
        let debug = self.target.join("debug");
        for binary in ["nexus", "xtask"] {
            let path = debug.join(binary);
            let rebuilt = std::fs::metadata(&path)
                .and_then(|metadata| metadata.modified())
                .is_ok_and(|modified| modified > self.created);
            if rebuilt {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

fn remove_worktree(root: &Path, path: &Path) {
    let _ = Command::new("git")
        .current_dir(root)
        .args(["worktree", "remove", "--force"])
        .arg(path)
        .output();
    let _ = std::fs::remove_dir_all(path);
    let _ = Command::new("git")
        .current_dir(root)
        .args(["worktree", "prune"])
        .output();
}

#[cfg(unix)]
pub(crate) fn symlink_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::os::unix::fs::symlink(from, to).with_context(|| format!("linking {}", to.display()))
}

#[cfg(not(unix))]
pub(crate) fn symlink_dir(_from: &Path, _to: &Path) -> anyhow::Result<()> {
    Ok(())
}

fn cargo_status(target: &Path, dir: &Path, args: &[&str]) -> std::io::Result<std::process::ExitStatus> {
    Command::new(env!("CARGO"))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("CARGO_MANIFEST_DIR")
        .status()
}

fn cargo(target: &Path, dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    let status = cargo_status(target, dir, args).with_context(|| format!("running cargo {}", args.join(" ")))?;
    if !status.success() {
        bail!(
            "cargo {} failed ({status}); nothing was committed or tagged",
            args.join(" ")
        );
    }
    Ok(())
}

/// Runs git in `dir` and returns its stdout; a failure carries git's stderr.
pub fn git(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .with_context(|| format!("running git {}", args.join(" ")))?;
    if !output.status.success() {
        bail!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn git_succeeds(dir: &Path, args: &[&str]) -> bool {
    Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .is_ok_and(|output| output.status.success())
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}
