//! Witness cosignatures (C2SP `tlog-cosignature`, Ed25519 `cosignature/v1`).
//!
//! A witness is an independent party (the Commission, another public body)
//! that remembers the largest checkpoint of the log it has seen and cosigns a
//! new one only if a consistency proof shows it extends that one. A reviewer
//! who requires a witness's cosignature cannot be shown a checkpoint of a
//! different (forked) log than the one the witness saw: a split view, where
//! citizens and the Commission are shown different histories, is detected.
//!
//! A cosignature is a note signature line whose signature is
//! `timestamp (u64, big-endian) || Ed25519 signature` over
//! `"cosignature/v1\ntime <timestamp>\n" || checkpoint body`; its key id is
//! `SHA-256(name || "\n" || 0x04 || public key)[:4]`.
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};

use crate::checkpoint::{validate_key_name, NoteVerifier};
use crate::hash::sha256;
use crate::LedgerError;

/// Signature type byte of Ed25519 cosignatures in verifier keys and key ids.
pub const SIGNATURE_TYPE_COSIGNATURE: u8 = 0x04;

fn key_id(name: &str, public_key: &[u8]) -> [u8; 4] {
    let mut data = Vec::with_capacity(name.len() + 2 + public_key.len());
    data.extend_from_slice(name.as_bytes());
    data.push(b'\n');
    data.push(SIGNATURE_TYPE_COSIGNATURE);
    data.extend_from_slice(public_key);
    let [a, b, c, d, ..] = sha256(&data);
    [a, b, c, d]
}

/// The message a cosignature signs.
pub fn cosigned_message(body: &[u8], timestamp: u64) -> Vec<u8> {
    let mut msg = format!("cosignature/v1\ntime {timestamp}\n").into_bytes();
    msg.extend_from_slice(body);
    msg
}

fn vkey_of(name: &str, id: [u8; 4], public_key: &[u8]) -> String {
    let mut blob = vec![SIGNATURE_TYPE_COSIGNATURE];
    blob.extend_from_slice(public_key);
    format!("{name}+{:08x}+{}", u32::from_be_bytes(id), B64.encode(blob))
}

/// A witness's Ed25519 key.
pub struct Ed25519Cosigner {
    name: String,
    key_id: [u8; 4],
    key_pair: Ed25519KeyPair,
}

impl std::fmt::Debug for Ed25519Cosigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ed25519Cosigner")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Ed25519Cosigner {
    /// A new private key as a PKCS#8 document.
    pub fn generate_pkcs8() -> Result<Vec<u8>, LedgerError> {
        Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map(|d| d.as_ref().to_vec())
            .map_err(|_| LedgerError::Random)
    }

    /// Loads the key; `name` identifies the witness (a schema-less URL).
    pub fn from_pkcs8(name: &str, pkcs8: &[u8]) -> Result<Self, LedgerError> {
        validate_key_name(name)?;
        let key_pair = Ed25519KeyPair::from_pkcs8(pkcs8)
            .map_err(|e| LedgerError::InvalidKey(format!("not an Ed25519 PKCS#8 key: {e}")))?;
        Ok(Self {
            key_id: key_id(name, key_pair.public_key().as_ref()),
            name: name.to_owned(),
            key_pair,
        })
    }

    /// The witness's verifier key, `<name>+<key id>+<base64(0x04 || key)>`.
    pub fn vkey(&self) -> String {
        vkey_of(&self.name, self.key_id, self.key_pair.public_key().as_ref())
    }

    /// The timestamped signature (the bytes after the key id) over `body`.
    /// The time is always the caller's (its injected clock): a cosigner is
    /// deliberately not a `NoteSigner`, which would have to read the system
    /// clock itself.
    pub fn cosign_at(&self, body: &[u8], timestamp: u64) -> Vec<u8> {
        let sig = self.key_pair.sign(&cosigned_message(body, timestamp));
        let mut out = timestamp.to_be_bytes().to_vec();
        out.extend_from_slice(sig.as_ref());
        out
    }

    /// A complete signature line over `body` at `timestamp`.
    pub fn cosignature_line(&self, body: &[u8], timestamp: u64) -> String {
        let mut blob = self.key_id.to_vec();
        blob.extend_from_slice(&self.cosign_at(body, timestamp));
        format!("\u{2014} {} {}\n", self.name, B64.encode(blob))
    }
}

/// A trusted witness key: verifies `cosignature/v1` lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    key_id: [u8; 4],
    public_key: Vec<u8>,
}

impl CosignatureVerifier {
    /// Parses a witness verifier key `<name>+<hex key id>+<base64(0x04 || key)>`.
    pub fn from_vkey(vkey: &str) -> Result<Self, LedgerError> {
        let bad = |msg: &str| LedgerError::InvalidKey(format!("witness key: {msg}"));
        let mut parts = vkey.trim().splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("expected <name>+<key id>+<key>"));
        };
        validate_key_name(name)?;
        let id = u32::from_str_radix(id_hex, 16)
            .ok()
            .filter(|_| id_hex.len() == 8)
            .ok_or_else(|| bad("key id must be 8 hex digits"))?;
        let blob = B64
            .decode(key_b64)
            .map_err(|_| bad("key is not canonical base64"))?;
        let (ty, key) = blob.split_first().ok_or_else(|| bad("key is empty"))?;
        if *ty != SIGNATURE_TYPE_COSIGNATURE || key.len() != 32 {
            return Err(bad("not an Ed25519 cosignature (type 0x04) key"));
        }
        let key_id = key_id(name, key);
        if u32::from_be_bytes(key_id) != id {
            return Err(bad("key id does not match the key"));
        }
        Ok(Self {
            name: name.to_owned(),
            key_id,
            public_key: key.to_vec(),
        })
    }

    /// The witness's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The verifier key string.
    pub fn vkey(&self) -> String {
        vkey_of(&self.name, self.key_id, &self.public_key)
    }

    /// The time a valid cosignature says it was made.
    pub fn timestamp(signature: &[u8]) -> Option<u64> {
        signature
            .first_chunk::<8>()
            .map(|ts| u64::from_be_bytes(*ts))
    }
}

impl NoteVerifier for CosignatureVerifier {
    fn key_name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    fn verify(&self, msg: &[u8], signature: &[u8]) -> bool {
        let Some((ts, sig)) = signature.split_first_chunk::<8>() else {
            return false;
        };
        let timestamp = u64::from_be_bytes(*ts);
        if sig.len() != 64 || timestamp > i64::MAX as u64 {
            return false;
        }
        UnparsedPublicKey::new(&ED25519, &self.public_key)
            .verify(&cosigned_message(msg, timestamp), sig)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::{Checkpoint, EcdsaNoteSigner, SignedCheckpoint};

    fn log_note() -> (SignedCheckpoint, EcdsaNoteSigner) {
        let log = EcdsaNoteSigner::from_pkcs8(
            "log.example/ledger",
            &EcdsaNoteSigner::generate_pkcs8().unwrap(),
        )
        .unwrap();
        let note = SignedCheckpoint::sign(
            Checkpoint {
                origin: "log.example/ledger".into(),
                size: 7,
                root: [3u8; 32],
            },
            &log,
        )
        .unwrap();
        (note, log)
    }

    #[test]
    fn a_cosignature_verifies_and_commits_to_time_and_body() {
        let witness = Ed25519Cosigner::from_pkcs8(
            "commission.example/witness",
            &Ed25519Cosigner::generate_pkcs8().unwrap(),
        )
        .unwrap();
        let verifier = CosignatureVerifier::from_vkey(&witness.vkey()).unwrap();
        assert_eq!(verifier.vkey(), witness.vkey());
        let (note, _) = log_note();
        let text = note.to_note_text();
        let body = text.split("\n\n").next().unwrap().to_owned() + "\n";
        let line = witness.cosignature_line(body.as_bytes(), 1_700_000_000);
        let cosigned = SignedCheckpoint::parse(&format!("{text}{line}")).unwrap();
        cosigned.verify("log.example/ledger", &verifier).unwrap();
        let sig = &cosigned.signatures()[1].signature;
        assert_eq!(CosignatureVerifier::timestamp(sig), Some(1_700_000_000));
        // Another time in the signature, another body, another key: refused.
        let mut forged = sig.clone();
        forged[7] ^= 1;
        assert!(!verifier.verify(body.as_bytes(), &forged));
        assert!(!verifier.verify(b"log.example/ledger\n8\nAAAA\n", sig));
        let other = Ed25519Cosigner::from_pkcs8(
            "commission.example/witness",
            &Ed25519Cosigner::generate_pkcs8().unwrap(),
        )
        .unwrap();
        let other_verifier = CosignatureVerifier::from_vkey(&other.vkey()).unwrap();
        assert!(cosigned
            .verify("log.example/ledger", &other_verifier)
            .is_err());
        // A tampered key id in the vkey is refused.
        let vkey = witness.vkey();
        let (name, rest) = vkey.split_once('+').unwrap();
        let (_, key) = rest.split_once('+').unwrap();
        assert!(CosignatureVerifier::from_vkey(&format!("{name}+00000000+{key}")).is_err());
    }
}
