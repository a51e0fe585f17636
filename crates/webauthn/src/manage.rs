//! The account page: a signed-in citizen's passkeys (list, add, rename,
//! remove) and their recent sign-ins.
use std::net::IpAddr;

use serde::Serialize;
use sqin_crypto::{b64url, b64url_decode};
use sqin_session::AuthenticatedSession;
use sqin_store::ceremonies::CeremonyKind;
use sqin_store::citizens::{self, CitizenStatus};
use sqin_store::passkeys::{self, EnrolledVia};
use sqin_store::Connection;
use webauthn_rs::prelude::{CreationChallengeResponse, RegisterPublicKeyCredential};

use crate::ceremony::{self, Browser, NewCeremony, State};
use crate::enrol::{clean_name, insert_passkey, passkey_record};
use crate::events::{self, SecurityEvent};
use crate::limits::{Bucket, Hint};
use crate::{PasskeyError, PasskeyService, Started};

/// Adding or removing a passkey needs a ceremony at most this old: a stolen
/// session cookie alone must not let anyone plant their own passkey or lock
/// the citizen out.
pub const REAUTHENTICATE_AFTER_SECS: i64 = 900;

/// A passkey as the account page shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PasskeyView {
    /// base64url credential id: what the page's forms send back.
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// Synced between devices (a cloud keychain), as the authenticator says.
    pub synced: bool,
    pub enrolled_via: &'static str,
}

/// A removed passkey: its name, and the sessions it had opened, now ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovedPasskey {
    pub name: String,
    pub sessions: Vec<sqin_session::EndedSession>,
}

/// A registration answer for one more passkey, with the name the citizen gave.
#[derive(Debug, Clone, Copy)]
pub struct NewPasskey<'a> {
    pub credential: &'a RegisterPublicKeyCredential,
    pub name: &'a str,
    /// The name used when `name` is blank (in the citizen's language).
    pub fallback_name: &'a str,
}

fn require_fresh(session: &AuthenticatedSession, now: i64) -> Result<(), PasskeyError> {
    if now - session.auth_time > REAUTHENTICATE_AFTER_SECS {
        return Err(PasskeyError::ReauthenticationRequired);
    }
    Ok(())
}

fn credential_id(id: &str) -> Result<Vec<u8>, PasskeyError> {
    b64url_decode(id)
        .filter(|raw| !raw.is_empty() && raw.len() <= 1023)
        .ok_or(PasskeyError::UnknownPasskey)
}

/// Whether a session is recent enough to add or remove passkeys.
pub fn is_fresh(session: &AuthenticatedSession, now: i64) -> bool {
    require_fresh(session, now).is_ok()
}

impl PasskeyService {
    pub async fn list(
        &self,
        conn: &mut Connection,
        citizen_id: &str,
    ) -> Result<Vec<PasskeyView>, PasskeyError> {
        Ok(passkeys::for_citizen(conn, citizen_id)
            .await?
            .into_iter()
            .map(|p| PasskeyView {
                id: b64url(&p.credential_id),
                name: p.name,
                created_at: p.created_at,
                last_used_at: p.last_used_at,
                synced: p.backup_eligible,
                enrolled_via: p.enrolled_via.as_str(),
            })
            .collect())
    }

    /// Starts registering one more passkey for the signed-in citizen.
    pub async fn start_add(
        &self,
        conn: &mut Connection,
        browser: Browser<'_>,
        client: IpAddr,
        session: &AuthenticatedSession,
        now: i64,
    ) -> Result<Started<CreationChallengeResponse>, PasskeyError> {
        require_fresh(session, now)?;
        self.hit(
            conn,
            Bucket::Ceremony(client, Hint::Citizen(&session.citizen_id)),
            now,
        )
        .await?;
        let citizen = match citizens::by_id(conn, &self.register, &session.citizen_id).await? {
            Some(c) if c.status == CitizenStatus::Enrolled => c,
            _ => return Err(PasskeyError::AccountUnavailable),
        };
        let (options, reg) = self.registration_options(conn, &citizen, now).await?;
        let handle = ceremony::begin(
            conn,
            NewCeremony {
                kind: CeremonyKind::Add,
                browser,
                citizen_id: Some(&citizen.id),
                code_hash: None,
                request: None,
                state: State::Registration(reg),
                ttl: ceremony::default_ttl(),
            },
            now,
        )
        .await?;
        Ok(Started {
            ceremony: handle,
            options,
        })
    }

    /// Verifies and stores the new passkey; returns its view.
    pub async fn finish_add(
        &self,
        conn: &mut Connection,
        browser: Browser<'_>,
        session: &AuthenticatedSession,
        ceremony_handle: &str,
        new: NewPasskey<'_>,
        now: i64,
    ) -> Result<PasskeyView, PasskeyError> {
        let NewPasskey {
            credential,
            name,
            fallback_name,
        } = new;
        let name = clean_name(name, fallback_name)?;
        let (c, state) =
            ceremony::take(conn, ceremony_handle, CeremonyKind::Add, browser, now).await?;
        if c.citizen_id.as_deref() != Some(session.citizen_id.as_str()) {
            return Err(PasskeyError::CeremonyExpired);
        }
        let State::Registration(reg) = state else {
            return Err(PasskeyError::CeremonyExpired);
        };
        let passkey = self
            .webauthn
            .finish_passkey_registration(credential, &reg)
            .map_err(|e| PasskeyError::Rejected(e.to_string()))?;
        let record = passkey_record(
            &session.citizen_id,
            &passkey,
            &name,
            EnrolledVia::Account,
            now,
        )?;
        let mut tx = sqin_store::begin_on(conn).await?;
        insert_passkey(&mut tx, &record).await?;
        events::record(
            &mut tx,
            &session.citizen_id,
            &SecurityEvent::PasskeyAdded {
                passkey: name.clone(),
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(PasskeyView {
            id: b64url(&record.credential_id),
            name,
            created_at: now,
            last_used_at: None,
            synced: record.backup_eligible,
            enrolled_via: EnrolledVia::Account.as_str(),
        })
    }

    pub async fn rename(
        &self,
        conn: &mut Connection,
        session: &AuthenticatedSession,
        id: &str,
        name: &str,
        now: i64,
    ) -> Result<(), PasskeyError> {
        let cred = credential_id(id)?;
        let name = clean_name(name, "")?;
        if name.is_empty() {
            return Err(PasskeyError::Invalid("passkey name"));
        }
        let mut tx = sqin_store::begin_on(conn).await?;
        let old = passkeys::get(&mut tx, &cred)
            .await?
            .filter(|p| p.citizen_id == session.citizen_id)
            .ok_or(PasskeyError::UnknownPasskey)?;
        if old.name == name {
            return Ok(());
        }
        passkeys::rename(&mut tx, &session.citizen_id, &cred, &name).await?;
        events::record(
            &mut tx,
            &session.citizen_id,
            &SecurityEvent::PasskeyRenamed {
                from: old.name,
                to: name,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes a passkey and ends every session it opened (the passkey may be
    /// lost, in someone else's hands). The last one goes only with
    /// `confirm_last` (the citizen was warned that without a passkey they
    /// need a new code by mail to sign in again). The caller revokes, in the
    /// same transaction, what relying parties got under those sessions
    /// (`sqin_app::passkeys::remove`).
    pub async fn remove(
        &self,
        conn: &mut Connection,
        session: &AuthenticatedSession,
        id: &str,
        confirm_last: bool,
        now: i64,
    ) -> Result<RemovedPasskey, PasskeyError> {
        require_fresh(session, now)?;
        let cred = credential_id(id)?;
        let mut tx = sqin_store::begin_on(conn).await?;
        let record = passkeys::get(&mut tx, &cred)
            .await?
            .filter(|p| p.citizen_id == session.citizen_id)
            .ok_or(PasskeyError::UnknownPasskey)?;
        let count = passkeys::count_for_citizen(&mut tx, &session.citizen_id).await?;
        if count <= 1 && !confirm_last {
            return Err(PasskeyError::LastPasskey);
        }
        let sessions =
            sqin_session::end_for_passkey(&mut tx, &session.citizen_id, &cred, now).await?;
        passkeys::delete(&mut tx, &session.citizen_id, &cred).await?;
        events::record(
            &mut tx,
            &session.citizen_id,
            &SecurityEvent::PasskeyRemoved {
                passkey: record.name.clone(),
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(RemovedPasskey {
            name: record.name,
            sessions,
        })
    }
}
