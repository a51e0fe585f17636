//! The citizen register: who may enrol, and the one-time codes they enrol with.
//!
//! Citizens are never self-registered: an identity-proofed register (a civil
//! registry, a health-insurance register) is imported, and each citizen gets an
//! enrolment code by mail. That out-of-band channel is what the level of
//! assurance of a passkey enrolled with the code rests on.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod codes;
mod import;
mod record;

pub use codes::{CodeCheck, EnrolmentCodeIssuer, IssuedCode, CODE_MAX_FAILED_ATTEMPTS};
pub use import::{import_csv, parse_csv, ImportReport};
pub use record::{add_citizen, corrected, NewCitizen, CORRECTABLE};

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("line {line}: {message}")]
    BadRow { line: u64, message: String },
    #[error("{0}")]
    Invalid(String),
    #[error("the file is not valid CSV: {0}")]
    Csv(String),
    #[error("citizen not found")]
    UnknownCitizen,
    #[error(transparent)]
    Crypto(#[from] sqin_crypto::CryptoError),
    #[error(transparent)]
    Store(#[from] sqin_store::StoreError),
}

impl From<sqin_store::SqlxError> for RegisterError {
    fn from(e: sqin_store::SqlxError) -> Self {
        Self::Store(e.into())
    }
}
