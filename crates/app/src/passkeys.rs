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
