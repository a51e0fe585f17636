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
pub mod remote_jwks;
pub mod revocation;
pub mod subject;
pub mod token;

pub use error::{ErrorCode, OAuthError};
pub use provider::{Lifetimes, Provider};

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// RFC 7591 `invalid_client_metadata` (or `invalid_redirect_uri`): the
    /// field, and what is wrong with it.
    #[error("invalid client metadata: {field}: {message}")]
    InvalidMetadata {
        field: &'static str,
        message: String,
    },
    /// The registration asks for more than its PIA entry allows.
    #[error("beyond PIA entry {entry}: {}", overreach.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    BeyondPia {
        entry: String,
        overreach: Vec<crate::client::Overreach>,
    },
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
