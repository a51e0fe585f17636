//! The background work of a running node, started by [`spawn_all`]: `sqin
//! serve` and the test server run exactly the same jobs.
//!
//! Every node runs every job. Each step that writes takes the lock that
//! makes it safe alongside other nodes (the ledger's appenders' lock, a
//! delivery's claim), so several nodes never double up, and an aborted step
//! rolls back whole.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqin_ledger_service::{checkpoints, purge, CheckpointPolicy};
use tokio::task::JoinHandle;

use crate::{AppResult, Services};

/// The running jobs; [`Jobs::stop`] ends them.
pub struct Jobs {
    services: Services,
    handles: Vec<JoinHandle<()>>,
}

/// Starts every background job of a node.
pub fn spawn_all(services: &Services) -> Jobs {
    let handles = vec![
        tokio::spawn(key_refresh(services.clone())),
        tokio::spawn(ledger_housekeeping(services.clone())),
        tokio::spawn(crate::backchannel::run(services.clone())),
        tokio::spawn(revocation_feed(services.clone())),
        tokio::spawn(oidc_housekeeping(services.clone())),
    ];
    Jobs {
        services: services.clone(),
        handles,
    }
}

impl Jobs {
    /// Stops the jobs, then gives the entries queued by the last requests
    /// their place in the ledger (any left over wait for the next start or
    /// another node).
    pub async fn stop(self) {
        for handle in &self.handles {
            handle.abort();
        }
        for handle in self.handles {
            let _ = handle.await;
        }
        if let Ok(mut conn) = self.services.store.pool().acquire().await {
            if let Err(e) = sqin_ledger_service::sequence(&mut conn, &self.services.ledger).await {
                tracing::warn!(error = %e, "queued ledger entries left for the next start");
            }
        }
    }
}

/// A background pass failed. While the database is out of reach that is
/// expected, and noted at debug level only (the store logs the loss and the
/// return once each); anything else is logged, as an error when `serious`.
pub(crate) fn pass_failed(what: &str, e: &(dyn std::error::Error + 'static), serious: bool) {
    if sqin_store::health::report_cause(e) {
        tracing::debug!(error = %e, "{what} (database unavailable)");
    } else if serious {
        tracing::error!(error = %e, "{what}");
    } else {
        tracing::warn!(error = %e, "{what}");
    }
}

fn every(period: Duration) -> tokio::time::Interval {
    let mut tick = tokio::time::interval(period.max(Duration::from_millis(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick
}

/// Re-reads the signing keys every 30 s, so `sqin keys rotate` on any node
/// reaches all.
async fn key_refresh(services: Services) {
    let mut tick = every(Duration::from_secs(30));
    tick.tick().await;
    loop {
        tick.tick().await;
        if let Err(e) = services.reload_keys().await {
            pass_failed("could not reload signing keys", &e, false);
        }
    }
}

/// The consent ledger's schedule: give queued entries their place in the
/// tree (every 50 ms), move the passkey service's security events into the
/// ledger (every 5 s), sign a checkpoint when the ledger grew (or the latest
/// is stale), and destroy what is past retention (the ledger's purge, then
/// the rest of the store's, [`crate::retention::run`]).
async fn ledger_housekeeping(services: Services) {
    let settings = services.settings.clone();
    let secs = |s: u64| Duration::from_secs(s.max(1));
    let mut checkpoint = every(secs(settings.ledger_checkpoint_interval_secs));
    let purging = settings.ledger_purge_interval_secs > 0;
    let mut purge_tick = every(secs(settings.ledger_purge_interval_secs));
    let mut outbox = every(Duration::from_secs(5));
    let mut sequencer = every(Duration::from_millis(50));
    let witnessing = Arc::new(AtomicBool::new(false));
    loop {
        tokio::select! {
            _ = sequencer.tick() => {
                if let Err(e) = sequence(&services).await {
                    pass_failed("could not sequence queued ledger entries", &e, true);
                }
            }
            _ = outbox.tick() => {
                if let Err(e) = drain_outbox(&services).await {
                    pass_failed("could not move security events into the ledger", &e, true);
                }
            }
            _ = checkpoint.tick() => {
                match publish_checkpoint(&services).await {
                    Ok(Some(size)) => tracing::info!(tree_size = size, "signed a ledger checkpoint"),
                    Ok(None) => {}
                    Err(e) => pass_failed("could not sign a ledger checkpoint", &e, true),
                }
                // Witnesses cosign the latest checkpoint (one that refused or
                // was down is asked again next time), in a task of its own so
                // a slow witness never holds up the sequencer.
                if !settings.ledger_witnesses.is_empty() && !witnessing.swap(true, Ordering::AcqRel) {
                    let (services, witnessing) = (services.clone(), witnessing.clone());
                    tokio::spawn(async move {
                        crate::witness::cosign_all(&services).await;
                        witnessing.store(false, Ordering::Release);
                    });
                }
            }
            _ = purge_tick.tick(), if purging => {
                match retention_pass(&services).await {
                    Ok(keys) if keys > 0 => tracing::info!(keys, "ledger retention purge destroyed data keys"),
                    Ok(_) => {}
                    Err(e) => pass_failed("retention pass failed", &e, true),
                }
            }
        }
    }
}

/// Gives queued ledger entries their place in the tree.
pub async fn sequence(services: &Services) -> AppResult<()> {
    let mut conn = services.store.pool().acquire().await?;
    sqin_ledger_service::sequence(&mut conn, &services.ledger).await?;
    Ok(())
}

/// Moves the passkey service's security events into the ledger.
pub async fn drain_outbox(services: &Services) -> AppResult<u64> {
    let mut conn = services.store.pool().acquire().await?;
    Ok(sqin_ledger_service::outbox::drain_security_events(
        &mut conn,
        &services.ledger,
        services.now(),
    )
    .await?)
}

/// Signs a checkpoint if the ledger grew or the latest is stale; the new
/// tree size when one was signed.
pub async fn publish_checkpoint(services: &Services) -> AppResult<Option<u64>> {
    let policy =
        CheckpointPolicy::IfGrownOrOlderThan(services.settings.ledger_checkpoint_max_age_secs);
    let mut conn = services.store.pool().acquire().await?;
    let (cp, signed) =
        checkpoints::publish(&mut conn, &services.ledger, services.now(), policy).await?;
    Ok(signed.then_some(cp.tree_size))
}

/// The ledger's retention purge, then the rest of the store's; how many
/// ledger data keys were destroyed.
pub async fn retention_pass(services: &Services) -> AppResult<u64> {
    let never = AtomicBool::new(false);
    let now = services.now();
    let report = {
        let mut conn = services.store.pool().acquire().await?;
        purge::purge(
            &mut conn,
            &services.ledger,
            now,
            500,
            &mut |_, _| {},
            &never,
        )
        .await?
    };
    let store = crate::retention::run(services, now).await?;
    // What the scheduled pass destroyed is on the record like the
    // operator's `sqin retention` (the ledger's own purge writes its entry).
    if store.total() > 0 {
        let counts = store.summary();
        crate::staff::record_service_action(services, "retention.run", &[("deleted", &counts)])
            .await?;
    }
    Ok(report.total())
}

/// Lapsed consents are closed (tokens revoked, the RP told, the ledger
/// written) and what no check can need any more is deleted, every minute.
async fn oidc_housekeeping(services: Services) {
    let mut tick = every(Duration::from_secs(60));
    loop {
        tick.tick().await;
        if let Err(e) = oidc_housekeeping_pass(&services).await {
            pass_failed("OIDC housekeeping failed", &e, false);
        }
    }
}

/// One pass of [`oidc_housekeeping`]: codes, refresh tokens, revocation
/// entries, assertion ids and pending requests that no check can need any
/// more are deleted.
pub async fn oidc_housekeeping_pass(services: &Services) -> AppResult<()> {
    let t = services.now();
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
/// second).
async fn revocation_feed(services: Services) {
    let mut tick = every(Duration::from_secs(1));
    loop {
        tick.tick().await;
        if let Err(e) = refresh_revoked_tokens(&services).await {
            pass_failed("could not refresh revoked access tokens", &e, false);
        }
    }
}

/// Refreshes this node's copy of the revoked access-token ids (see
/// `sqin_oidc::cache::RevokedAccessTokens`).
pub async fn refresh_revoked_tokens(services: &Services) -> AppResult<()> {
    let t = services.now();
    let mut conn = services.store.pool().acquire().await?;
    let jtis = sqin_store::grants::revoked_access_tokens(&mut conn, t).await?;
    services
        .revoked_tokens
        .replace(jtis.into_iter().collect(), t);
    Ok(())
}
