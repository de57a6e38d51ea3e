//! A real browser (the system Chromium, driven by npm `playwright-core`) that completes Nexus's
//! hosted flows as a person would: what an HTTP client cannot show (CSP, redirects after a form
//! post) shows here.

#![allow(dead_code)]

use super::oidc::oidc_dir;
use std::process::Command;

/// Where the browser ended, the CSP violations it reported, and the pages it went through.
#[derive(Debug)]
pub struct BrowserRun {
    pub url: String,
    pub violations: Vec<String>,
    pub pages: Vec<String>,
}

fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned())
}

/// Fails where Chromium or the driver is not installed. A test that drives the browser is marked
/// `#[requires(chromium)]`, so it is reported ignored where they were missing when it was
/// compiled.
pub fn require_chromium() {
    assert!(
        std::path::Path::new(&chromium()).exists() && oidc_dir().join("node_modules").join("playwright-core").exists(),
        "the real-browser test needs Chromium (apt-get install chromium) and the driver (npm ci --prefix api/server/tests/oidc)"
    );
}

/// Runs `node browser.mjs <mode> <start> <return_prefix> <extra>...`.
pub async fn drive(mode: &str, start: &str, return_prefix: &str, extra: &[String]) -> BrowserRun {
    let mut command = Command::new("node");
    command
        .arg("browser.mjs")
        .args([mode, start, return_prefix])
        .args(extra)
        .env("CHROMIUM", chromium())
        .current_dir(oidc_dir());
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("browser task")
        .expect("run node browser.mjs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the browser driver failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout.lines().last().unwrap_or_default();
    let run: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("browser output `{line}`: {e}"));
    let strings = |key: &str| -> Vec<String> {
        run[key]
            .as_array()
            .map(|items| items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    };
    BrowserRun {
        url: run["url"].as_str().unwrap_or_default().to_owned(),
        violations: strings("violations"),
        pages: strings("pages"),
    }
}
