//! Offline verification of a complete exported log.
//!
//! This is what an auditor runs against a dump of the ledger table and the
//! checkpoints the log published: it trusts nothing in the dump, rebuilds the
//! tree from the entry bytes, and checks it against the signed checkpoints.
//! It streams (O(log n) memory plus the checkpoint list), so a national-scale
//! log can be checked on a laptop, and it stops at the first problem, naming
//! the sequence number or checkpoint where the log stops being trustworthy.
//!
//! What can and cannot be detected:
//! - an entry edited without fixing its stored leaf hash: [`LedgerError::EntryEdited`];
//! - deleted entries in the middle: [`LedgerError::EntriesMissing`];
//! - swapped or duplicated rows: [`LedgerError::EntriesReordered`];
//! - an entry rewritten *with* a recomputed leaf hash, or contents swapped
//!   under unchanged sequence numbers: [`LedgerError::CheckpointMismatch`] at
//!   the first signed checkpoint covering it, which brackets the damage
//!   between that checkpoint and the previous matching one;
//! - a deleted tail: [`LedgerError::LogTruncated`], if a signed checkpoint
//!   covers it. Changes after the newest checkpoint are undetectable offline,
//!   which is why the log must publish checkpoints often.

use crate::checkpoint::{Checkpoint, NoteVerifier, SignedCheckpoint};
use crate::hash::{leaf_hash, Hash, EMPTY_ROOT};
use crate::tree::Frontier;
use crate::LedgerError;

/// The outcome of a successful verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// Number of entries checked, which is also the verified tree size.
    pub entries: u64,
    /// Root of the whole export; compare it with the newest checkpoint out of
    /// band if that one was not passed in.
    pub root: Hash,
    /// How many checkpoints were matched against the rebuilt tree.
    pub checkpoints_matched: usize,
}

/// Push-style verifier, for callers that read the export themselves (and may
/// hit I/O errors that an iterator could not report).
///
/// Feed entries in export order with [`LogVerifier::push`], then call
/// [`LogVerifier::finish`]. Stop at the first error: the verifier does not
/// recover from one.
#[derive(Clone, Debug)]
pub struct LogVerifier {
    frontier: Frontier,
    /// Trusted checkpoints, sorted by size.
    checkpoints: Vec<Checkpoint>,
    next_checkpoint: usize,
    verified_up_to: u64,
    /// A sequence number that jumped ahead of the expected one; whether it is
    /// a deletion or a swap is only known once the next entry is seen.
    pending_jump: Option<u64>,
}

impl LogVerifier {
    /// Verifies every checkpoint's signature and origin up front (a forged
    /// checkpoint must never become the yardstick) and prepares to stream.
    pub fn new(
        checkpoints: &[SignedCheckpoint],
        origin: &str,
        verifier: &dyn NoteVerifier,
    ) -> Result<Self, LedgerError> {
        let trusted = checkpoints
            .iter()
            .map(|signed| {
                signed.verify(origin, verifier).cloned().map_err(|reason| {
                    LedgerError::CheckpointRejected {
                        size: signed.checkpoint().size,
                        reason: Box::new(reason),
                    }
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_verified(trusted)
    }

    /// Starts from checkpoints the caller has already verified.
    pub fn from_verified(mut checkpoints: Vec<Checkpoint>) -> Result<Self, LedgerError> {
        checkpoints.sort_by_key(|cp| cp.size);
        let mut verifier = Self {
            frontier: Frontier::new(),
            checkpoints,
            next_checkpoint: 0,
            verified_up_to: 0,
            pending_jump: None,
        };
        verifier.match_checkpoints()?;
        Ok(verifier)
    }

    /// Number of entries accepted so far.
    pub fn entries_checked(&self) -> u64 {
        self.frontier.size()
    }

    /// Checks the next exported entry: its sequence number, its stored leaf
    /// hash, and any checkpoint whose size it completes.
    pub fn push(
        &mut self,
        seq: u64,
        entry: &[u8],
        stored_leaf_hash: &Hash,
    ) -> Result<(), LedgerError> {
        let expected = self.frontier.size();
        if let Some(found) = self.pending_jump.take() {
            return Err(if seq == expected {
                LedgerError::EntriesReordered { expected, found }
            } else {
                LedgerError::EntriesMissing { expected, found }
            });
        }
        if seq < expected {
            return Err(LedgerError::EntriesReordered {
                expected,
                found: seq,
            });
        }
        if seq > expected {
            self.pending_jump = Some(seq);
            return Ok(());
        }
        if leaf_hash(entry) != *stored_leaf_hash {
            return Err(LedgerError::EntryEdited { seq });
        }
        self.frontier.append_with(*stored_leaf_hash, |_, _| {})?;
        self.match_checkpoints()
    }

    /// Ends the stream: reports a trailing gap, and any checkpoint larger than
    /// the export as truncation.
    pub fn finish(self) -> Result<VerifyReport, LedgerError> {
        let entries = self.frontier.size();
        if let Some(found) = self.pending_jump {
            return Err(LedgerError::EntriesMissing {
                expected: entries,
                found,
            });
        }
        if let Some(cp) = self.checkpoints.get(self.next_checkpoint) {
            return Err(LedgerError::LogTruncated {
                entries,
                size: cp.size,
            });
        }
        Ok(VerifyReport {
            entries,
            root: self.frontier.root(),
            checkpoints_matched: self.checkpoints.len(),
        })
    }

    fn match_checkpoints(&mut self) -> Result<(), LedgerError> {
        let size = self.frontier.size();
        let mut cached_root = None;
        while let Some(cp) = self.checkpoints.get(self.next_checkpoint) {
            if cp.size != size {
                break;
            }
            let root = *cached_root.get_or_insert_with(|| {
                if size == 0 {
                    EMPTY_ROOT
                } else {
                    self.frontier.root()
                }
            });
            if cp.root != root {
                return Err(LedgerError::CheckpointMismatch {
                    size,
                    verified_up_to: self.verified_up_to,
                });
            }
            self.verified_up_to = size;
            self.next_checkpoint += 1;
        }
        Ok(())
    }
}

/// Verifies a whole export in one call.
///
/// `entries` yields `(sequence number, entry bytes, stored leaf hash)` in
/// export order; `checkpoints` are the log's published signed checkpoints (any
/// order, possibly none), all of which must verify under `verifier` for
/// `origin`. `progress` receives the number of entries checked after each one,
/// for a CLI progress bar.
pub fn verify_log<I, E>(
    entries: I,
    checkpoints: &[SignedCheckpoint],
    origin: &str,
    verifier: &dyn NoteVerifier,
    mut progress: impl FnMut(u64),
) -> Result<VerifyReport, LedgerError>
where
    I: IntoIterator<Item = (u64, E, Hash)>,
    E: AsRef<[u8]>,
{
    let mut log = LogVerifier::new(checkpoints, origin, verifier)?;
    for (seq, entry, stored) in entries {
        log.push(seq, entry.as_ref(), &stored)?;
        progress(log.entries_checked());
    }
    log.finish()
}

#[cfg(test)]
mod tests;
