//! A real OpenID provider (npm `oidc-provider`) for end-to-end tests, and a headless user who
//! signs in and consents on it.

#![allow(dead_code)]

use reqwest::StatusCode;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub const CLIENT_SECRET: &str = "oidc-e2e-client-secret-7d1f";

/// The npm fixtures: the OpenID provider and the browser driver.
pub fn oidc_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("oidc")
}

/// The OpenID provider. A test that starts one is marked `#[requires(oidc)]`: reported ignored
/// where its npm packages were missing when it was compiled, and failing if run without them.
pub struct OidcProvider {
    child: Child,
    pub issuer: String,
}

impl OidcProvider {
    pub fn start(redirect_uri: &str) -> Self {
        Self::start_on(redirect_uri, "127.0.0.1")
    }

    /// A provider whose issuer names `host` (a name under `localhost` for a tenant host).
    pub fn start_on(redirect_uri: &str, host: &str) -> Self {
        assert!(
            oidc_dir().join("node_modules").join("oidc-provider").exists(),
            "the test OpenID provider is not installed: npm ci --prefix api/server/tests/oidc"
        );
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(oidc_dir())
            .env("REDIRECT_URI", redirect_uri)
            .env("CLIENT_SECRET", CLIENT_SECRET)
            .env("AUTH_METHOD", "client_secret_basic")
            .env("ISSUER_HOST", host)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start node provider.mjs");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("provider's first line");
        let issuer = serde_json::from_str::<serde_json::Value>(&line).expect("JSON line")["issuer"]
            .as_str()
            .expect("issuer")
            .to_owned();
        Self { child, issuer }
    }

    /// A client that reaches the issuer's host (every name under `localhost` is this machine).
    fn http(&self) -> reqwest::Client {
        localhost_aware(&self.issuer).build().expect("client")
    }

    pub async fn issued_tokens(&self) -> Vec<String> {
        self.http()
            .get(format!("{}/test/issued-tokens", self.issuer))
            .send()
            .await
            .expect("issued tokens")
            .json()
            .await
            .expect("JSON")
    }

    pub async fn revoke_grants(&self) {
        let response = self
            .http()
            .post(format!("{}/test/revoke-grants", self.issuer))
            .send()
            .await
            .expect("revoke grants");
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }

    /// Access tokens issued from now on live this long.
    pub async fn set_access_ttl(&self, seconds: u64) {
        let response = self
            .http()
            .post(format!("{}/test/access-ttl?seconds={seconds}", self.issuer))
            .send()
            .await
            .expect("set access token lifetime");
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }

    /// (refresh grants that succeeded, token requests that failed) so far.
    pub async fn grant_counts(&self) -> (u64, u64, serde_json::Value) {
        let counts: serde_json::Value = self
            .http()
            .get(format!("{}/test/grant-counts", self.issuer))
            .send()
            .await
            .expect("grant counts")
            .json()
            .await
            .expect("JSON");
        (
            counts["refresh_success"].as_u64().expect("refresh_success"),
            counts["errors"].as_u64().expect("errors"),
            counts["error_codes"].clone(),
        )
    }

    pub async fn userinfo(&self, access_token: &str) -> reqwest::Response {
        self.http()
            .get(format!("{}/me", self.issuer))
            .bearer_auth(access_token)
            .send()
            .await
            .expect("userinfo")
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client builder that resolves `url`'s host to 127.0.0.1 when it is under `localhost`.
fn localhost_aware(url: &str) -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder();
    let Ok(url) = url::Url::parse(url) else {
        return builder;
    };
    match url.host_str().filter(|host| host.ends_with(".localhost")) {
        Some(host) => builder.resolve(
            host,
            std::net::SocketAddr::from(([127, 0, 0, 1], url.port_or_known_default().unwrap_or(80))),
        ),
        None => builder,
    }
}

fn absolute(base: &str, location: &str) -> String {
    url::Url::parse(base)
        .and_then(|b| b.join(location))
        .map(String::from)
        .unwrap_or_else(|_| location.to_owned())
}

fn form_action(html: &str) -> Option<String> {
    let start = html.find("action=\"")? + "action=\"".len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].replace("&amp;", "&"))
}

/// Plays the user: follows redirects with a cookie jar, signs in as `alice`, consents, and stops
/// at Nexus's callback, which it then calls. Returns Nexus's redirect to the return URL.
pub async fn consent_as_user(auth_url: &str, callback_prefix: &str) -> url::Url {
    // Like a browser, the user's agent finds every name under `localhost` on this machine.
    let browser = localhost_aware(auth_url)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("browser");
    let mut next = browser.get(auth_url);
    let mut current = auth_url.to_owned();
    for _ in 0..20 {
        let response = next.send().await.expect("browser request");
        if let Some(location) = response.headers().get("location").and_then(|v| v.to_str().ok()) {
            let location = absolute(&current, location);
            if location.starts_with(callback_prefix) && !current.starts_with(callback_prefix) {
                let back = browser.get(&location).send().await.expect("Nexus callback");
                assert_eq!(
                    back.status(),
                    StatusCode::FOUND,
                    "the callback redirects to the return URL"
                );
                let to = back.headers()["location"].to_str().expect("location").to_owned();
                return url::Url::parse(&to).expect("return URL");
            }
            current = location.clone();
            next = browser.get(location);
            continue;
        }
        let html = response.text().await.expect("page");
        let action = absolute(
            &current,
            &form_action(&html).unwrap_or_else(|| panic!("no form on {current}: {html}")),
        );
        let form: Vec<(&str, &str)> = if html.contains("name=\"login\"") {
            vec![("prompt", "login"), ("login", "alice"), ("password", "any")]
        } else {
            vec![("prompt", "consent")]
        };
        current = action.clone();
        next = browser.post(action).form(&form);
    }
    panic!("consent did not reach the callback");
}
