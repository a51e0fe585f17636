//! The bytes a leaf commits to.
//!
//! An entry is one line of JSON with a fixed field order:
//!
//! ```json
//! {"v":1,"seq":41,"uid":"kV3…","time":1767225600,"kind":"disclosure","subject":"3q2-7w…","key":"Yb1…","sealed":"…"}
//! {"v":1,"seq":42,"uid":"p0Q…","time":1767229200,"kind":"retention_purge","details":{"action":"retention_purge",…}}
//! ```
//!
//! - `seq` repeats the leaf index, so an entry cannot be moved to another
//!   position without its bytes changing;
//! - `uid` is the entry's random 128-bit id, chosen when the caller writes
//!   it (before the sequencer gives it a `seq`); the sealed part is bound to
//!   it;
//! - `subject` is the citizen's pseudonym (HMAC-SHA256 under a sealed server
//!   key of the internal account id, truncated to 128 bits), which lets a
//!   reviewer count a citizen's entries (the citizen's view is complete)
//!   without learning who the citizen is;
//! - `key` names the data key in `ledger_data_keys` that sealed `sealed`,
//!   the base64url AES-256-GCM envelope of the [`crate::LedgerEvent`], with
//!   [`Entry::aad`] (uid, time, kind, subject, key) as associated data so a
//!   ciphertext cannot be replayed into another entry;
//! - `details` holds the public facts of housekeeping entries.
//!
//! The stored bytes, not a re-encoding, are what gets hashed, so this format
//! can evolve (`v`) without touching old leaves.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::event::{EntryKind, Housekeeping};

/// Current entry format version.
pub const ENTRY_VERSION: u32 = 1;

/// A ledger entry as it appears in the log (public part only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Format version.
    pub v: u32,
    /// Leaf index.
    pub seq: u64,
    /// Random id (base64url of 16 bytes), fixed when the entry is written.
    pub uid: String,
    /// When the entry was appended (Unix seconds).
    pub time: i64,
    /// What happened.
    pub kind: EntryKind,
    /// The citizen's pseudonym, for entries about a citizen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The data key that sealed the personal part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The sealed personal part, base64url without padding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<String>,
    /// Public facts of a housekeeping entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Housekeeping>,
}

impl Entry {
    /// The exact bytes to store and hash.
    pub fn encode(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }

    /// Parses stored bytes and checks the invariants every entry this crate
    /// writes satisfies.
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        let entry: Entry = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if entry.v != ENTRY_VERSION {
            return Err(format!("unknown entry version {}", entry.v));
        }
        if entry.uid.is_empty() {
            return Err("empty uid".into());
        }
        let personal = entry.kind.is_personal();
        if personal && (entry.subject.is_none() || entry.key.is_none() || entry.sealed.is_none()) {
            return Err(format!(
                "a {} entry needs a subject, a key and a sealed part",
                entry.kind
            ));
        }
        if personal && entry.details.is_some() {
            return Err(format!("a {} entry has public details", entry.kind));
        }
        if !personal {
            match &entry.details {
                Some(details) if details.kind() == entry.kind => {}
                _ => return Err(format!("a {} entry needs its details", entry.kind)),
            }
            if entry.key.is_some() || entry.sealed.is_some() {
                return Err(format!("a {} entry has a sealed part", entry.kind));
            }
        }
        Ok(entry)
    }

    /// Associated data binding a sealed part to its entry: version, uid,
    /// time, kind, subject and key.
    pub fn aad(uid: &str, time: i64, kind: EntryKind, subject: &str, key_id: &str) -> Vec<u8> {
        format!(
            "sqin-ledger-entry/v{ENTRY_VERSION}\n{uid}\n{time}\n{}\n{subject}\n{key_id}",
            kind.as_str()
        )
        .into_bytes()
    }

    /// A fresh uid.
    pub fn new_uid() -> Result<String, sqin_crypto::CryptoError> {
        Ok(sqin_crypto::b64url(&sqin_crypto::random_bytes::<16>()?))
    }

    /// The sealed part's raw bytes.
    pub fn sealed_bytes(&self) -> Option<Result<Vec<u8>, String>> {
        self.sealed
            .as_ref()
            .map(|s| B64URL.decode(s).map_err(|e| e.to_string()))
    }

    /// Encodes sealed bytes for [`Entry::sealed`].
    pub fn encode_sealed(bytes: &[u8]) -> String {
        B64URL.encode(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn personal() -> Entry {
        Entry {
            v: 1,
            seq: 7,
            uid: "u7".into(),
            time: 1_700_000_000,
            kind: EntryKind::Disclosure,
            subject: Some("subj".into()),
            key: Some("key".into()),
            sealed: Some(Entry::encode_sealed(b"ciphertext")),
            details: None,
        }
    }

    #[test]
    fn encoding_is_stable_and_round_trips() {
        let e = personal();
        let bytes = e.encode().unwrap();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            r#"{"v":1,"seq":7,"uid":"u7","time":1700000000,"kind":"disclosure","subject":"subj","key":"key","sealed":"Y2lwaGVydGV4dA"}"#
        );
        assert_eq!(Entry::decode(&bytes).unwrap(), e);
        assert_eq!(e.sealed_bytes().unwrap().unwrap(), b"ciphertext");

        let purge = Entry {
            v: 1,
            seq: 8,
            uid: "u8".into(),
            time: 1,
            kind: EntryKind::RetentionPurge,
            subject: None,
            key: None,
            sealed: None,
            details: Some(Housekeeping::RetentionPurge {
                purged_kind: EntryKind::SignIn,
                retention_days: 365,
                cutoff: 0,
                keys: vec!["a".into()],
            }),
        };
        let bytes = purge.encode().unwrap();
        assert_eq!(Entry::decode(&bytes).unwrap(), purge);
    }

    #[test]
    fn malformed_entries_are_refused() {
        assert!(Entry::decode(b"not json").is_err());
        let mut e = personal();
        e.sealed = None;
        assert!(Entry::decode(&e.encode().unwrap()).is_err());
        let mut e = personal();
        e.v = 2;
        assert!(Entry::decode(&e.encode().unwrap()).is_err());
        let mut e = personal();
        e.kind = EntryKind::AccountShredded;
        assert!(Entry::decode(&e.encode().unwrap()).is_err());
        assert!(Entry::decode(br#"{"v":1,"seq":1,"uid":"u","time":1,"kind":"sign_in","subject":"s","key":"k","sealed":"AA","extra":1}"#).is_err());
    }

    #[test]
    fn aad_binds_every_public_field() {
        let base = Entry::aad("u", 2, EntryKind::SignIn, "s", "k");
        assert_ne!(base, Entry::aad("v", 2, EntryKind::SignIn, "s", "k"));
        assert_ne!(base, Entry::aad("u", 3, EntryKind::SignIn, "s", "k"));
        assert_ne!(base, Entry::aad("u", 2, EntryKind::Recovery, "s", "k"));
        assert_ne!(base, Entry::aad("u", 2, EntryKind::SignIn, "t", "k"));
        assert_ne!(base, Entry::aad("u", 2, EntryKind::SignIn, "s", "l"));
        assert_eq!(Entry::new_uid().unwrap().len(), 22);
    }
}
