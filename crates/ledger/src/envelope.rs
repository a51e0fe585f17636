//! Envelope encryption for crypto-shredding.
//!
//! An append-only log cannot delete anything, yet citizens have a right to
//! erasure. The way out: personal data never enters a leaf in the clear. Each
//! citizen gets a random [`DataKey`]; their personal fields are [`seal`]ed
//! under it and the leaf commits to the ciphertext. The data key itself is
//! stored only wrapped under a key-encryption key ([`wrap_data_key`]),
//! outside the log. Destroying the wrapped key makes the ciphertext unreadable
//! for good, while every leaf hash, root, proof and checkpoint stays valid,
//! because they only ever covered ciphertext.
//!
//! Formats (AES-256-GCM throughout, so the tag authenticates the AAD too):
//! - sealed data: `nonce (12 bytes) || ciphertext || tag (16 bytes)`;
//! - wrapped key: the same layout, sealing the 32 key bytes under the KEK with
//!   the key label as AAD, so a wrapped key cannot be swapped onto another
//!   citizen's record.
//!
//! Nonces are random; AES-GCM stays safe with random 96-bit nonces for far
//! more messages than one citizen's key will ever seal (NIST SP 800-38D
//! allows 2^32 per key).

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};

use crate::LedgerError;

/// Length of [`DataKey`] and of a key-encryption key.
pub const KEY_LEN: usize = 32;

/// Bytes that [`seal`] adds to the plaintext: nonce plus tag.
pub const SEAL_OVERHEAD: usize = NONCE_LEN + 16;

/// A citizen's data key; destroying every wrapped copy of it shreds their data.
///
/// `Debug` is redacted so that the key cannot leak through logs or panics.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKey([u8; KEY_LEN]);

impl DataKey {
    /// A fresh random key from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, LedgerError> {
        let mut bytes = [0u8; KEY_LEN];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| LedgerError::Random)?;
        Ok(Self(bytes))
    }

    /// Wraps existing key bytes, e.g. from an external KMS.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// The raw key bytes; handle with care.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

fn aead_key(key: &[u8; KEY_LEN]) -> Result<LessSafeKey, LedgerError> {
    UnboundKey::new(&AES_256_GCM, key)
        .map(LessSafeKey::new)
        .map_err(|_| LedgerError::EncryptionFailed)
}

fn seal_with(key: &[u8; KEY_LEN], plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, LedgerError> {
    let key = aead_key(key)?;
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| LedgerError::Random)?;
    let mut out = Vec::with_capacity(SEAL_OVERHEAD + plaintext.len());
    out.extend_from_slice(&nonce);
    let mut body = plaintext.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad),
        &mut body,
    )
    .map_err(|_| LedgerError::EncryptionFailed)?;
    out.extend_from_slice(&body);
    Ok(out)
}

fn open_with(key: &[u8; KEY_LEN], sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, LedgerError> {
    if sealed.len() < SEAL_OVERHEAD {
        return Err(LedgerError::DecryptionFailed);
    }
    let (nonce, body) = sealed
        .split_first_chunk::<NONCE_LEN>()
        .ok_or(LedgerError::DecryptionFailed)?;
    let key = aead_key(key)?;
    let mut body = body.to_vec();
    let plaintext_len = key
        .open_in_place(
            Nonce::assume_unique_for_key(*nonce),
            Aad::from(aad),
            &mut body,
        )
        .map_err(|_| LedgerError::DecryptionFailed)?
        .len();
    body.truncate(plaintext_len);
    Ok(body)
}

/// Encrypts `plaintext` under a citizen's data key.
///
/// `aad` is authenticated but not encrypted; bind it to the context (for
/// instance the ledger entry kind and citizen pseudonym) so that ciphertext
/// cannot be replayed into a different record.
pub fn seal(data_key: &DataKey, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, LedgerError> {
    seal_with(&data_key.0, plaintext, aad)
}

/// Decrypts what [`seal`] produced, given the same key and `aad`.
pub fn open(data_key: &DataKey, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, LedgerError> {
    open_with(&data_key.0, sealed, aad)
}

/// Encrypts a data key under a key-encryption key for storage.
///
/// `key_label` (e.g. `citizen/<pseudonym>/v1`) is bound as AAD so the wrapped
/// key only unwraps for the record it was made for.
pub fn wrap_data_key(
    kek: &[u8; KEY_LEN],
    data_key: &DataKey,
    key_label: &str,
) -> Result<Vec<u8>, LedgerError> {
    seal_with(kek, &data_key.0, key_label.as_bytes())
}

/// Recovers a data key wrapped by [`wrap_data_key`] with the same KEK and label.
pub fn unwrap_data_key(
    kek: &[u8; KEY_LEN],
    wrapped: &[u8],
    key_label: &str,
) -> Result<DataKey, LedgerError> {
    let bytes = open_with(kek, wrapped, key_label.as_bytes())?;
    <[u8; KEY_LEN]>::try_from(bytes.as_slice())
        .map(DataKey)
        .map_err(|_| LedgerError::DecryptionFailed)
}

#[cfg(test)]
mod tests;
