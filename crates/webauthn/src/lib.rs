//! sqin's passkey service: every WebAuthn ceremony a citizen goes through,
//! from the first passkey (enrolled with a one-time code sent by mail) to
//! signing in, managing passkeys and recovering after a loss.
//!
//! It sits on `webauthn-rs` (its passkey API: user verification required,
//! pure-Rust cryptography) and never sees HTTP: the server's handlers pass the
//! browser's binding cookie, the client address and the JSON the browser sent,
//! and get back the JSON to send, or a typed refusal. Time is a parameter.
//!
//! - [`PasskeyService::verify_code`] checks an enrolment code and birthdate
//!   (rate limited, one generic refusal, lock-out) and grants the browser the
//!   right to register a passkey for that citizen.
//! - [`PasskeyService::start_enrolment`] / [`PasskeyService::finish_enrolment`]:
//!   registration with that grant. On success, in one transaction: the code is
//!   spent, the passkey stored, the citizen marked enrolled, the event recorded
//!   and a session started. A recovery (a reissued code, or any code for a
//!   citizen who already has passkeys) also ends every session of the citizen.
//! - [`PasskeyService::start_login`] / [`PasskeyService::finish_login`]:
//!   discoverable (username-less, conditional UI) or with the register
//!   identifier typed; counters that go backwards are refused and recorded.
//! - [`PasskeyService::start_add`] / [`PasskeyService::finish_add`],
//!   [`PasskeyService::rename`], [`PasskeyService::remove`]: the account page.
//!
//! Ceremony state lives in the database (`webauthn_ceremonies`), bound to the
//! browser and deleted before `finish_*` verifies anything, so a challenge is
//! used once, by the browser it was given to, within [`CEREMONY_TTL_SECS`].
#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::await_holding_lock
)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod ceremony;
mod enrol;
pub mod events;
mod limits;
pub mod loa;
mod login;
mod manage;
pub mod staff;

use std::time::Duration;

use sqin_crypto::HmacKey;
use sqin_register::EnrolmentCodeIssuer;
use url::Url;
use webauthn_rs::prelude::{Webauthn, WebauthnBuilder};

pub use ceremony::{clean_request, Browser};
pub use enrol::{
    CodeEntry, EnrolmentGrant, GrantPurpose, VerifiedEnrolment, MIN_AGE_TO_ENROL_ALONE,
};
pub use events::SecurityEvent;
pub use limits::{Limit, Limits};
pub use login::{LoginRequest, SignedIn};
pub use manage::{is_fresh, NewPasskey, PasskeyView, RemovedPasskey, REAUTHENTICATE_AFTER_SECS};
pub use staff::StaffPasskeys;
/// The WebAuthn JSON shapes exchanged with browsers and apps.
pub use webauthn_rs::prelude::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse,
};

/// How long a challenge may be answered. Also the timeout given to the
/// authenticator, so the browser's dialog and the server agree.
pub const CEREMONY_TTL_SECS: i64 = 300;
/// How long an accepted enrolment code lets the browser try to register.
pub const GRANT_TTL_SECS: i64 = 900;
/// Longest passkey name.
pub const MAX_NAME_CHARS: usize = 60;

/// A started ceremony: the opaque handle the client returns with its answer,
/// and the options for `navigator.credentials.create()` or `.get()`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Started<T> {
    pub ceremony: String,
    #[serde(flatten)]
    pub options: T,
}

/// Why the service refused. The HTTP edge shows people one message per
/// variant and never more detail than the variant carries.
#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    /// Wrong code, wrong birthdate, unknown, spent, expired, revoked or locked
    /// code: deliberately one refusal.
    #[error("the code or the birthdate is not right")]
    CodeRefused,
    #[error("too many attempts; try again in {retry_after} s")]
    RateLimited { retry_after: i64 },
    /// The register says the citizen is under [`MIN_AGE_TO_ENROL_ALONE`].
    #[error("a citizen under {MIN_AGE_TO_ENROL_ALONE} cannot enrol alone")]
    Minor,
    /// No such ceremony for this browser, already used, or expired.
    #[error("this ceremony has expired or was already used; start again")]
    CeremonyExpired,
    /// The authenticator's answer does not verify (origin, RP ID, challenge,
    /// signature, user verification, unknown credential...). The reason is
    /// logged, never shown.
    #[error("the passkey's answer was refused: {0}")]
    Rejected(String),
    /// The signature counter did not increase: a cloned authenticator.
    #[error("the passkey's signature counter went backwards")]
    SignCountRegression,
    #[error("this passkey is already registered")]
    AlreadyRegistered,
    /// The session is too old for a sensitive change; sign in again.
    #[error("sign in again to make this change")]
    ReauthenticationRequired,
    /// Removing the citizen's last passkey needs an explicit confirmation.
    #[error("this is your last passkey")]
    LastPasskey,
    #[error("no such passkey")]
    UnknownPasskey,
    #[error("the account cannot be used")]
    AccountUnavailable,
    #[error("invalid input: {0}")]
    Invalid(&'static str),
    #[error("internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] sqin_store::StoreError),
}

impl From<sqin_store::SqlxError> for PasskeyError {
    fn from(e: sqin_store::SqlxError) -> Self {
        Self::Store(e.into())
    }
}

impl From<sqin_register::RegisterError> for PasskeyError {
    fn from(e: sqin_register::RegisterError) -> Self {
        match e {
            sqin_register::RegisterError::Store(s) => Self::Store(s),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<sqin_session::SessionError> for PasskeyError {
    fn from(e: sqin_session::SessionError) -> Self {
        match e {
            sqin_session::SessionError::Store(s) => Self::Store(s),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<sqin_crypto::CryptoError> for PasskeyError {
    fn from(e: sqin_crypto::CryptoError) -> Self {
        Self::Internal(e.to_string())
    }
}

/// The passkey service: the relying party's WebAuthn configuration, the
/// enrolment-code issuer, and a server key for rate-limit buckets and decoys.
#[derive(Clone)]
pub struct PasskeyService {
    webauthn: std::sync::Arc<Webauthn>,
    codes: EnrolmentCodeIssuer,
    register: sqin_store::citizens::RegisterVault,
    key: HmacKey,
    limits: Limits,
    refusals: std::sync::Arc<limits::Refusals>,
}

impl std::fmt::Debug for PasskeyService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasskeyService")
            .field("origins", &self.webauthn.get_allowed_origins())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// The citizens' WebAuthn relying party for `issuer`, the provider's public
/// URL: its host is the RP ID and its origin the only origin accepted in
/// `clientDataJSON`. [`PasskeyService::new`] uses it; public (hidden) for
/// the fuzz targets, which finish ceremonies against it.
#[doc(hidden)]
pub fn relying_party(issuer: &Url) -> Result<Webauthn, PasskeyError> {
    let rp_id = issuer
        .host_str()
        .ok_or(PasskeyError::Invalid("the issuer has no host"))?;
    let origin = Url::parse(&issuer.origin().ascii_serialization())
        .map_err(|e| PasskeyError::Internal(e.to_string()))?;
    WebauthnBuilder::new(rp_id, &origin)
        .map_err(|e| PasskeyError::Internal(format!("WebAuthn relying party: {e}")))?
        .rp_name("sqin")
        .timeout(Duration::from_secs(CEREMONY_TTL_SECS as u64))
        .build()
        .map_err(|e| PasskeyError::Internal(format!("WebAuthn relying party: {e}")))
}

impl PasskeyService {
    /// `issuer` is the provider's public URL: its host is the RP ID and its
    /// origin the only origin accepted in `clientDataJSON`.
    pub fn new(
        issuer: &Url,
        codes: EnrolmentCodeIssuer,
        register: sqin_store::citizens::RegisterVault,
        key: HmacKey,
        limits: Limits,
    ) -> Result<Self, PasskeyError> {
        Ok(Self {
            webauthn: std::sync::Arc::new(relying_party(issuer)?),
            codes,
            register,
            key,
            limits,
            refusals: Default::default(),
        })
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}
