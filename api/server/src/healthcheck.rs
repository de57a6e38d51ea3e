//! `nexus healthcheck`: one GET of the local `/readyz`, for a container's HEALTHCHECK (the
//! runtime image has no shell and no curl). A wildcard listen address is probed on loopback.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// Where a process listening on `listen` can be reached from inside its own container.
pub fn local_address(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

/// `Ok` when `/readyz` answers 200 within `timeout`; otherwise why not.
pub async fn probe(listen: SocketAddr, timeout: Duration) -> Result<(), String> {
    let url = format!("http://{}/readyz", local_address(listen));
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .no_proxy()
        .build()
        .map_err(|e| format!("building the HTTP client: {e}"))?;
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|e| format!("{url}: no answer ({e})"))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("{url} answered {}", response.status()))
    }
}

#[cfg(test)]
mod tests {
    use super::local_address;

    #[test]
    fn wildcard_addresses_are_probed_on_loopback() {
        let cases = [
            ("0.0.0.0:8080", "127.0.0.1:8080"),
            ("[::]:8090", "[::1]:8090"),
            ("10.1.2.3:8080", "10.1.2.3:8080"),
        ];
        for (listen, probed) in cases {
            let listen = listen.parse().expect("address");
            assert_eq!(local_address(listen).to_string(), probed);
        }
    }
}
