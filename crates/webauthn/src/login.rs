//! Signing in: discoverable (username-less, conditional UI) or with the
//! register identifier typed.
use std::net::IpAddr;

use sqin_crypto::SecretString;
use sqin_session::AuthenticatedSession;
use sqin_store::ceremonies::CeremonyKind;
use sqin_store::citizens::{self, CitizenStatus};
use sqin_store::passkeys::{self, PasskeyRecord, Use};
use sqin_store::Connection;
use webauthn_rs::prelude::{
    AuthenticationResult, Passkey, PublicKeyCredential, RequestChallengeResponse, WebauthnError,
};
use webauthn_rs_core::fake::{FakePasskeyDistribution, WebauthnFakeCredentialGenerator};
use webauthn_rs_proto::AllowCredentials;

use crate::ceremony::{self, Browser, NewCeremony, State};
use crate::events::{self, SecurityEvent};
use crate::limits::{Bucket, Hint};
use crate::{loa, PasskeyError, PasskeyService, Started};

/// A completed ceremony: the session cookie's value (shown to the browser
/// only), the session, and where to go next.
#[derive(Debug)]
pub struct SignedIn {
    pub token: SecretString,
    pub session: AuthenticatedSession,
    /// The pending authorization request to resume, if the login was asked
    /// for by the authorization endpoint.
    pub request: Option<String>,
    /// True when this was a recovery: every earlier session was ended.
    pub recovered: bool,
}

/// A deterministic 32-byte credential id (the length a TPM or Windows Hello
/// gives) for a decoy whose generated distribution came out empty.
fn key_for(key: &sqin_crypto::HmacKey, register_id: &str) -> Vec<u8> {
    key.sign(&[b"decoy-credential-id\0", register_id.as_bytes()])
        .to_vec()
}

/// What the login page asks for.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoginRequest<'a> {
    /// The register identifier typed, for a non-discoverable request.
    pub register_id: Option<&'a str>,
    /// Ask for conditional mediation (autofill) on a discoverable request.
    pub conditional: bool,
    /// The pending authorization request to resume afterwards, if any.
    pub request: Option<&'a str>,
}

fn parse_passkey(record: &PasskeyRecord) -> Result<Passkey, PasskeyError> {
    serde_json::from_str(&record.credential)
        .map_err(|e| PasskeyError::Internal(format!("stored passkey: {e}")))
}

impl PasskeyService {
    /// Starts a login. Without `register_id`: a discoverable request (any
    /// passkey for this site; `conditional` asks the browser to offer them in
    /// the identifier field's autofill). With it: the citizen's credentials
    /// only. An identifier with no passkey gets a decoy request that looks
    /// the same (deterministic fake credential ids), so the login page does
    /// not reveal who is enrolled.
    pub async fn start_login(
        &self,
        conn: &mut Connection,
        browser: Browser<'_>,
        client: IpAddr,
        ask: LoginRequest<'_>,
        now: i64,
    ) -> Result<Started<RequestChallengeResponse>, PasskeyError> {
        let LoginRequest {
            register_id,
            conditional,
            request,
        } = ask;
        // One transaction: on SQLite every commit is a disk sync, and this is
        // the hot path (rate-limit hit, expired-ceremony purge, new ceremony).
        let mut tx = sqin_store::begin_on(conn).await?;
        let conn: &mut Connection = &mut tx;
        let register_id = register_id.map(str::trim).filter(|r| !r.is_empty());
        let hint = match register_id {
            Some(id) => Hint::RegisterId(id),
            None => Hint::Discoverable,
        };
        self.hit(conn, Bucket::Ceremony(client, hint), now).await?;
        let (options, state, citizen_id) = match register_id {
            None => {
                let (mut rcr, state) = self
                    .webauthn
                    .start_discoverable_authentication()
                    .map_err(|e| PasskeyError::Internal(format!("start login: {e}")))?;
                if !conditional {
                    rcr.mediation = None;
                }
                (rcr, State::Discoverable(state), None)
            }
            Some(register_id) => {
                let citizen = match register_id.len() {
                    1..=200 => citizens::by_register_id(conn, &self.register, register_id).await?,
                    _ => None,
                }
                .filter(|c| c.status == CitizenStatus::Enrolled);
                let records = match &citizen {
                    Some(c) => passkeys::for_citizen(conn, &c.id).await?,
                    None => Vec::new(),
                };
                if let (Some(citizen), false) = (citizen, records.is_empty()) {
                    let keys = records
                        .iter()
                        .map(parse_passkey)
                        .collect::<Result<Vec<_>, _>>()?;
                    let (mut rcr, state) = self
                        .webauthn
                        .start_passkey_authentication(&keys)
                        .map_err(|e| PasskeyError::Internal(format!("start login: {e}")))?;
                    for allowed in &mut rcr.public_key.allow_credentials {
                        allowed.transports = None;
                    }
                    (rcr, State::Authentication(state), Some(citizen.id))
                } else {
                    let (rcr, state) = self.decoy(register_id)?;
                    (rcr, State::Decoy(state), None)
                }
            }
        };
        let handle = ceremony::begin(
            conn,
            NewCeremony {
                kind: CeremonyKind::Login,
                browser,
                citizen_id: citizen_id.as_deref(),
                code_hash: None,
                request: crate::clean_request(request),
                state,
                ttl: ceremony::default_ttl(),
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Started {
            ceremony: handle,
            options,
        })
    }

    fn decoy(
        &self,
        register_id: &str,
    ) -> Result<
        (
            RequestChallengeResponse,
            webauthn_rs::prelude::DiscoverableAuthentication,
        ),
        PasskeyError,
    > {
        let key = self.key.sign(&[b"decoy-credential-ids"]);
        let mut fakes = WebauthnFakeCredentialGenerator::<FakePasskeyDistribution>::new(&key)
            .and_then(|g| g.generate(register_id.as_bytes()))
            .map_err(|e| PasskeyError::Internal(format!("decoy: {e}")))?;
        if fakes.is_empty() {
            // A real account has at least one passkey, so a decoy must too.
            fakes.push(key_for(&self.key, register_id));
        }
        let (mut rcr, state) = self
            .webauthn
            .start_discoverable_authentication()
            .map_err(|e| PasskeyError::Internal(format!("start login: {e}")))?;
        // The same shape as a real `start_passkey_authentication`.
        rcr.mediation = None;
        rcr.public_key.extensions = None;
        rcr.public_key.allow_credentials = fakes
            .into_iter()
            .map(|id| AllowCredentials {
                type_: "public-key".into(),
                id,
                transports: None,
            })
            .collect();
        Ok((rcr, state))
    }

    /// Consumes the ceremony, verifies the assertion (WebAuthn 7.2: the
    /// challenge, origin, RP ID hash, user presence and verification, the
    /// signature over the credential's public key, the counter), then in one
    /// transaction raises the counter, records the sign-in and starts a
    /// session. A counter that does not increase is refused and recorded.
    pub async fn finish_login(
        &self,
        conn: &mut Connection,
        browser: Browser<'_>,
        ceremony_handle: &str,
        credential: &PublicKeyCredential,
        now: i64,
    ) -> Result<SignedIn, PasskeyError> {
        let (c, state) =
            ceremony::take(conn, ceremony_handle, CeremonyKind::Login, browser, now).await?;
        let (record, result) = match state {
            State::Discoverable(state) => {
                let (user, cred_id) = self
                    .webauthn
                    .identify_discoverable_authentication(credential)
                    .map_err(|e| PasskeyError::Rejected(e.to_string()))?;
                let record = passkeys::get(conn, cred_id)
                    .await?
                    .ok_or_else(|| PasskeyError::Rejected("unknown credential".into()))?;
                let owner = passkeys::citizen_for_user_handle(conn, user.as_bytes()).await?;
                if owner.as_deref() != Some(record.citizen_id.as_str()) {
                    return Err(PasskeyError::Rejected(
                        "user handle does not own the credential".into(),
                    ));
                }
                let key = parse_passkey(&record)?;
                let result = self
                    .webauthn
                    .finish_discoverable_authentication_v2(credential, state, &key);
                (record, result)
            }
            State::Authentication(state) => {
                let record = passkeys::get(conn, credential.get_credential_id())
                    .await?
                    .filter(|r| Some(&r.citizen_id) == c.citizen_id.as_ref())
                    .ok_or_else(|| PasskeyError::Rejected("credential not allowed".into()))?;
                let result = self
                    .webauthn
                    .finish_passkey_authentication(credential, &state);
                (record, result)
            }
            State::Decoy(_) => {
                return Err(PasskeyError::Rejected(
                    "no passkey for that identifier".into(),
                ))
            }
            State::Grant | State::Registration(_) => return Err(PasskeyError::CeremonyExpired),
        };
        let result = match result {
            Ok(r) => r,
            Err(WebauthnError::CredentialPossibleCompromise) => {
                return Err(self.refuse_regression(conn, &record, now).await);
            }
            Err(e) => return Err(PasskeyError::Rejected(e.to_string())),
        };
        self.complete_login(conn, record, &result, c.request, now)
            .await
    }

    async fn refuse_regression(
        &self,
        conn: &mut Connection,
        record: &PasskeyRecord,
        now: i64,
    ) -> PasskeyError {
        tracing::warn!(
            "passkey signature counter went backwards: refused (possible cloned authenticator)"
        );
        let event = SecurityEvent::SignCountRegression {
            passkey: record.name.clone(),
        };
        match events::record(conn, &record.citizen_id, &event, now).await {
            Ok(()) => PasskeyError::SignCountRegression,
            Err(e) => e,
        }
    }

    async fn complete_login(
        &self,
        conn: &mut Connection,
        record: PasskeyRecord,
        result: &AuthenticationResult,
        request: Option<String>,
        now: i64,
    ) -> Result<SignedIn, PasskeyError> {
        let assurance = loa::for_sign_in(result.user_verified(), result.backup_eligible())
            .ok_or_else(|| PasskeyError::Rejected("user not verified".into()))?;
        let mut key = parse_passkey(&record)?;
        key.update_credential(result);
        let credential =
            serde_json::to_string(&key).map_err(|e| PasskeyError::Internal(e.to_string()))?;
        let mut tx = sqin_store::begin_on(conn).await?;
        match citizens::by_id(&mut tx, &self.register, &record.citizen_id).await? {
            Some(c) if c.status == CitizenStatus::Enrolled => {}
            _ => return Err(PasskeyError::AccountUnavailable),
        }
        let raised = passkeys::record_use(
            &mut tx,
            &Use {
                credential_id: &record.credential_id,
                sign_count: i64::from(result.counter()),
                credential: &credential,
                backup_eligible: result.backup_eligible(),
                backed_up: result.backup_state(),
                at: now,
            },
        )
        .await?;
        if !raised {
            // Another login raised the counter to this value or beyond in the
            // meantime (another node, or a clone racing the genuine key).
            drop(tx);
            return Err(self.refuse_regression(conn, &record, now).await);
        }
        events::record(
            &mut tx,
            &record.citizen_id,
            &SecurityEvent::SignIn {
                passkey: record.name.clone(),
                acr: assurance.acr.to_owned(),
            },
            now,
        )
        .await?;
        let (token, session) = sqin_session::start_with_passkey(
            &mut tx,
            &record.citizen_id,
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
            recovered: false,
        })
    }
}
