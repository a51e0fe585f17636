//! The `sqin` binary's library half: configuration, CLI commands, the HTTP
//! edge and start-up wiring. Domain logic lives in the other crates; this
//! crate only connects them to the outside world.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod demo;
pub mod http;

pub use bootstrap::{now, Services};
pub use config::Config;

/// Starts the key-ring refresher and serves until `shutdown` resolves.
pub async fn run(
    services: Services,
    listener: std::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let config = services.config.clone();
    let refresher = services.clone();
    let refresh = tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Err(e) = refresher.reload_keys().await {
                tracing::warn!(error = %e, "could not reload signing keys");
            }
        }
    });
    let result = http::serve(http::router(services), &config, listener, shutdown).await;
    refresh.abort();
    result
}
