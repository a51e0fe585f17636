//! sqin's OpenID Provider logic, independent of any HTTP framework: relying
//! party registration, signing keys and their rotation, and (as the protocol
//! lands) authorization, tokens and pairwise subjects. Handlers in
//! `sqin-server` extract a request, call one function here, and map the result.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod access;
pub mod authorize;
pub mod backchannel;
pub mod cache;
pub mod claims;
pub mod client;
pub mod client_auth;
pub mod discovery;
pub mod error;
pub mod jwt;
pub mod keys;
pub mod logout;
pub mod pkce;
pub mod provider;
pub mod revocation;
pub mod subject;
pub mod token;

pub use error::{ErrorCode, OAuthError};
pub use provider::{Lifetimes, Provider};

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("invalid client registration: {0}")]
    InvalidRegistration(String),
    #[error("no such client")]
    UnknownClient,
    #[error("signing keys are missing; the server must bootstrap them first")]
    NoSigningKey,
    #[error("stored key material is unusable: {0}")]
    KeyMaterial(String),
    #[error(transparent)]
    Ledger(#[from] sqin_ledger_contract::RecordError),
    #[error(transparent)]
    Crypto(#[from] sqin_crypto::CryptoError),
    #[error(transparent)]
    Store(#[from] sqin_store::StoreError),
}

impl From<sqin_store::SqlxError> for OidcError {
    fn from(e: sqin_store::SqlxError) -> Self {
        Self::Store(e.into())
    }
}
