//! Sealing of the register's personal fields: the reason a copy of the
//! database, a backup or a `SELECT` by someone with database access reveals
//! no citizen. Only the server, holding the key-encryption key, can open a
//! record, and it does so one citizen at a time.
use std::sync::Arc;

use sqin_crypto::{b64url, random_bytes, HmacKey, KeyEncryptionKey};

use super::Citizen;
use crate::{Result, StoreError};

/// The personal part of a citizen record, as sealed.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct PersonalFields {
    pub register_id: String,
    pub given_name: String,
    pub family_name: String,
    pub birthdate: String,
    pub email: Option<String>,
    pub address: Option<String>,
    pub locale: Option<String>,
}

/// What the `citizens` row holds instead of the personal fields.
pub(super) struct SealedFields {
    pub register_key: String,
    pub sealed_record: Vec<u8>,
    pub wrapped_key: Vec<u8>,
}

/// Seals and opens citizen records: each under a data key of its own,
/// wrapped by the key-encryption key, so that deleting the row destroys the
/// only key that opens it; and derives the keyed hash the row is found by,
/// so the register id is never stored in clear.
#[derive(Clone)]
pub struct RegisterVault {
    kek: Arc<KeyEncryptionKey>,
    lookup: HmacKey,
}

impl std::fmt::Debug for RegisterVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RegisterVault(<redacted>)")
    }
}

impl RegisterVault {
    /// `lookup` is a server secret of its own (not the pairwise-subject key):
    /// the keyed hash of a register id must not be computable by anyone who
    /// only holds a database copy.
    pub fn new(kek: Arc<KeyEncryptionKey>, lookup: HmacKey) -> Self {
        Self { kek, lookup }
    }

    /// The value a citizen row is found by. Register ids are short and
    /// guessable, hence keyed.
    pub fn register_key(&self, register_id: &str) -> String {
        b64url(
            &self
                .lookup
                .sign(&[b"register-id\0", register_id.as_bytes()]),
        )
    }

    pub(super) fn seal(&self, citizen_id: &str, fields: &PersonalFields) -> Result<SealedFields> {
        let data_key = random_bytes::<32>().map_err(sealing)?;
        let record_key = KeyEncryptionKey::from_bytes(&data_key).map_err(sealing)?;
        let plain = serde_json::to_vec(fields)
            .map_err(|e| StoreError::Sealing(format!("a citizen record: {e}")))?;
        Ok(SealedFields {
            register_key: self.register_key(&fields.register_id),
            sealed_record: record_key
                .seal(&record_context(citizen_id), &plain)
                .map_err(sealing)?,
            wrapped_key: self
                .kek
                .seal(&key_context(citizen_id), &data_key)
                .map_err(sealing)?,
        })
    }

    pub(super) fn open(
        &self,
        citizen_id: &str,
        sealed_record: &[u8],
        wrapped_key: &[u8],
    ) -> Result<PersonalFields> {
        let corrupt = |what: &str| {
            StoreError::Corrupt(format!(
                "the sealed record of citizen {citizen_id} does not open ({what}): wrong key-encryption key or altered row"
            ))
        };
        let data_key = self
            .kek
            .open(&key_context(citizen_id), wrapped_key)
            .map_err(|_| corrupt("data key"))?;
        let record_key =
            KeyEncryptionKey::from_bytes(&data_key).map_err(|_| corrupt("data key"))?;
        let plain = record_key
            .open(&record_context(citizen_id), sealed_record)
            .map_err(|_| corrupt("record"))?;
        serde_json::from_slice(&plain).map_err(|_| corrupt("record contents"))
    }
}

impl PersonalFields {
    pub(super) fn of(c: &Citizen) -> Self {
        Self {
            register_id: c.register_id.clone(),
            given_name: c.given_name.clone(),
            family_name: c.family_name.clone(),
            birthdate: c.birthdate.clone(),
            email: c.email.clone(),
            address: c.address.clone(),
            locale: c.locale.clone(),
        }
    }
}

/// Binds the record to its row: a sealed record copied onto another
/// citizen's row does not open.
fn record_context(citizen_id: &str) -> String {
    format!("citizen-record:{citizen_id}")
}

fn key_context(citizen_id: &str) -> String {
    format!("citizen-key:{citizen_id}")
}

fn sealing(e: sqin_crypto::CryptoError) -> StoreError {
    StoreError::Sealing(format!("a citizen record: {e}"))
}
