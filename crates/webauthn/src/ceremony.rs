//! Ceremony handles, their binding to a browser, and the state kept between
//! `start_*` and `finish_*`.
use serde::{Deserialize, Serialize};
use sqin_crypto::{b64url_decode, random_token, sha256};
use sqin_store::ceremonies::{self, Ceremony, CeremonyKind};
use sqin_store::Connection;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, PasskeyAuthentication, PasskeyRegistration,
};

use crate::{PasskeyError, CEREMONY_TTL_SECS};

/// The browser a ceremony is bound to: the value of its random, HttpOnly
/// browser cookie (apps keep it in their cookie store). Only its SHA-256 is
/// stored.
#[derive(Clone, Copy)]
pub struct Browser<'a>(pub &'a str);

impl std::fmt::Debug for Browser<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Browser(<redacted>)")
    }
}

impl Browser<'_> {
    pub(crate) fn hash(&self) -> Vec<u8> {
        sha256(self.0.as_bytes()).to_vec()
    }
}

/// A pending authorization request's handle as the OIDC endpoint gave it:
/// kept only when it is a plausible opaque token (URL-safe, bounded), so it
/// can be put back in a URL without surprises.
pub fn clean_request(request: Option<&str>) -> Option<String> {
    let r = request?.trim();
    let ok = !r.is_empty()
        && r.len() <= 256
        && r.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b));
    ok.then(|| r.to_owned())
}

/// What is kept server-side between start and finish.
#[derive(Serialize, Deserialize)]
#[serde(tag = "t", content = "s")]
pub(crate) enum State {
    /// Code and birthdate accepted; registrations may start.
    Grant,
    Registration(PasskeyRegistration),
    /// Login with the register identifier typed: only these credentials.
    Authentication(PasskeyAuthentication),
    /// Username-less login: any credential of any citizen.
    Discoverable(DiscoverableAuthentication),
    /// Login with a register identifier that has no passkey: the browser gets
    /// options indistinguishable from a real account's, and the answer is
    /// always refused.
    Decoy(DiscoverableAuthentication),
}

pub(crate) struct NewCeremony<'a> {
    pub kind: CeremonyKind,
    pub browser: Browser<'a>,
    pub citizen_id: Option<&'a str>,
    pub code_hash: Option<Vec<u8>>,
    pub request: Option<String>,
    pub state: State,
    pub ttl: i64,
}

/// Stores a ceremony and returns its handle. Expired ceremonies are purged on
/// the way (an indexed delete), so the table holds only live ones.
pub(crate) async fn begin(
    conn: &mut Connection,
    c: NewCeremony<'_>,
    now: i64,
) -> Result<String, PasskeyError> {
    ceremonies::purge_expired(conn, now).await?;
    let handle = random_token()?;
    let state =
        serde_json::to_string(&c.state).map_err(|e| PasskeyError::Internal(e.to_string()))?;
    ceremonies::insert(
        conn,
        &Ceremony {
            id_hash: sha256(handle.expose().as_bytes()).to_vec(),
            kind: c.kind,
            browser_hash: c.browser.hash(),
            citizen_id: c.citizen_id.map(str::to_owned),
            code_hash: c.code_hash,
            request: c.request,
            state,
            created_at: now,
            expires_at: now + c.ttl,
        },
    )
    .await?;
    Ok(handle.expose().to_owned())
}

pub(crate) fn default_ttl() -> i64 {
    CEREMONY_TTL_SECS
}

fn handle_hash(handle: &str) -> Result<Vec<u8>, PasskeyError> {
    // Handles are 32 random bytes in base64url; anything else was never issued.
    match b64url_decode(handle) {
        Some(raw) if raw.len() == 32 => Ok(sha256(handle.as_bytes()).to_vec()),
        _ => Err(PasskeyError::CeremonyExpired),
    }
}

/// Removes the ceremony (so it can never be answered twice) and returns it
/// with its state, if it belonged to this browser and had not expired.
pub(crate) async fn take(
    conn: &mut Connection,
    handle: &str,
    kind: CeremonyKind,
    browser: Browser<'_>,
    now: i64,
) -> Result<(Ceremony, State), PasskeyError> {
    let id_hash = handle_hash(handle)?;
    let found = ceremonies::take(conn, &id_hash, kind, &browser.hash()).await?;
    let Some(c) = found else {
        return Err(PasskeyError::CeremonyExpired);
    };
    if c.expires_at <= now {
        return Err(PasskeyError::CeremonyExpired);
    }
    let state: State = serde_json::from_str(&c.state)
        .map_err(|e| PasskeyError::Internal(format!("ceremony state: {e}")))?;
    Ok((c, state))
}

/// Reads a live grant without consuming it.
pub(crate) async fn peek_grant(
    conn: &mut Connection,
    handle: &str,
    browser: Browser<'_>,
    now: i64,
) -> Result<Ceremony, PasskeyError> {
    let id_hash = handle_hash(handle)?;
    ceremonies::peek(conn, &id_hash, CeremonyKind::Grant, &browser.hash(), now)
        .await?
        .ok_or(PasskeyError::CeremonyExpired)
}

#[cfg(test)]
mod tests {
    use super::clean_request;

    #[test]
    fn request_handles_are_kept_only_when_plain() {
        assert_eq!(clean_request(Some("abc-_.~9")), Some("abc-_.~9".into()));
        assert_eq!(clean_request(Some("")), None);
        assert_eq!(clean_request(Some("a b")), None);
        assert_eq!(clean_request(Some("a&b=c")), None);
        assert_eq!(clean_request(Some(&"x".repeat(257))), None);
        assert_eq!(clean_request(None), None);
    }
}
