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

/// The two listeners of a node: the public one (citizens, relying parties)
/// and the staff console's.
pub struct Listeners {
    pub public: std::net::TcpListener,
    pub staff: std::net::TcpListener,
}

/// Starts every background job and serves both listeners until `shutdown`
/// resolves, then stops the jobs.
/// What a server does before it serves its first request: every client is
/// held to the PIA it runs under, and one outside it is suspended and
/// reported (never kept silently).
pub async fn before_serving(services: &Services) -> anyhow::Result<()> {
    for f in sqin_app::clients::reconcile::check_all(services).await? {
        tracing::warn!(
            client_id = %f.client_id,
            name = %f.name,
            reason = %f.reason,
            suspended_now = f.suspended_now,
            "relying party outside the privacy impact assessment: suspended"
        );
    }
    Ok(())
}

pub async fn run(
    services: Services,
    config: Arc<Config>,
    listeners: Listeners,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    before_serving(&services).await?;
    let jobs = sqin_app::jobs::spawn_all(&services);
    let state = http::state(services, config.clone());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    let until_stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let (public, staff) = tokio::join!(
        http::serve(
            http::public_router(state.clone()),
            &config,
            listeners.public,
            until_stopped(stopped.clone()),
        ),
        http::serve(
            http::staff::router(state),
            &config,
            listeners.staff,
            until_stopped(stopped),
        ),
    );
    jobs.stop().await;
    public.and(staff)
}
