//! Enrolment and recovery: a one-time code from the register's letter plus
//! the birthdate, then a passkey.
use std::net::IpAddr;

use serde::Serialize;
use sqin_crypto::random_bytes;
use sqin_register::{CodeCheck, CODE_MAX_FAILED_ATTEMPTS};
use sqin_store::ceremonies::{self, CeremonyKind};
use sqin_store::citizens::{self, Citizen, CitizenStatus};
use sqin_store::enrolment::{self, CodePurpose, EnrolmentCode};
use sqin_store::passkeys::{self, EnrolledVia, PasskeyRecord};
use sqin_store::{sessions, Connection};
use subtle::ConstantTimeEq;
use time::macros::format_description;
use time::Date;
use uuid::Uuid;
use webauthn_rs::prelude::{CreationChallengeResponse, Passkey, RegisterPublicKeyCredential};
use webauthn_rs_proto::ResidentKeyRequirement;

use crate::ceremony::{self, Browser, NewCeremony, State};
use crate::events::{self, SecurityEvent};
use crate::limits::{Bucket, Hint};
use crate::login::SignedIn;
use crate::{loa, PasskeyError, PasskeyService, Started, GRANT_TTL_SECS, MAX_NAME_CHARS};

/// Below this age (from the register's birthdate) a citizen cannot enrol
/// alone: a parent or tutor proceeds for them (privacy-law.md row 20).
pub const MIN_AGE_TO_ENROL_ALONE: u8 = 14;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GrantPurpose {
    /// The citizen's first passkey.
    Enrolment,
    /// A replacement: the citizen already had passkeys, or the code was
    /// reissued for a loss. Finishing it ends every session of the citizen.
    Recovery,
}

/// What the citizen typed on the enrolment page.
#[derive(Clone, Copy)]
pub struct CodeEntry<'a> {
    pub code: &'a str,
    /// `YYYY-MM-DD`.
    pub birthdate: &'a str,
    /// The pending authorization request to resume afterwards, if any.
    pub request: Option<&'a str>,
}

impl std::fmt::Debug for CodeEntry<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeEntry(<redacted>)")
    }
}

/// A code and birthdate were accepted: the browser may register a passkey.
#[derive(Debug, Clone, Serialize)]
pub struct EnrolmentGrant {
    /// Opaque handle for `start_enrolment`.
    pub grant: String,
    pub purpose: GrantPurpose,
    /// To greet the citizen; shown only after code and birthdate matched.
    pub given_name: String,
    pub expires_at: i64,
}

/// A registration answer that verified, waiting to be written by
/// [`PasskeyService::complete_enrolment`] in the caller's transaction.
pub struct VerifiedEnrolment {
    citizen_id: String,
    code_hash: Vec<u8>,
    request: Option<String>,
    passkey: Passkey,
}

impl std::fmt::Debug for VerifiedEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedEnrolment")
            .field("citizen_id", &self.citizen_id)
            .finish_non_exhaustive()
    }
}

fn code_usable(code: &EnrolmentCode, now: i64) -> bool {
    code.spent_at.is_none()
        && code.revoked_at.is_none()
        && code.expires_at > now
        && code.failed_attempts < CODE_MAX_FAILED_ATTEMPTS
}

/// The birthdate as typed (`YYYY-MM-DD`, what `<input type="date">` sends),
/// in canonical form; `None` when it is not a date.
fn typed_date(typed: &str) -> Option<String> {
    let fmt = format_description!("[year]-[month]-[day]");
    let date = Date::parse(typed.trim(), fmt).ok()?;
    date.format(fmt).ok()
}

fn age_on(birthdate: &str, now: i64) -> Option<i32> {
    let fmt = format_description!("[year]-[month]-[day]");
    let born = Date::parse(birthdate, fmt).ok()?;
    let today = time::OffsetDateTime::from_unix_timestamp(now).ok()?.date();
    let mut age = today.year() - born.year();
    if (today.month() as u8, today.day()) < (born.month() as u8, born.day()) {
        age -= 1;
    }
    Some(age)
}

/// A passkey name as the citizen typed it: trimmed, bounded, printable.
pub(crate) fn clean_name(name: &str, fallback: &str) -> Result<String, PasskeyError> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(fallback.to_owned());
    }
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(PasskeyError::Invalid("passkey name"));
    }
    Ok(name.to_owned())
}

pub(crate) fn display_name(c: &Citizen) -> String {
    format!("{} {}", c.given_name, c.family_name)
}

impl PasskeyService {
    /// Checks an enrolment or recovery code with the birthdate. Every failure
    /// is the same [`PasskeyError::CodeRefused`]; attempts are rate limited
    /// per client and per code, and a right code with a wrong birthdate counts
    /// towards the code's lock-out.
    pub async fn verify_code(
        &self,
        conn: &mut Connection,
        browser: Browser<'_>,
        client: IpAddr,
        entry: CodeEntry<'_>,
        now: i64,
    ) -> Result<EnrolmentGrant, PasskeyError> {
        let CodeEntry {
            code: typed_code,
            birthdate: typed_birthdate,
            request,
        } = entry;
        self.hit(conn, Bucket::CodeAttemptsFrom(client), now)
            .await?;
        if typed_code.len() > 64 || typed_birthdate.len() > 32 {
            return Err(PasskeyError::CodeRefused);
        }
        let code_hash = self.codes.hash(typed_code);
        self.hit(conn, Bucket::Code(&code_hash), now).await?;
        let CodeCheck::Usable(code) = self.codes.check(conn, typed_code, now).await? else {
            return Err(PasskeyError::CodeRefused);
        };
        let citizen = match citizens::by_id(conn, &self.register, &code.citizen_id).await? {
            Some(c) if c.status != CitizenStatus::Closed => c,
            _ => return Err(PasskeyError::CodeRefused),
        };
        let typed = typed_date(typed_birthdate).unwrap_or_default();
        let matches: bool = typed.as_bytes().ct_eq(citizen.birthdate.as_bytes()).into();
        if !matches {
            let locked = self.codes.record_failure(conn, typed_code).await?;
            events::record(
                conn,
                &citizen.id,
                &SecurityEvent::CodeRefused { locked },
                now,
            )
            .await?;
            return Err(PasskeyError::CodeRefused);
        }
        if age_on(&citizen.birthdate, now).is_none_or(|age| age < i32::from(MIN_AGE_TO_ENROL_ALONE))
        {
            return Err(PasskeyError::Minor);
        }
        let has_passkeys = passkeys::count_for_citizen(conn, &citizen.id).await? > 0;
        let purpose = if code.purpose == CodePurpose::Recovery || has_passkeys {
            GrantPurpose::Recovery
        } else {
            GrantPurpose::Enrolment
        };
        let grant = ceremony::begin(
            conn,
            NewCeremony {
                kind: CeremonyKind::Grant,
                browser,
                citizen_id: Some(&citizen.id),
                code_hash: Some(code_hash),
                request: crate::clean_request(request),
                state: State::Grant,
                ttl: GRANT_TTL_SECS,
            },
            now,
        )
        .await?;
        Ok(EnrolmentGrant {
            grant,
            purpose,
            given_name: citizen.given_name,
            expires_at: now + GRANT_TTL_SECS,
        })
    }

    /// The purpose and citizen of a live grant (for the registration page).
    pub async fn grant_info(
        &self,
        conn: &mut Connection,
        browser: Browser<'_>,
        grant: &str,
        now: i64,
    ) -> Result<EnrolmentGrant, PasskeyError> {
        let g = ceremony::peek_grant(conn, grant, browser, now).await?;
        let citizen_id = g.citizen_id.ok_or(PasskeyError::CeremonyExpired)?;
        let citizen = citizens::by_id(conn, &self.register, &citizen_id)
            .await?
            .ok_or(PasskeyError::CeremonyExpired)?;
        let code = match &g.code_hash {
            Some(h) => enrolment::find(conn, h).await?,
            None => None,
        };
        let code = code
            .filter(|c| code_usable(c, now))
            .ok_or(PasskeyError::CeremonyExpired)?;
        let has_passkeys = passkeys::count_for_citizen(conn, &citizen_id).await? > 0;
        Ok(EnrolmentGrant {
            grant: grant.to_owned(),
            purpose: if code.purpose == CodePurpose::Recovery || has_passkeys {
                GrantPurpose::Recovery
            } else {
                GrantPurpose::Enrolment
            },
            given_name: citizen.given_name,
            expires_at: g.expires_at,
        })
    }

    /// Registration options for a citizen: their user handle (created on
    /// first use), their existing credentials excluded, user verification
    /// required, a discoverable credential preferred (for username-less login).
    pub(crate) async fn registration_options(
        &self,
        conn: &mut Connection,
        citizen: &Citizen,
        now: i64,
    ) -> Result<
        (
            CreationChallengeResponse,
            webauthn_rs::prelude::PasskeyRegistration,
        ),
        PasskeyError,
    > {
        let fresh = uuid::Builder::from_random_bytes(random_bytes::<16>()?).into_uuid();
        let handle =
            passkeys::user_handle_or_insert(conn, &citizen.id, fresh.as_bytes(), now).await?;
        let user = Uuid::from_slice(&handle)
            .map_err(|_| PasskeyError::Internal("stored user handle is not 16 bytes".into()))?;
        let exclude: Vec<_> = passkeys::for_citizen(conn, &citizen.id)
            .await?
            .into_iter()
            .map(|p| p.credential_id)
            .collect();
        let (mut ccr, reg) = self
            .webauthn
            .start_passkey_registration(
                user,
                &citizen.register_id,
                &display_name(citizen),
                (!exclude.is_empty()).then_some(exclude),
            )
            .map_err(|e| PasskeyError::Internal(format!("start registration: {e}")))?;
        if let Some(sel) = ccr.public_key.authenticator_selection.as_mut() {
            sel.resident_key = Some(ResidentKeyRequirement::Preferred);
            sel.require_resident_key = false;
        }
        Ok((ccr, reg))
    }

    /// Starts a registration with a live grant. The grant stays usable (the
    /// citizen may cancel the browser's dialog and try again) until a
    /// registration succeeds or it expires.
    pub async fn start_enrolment(
        &self,
        conn: &mut Connection,
        browser: Browser<'_>,
        client: IpAddr,
        grant: &str,
        now: i64,
    ) -> Result<Started<CreationChallengeResponse>, PasskeyError> {
        self.hit(conn, Bucket::Ceremony(client, Hint::Grant(grant)), now)
            .await?;
        let g = ceremony::peek_grant(conn, grant, browser, now).await?;
        let (Some(citizen_id), Some(code_hash)) = (g.citizen_id, g.code_hash) else {
            return Err(PasskeyError::CeremonyExpired);
        };
        match enrolment::find(conn, &code_hash).await? {
            Some(code) if code_usable(&code, now) => {}
            _ => return Err(PasskeyError::CodeRefused),
        }
        let citizen = citizens::by_id(conn, &self.register, &citizen_id)
            .await?
            .ok_or(PasskeyError::CeremonyExpired)?;
        let (options, reg) = self.registration_options(conn, &citizen, now).await?;
        let handle = ceremony::begin(
            conn,
            NewCeremony {
                kind: CeremonyKind::Enrol,
                browser,
                citizen_id: Some(&citizen.id),
                code_hash: Some(code_hash),
                request: g.request,
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

    /// Consumes the ceremony and verifies the authenticator's answer (WebAuthn
    /// 7.1: challenge, origin, RP ID hash, user presence and verification,
    /// algorithm). Nothing is written but the ceremony's removal; call
    /// [`Self::complete_enrolment`] in a transaction next.
    pub async fn verify_enrolment(
        &self,
        conn: &mut Connection,
        browser: Browser<'_>,
        ceremony_handle: &str,
        credential: &RegisterPublicKeyCredential,
        now: i64,
    ) -> Result<VerifiedEnrolment, PasskeyError> {
        let (c, state) =
            ceremony::take(conn, ceremony_handle, CeremonyKind::Enrol, browser, now).await?;
        let State::Registration(reg) = state else {
            return Err(PasskeyError::CeremonyExpired);
        };
        let passkey = self
            .webauthn
            .finish_passkey_registration(credential, &reg)
            .map_err(|e| PasskeyError::Rejected(e.to_string()))?;
        let (Some(citizen_id), Some(code_hash)) = (c.citizen_id, c.code_hash) else {
            return Err(PasskeyError::CeremonyExpired);
        };
        Ok(VerifiedEnrolment {
            citizen_id,
            code_hash,
            request: c.request,
            passkey,
        })
    }

    /// Writes a verified enrolment, in the caller's transaction: spends the
    /// code (exactly once, even against a concurrent finish), stores the
    /// passkey, marks the citizen enrolled, removes their grants, records the
    /// event and starts a session. A recovery also ends every session the
    /// citizen had (the lost device may be in someone else's hands); the caller
    /// revokes the citizen's refresh tokens in the same transaction.
    pub async fn complete_enrolment(
        &self,
        conn: &mut Connection,
        verified: VerifiedEnrolment,
        name: &str,
        fallback_name: &str,
        now: i64,
    ) -> Result<SignedIn, PasskeyError> {
        let name = clean_name(name, fallback_name)?;
        let VerifiedEnrolment {
            citizen_id,
            code_hash,
            request,
            passkey,
        } = verified;
        let mut tx = sqin_store::begin_on(conn).await?;
        let code = enrolment::find(&mut tx, &code_hash)
            .await?
            .ok_or(PasskeyError::CodeRefused)?;
        let had_passkeys = passkeys::count_for_citizen(&mut tx, &citizen_id).await? > 0;
        let recovery = code.purpose == CodePurpose::Recovery || had_passkeys;
        if !enrolment::spend(&mut tx, &code_hash, now, CODE_MAX_FAILED_ATTEMPTS).await? {
            return Err(PasskeyError::CodeRefused);
        }
        let record = passkey_record(
            &citizen_id,
            &passkey,
            &name,
            if recovery {
                EnrolledVia::Recovery
            } else {
                EnrolledVia::Enrolment
            },
            now,
        )?;
        insert_passkey(&mut tx, &record).await?;
        citizens::set_status(&mut tx, &citizen_id, CitizenStatus::Enrolled, now).await?;
        ceremonies::delete_for_citizen(&mut tx, &citizen_id, CeremonyKind::Grant).await?;
        let event = if recovery {
            let sessions_ended =
                sessions::revoke_all_for_citizen(&mut tx, &citizen_id, now).await?;
            SecurityEvent::Recovered {
                passkey: name.clone(),
                sessions_ended,
            }
        } else {
            SecurityEvent::Enrolled {
                passkey: name.clone(),
            }
        };
        events::record(&mut tx, &citizen_id, &event, now).await?;
        let assurance = loa::for_code_enrolment(true, record.backup_eligible)
            .ok_or_else(|| PasskeyError::Rejected("user not verified".into()))?;
        let (token, session) = sqin_session::start_with_passkey(
            &mut tx,
            &citizen_id,
            &record.credential_id,
            assurance.acr,
            &assurance.amr,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(SignedIn {
            token,
            session,
            request,
            recovered: recovery,
        })
    }
}

pub(crate) fn passkey_record(
    citizen_id: &str,
    passkey: &Passkey,
    name: &str,
    via: EnrolledVia,
    now: i64,
) -> Result<PasskeyRecord, PasskeyError> {
    let json = serde_json::to_value(passkey).map_err(|e| PasskeyError::Internal(e.to_string()))?;
    let cred = &json["cred"];
    Ok(PasskeyRecord {
        credential_id: passkey.cred_id().to_vec(),
        citizen_id: citizen_id.to_owned(),
        name: name.to_owned(),
        sign_count: cred["counter"].as_i64().unwrap_or(0),
        backup_eligible: cred["backup_eligible"].as_bool().unwrap_or(false),
        backed_up: cred["backup_state"].as_bool().unwrap_or(false),
        credential: json.to_string(),
        enrolled_via: via,
        created_at: now,
        last_used_at: None,
    })
}

pub(crate) async fn insert_passkey(
    conn: &mut Connection,
    record: &PasskeyRecord,
) -> Result<(), PasskeyError> {
    passkeys::insert(conn, record).await.map_err(|e| match e {
        sqin_store::StoreError::Conflict(_) => PasskeyError::AlreadyRegistered,
        other => other.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_count_birthdays() {
        // 2024-03-02 00:00 UTC
        let now = 1_709_337_600;
        assert_eq!(age_on("2010-03-02", now), Some(14));
        assert_eq!(age_on("2010-03-03", now), Some(13));
        assert_eq!(age_on("1984-12-31", now), Some(39));
        assert_eq!(age_on("garbage", now), None);
    }

    #[test]
    fn birthdates_are_compared_in_canonical_form() {
        assert_eq!(typed_date(" 1984-03-02 ").as_deref(), Some("1984-03-02"));
        assert_eq!(typed_date("02/03/1984"), None);
        assert_eq!(typed_date("1984-02-30"), None);
    }

    #[test]
    fn names_are_bounded() {
        assert_eq!(clean_name("  My phone ", "x").unwrap(), "My phone");
        assert_eq!(clean_name("", "Passkey").unwrap(), "Passkey");
        assert!(clean_name(&"a".repeat(61), "x").is_err());
        assert!(clean_name("a\u{7}b", "x").is_err());
    }
}
