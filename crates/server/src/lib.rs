//! The `sqin` binary's library half: configuration, CLI commands, the HTTP
//! edge and start-up wiring. Domain logic lives in the other crates; this
//! crate only connects them to the outside world.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod account;
pub mod audit;
pub mod backchannel;
pub mod bootstrap;
pub mod cli;
pub mod complaints;
pub mod config;
pub mod demo;
pub mod http;
pub mod incidents;
pub mod pia;
pub mod retention;
pub mod staff;
pub mod web;
pub mod witness;

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
    let housekeeping = tokio::spawn(ledger_housekeeping(services.clone()));
    let logout_sender = tokio::spawn(backchannel::run(services.clone()));
    let revocation_feed = tokio::spawn(revocation_feed(services.clone()));
    let oidc_housekeeping = {
        let services = services.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tick.tick().await;
                if let Err(e) = oidc_housekeeping_pass(&services).await {
                    tracing::warn!(error = %e, "OIDC housekeeping failed");
                }
            }
        })
    };
    let services_for_exit = services.clone();
    let result = http::serve(http::router(services), &config, listener, shutdown).await;
    refresh.abort();
    housekeeping.abort();
    logout_sender.abort();
    oidc_housekeeping.abort();
    revocation_feed.abort();
    // Entries queued by the last requests get their place before exit (any
    // left over wait for the next start or another node).
    if let Ok(mut conn) = services_for_exit.store.pool().acquire().await {
        if let Err(e) = sqin_ledger_service::sequence(&mut conn, &services_for_exit.ledger).await {
            tracing::warn!(error = %e, "queued ledger entries left for the next start");
        }
    }
    result
}

/// The consent ledger's schedule: give queued entries their place in the
/// tree (every 50 ms), move the passkey service's security events into the
/// ledger (every 5 s), sign a checkpoint when the ledger grew (or the latest
/// is stale), and destroy what is past retention (the ledger's purge, then
/// the rest of the store's, `retention::run`). Every node runs
/// it; each step takes the ledger's lock, so they never double up. An
/// aborted step rolls back whole.
async fn ledger_housekeeping(services: Services) {
    use sqin_ledger_service::{checkpoints, purge, CheckpointPolicy};
    let config = services.config.clone();
    let every = |secs: u64| {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(secs.max(1)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick
    };
    let mut checkpoint = every(config.ledger_checkpoint_interval_secs);
    let purging = config.ledger_purge_interval_secs > 0;
    let mut purge_tick = every(config.ledger_purge_interval_secs);
    let never = std::sync::atomic::AtomicBool::new(false);
    let mut outbox = every(5);
    let witnessing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut sequencer = tokio::time::interval(std::time::Duration::from_millis(50));
    sequencer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = sequencer.tick() => {
                let placed = match services.store.pool().acquire().await {
                    Ok(mut conn) => sqin_ledger_service::sequence(&mut conn, &services.ledger)
                        .await
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                if let Err(e) = placed {
                    tracing::error!(error = %e, "could not sequence queued ledger entries");
                }
            }
            _ = outbox.tick() => {
                let moved = match services.store.pool().acquire().await {
                    Ok(mut conn) => sqin_ledger_service::outbox::drain_security_events(&mut conn, &services.ledger, now())
                        .await
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                if let Err(e) = moved {
                    tracing::error!(error = %e, "could not move security events into the ledger");
                }
            }
            _ = checkpoint.tick() => {
                let policy = CheckpointPolicy::IfGrownOrOlderThan(config.ledger_checkpoint_max_age_secs);
                let signed = match services.store.pool().acquire().await {
                    Ok(mut conn) => checkpoints::publish(&mut conn, &services.ledger, now(), policy)
                        .await
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                match signed {
                    Ok((cp, true)) => tracing::info!(tree_size = cp.tree_size, "signed a ledger checkpoint"),
                    Ok((_, false)) => {}
                    Err(e) => tracing::error!(error = %e, "could not sign a ledger checkpoint"),
                }
                // Witnesses cosign the latest checkpoint (one that refused or
                // was down is asked again next time), in a task of its own so
                // a slow witness never holds up the sequencer.
                if !config.ledger_witnesses.is_empty()
                    && !witnessing.swap(true, std::sync::atomic::Ordering::AcqRel)
                {
                    let (services, witnessing) = (services.clone(), witnessing.clone());
                    tokio::spawn(async move {
                        crate::witness::cosign_all(&services).await;
                        witnessing.store(false, std::sync::atomic::Ordering::Release);
                    });
                }
            }
            _ = purge_tick.tick(), if purging => {
                let purged = match services.store.pool().acquire().await {
                    Ok(mut conn) => purge::purge(&mut conn, &services.ledger, now(), 500, &mut |_, _| {}, &never)
                        .await
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                match purged {
                    Ok(report) if report.total() > 0 => tracing::info!(keys = report.total(), "ledger retention purge destroyed data keys"),
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "ledger retention purge failed"),
                }
                if let Err(e) = crate::retention::run(&services, now()).await {
                    tracing::error!(error = %e, "retention pass failed");
                }
            }
        }
    }
}

/// Lapsed consents are closed (tokens revoked, the RP told, the ledger
/// written); codes, refresh tokens, revocation entries, assertion ids and
/// pending requests that no check can need any more are deleted.
pub async fn oidc_housekeeping_pass(services: &Services) -> anyhow::Result<()> {
    let t = now();
    let mut conn = services.store.pool().acquire().await?;
    let lapsed = sqin_oidc::revocation::expire_consents(&mut conn, &services.provider(), t).await?;
    if lapsed > 0 {
        services.backchannel_wake.notify_one();
    }
    sqin_store::grants::purge_expired(&mut conn, t).await?;
    // A pending request is kept an hour past its expiry, for diagnosis.
    sqin_store::auth_requests::delete_expired(&mut conn, t - 3600).await?;
    Ok(())
}

/// Keeps this node's copy of the revoked access-token ids fresh (every
/// second) until the process stops.
pub async fn revocation_feed(services: Services) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tick.tick().await;
        if let Err(e) = refresh_revoked_tokens(&services).await {
            tracing::warn!(error = %e, "could not refresh revoked access tokens");
        }
    }
}

/// Refreshes this node's copy of the revoked access-token ids (see
/// `sqin_oidc::cache::RevokedAccessTokens`).
pub async fn refresh_revoked_tokens(services: &Services) -> anyhow::Result<()> {
    let t = now();
    let mut conn = services.store.pool().acquire().await?;
    let jtis = sqin_store::grants::revoked_access_tokens(&mut conn, t).await?;
    services
        .revoked_tokens
        .replace(jtis.into_iter().collect(), t);
    Ok(())
}
