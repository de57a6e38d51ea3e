//! Listeners: bind (port 0 allowed, for tests), serve until shutdown, finish in-flight requests.

use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Endpoint, Response, Server};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::watch;

/// How long in-flight requests may take to finish after a shutdown signal.
const GRACE_PERIOD: Duration = Duration::from_secs(10);

/// A bound listener, ready to serve.
pub struct Bound {
    acceptor: poem::listener::TcpAcceptor,
    pub addr: SocketAddr,
}

impl std::fmt::Debug for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bound").field("addr", &self.addr).finish()
    }
}

pub async fn bind(addr: SocketAddr) -> anyhow::Result<Bound> {
    let acceptor = TcpListener::bind(addr)
        .into_acceptor()
        .await
        .map_err(|e| anyhow::anyhow!("binding {addr}: {e}"))?;
    let addr = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().copied())
        .ok_or_else(|| anyhow::anyhow!("listener on {addr} has no socket address"))?;
    Ok(Bound { acceptor, addr })
}

/// Serves until `shutdown` turns true.
pub async fn serve(
    bound: Bound,
    app: impl Endpoint<Output = Response> + 'static,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    Server::new_with_acceptor(bound.acceptor)
        .run_with_graceful_shutdown(
            app,
            async move {
                let _ = shutdown.wait_for(|stop| *stop).await;
            },
            Some(GRACE_PERIOD),
        )
        .await
        .map_err(|e| anyhow::anyhow!("serving on {}: {e}", bound.addr))
}

/// Resolves on SIGINT or SIGTERM.
pub async fn termination_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM; only SIGINT will stop the server");
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
