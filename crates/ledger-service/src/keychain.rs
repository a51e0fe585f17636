//! Which key may sign which checkpoint, across checkpoint key rotations.
//!
//! A rotation is an entry of the log (`checkpoint_key_rotated`, at sequence
//! number `s`) naming the previous and the new verifier key, followed at
//! once by a checkpoint of size `s + 1` signed by both. So the previous key
//! signs checkpoints of sizes up to `s + 1` and the new key from `s + 1` on.
//! A reviewer trusts one key (pinned, from the log's publication); the
//! checkpoint signed by both carries that trust to the neighbouring key,
//! forwards or backwards, because it commits to the rotation entry that
//! names it. A retired key cannot sign a checkpoint past its range, so
//! stealing it later gains nothing.
use sqin_ledger::{Checkpoint, EcdsaNoteVerifier, LedgerError, SignedCheckpoint};

use crate::entry::Entry;
use crate::event::Housekeeping;
use crate::{LedgerServiceError, VerificationFailure};

/// One rotation, as its entry states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The rotation entry's sequence number.
    pub seq: u64,
    /// The key replaced.
    pub previous_vkey: String,
    /// The key that signs from `seq + 1` on.
    pub vkey: String,
}

impl Rotation {
    /// The rotation an entry records, if it is a rotation entry.
    pub fn from_entry(bytes: &[u8]) -> Option<Rotation> {
        let entry = Entry::decode(bytes).ok()?;
        match entry.details? {
            Housekeeping::CheckpointKeyRotated {
                previous_vkey,
                vkey,
            } => Some(Rotation {
                seq: entry.seq,
                previous_vkey,
                vkey,
            }),
            _ => None,
        }
    }
}

fn chain_error(message: impl Into<String>) -> LedgerServiceError {
    VerificationFailure::KeyChain(message.into()).into()
}

struct KeyRange {
    verifier: EcdsaNoteVerifier,
    vkey: String,
    /// Smallest and largest checkpoint size it may sign.
    from: u64,
    until: u64,
}

/// The keys of a log and the checkpoint sizes each may sign.
pub struct KeyChain {
    keys: Vec<KeyRange>,
    rotations: Vec<Rotation>,
}

impl KeyChain {
    /// The chain through `rotations` (in log order), anchored at `pinned`,
    /// which must be one of its keys.
    pub fn new(pinned: &str, rotations: &[Rotation]) -> Result<KeyChain, LedgerServiceError> {
        let first = rotations
            .first()
            .map_or(pinned, |r| r.previous_vkey.as_str());
        let mut keys = vec![KeyRange {
            verifier: EcdsaNoteVerifier::from_vkey(first)?,
            vkey: first.to_owned(),
            from: 0,
            until: u64::MAX,
        }];
        let mut previous_seq = None;
        for r in rotations {
            let Some(current) = keys.last_mut() else {
                return Err(chain_error("empty chain"));
            };
            if r.previous_vkey != current.vkey {
                return Err(chain_error(format!(
                    "the rotation at entry {} replaces a key that was not the current one",
                    r.seq
                )));
            }
            if previous_seq.is_some_and(|p| r.seq <= p) {
                return Err(chain_error("rotations out of order"));
            }
            previous_seq = Some(r.seq);
            current.until = r.seq + 1;
            if keys.iter().any(|k| k.vkey == r.vkey) {
                return Err(chain_error(format!(
                    "the rotation at entry {} brings back a key already used",
                    r.seq
                )));
            }
            keys.push(KeyRange {
                verifier: EcdsaNoteVerifier::from_vkey(&r.vkey)?,
                vkey: r.vkey.clone(),
                from: r.seq + 1,
                until: u64::MAX,
            });
        }
        if !keys.iter().any(|k| k.vkey == pinned.trim()) {
            return Err(chain_error(
                "the trusted verifier key is not one of the keys this log has used",
            ));
        }
        Ok(KeyChain {
            keys,
            rotations: rotations.to_vec(),
        })
    }

    /// The rotations the chain was built from.
    pub fn rotations(&self) -> &[Rotation] {
        &self.rotations
    }

    /// Verifies a checkpoint with the key (or, at a rotation's size, either
    /// key) allowed to sign its size.
    pub fn verify<'a>(
        &self,
        note: &'a SignedCheckpoint,
        origin: &str,
    ) -> Result<&'a Checkpoint, LedgerError> {
        let size = note.checkpoint().size;
        let mut first_error = None;
        for k in self
            .keys
            .iter()
            .filter(|k| k.from <= size && size <= k.until)
        {
            match note.verify(origin, &k.verifier) {
                Ok(cp) => return Ok(cp),
                Err(e @ LedgerError::BadSignature { .. }) => return Err(e),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.unwrap_or(LedgerError::SignatureMissing {
            key_name: origin.to_owned(),
            key_id: 0,
        }))
    }

    /// Verifies every checkpoint (see [`KeyChain::verify`]) and that each
    /// rotation has a checkpoint of size `seq + 1` signed by both keys.
    pub fn verify_all(
        &self,
        checkpoints: &[SignedCheckpoint],
        origin: &str,
    ) -> Result<Vec<Checkpoint>, LedgerServiceError> {
        let verified = checkpoints
            .iter()
            .map(|signed| {
                self.verify(signed, origin).cloned().map_err(|reason| {
                    VerificationFailure::Log(LedgerError::CheckpointRejected {
                        size: signed.checkpoint().size,
                        reason: Box::new(reason),
                    })
                    .into()
                })
            })
            .collect::<Result<Vec<_>, LedgerServiceError>>()?;
        for (r, pair) in self.rotations.iter().zip(self.keys.windows(2)) {
            let [old, new] = pair else {
                return Err(chain_error(
                    "internal: the chain is shorter than its rotations",
                ));
            };
            let (old, new) = (&old.verifier, &new.verifier);
            let cosigned = checkpoints.iter().any(|c| {
                c.checkpoint().size == r.seq + 1
                    && c.verify(origin, old).is_ok()
                    && c.verify(origin, new).is_ok()
            });
            if !cosigned {
                return Err(chain_error(format!(
                    "the rotation at entry {} has no checkpoint of size {} signed by both keys",
                    r.seq,
                    r.seq + 1
                )));
            }
        }
        Ok(verified)
    }
}
