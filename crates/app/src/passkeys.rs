//! Passkey work that spans the passkey service and the OpenID Provider.
use sqin_webauthn::{Browser, PasskeyError, RegisterPublicKeyCredential, SignedIn};

use crate::Services;

/// Finishes an enrolment or a recovery: the passkey is registered and a
/// session started; after a recovery, every refresh and access token of the
/// citizen dies with their sessions, in the same transaction (the lost
/// device may be in someone else's hands).
pub async fn finish_enrolment(
    services: &Services,
    browser: Browser<'_>,
    ceremony: &str,
    credential: &RegisterPublicKeyCredential,
    name: &str,
    fallback_name: &str,
) -> Result<SignedIn, PasskeyError> {
    let now = services.now();
    let mut conn = services
        .store
        .pool()
        .acquire()
        .await
        .map_err(sqin_store::StoreError::from)?;
    let verified = services
        .passkeys
        .verify_enrolment(&mut conn, browser, ceremony, credential, now)
        .await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    let signed = services
        .passkeys
        .complete_enrolment(&mut tx, verified, name, fallback_name, now)
        .await?;
    if signed.recovered {
        sqin_oidc::revocation::revoke_all_tokens(
            &mut tx,
            &signed.session.citizen_id,
            "account recovery",
            now,
        )
        .await
        .map_err(|e| PasskeyError::Internal(e.to_string()))?;
    }
    tx.commit().await.map_err(sqin_store::StoreError::from)?;
    Ok(signed)
}

/// Removes one of the signed-in citizen's passkeys, in one transaction:
/// the passkey goes, every session it opened ends, and every grant issued
/// under those sessions is revoked (refresh and access tokens die at once),
/// with a back-channel logout notice to each relying party concerned. Then
/// the notices are sent. The sessions of the citizen's other passkeys stay.
pub async fn remove(
    services: &Services,
    session: &sqin_session::AuthenticatedSession,
    id: &str,
    confirm_last: bool,
) -> Result<sqin_webauthn::RemovedPasskey, PasskeyError> {
    let now = services.now();
    let provider = services.provider();
    let mut conn = services
        .store
        .pool()
        .acquire()
        .await
        .map_err(sqin_store::StoreError::from)?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    let removed = services
        .passkeys
        .remove(&mut tx, session, id, confirm_last, now)
        .await?;
    let internal = |e: sqin_oidc::OidcError| PasskeyError::Internal(e.to_string());
    let mut grants_revoked = 0;
    for ended in &removed.sessions {
        let revoked = sqin_oidc::revocation::revoke_session_tokens(
            &mut tx,
            &provider,
            &ended.session_id,
            "passkey removed",
            now,
        )
        .await
        .map_err(internal)?;
        if revoked == 0 && ended.was_open {
            // An open session whose grants had all ended: its relying
            // parties still hear that it is over.
            sqin_oidc::backchannel::queue_session_logout(
                &mut tx,
                &provider,
                &ended.session_id,
                now,
            )
            .await
            .map_err(internal)?;
        }
        grants_revoked += revoked;
    }
    tx.commit().await.map_err(sqin_store::StoreError::from)?;
    services.backchannel_wake.notify_one();
    tracing::info!(
        sessions_ended = removed.sessions.iter().filter(|s| s.was_open).count(),
        grants_revoked,
        "passkey removed"
    );
    Ok(removed)
}
