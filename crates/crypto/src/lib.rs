//! Cryptographic building blocks shared by every sqin crate.
//!
//! Everything here sits on `ring`, so the whole server has one audited
//! cryptographic library for every operation with a secret; the one
//! exception is making RSA keys, which ring cannot do: the `rsa` crate
//! generates them, and ring parses and signs with them. Secrets are newtypes whose `Debug` never prints them
//! and which have no `PartialEq`: comparing a secret is done only through the
//! constant-time checks below, so a timing side channel cannot creep in through
//! an innocent `==`.
#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod es256;
mod jwk;
mod kek;
mod rsa_keys;
mod secret;
mod signing;

pub use es256::{verify_es256, Es256KeyPair};
pub use jwk::PublicJwk;
pub use kek::KeyEncryptionKey;
pub use rsa_keys::{RsaSigningKey, RSA_BITS};
pub use secret::{
    normalise_typed_code, random_bytes, random_token, sha256, HashedSecret, HmacKey, SecretString,
    ENROLMENT_ALPHABET,
};
pub use signing::{SigningAlg, SigningKey, VerifyingKey};

/// Errors from key handling. They never carry key material.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the system random number generator failed")]
    Random,
    #[error("invalid key material: {0}")]
    InvalidKey(&'static str),
    #[error("decryption failed: wrong key, wrong context, or tampered data")]
    Decrypt,
    #[error("signature does not verify")]
    BadSignature,
}

/// URL-safe base64 without padding, as JOSE and OAuth use everywhere.
pub fn b64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes URL-safe base64 without padding; `None` when malformed.
pub fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()
}
