//! Passkeys for members of staff, on the staff console's own origin.
//!
//! A member of staff enrols a passkey with the one-time invitation code the
//! inviter handed them, signs in without typing a name (a discoverable
//! credential, user verification required), and proves presence again with
//! a fresh assertion before a sensitive action. Ceremonies are bound to the
//! browser and removed before the answer is verified, as for citizens; they
//! live in `staff_ceremonies`, and staff credentials in `staff_passkeys`, so
//! a citizen's passkey never opens the staff console and the reverse.
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqin_crypto::{b64url_decode, random_token, sha256};
use sqin_store::staff::{self, StaffCeremony, StaffPasskey};
use sqin_store::Connection;
use url::Url;
use uuid::Uuid;
use webauthn_rs::prelude::{
    CreationChallengeResponse, DiscoverableAuthentication, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Webauthn, WebauthnBuilder, WebauthnError,
};
use webauthn_rs_proto::ResidentKeyRequirement;

use crate::{Browser, PasskeyError, Started, CEREMONY_TTL_SECS};

/// The staff console's WebAuthn relying party.
#[derive(Clone)]
pub struct StaffPasskeys {
    webauthn: Arc<Webauthn>,
}

impl std::fmt::Debug for StaffPasskeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffPasskeys").finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "t", content = "s")]
enum State {
    Registration(PasskeyRegistration),
    Discoverable(DiscoverableAuthentication),
    Reauth(PasskeyAuthentication),
}

const ENROL: &str = "enrol";
const LOGIN: &str = "login";
const REAUTH: &str = "reauth";

/// Who a ceremony is for, besides its state.
struct NewCeremony<'a> {
    kind: &'a str,
    browser: Browser<'a>,
    staff_id: Option<&'a str>,
    code_hash: Option<Vec<u8>>,
}

/// The hash an invitation code is stored as (codes are random and long:
/// SHA-256 suffices). Spaces, dashes and case do not matter.
pub fn invitation_hash(code: &str) -> Vec<u8> {
    let normalized: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    sha256(normalized.as_bytes()).to_vec()
}

fn handle_hash(handle: &str) -> Result<Vec<u8>, PasskeyError> {
    match b64url_decode(handle) {
        Some(raw) if raw.len() == 32 => Ok(sha256(handle.as_bytes()).to_vec()),
        _ => Err(PasskeyError::CeremonyExpired),
    }
}

fn internal(e: impl std::fmt::Display) -> PasskeyError {
    PasskeyError::Internal(e.to_string())
}

fn parse(p: &StaffPasskey) -> Result<Passkey, PasskeyError> {
    serde_json::from_str(&p.credential).map_err(|e| internal(format!("stored staff passkey: {e}")))
}

impl StaffPasskeys {
    /// `origin` is the staff console's public URL: its host is the RP ID and
    /// its origin the only one accepted.
    pub fn new(origin: &Url) -> Result<Self, PasskeyError> {
        let rp_id = origin
            .host_str()
            .ok_or(PasskeyError::Invalid("the staff console URL has no host"))?;
        let origin = Url::parse(&origin.origin().ascii_serialization()).map_err(internal)?;
        let webauthn = WebauthnBuilder::new(rp_id, &origin)
            .map_err(|e| internal(format!("WebAuthn relying party: {e}")))?
            .rp_name("sqin staff")
            .timeout(Duration::from_secs(CEREMONY_TTL_SECS as u64))
            .build()
            .map_err(|e| internal(format!("WebAuthn relying party: {e}")))?;
        Ok(Self {
            webauthn: Arc::new(webauthn),
        })
    }

    async fn begin(
        &self,
        conn: &mut Connection,
        ceremony: NewCeremony<'_>,
        state: State,
        now: i64,
    ) -> Result<String, PasskeyError> {
        let NewCeremony {
            kind,
            browser,
            staff_id,
            code_hash,
        } = ceremony;
        let handle = random_token()?;
        staff::insert_ceremony(
            conn,
            &StaffCeremony {
                id_hash: sha256(handle.expose().as_bytes()).to_vec(),
                kind: kind.to_owned(),
                browser_hash: browser.hash(),
                staff_id: staff_id.map(str::to_owned),
                code_hash,
                state: serde_json::to_string(&state).map_err(internal)?,
                created_at: now,
                expires_at: now + CEREMONY_TTL_SECS,
            },
        )
        .await?;
        Ok(handle.expose().to_owned())
    }

    async fn take(
        &self,
        conn: &mut Connection,
        handle: &str,
        kind: &str,
        browser: Browser<'_>,
        now: i64,
    ) -> Result<(StaffCeremony, State), PasskeyError> {
        let id_hash = handle_hash(handle)?;
        let c = staff::take_ceremony(conn, &id_hash, kind, &browser.hash())
            .await?
            .filter(|c| c.expires_at > now)
            .ok_or(PasskeyError::CeremonyExpired)?;
        let state = serde_json::from_str(&c.state).map_err(internal)?;
        Ok((c, state))
    }

    /// Starts enrolling a passkey with an invitation code. A wrong, used or
    /// expired code, or a member who left, is one refusal.
    pub async fn start_enrolment(
        &self,
        conn: &mut Connection,
        browser: Browser<'_>,
        code: &str,
        now: i64,
    ) -> Result<Started<CreationChallengeResponse>, PasskeyError> {
        let code_hash = invitation_hash(code);
        let staff_id = staff::invitation(conn, &code_hash, now)
            .await?
            .ok_or(PasskeyError::CodeRefused)?;
        let member = staff::member(conn, &staff_id)
            .await?
            .filter(|m| m.disabled_at.is_none())
            .ok_or(PasskeyError::CodeRefused)?;
        let user = Uuid::parse_str(&member.id).map_err(internal)?;
        let exclude: Vec<_> = staff::passkeys_of(conn, &member.id)
            .await?
            .iter()
            .map(parse)
            .collect::<Result<Vec<_>, _>>()?
            .iter()
            .map(|k| k.cred_id().clone())
            .collect();
        let (mut options, reg) = self
            .webauthn
            .start_passkey_registration(
                user,
                &member.badge,
                &member.display_name,
                (!exclude.is_empty()).then_some(exclude),
            )
            .map_err(|e| internal(format!("start registration: {e}")))?;
        // The console's sign-in asks for no name: the credential must be
        // discoverable.
        if let Some(sel) = options.public_key.authenticator_selection.as_mut() {
            sel.resident_key = Some(ResidentKeyRequirement::Required);
            sel.require_resident_key = true;
        }
        let ceremony = self
            .begin(
                conn,
                NewCeremony {
                    kind: ENROL,
                    browser,
                    staff_id: Some(&member.id),
                    code_hash: Some(code_hash),
                },
                State::Registration(reg),
                now,
            )
            .await?;
        Ok(Started { ceremony, options })
    }

    /// Verifies the registration and, in the caller's transaction, spends the
    /// invitation (once, even against a concurrent finish) and stores the
    /// passkey. The member of staff's id.
    pub async fn finish_enrolment(
        &self,
        conn: &mut Connection,
        browser: Browser<'_>,
        ceremony: &str,
        credential: &RegisterPublicKeyCredential,
        now: i64,
    ) -> Result<String, PasskeyError> {
        let (c, state) = self.take(conn, ceremony, ENROL, browser, now).await?;
        let State::Registration(reg) = state else {
            return Err(PasskeyError::CeremonyExpired);
        };
        let (Some(staff_id), Some(code_hash)) = (c.staff_id, c.code_hash) else {
            return Err(PasskeyError::CeremonyExpired);
        };
        let passkey = self
            .webauthn
            .finish_passkey_registration(credential, &reg)
            .map_err(|e| PasskeyError::Rejected(e.to_string()))?;
        if !staff::spend_invitation(conn, &code_hash, now).await? {
            return Err(PasskeyError::CodeRefused);
        }
        staff::insert_passkey(
            conn,
            &StaffPasskey {
                credential_id: passkey.cred_id().to_vec(),
                staff_id: staff_id.clone(),
                credential: serde_json::to_string(&passkey).map_err(internal)?,
                created_at: now,
                last_used_at: None,
            },
        )
        .await
        .map_err(|e| match e {
            sqin_store::StoreError::Conflict(_) => PasskeyError::AlreadyRegistered,
            other => other.into(),
        })?;
        Ok(staff_id)
    }

    /// Starts a sign-in: any staff passkey of this console, no name typed.
    pub async fn start_login(
        &self,
        conn: &mut Connection,
        browser: Browser<'_>,
        now: i64,
    ) -> Result<Started<RequestChallengeResponse>, PasskeyError> {
        let (mut options, state) = self
            .webauthn
            .start_discoverable_authentication()
            .map_err(|e| internal(format!("start login: {e}")))?;
        options.mediation = None;
        let ceremony = self
            .begin(
                conn,
                NewCeremony {
                    kind: LOGIN,
                    browser,
                    staff_id: None,
                    code_hash: None,
                },
                State::Discoverable(state),
                now,
            )
            .await?;
        Ok(Started { ceremony, options })
    }

    /// Verifies a sign-in; the member of staff's id. A counter that went
    /// backwards (a cloned authenticator) is refused.
    pub async fn finish_login(
        &self,
        conn: &mut Connection,
        browser: Browser<'_>,
        ceremony: &str,
        credential: &PublicKeyCredential,
        now: i64,
    ) -> Result<String, PasskeyError> {
        let (_, state) = self.take(conn, ceremony, LOGIN, browser, now).await?;
        let State::Discoverable(state) = state else {
            return Err(PasskeyError::CeremonyExpired);
        };
        let (user, cred_id) = self
            .webauthn
            .identify_discoverable_authentication(credential)
            .map_err(|e| PasskeyError::Rejected(e.to_string()))?;
        let record = staff::passkey(conn, cred_id)
            .await?
            .ok_or_else(|| PasskeyError::Rejected("unknown staff credential".into()))?;
        if Uuid::parse_str(&record.staff_id).ok() != Some(user) {
            return Err(PasskeyError::Rejected(
                "user handle does not own the credential".into(),
            ));
        }
        let key = parse(&record)?;
        let result = self
            .webauthn
            .finish_discoverable_authentication_v2(credential, state, &key);
        self.record_use(conn, record, key, result, now).await
    }

    /// Starts a re-authentication of a signed-in member of staff (their own
    /// credentials only), before a sensitive action.
    pub async fn start_reauth(
        &self,
        conn: &mut Connection,
        browser: Browser<'_>,
        staff_id: &str,
        now: i64,
    ) -> Result<Started<RequestChallengeResponse>, PasskeyError> {
        let keys = staff::passkeys_of(conn, staff_id)
            .await?
            .iter()
            .map(parse)
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(PasskeyError::AccountUnavailable);
        }
        let (options, state) = self
            .webauthn
            .start_passkey_authentication(&keys)
            .map_err(|e| internal(format!("start re-authentication: {e}")))?;
        let ceremony = self
            .begin(
                conn,
                NewCeremony {
                    kind: REAUTH,
                    browser,
                    staff_id: Some(staff_id),
                    code_hash: None,
                },
                State::Reauth(state),
                now,
            )
            .await?;
        Ok(Started { ceremony, options })
    }

    /// Verifies a re-authentication by `staff_id`.
    pub async fn finish_reauth(
        &self,
        conn: &mut Connection,
        browser: Browser<'_>,
        staff_id: &str,
        ceremony: &str,
        credential: &PublicKeyCredential,
        now: i64,
    ) -> Result<(), PasskeyError> {
        let (c, state) = self.take(conn, ceremony, REAUTH, browser, now).await?;
        let State::Reauth(state) = state else {
            return Err(PasskeyError::CeremonyExpired);
        };
        if c.staff_id.as_deref() != Some(staff_id) {
            return Err(PasskeyError::CeremonyExpired);
        }
        let record = staff::passkey(conn, credential.get_credential_id())
            .await?
            .filter(|r| r.staff_id == staff_id)
            .ok_or_else(|| PasskeyError::Rejected("credential not allowed".into()))?;
        let key = parse(&record)?;
        let result = self
            .webauthn
            .finish_passkey_authentication(credential, &state);
        self.record_use(conn, record, key, result, now)
            .await
            .map(|_| ())
    }

    async fn record_use(
        &self,
        conn: &mut Connection,
        record: StaffPasskey,
        mut key: Passkey,
        result: Result<webauthn_rs::prelude::AuthenticationResult, WebauthnError>,
        now: i64,
    ) -> Result<String, PasskeyError> {
        let result = match result {
            Ok(r) => r,
            Err(WebauthnError::CredentialPossibleCompromise) => {
                tracing::warn!("a staff passkey's counter went backwards: refused");
                return Err(PasskeyError::SignCountRegression);
            }
            Err(e) => return Err(PasskeyError::Rejected(e.to_string())),
        };
        if !result.user_verified() {
            return Err(PasskeyError::Rejected(
                "user verification is required".into(),
            ));
        }
        key.update_credential(&result);
        let stored = serde_json::to_string(&key).map_err(internal)?;
        staff::passkey_used(conn, &record.credential_id, &stored, now).await?;
        Ok(record.staff_id)
    }
}
