//! `#[requires(postgres)]` (or `oidc`, `chromium`, `python`, several separated by commas) on a
//! test: where what it needs is missing when the test is compiled, the test is compiled as
//! `#[ignore = "needs ..."]`, so `cargo test` reports it ignored (skipped), never passed. Under
//! `CI` nothing is ignored: a missing requirement fails the test instead.
//!
//! The environment variables read are tracked through `option_env!` (a change rebuilds the
//! test); an npm package or Chromium installed later is seen on the next rebuild of the test.

use proc_macro::TokenStream;
use std::path::Path;

/// What a test may need, whether it is here, and what to do about it.
fn missing(requirement: &str, manifest_dir: &Path) -> Result<Option<&'static str>, String> {
    let env = |name: &str| std::env::var_os(name).is_some_and(|value| !value.is_empty());
    let npm_package = |name: &str| {
        manifest_dir
            .join("tests")
            .join("oidc")
            .join("node_modules")
            .join(name)
            .exists()
    };
    let present = match requirement {
        "postgres" => env("NEXUS_TEST_DATABASE_URL"),
        "oidc" => npm_package("oidc-provider"),
        "chromium" => {
            let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
            Path::new(&chromium).exists() && npm_package("playwright-core")
        }
        "python" => env("NEXUS_TEST_PYTHON") || manifest_dir.join("../../target/tool-venv/bin/python").exists(),
        other => {
            return Err(format!(
                "unknown requirement `{other}`: postgres, oidc, chromium or python"
            ));
        }
    };
    Ok((!present).then_some(match requirement {
        "postgres" => "needs PostgreSQL: set NEXUS_TEST_DATABASE_URL (cargo xtask test does)",
        "oidc" => "needs the test OpenID provider: npm ci --prefix api/server/tests/oidc",
        "chromium" => "needs Chromium (/usr/bin/chromium) and npm ci --prefix api/server/tests/oidc",
        _ => "needs the tool venv's Python: set NEXUS_TEST_PYTHON (cargo xtask test does)",
    }))
}

#[proc_macro_attribute]
pub fn requires(arguments: TokenStream, item: TokenStream) -> TokenStream {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let in_ci = std::env::var_os("CI").is_some();
    let mut reasons = Vec::new();
    for requirement in arguments
        .to_string()
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        match missing(requirement, Path::new(&manifest_dir)) {
            Ok(Some(reason)) => reasons.push(reason),
            Ok(None) => {}
            Err(message) => return format!("compile_error!({message:?});").parse().unwrap_or_default(),
        }
    }
    // Tracked, so that setting or unsetting them rebuilds the test.
    let mut output: TokenStream = "const _: [Option<&str>; 3] = [option_env!(\"CI\"), \
                                   option_env!(\"NEXUS_TEST_DATABASE_URL\"), option_env!(\"NEXUS_TEST_PYTHON\")];"
        .parse()
        .unwrap_or_default();
    if !in_ci && !reasons.is_empty() {
        let ignore: TokenStream = format!("#[ignore = {:?}]", reasons.join("; "))
            .parse()
            .unwrap_or_default();
        output.extend(ignore);
    }
    output.extend(item);
    output
}
