//! The seam between the passkey service and the OpenID Provider.
//!
//! The passkey service (`sqin-webauthn` and its pages) is the only producer of
//! an [`AuthenticatedSession`]: after a successful ceremony it calls
//! [`start`] and sets the returned token in the [`SESSION_COOKIE`] cookie.
//! The authorization endpoint is the only consumer: it calls [`current`] and
//! never authenticates anyone itself. When it needs a fresher or stronger
//! authentication (`prompt=login`, `max_age`, `acr_values`) it sends the
//! citizen back to the passkey service ([`LOGIN_PATH`]) with the pending
//! request's handle, and the passkey service returns to [`RESUME_PATH`].
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

use sqin_crypto::{random_token, sha256, SecretString};
use sqin_store::sessions::{self, SessionCredential, SessionRecord};
use sqin_store::Connection;

/// The session cookie's name on plain HTTP, which the configuration allows
/// only for an issuer on `localhost` (a laptop, the tests) or explicitly
/// behind a proxy: HttpOnly, SameSite=Lax (so the top-level redirect from a
/// relying party carries it), Path=/. Under TLS the cookie is
/// [`SESSION_COOKIE_TLS`]; see [`session_cookie_name`].
pub const SESSION_COOKIE: &str = "sqin_session";

/// The session cookie's name when the issuer is https: the `__Host-` prefix
/// makes browsers accept it only with `Secure`, `Path=/` and no `Domain`,
/// from the issuer's own host, so a sibling subdomain cannot plant or
/// shadow it (cookie tossing, login CSRF at relying parties).
pub const SESSION_COOKIE_TLS: &str = "__Host-sqin_session";

/// The session cookie's name: [`SESSION_COOKIE_TLS`] when the issuer is
/// https (`secure`), [`SESSION_COOKIE`] on plain HTTP.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        SESSION_COOKIE_TLS
    } else {
        SESSION_COOKIE
    }
}

/// The passkey service's login page. Query: `request` (the pending
/// authorization's handle, optional), `prompt=login` (a fresh ceremony is
/// required even with a live session), `ui_locales`.
pub const LOGIN_PATH: &str = "/login";

/// Where the passkey service sends the browser back after a ceremony, with the
/// same `request` handle.
pub const RESUME_PATH: &str = "/authorize/resume";

/// How long a browser session lasts without a new ceremony.
pub const SESSION_TTL_SECS: i64 = 8 * 3600;

/// Levels of assurance, as `acr` values. See docs/assurance.md.
pub mod acr {
    /// A passkey with user verification, enrolled with a one-time code sent
    /// by mail to the register's address: eIDAS "substantial", NIST AAL2.
    pub const SUBSTANTIAL: &str = "urn:sqin:loa:substantial";
    /// Ordered from weakest to strongest, to compare requested and achieved.
    pub const ORDER: &[&str] = &[SUBSTANTIAL];

    /// Whether `achieved` meets `requested` (unknown values never do).
    pub fn satisfies(achieved: &str, requested: &str) -> bool {
        let rank = |v: &str| ORDER.iter().position(|x| *x == v);
        matches!((rank(achieved), rank(requested)), (Some(a), Some(r)) if a >= r)
    }
}

/// RFC 8176 authentication method references.
pub mod amr {
    /// Hardware-backed or synced key: a passkey.
    pub const HWK: &str = "hwk";
    /// User verification by the authenticator (biometric or PIN).
    pub const USER: &str = "user";
    pub const PIN: &str = "pin";
    /// Multiple factors (possession + inherence/knowledge).
    pub const MFA: &str = "mfa";
}

/// What the passkey service asserts about a browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedSession {
    /// Internal account id: never sent to a relying party.
    pub citizen_id: String,
    /// A stable, non-secret handle for this session (the `sid` claim source):
    /// base64url of the cookie token's hash.
    pub session_id: String,
    pub auth_time: i64,
    pub acr: String,
    pub amr: Vec<String>,
    pub expires_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Crypto(#[from] sqin_crypto::CryptoError),
    #[error(transparent)]
    Store(#[from] sqin_store::StoreError),
}

fn to_session(r: SessionRecord) -> AuthenticatedSession {
    AuthenticatedSession {
        session_id: sqin_crypto::b64url(&r.id_hash),
        citizen_id: r.citizen_id,
        auth_time: r.auth_time,
        acr: r.acr,
        amr: r.amr,
        expires_at: r.expires_at,
    }
}

/// Records a completed ceremony and returns the cookie token (shown to the
/// browser only) with the session. A session that no passkey opened (test
/// fixtures, benchmarks); the passkey service uses [`start_with_passkey`].
pub async fn start(
    conn: &mut Connection,
    citizen_id: &str,
    acr: &str,
    amr: &[&str],
    now: i64,
) -> Result<(SecretString, AuthenticatedSession), SessionError> {
    insert(conn, citizen_id, acr, amr, now).await
}

/// [`start`] for a ceremony with the passkey `credential_id`, which the
/// session remembers (`session_credentials`): removing that passkey ends
/// the session and what relying parties were given under it.
pub async fn start_with_passkey(
    conn: &mut Connection,
    citizen_id: &str,
    credential_id: &[u8],
    acr: &str,
    amr: &[&str],
    now: i64,
) -> Result<(SecretString, AuthenticatedSession), SessionError> {
    let (token, session) = insert(conn, citizen_id, acr, amr, now).await?;
    sessions::record_credential(
        conn,
        &SessionCredential {
            session_hash: sha256(token.expose().as_bytes()).to_vec(),
            session_id: session.session_id.clone(),
            citizen_id: citizen_id.to_owned(),
            credential_id: credential_id.to_vec(),
            created_at: now,
        },
    )
    .await?;
    Ok((token, session))
}

async fn insert(
    conn: &mut Connection,
    citizen_id: &str,
    acr: &str,
    amr: &[&str],
    now: i64,
) -> Result<(SecretString, AuthenticatedSession), SessionError> {
    let token = random_token()?;
    let record = SessionRecord {
        id_hash: sha256(token.expose().as_bytes()).to_vec(),
        citizen_id: citizen_id.to_owned(),
        auth_time: now,
        acr: acr.to_owned(),
        amr: amr.iter().map(|s| (*s).to_owned()).collect(),
        created_at: now,
        expires_at: now + SESSION_TTL_SECS,
        revoked_at: None,
    };
    sessions::insert(conn, &record).await?;
    Ok((token, to_session(record)))
}

/// The live session a cookie token refers to, if any.
pub async fn current(
    conn: &mut Connection,
    token: &str,
    now: i64,
) -> Result<Option<AuthenticatedSession>, SessionError> {
    let found = sessions::find_live(conn, &sha256(token.as_bytes()), now).await?;
    Ok(found.map(to_session))
}

/// Ends the session a cookie token refers to (logout).
pub async fn end(conn: &mut Connection, token: &str, now: i64) -> Result<bool, SessionError> {
    Ok(sessions::revoke(conn, &sha256(token.as_bytes()), now).await?)
}

/// Ends the session with this `session_id` (its `sid`).
pub async fn end_by_id(
    conn: &mut Connection,
    session_id: &str,
    now: i64,
) -> Result<bool, SessionError> {
    let Some(hash) = sqin_crypto::b64url_decode(session_id) else {
        return Ok(false);
    };
    Ok(sessions::revoke(conn, &hash, now).await?)
}

/// A session a passkey opened, as [`end_for_passkey`] ended it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedSession {
    /// Its `sid`: grants issued under it carry it.
    pub session_id: String,
    /// Whether it was still open (not logged out or revoked before).
    pub was_open: bool,
}

/// Ends every session the citizen's passkey `credential_id` opened (the
/// passkey is being removed: it may be in someone else's hands) and forgets
/// which they were. Returns each of them, including those that had already
/// ended, since grants issued under them may still live. In the caller's
/// transaction, before the passkey is deleted.
pub async fn end_for_passkey(
    conn: &mut Connection,
    citizen_id: &str,
    credential_id: &[u8],
    now: i64,
) -> Result<Vec<EndedSession>, SessionError> {
    let opened = sessions::opened_by(conn, citizen_id, credential_id).await?;
    let mut ended = Vec::with_capacity(opened.len());
    for link in opened {
        let was_open = sessions::revoke(conn, &link.session_hash, now).await?;
        ended.push(EndedSession {
            session_id: link.session_id,
            was_open,
        });
    }
    sessions::forget_credential(conn, citizen_id, credential_id).await?;
    Ok(ended)
}

/// Ends every session of the citizen ("sign out everywhere", recovery);
/// returns how many were open.
pub async fn end_all(
    conn: &mut Connection,
    citizen_id: &str,
    now: i64,
) -> Result<u64, SessionError> {
    Ok(sessions::revoke_all_for_citizen(conn, citizen_id, now).await?)
}

#[cfg(test)]
mod tests {
    use super::acr;

    #[test]
    fn the_session_cookie_is_host_only_under_tls() {
        assert_eq!(super::session_cookie_name(true), "__Host-sqin_session");
        assert_eq!(super::session_cookie_name(false), "sqin_session");
    }

    #[test]
    fn acr_ordering() {
        assert!(acr::satisfies(acr::SUBSTANTIAL, acr::SUBSTANTIAL));
        assert!(!acr::satisfies(acr::SUBSTANTIAL, "urn:sqin:loa:high"));
        assert!(!acr::satisfies("unknown", acr::SUBSTANTIAL));
    }
}
