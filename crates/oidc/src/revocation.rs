//! Withdrawing what a citizen gave: a consent (and every token resting on
//! it), or all of a citizen's tokens (account recovery, closure).
use sqin_store::{consents, grants, Connection};

use crate::provider::Provider;
use crate::OidcError;
use sqin_ledger_contract::LedgerEvent;

/// What a withdrawal ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Withdrawn {
    pub consent_id: Option<String>,
    /// Grants (token families) revoked: their refresh and access tokens are
    /// inactive from now on.
    pub grants_revoked: usize,
}

/// Withdraws the citizen's consent for a client: the consent is revoked, every
/// grant of that client for the citizen is revoked (refresh and access tokens
/// become inactive at once, introspection says so), the withdrawal is written
/// to the ledger, and the next sign-in to that client asks for consent again.
/// All in the caller's transaction.
pub async fn withdraw_consent(
    conn: &mut Connection,
    provider: &Provider,
    citizen_id: &str,
    client_id: &str,
    reason: &str,
    now: i64,
) -> Result<Withdrawn, OidcError> {
    let live = consents::live(conn, citizen_id, client_id).await?;
    consents::revoke(conn, citizen_id, client_id, now).await?;
    let revoked =
        grants::revoke_for_citizen(conn, citizen_id, Some(client_id), now, "consent withdrawn")
            .await?;
    if let Some(consent) = &live {
        provider
            .ledger
            .record(
                conn,
                LedgerEvent::ConsentRevoked {
                    citizen_id: citizen_id.to_owned(),
                    client_id: client_id.to_owned(),
                    consent_id: consent.id.clone(),
                    reason: reason.to_owned(),
                },
                now,
            )
            .await?;
    }
    // The RP's sessions for this citizen must end too (Back-Channel Logout).
    crate::backchannel::queue_citizen_logout(conn, provider, citizen_id, client_id, now).await?;
    Ok(Withdrawn {
        consent_id: live.map(|c| c.id),
        grants_revoked: revoked.len(),
    })
}

/// Revokes every grant of a citizen, for every client: used when a passkey
/// may be in someone else's hands (recovery) or the account closes. Consents
/// stay; only tokens die.
pub async fn revoke_all_tokens(
    conn: &mut Connection,
    citizen_id: &str,
    reason: &str,
    now: i64,
) -> Result<usize, OidcError> {
    Ok(
        grants::revoke_for_citizen(conn, citizen_id, None, now, reason)
            .await?
            .len(),
    )
}

/// Revokes every grant issued under the browser session `session_id` (its
/// `sid`), and queues a back-channel logout notice for the session to each
/// relying party that held one: used when the passkey that opened the
/// session is removed. In the caller's transaction. Returns the grants
/// revoked.
pub async fn revoke_session_tokens(
    conn: &mut Connection,
    provider: &Provider,
    session_id: &str,
    reason: &str,
    now: i64,
) -> Result<usize, OidcError> {
    let revoked = grants::revoke_for_session(conn, session_id, now, reason).await?;
    if !revoked.is_empty() {
        crate::backchannel::queue_session_logout(conn, provider, session_id, now).await?;
    }
    Ok(revoked.len())
}

/// What closing an account told the relying parties.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountClosing {
    /// Relying parties that held a live consent or grant.
    pub clients: Vec<String>,
    /// Of those, the ones owed a back-channel logout notice (queued).
    pub logout_notices: usize,
    /// Grants revoked.
    pub grants_revoked: usize,
}

/// The protocol side of closing an account, in the caller's transaction
/// (the one that then deletes the account): every relying party with a live
/// consent or grant is queued a back-channel logout notice under its own
/// pairwise `sub` (computed now, while the citizen still exists), and every
/// grant is revoked. The notices are queued, not sent: if the transaction
/// rolls back, no relying party hears of a closing that did not happen.
pub async fn close_account(
    conn: &mut Connection,
    provider: &Provider,
    citizen_id: &str,
    now: i64,
) -> Result<AccountClosing, OidcError> {
    let clients = grants::clients_of_citizen(conn, citizen_id).await?;
    let mut logout_notices = 0;
    for client_id in &clients {
        if crate::backchannel::queue_citizen_logout(conn, provider, citizen_id, client_id, now)
            .await?
        {
            logout_notices += 1;
        }
    }
    let grants_revoked = revoke_all_tokens(conn, citizen_id, "account closed", now).await?;
    Ok(AccountClosing {
        clients,
        logout_notices,
        grants_revoked,
    })
}

/// Ends consents whose time is up (a consent is valid only as long as its
/// purpose needs, A-2.1 s. 53.1): each is closed, its tokens revoked, the
/// RP told through back-channel logout, and `consent_expired` written to the
/// ledger, one consent per transaction. Returns how many lapsed.
pub async fn expire_consents(
    conn: &mut Connection,
    provider: &Provider,
    now: i64,
) -> Result<usize, OidcError> {
    let lapsed = consents::lapsed(conn, now, 100).await?;
    for consent in &lapsed {
        let mut tx = sqin_store::begin_on(conn).await?;
        // Only the first node to close it goes on.
        if !consents::revoke(&mut tx, &consent.citizen_id, &consent.client_id, now).await? {
            continue;
        }
        grants::revoke_for_citizen(
            &mut tx,
            &consent.citizen_id,
            Some(&consent.client_id),
            now,
            "consent expired",
        )
        .await?;
        crate::backchannel::queue_citizen_logout(
            &mut tx,
            provider,
            &consent.citizen_id,
            &consent.client_id,
            now,
        )
        .await?;
        provider
            .ledger
            .record(
                &mut tx,
                LedgerEvent::ConsentExpired {
                    citizen_id: consent.citizen_id.clone(),
                    client_id: consent.client_id.clone(),
                    consent_id: consent.id.clone(),
                },
                now,
            )
            .await?;
        tx.commit().await?;
    }
    Ok(lapsed.len())
}
