//! The tokens of dynamic registration: initial access tokens (RFC 7591 3),
//! issued by an administrator for one PIA entry, and registration access
//! tokens (RFC 7592 3), one per dynamically registered client. Both are
//! stored only as hashes and shown once.
use sqin_crypto::{random_token, HashedSecret, SecretString};
use sqin_store::clients;
use sqin_store::initial_access::{self, InitialAccessToken};
use sqin_store::Connection;

use super::{entry, ClientActor};
use crate::staff::record_governance;
use crate::{AppError, AppResult, Services};

/// The longest an initial access token lives, and the most registrations
/// it allows: it is a credential, handed to a ministry's pipeline.
pub const MAX_IAT_SECS: i64 = 30 * 86_400;
pub const MAX_IAT_USES: i64 = 10;

/// An issued initial access token.
#[derive(Debug)]
pub struct IssuedAccessToken {
    pub token: SecretString,
    pub pia_entry: String,
    pub expires_at: i64,
    pub uses: i64,
}

/// Issues an initial access token for PIA entry `entry_id`: whoever holds
/// it may register clients within that entry, and only that entry, each
/// pending a privacy officer's approval.
pub async fn issue_initial_access_token(
    services: &Services,
    by: &ClientActor<'_>,
    entry_id: &str,
    lifetime_secs: i64,
    uses: i64,
) -> AppResult<IssuedAccessToken> {
    if matches!(by, ClientActor::Ministry { .. }) {
        return Err(AppError::Forbidden);
    }
    let entry = entry(services, entry_id)?;
    by.may_manage(services, Some(&entry.bounds.entry))?;
    if !(60..=MAX_IAT_SECS).contains(&lifetime_secs) {
        return Err(AppError::Refused(format!(
            "an initial access token lives from a minute to {} days",
            MAX_IAT_SECS / 86_400
        )));
    }
    if !(1..=MAX_IAT_USES).contains(&uses) {
        return Err(AppError::Refused(format!(
            "an initial access token allows 1 to {MAX_IAT_USES} registrations"
        )));
    }
    let now = by.now(services);
    let token = random_token()?;
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    initial_access::insert(
        &mut tx,
        &InitialAccessToken {
            token_hash: token.hash().0.to_vec(),
            pia_entry: entry.bounds.entry.clone(),
            issued_by: by.name(),
            issued_at: now,
            expires_at: now + lifetime_secs,
            uses_left: uses,
            revoked_at: None,
        },
    )
    .await?;
    record_governance(
        &mut tx,
        services,
        &by.name(),
        "initial_access_token.issued",
        &[
            ("pia_entry", &entry.bounds.entry),
            ("expires_at", &(now + lifetime_secs).to_string()),
            ("uses", &uses.to_string()),
        ],
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(IssuedAccessToken {
        token,
        pia_entry: entry.bounds.entry,
        expires_at: now + lifetime_secs,
        uses,
    })
}

/// Spends one use of an initial access token; the PIA entry it is for, or
/// `None` when it is unknown, expired, revoked or used up.
pub async fn spend_initial_access_token(
    conn: &mut Connection,
    token: &str,
    now: i64,
) -> AppResult<Option<String>> {
    let hash = SecretString::new(token).hash();
    Ok(initial_access::spend(conn, &hash.0, now).await?)
}

/// Gives a client a new registration access token (RFC 7592), replacing
/// any earlier one.
pub async fn issue_registration_token(
    conn: &mut Connection,
    client_id: &str,
) -> AppResult<SecretString> {
    let token = random_token()?;
    clients::set_registration_token_hash(conn, client_id, &token.hash().0).await?;
    Ok(token)
}

/// Whether `token` is this client's registration access token (in
/// constant time).
pub fn registration_token_matches(client: &clients::ClientRecord, token: &str) -> bool {
    client
        .registration_token_hash
        .as_deref()
        .and_then(HashedSecret::from_slice)
        .is_some_and(|h| h.matches(token))
}
