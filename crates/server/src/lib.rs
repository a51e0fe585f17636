//! The `sqin` binary's library half: the adapters that connect the
//! application (`sqin-app`) to the outside world: configuration, the CLI,
//! the HTTP edge (protocol endpoints, APIs, pages) and TLS. Orchestration
//! lives in `sqin-app`; protocol and domain logic in the crates below it.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod cli;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod http;
pub mod state;
pub mod web;

use std::sync::Arc;

pub use config::Config;
pub use sqin_app::Services;

/// Opens the services for `config` on the system clock (every command's
/// one bootstrap path).
pub async fn open(config: &Config) -> anyhow::Result<Services> {
    Ok(sqin_app::open(config.settings(), Arc::new(sqin_app::SystemClock)).await?)
}

/// Starts every background job and serves until `shutdown` resolves, then
/// stops the jobs.
pub async fn run(
    services: Services,
    config: Arc<Config>,
    listener: std::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let jobs = sqin_app::jobs::spawn_all(&services);
    let result = http::serve(
        http::router(services, config.clone()),
        &config,
        listener,
        shutdown,
    )
    .await;
    jobs.stop().await;
    result
}
