//! The application layer's error: what went wrong, in words for whoever
//! asked (an operator at the CLI, a citizen's page, a staff member's
//! console), and which of them it is, so each adapter maps it once.
use std::error::Error as StdError;

/// What application operations return.
pub type AppResult<T> = Result<T, AppError>;

/// Every way an application operation can fail.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request cannot be carried out as asked; the message says why and
    /// what to do instead.
    #[error("{0}")]
    Refused(String),
    /// What the request names does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The thing changed under the request (deleted or answered
    /// concurrently); nothing was done.
    #[error("{0}")]
    Conflict(String),
    /// The actor's role does not allow this. Deliberately says nothing of
    /// the subject.
    #[error("your role does not allow this")]
    Forbidden,
    /// A sensitive action needs a fresh passkey assertion.
    #[error(
        "confirm with your passkey first: this action needs a sign-in of the last few minutes"
    )]
    ReauthenticationRequired,
    /// The edit was made against a version that is no longer current
    /// (a stale ETag): nothing was written; read it again.
    #[error("{0}")]
    Stale(String),
    /// Too many attempts; try again after `retry_after` seconds.
    #[error("too many attempts; try again in {retry_after} s")]
    RateLimited { retry_after: i64 },
    /// The privacy impact assessment does not describe this code, or cannot
    /// be read.
    #[error(transparent)]
    Pia(#[from] crate::pia::PiaLoadError),
    /// A step failed; `step` says which, in words.
    #[error("{step}: {source}")]
    Failed {
        /// What was being done.
        step: String,
        /// Why it failed.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The storage failed.
    #[error(transparent)]
    Store(#[from] sqin_store::StoreError),
    /// The OpenID Provider failed.
    #[error(transparent)]
    Oidc(#[from] sqin_oidc::OidcError),
    /// The passkey service failed.
    #[error(transparent)]
    Passkey(#[from] sqin_webauthn::PasskeyError),
    /// A session could not be read or ended.
    #[error(transparent)]
    Session(#[from] sqin_session::SessionError),
    /// The register failed.
    #[error(transparent)]
    Register(#[from] sqin_register::RegisterError),
    /// The consent ledger failed.
    #[error(transparent)]
    Ledger(#[from] sqin_ledger_service::LedgerServiceError),
    /// A key could not be sealed, opened or made.
    #[error(transparent)]
    Crypto(#[from] sqin_crypto::CryptoError),
}

impl From<sqin_staff::StaffError> for AppError {
    fn from(e: sqin_staff::StaffError) -> Self {
        match e {
            sqin_staff::StaffError::Forbidden => Self::Forbidden,
            sqin_staff::StaffError::Invalid(m) => Self::Refused(m),
        }
    }
}

impl From<sqin_store::SqlxError> for AppError {
    fn from(e: sqin_store::SqlxError) -> Self {
        Self::Store(e.into())
    }
}

/// Names the step that failed, like `anyhow::Context` but typed.
pub trait During<T> {
    /// Wraps an error as [`AppError::Failed`] of `step`.
    fn during(self, step: impl Into<String>) -> Result<T, AppError>;
}

impl<T, E: StdError + Send + Sync + 'static> During<T> for Result<T, E> {
    fn during(self, step: impl Into<String>) -> Result<T, AppError> {
        self.map_err(|e| AppError::Failed {
            step: step.into(),
            source: Box::new(e),
        })
    }
}

/// A failure that is only a message (a witness's refusal, a length that
/// does not fit).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Message(pub String);

/// `Err(AppError::Failed)` for `step` with `message` as its cause.
pub fn failed<T>(step: impl Into<String>, message: impl Into<String>) -> Result<T, AppError> {
    Err(AppError::Failed {
        step: step.into(),
        source: Box::new(Message(message.into())),
    })
}
