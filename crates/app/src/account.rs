//! Closing a citizen's account: the one path that deletes a citizen, used by
//! the operator's `sqin citizen delete`.
//!
//! One transaction does all of it, so a failure leaves the account whole:
//! relying parties are queued a back-channel logout notice (under their own
//! pairwise `sub`, computed before the citizen row goes), every grant is
//! revoked, the citizen's part of the consent ledger is crypto-shredded (the
//! shredding is itself an entry, so the log says when it happened while every
//! proof stays valid), and the citizen row is deleted, taking passkeys,
//! sessions, codes, consents, tokens and security events with it through the
//! schema's cascades.
use serde::Serialize;
use sqin_store::citizens;

use crate::{AppError, During, Services};

/// What closing an account did, for the operator's record.
#[derive(Debug, Clone, Serialize)]
pub struct ClosedAccount {
    /// The register identifier of the closed account.
    pub register_id: String,
    /// Relying parties that held a live consent or grant.
    pub relying_parties: Vec<String>,
    /// Back-channel logout notices queued.
    pub logout_notices: usize,
    /// Grants (token families) revoked.
    pub grants_revoked: usize,
    /// Ledger data keys destroyed: the citizen's ledger history is unreadable.
    pub ledger_keys_destroyed: u64,
    /// The ledger entry that records the shredding.
    pub ledger_entry: u64,
}

/// Closes the account of the citizen with `register_id`. Errors name what
/// failed; nothing is changed unless everything succeeds.
pub async fn close(
    services: &Services,
    register_id: &str,
    now: i64,
) -> Result<ClosedAccount, AppError> {
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    let closed = close_in(&mut tx, services, register_id, now).await?;
    tx.commit().await.during("committing the account closure")?;
    services.backchannel_wake.notify_one();
    Ok(closed)
}

/// [`close`], in the caller's transaction (a closure approved by a second
/// member of staff commits with its approval). The caller wakes the
/// back-channel sender once it committed.
pub async fn close_in(
    tx: &mut sqin_store::Connection,
    services: &Services,
    register_id: &str,
    now: i64,
) -> Result<ClosedAccount, AppError> {
    let citizen = citizens::by_register_id(&mut *tx, &services.register, register_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no citizen with register_id {register_id}")))?;
    let provider = services.provider();
    let closing = sqin_oidc::revocation::close_account(&mut *tx, &provider, &citizen.id, now)
        .await
        .during("revoking the citizen's tokens")?;
    let shred =
        sqin_ledger_service::purge::shred_citizen(&mut *tx, &services.ledger, &citizen.id, now)
            .await
            .during("shredding the citizen's ledger history")?;
    if !citizens::delete(&mut *tx, &citizen.id).await? {
        return Err(AppError::Conflict(format!(
            "the citizen with register_id {register_id} was deleted concurrently"
        )));
    }
    tracing::info!(
        relying_parties = closing.clients.len(),
        grants_revoked = closing.grants_revoked,
        ledger_keys_destroyed = shred.keys_destroyed,
        ledger_entry = shred.entry.0,
        "account closed"
    );
    Ok(ClosedAccount {
        register_id: citizen.register_id,
        relying_parties: closing.clients,
        logout_notices: closing.logout_notices,
        grants_revoked: closing.grants_revoked,
        ledger_keys_destroyed: shred.keys_destroyed,
        ledger_entry: shred.entry.0,
    })
}

/// The citizen withdraws their consent for one relying party: its tokens
/// stop at once, its sessions are ended through back-channel logout, the
/// ledger records the withdrawal (all in one transaction), and the next
/// sign-in asks again.
pub async fn withdraw_consent(
    services: &Services,
    citizen_id: &str,
    client_id: &str,
    now: i64,
) -> Result<sqin_oidc::revocation::Withdrawn, AppError> {
    let provider = services.provider();
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    let withdrawn = sqin_oidc::revocation::withdraw_consent(
        &mut tx, &provider, citizen_id, client_id, "citizen", now,
    )
    .await?;
    tx.commit().await?;
    services.backchannel_wake.notify_one();
    Ok(withdrawn)
}

/// What signing out everywhere did.
#[derive(Debug, Clone, Serialize)]
pub struct SignedOutEverywhere {
    /// Sessions that were still open (this browser's included).
    pub sessions_ended: u64,
    /// Relying parties queued a back-channel logout notice.
    pub logout_notices: usize,
    /// Grants (token families) revoked.
    pub grants_revoked: usize,
}

/// The citizen signs out everywhere (a device is lost, or someone else may
/// be signed in): in one transaction every session of the citizen ends,
/// every relying party holding a live consent or grant is queued a
/// back-channel logout notice under its own pairwise `sub` (as on account
/// closure), every grant is revoked (refresh and access tokens stop at
/// once), and the security event is recorded. Consents and passkeys stay.
pub async fn sign_out_everywhere(
    services: &Services,
    citizen_id: &str,
    now: i64,
) -> Result<SignedOutEverywhere, AppError> {
    let provider = services.provider();
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    let sessions_ended = sqin_session::end_all(&mut tx, citizen_id, now)
        .await
        .during("ending the citizen's sessions")?;
    let mut logout_notices = 0;
    for client_id in sqin_store::grants::clients_of_citizen(&mut tx, citizen_id).await? {
        if sqin_oidc::backchannel::queue_citizen_logout(
            &mut tx, &provider, citizen_id, &client_id, now,
        )
        .await?
        {
            logout_notices += 1;
        }
    }
    let grants_revoked =
        sqin_oidc::revocation::revoke_all_tokens(&mut tx, citizen_id, "signed out everywhere", now)
            .await?;
    sqin_webauthn::events::record(
        &mut tx,
        citizen_id,
        &sqin_webauthn::SecurityEvent::SignedOutEverywhere { sessions_ended },
        now,
    )
    .await
    .during("recording the sign-out")?;
    tx.commit().await.during("committing the sign-out")?;
    services.backchannel_wake.notify_one();
    tracing::info!(
        sessions_ended,
        logout_notices,
        grants_revoked,
        "signed out everywhere"
    );
    Ok(SignedOutEverywhere {
        sessions_ended,
        logout_notices,
        grants_revoked,
    })
}
