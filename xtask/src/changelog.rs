//! `CHANGELOG.md`: the `## Unreleased` section, read line by line (CRLF tolerated), and moved
//! under a version heading by a release.

use anyhow::Context;

pub const FILE: &str = "CHANGELOG.md";
const UNRELEASED: &str = "## Unreleased";

/// The changelog cut around the `## Unreleased` section: what precedes its heading, the entries
/// under it, and everything from the next `## ` heading on (each part ends with a newline).
struct Parts {
    head: String,
    entries: String,
    rest: String,
}

fn split(changelog: &str) -> anyhow::Result<Parts> {
    let lines: Vec<&str> = changelog.lines().map(|line| line.trim_end_matches('\r')).collect();
    let heading = lines
        .iter()
        .position(|line| line.trim_end() == UNRELEASED)
        .with_context(|| format!("{FILE} has no `{UNRELEASED}` heading"))?;
    let next = lines[heading + 1..]
        .iter()
        .position(|line| line.starts_with("## "))
        .map_or(lines.len(), |offset| heading + 1 + offset);
    let join = |part: &[&str]| part.iter().map(|line| format!("{line}\n")).collect::<String>();
    Ok(Parts {
        head: join(&lines[..heading]),
        entries: join(&lines[heading + 1..next]),
        rest: join(&lines[next..]),
    })
}

/// The entries under `## Unreleased` (blank when there are none).
pub fn unreleased(changelog: &str) -> anyhow::Result<String> {
    Ok(split(changelog)?.entries)
}

/// `## Unreleased` stays, empty; its entries move under `## X.Y.Z — date`.
pub fn release(changelog: &str, version: &str, date: &str) -> anyhow::Result<String> {
    let parts = split(changelog)?;
    let rest = if parts.rest.is_empty() {
        String::new()
    } else {
        format!("\n{}", parts.rest)
    };
    Ok(format!(
        "{}{UNRELEASED}\n\n## {version} — {date}\n\n{}\n{rest}",
        parts.head,
        parts.entries.trim()
    ))
}

/// The changelog with nothing under `## Unreleased` (the rehearsal's refused release).
pub fn without_unreleased_entries(changelog: &str) -> anyhow::Result<String> {
    let parts = split(changelog)?;
    Ok(format!("{}{UNRELEASED}\n\n{}", parts.head, parts.rest))
}

#[cfg(test)]
mod tests {
    const CHANGELOG: &str = "# Changelog\n\nIntro.\n\n## Unreleased\n\n- Added a thing.\n- Fixed another.\n\n## 0.1.0 — 2026-01-01\n\n- First.\n";

    #[test]
    fn the_unreleased_entries_move_under_the_version() {
        let moved = super::release(CHANGELOG, "0.2.0", "2026-11-29").expect("moved");
        assert_eq!(
            moved,
            "# Changelog\n\nIntro.\n\n## Unreleased\n\n## 0.2.0 — 2026-11-29\n\n- Added a thing.\n- Fixed another.\n\n## 0.1.0 — 2026-01-01\n\n- First.\n"
        );
        // Released again, the empty section is refused.
        assert!(super::unreleased(&moved).expect("section").trim().is_empty());
    }

    #[test]
    fn a_heading_right_after_unreleased_leaves_it_empty() {
        let entries = super::unreleased("## Unreleased\n## 0.1.0 — 2026-01-01\n\n- First.\n").expect("section");
        assert!(entries.trim().is_empty(), "{entries:?}");
    }

    #[test]
    fn crlf_and_a_missing_final_newline_are_read() {
        let entries = super::unreleased("# C\r\n\r\n## Unreleased\r\n\r\n- Only.").expect("section");
        assert_eq!(entries.trim(), "- Only.");
        let moved = super::release("## Unreleased\n- Only.", "1.0.0", "2026-11-29").expect("moved");
        assert_eq!(moved, "## Unreleased\n\n## 1.0.0 — 2026-11-29\n\n- Only.\n");
    }

    #[test]
    fn a_changelog_without_the_heading_is_refused() {
        let error = super::unreleased("# Changelog\n\n## 0.1.0\n").expect_err("no heading");
        assert!(error.to_string().contains("no `## Unreleased` heading"), "{error}");
    }

    #[test]
    fn emptied_keeps_the_heading_and_the_released_sections() {
        let emptied = super::without_unreleased_entries(CHANGELOG).expect("emptied");
        assert_eq!(
            emptied,
            "# Changelog\n\nIntro.\n\n## Unreleased\n\n## 0.1.0 — 2026-01-01\n\n- First.\n"
        );
    }
}
