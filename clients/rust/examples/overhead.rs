//! Per-request overhead of `CredentialClient` with a cached credential against a bare reqwest
//! request to the same URL (`cargo xtask bench sdk` runs it): alternating rounds, medians.
//! Usage: overhead GATEWAY_URL AGENT_KEY WORKSPACE PROVIDER TARGET_URL REQUESTS ROUNDS

use nexus_client::credentials::{CredentialClient, Credentials, Target};
use std::sync::Arc;
use std::time::Instant;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

// The result is the example's output, read by `cargo xtask bench sdk`.
#[allow(clippy::print_stdout)]
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, gateway, key, workspace, provider, target, requests, rounds] = args.as_slice() else {
        return Err("usage: overhead GATEWAY_URL AGENT_KEY WORKSPACE PROVIDER TARGET_URL REQUESTS ROUNDS".into());
    };
    let (requests, rounds): (u32, u32) = (requests.parse()?, rounds.parse()?);
    let url: reqwest::Url = target.parse()?;
    // The Gateway client first: it installs the TLS provider the plain reqwest client needs too.
    let credentials = Arc::new(Credentials::new(nexus_client::gateway_client(gateway, key)?));
    let http = reqwest::Client::new();
    let client = CredentialClient::new(
        reqwest::Client::builder(),
        credentials,
        Target::Resolve {
            workspace_id: workspace.clone(),
            provider: provider.clone(),
        },
    )?;
    // Warm both paths (connections, the credential cache).
    for _ in 0..100 {
        http.get(url.clone()).send().await?.bytes().await?;
        client
            .execute(reqwest::Request::new(reqwest::Method::GET, url.clone()))
            .await?
            .bytes()
            .await?;
    }
    let (mut bare, mut sdk) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let started = Instant::now();
        for _ in 0..requests {
            http.get(url.clone()).send().await?.bytes().await?;
        }
        bare.push(started.elapsed().as_secs_f64() * 1e6 / f64::from(requests));
        let started = Instant::now();
        for _ in 0..requests {
            client
                .execute(reqwest::Request::new(reqwest::Method::GET, url.clone()))
                .await?
                .bytes()
                .await?;
        }
        sdk.push(started.elapsed().as_secs_f64() * 1e6 / f64::from(requests));
    }
    println!("{{\"bare_us\": {:.2}, \"sdk_us\": {:.2}}}", median(bare), median(sdk));
    Ok(())
}
