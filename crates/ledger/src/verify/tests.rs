use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use super::*;
use crate::checkpoint::{EcdsaNoteSigner, EcdsaNoteVerifier, NoteSigner};
use crate::tree::MemoryTree;

const ORIGIN: &str = "sqin.example.gov/consent-ledger";

type Row = (u64, Vec<u8>, Hash);

struct Log {
    signer: EcdsaNoteSigner,
    verifier: EcdsaNoteVerifier,
    entries: Vec<Row>,
}

impl Log {
    fn new(n: u64) -> Self {
        let pkcs8 = EcdsaNoteSigner::generate_pkcs8().unwrap();
        let signer = EcdsaNoteSigner::from_pkcs8(ORIGIN, &pkcs8).unwrap();
        let verifier = signer.verifier().unwrap();
        let entries = (0..n)
            .map(|seq| {
                let entry = format!("consent event {seq}").into_bytes();
                let hash = leaf_hash(&entry);
                (seq, entry, hash)
            })
            .collect();
        Self {
            signer,
            verifier,
            entries,
        }
    }

    fn checkpoint(&self, size: u64) -> SignedCheckpoint {
        self.checkpoint_with(size, &self.signer)
    }

    fn checkpoint_with(&self, size: u64, signer: &dyn NoteSigner) -> SignedCheckpoint {
        let tree =
            MemoryTree::from_leaves(self.entries[..size as usize].iter().map(|(_, _, h)| *h));
        let cp = Checkpoint {
            origin: ORIGIN.into(),
            size,
            root: tree.root(),
        };
        SignedCheckpoint::sign(cp, signer).unwrap()
    }

    fn verify(
        &self,
        entries: &[Row],
        checkpoints: &[SignedCheckpoint],
    ) -> Result<VerifyReport, LedgerError> {
        verify_log(
            entries.iter().cloned(),
            checkpoints,
            ORIGIN,
            &self.verifier,
            |_| {},
        )
    }
}

#[test]
fn intact_log_verifies_with_progress() {
    let log = Log::new(100);
    let cps = [log.checkpoint(100), log.checkpoint(0), log.checkpoint(37)];
    let mut seen = Vec::new();
    let report = verify_log(
        log.entries.iter().cloned(),
        &cps,
        ORIGIN,
        &log.verifier,
        |n| seen.push(n),
    )
    .unwrap();
    assert_eq!(report.entries, 100);
    assert_eq!(report.checkpoints_matched, 3);
    assert_eq!(report.root, cps[0].checkpoint().root);
    assert_eq!(seen, (1..=100).collect::<Vec<_>>());

    // Without checkpoints the report still gives the root to compare.
    let bare = log.verify(&log.entries, &[]).unwrap();
    assert_eq!(bare.root, report.root);
    assert_eq!(bare.checkpoints_matched, 0);
    // An empty export against the empty checkpoint.
    let empty = Log::new(0);
    let report = empty.verify(&[], &[empty.checkpoint(0)]).unwrap();
    assert_eq!(report.root, EMPTY_ROOT);
    assert_eq!(report.entries, 0);
}

#[test]
fn edited_entry_is_named() {
    let log = Log::new(50);
    let mut entries = log.entries.clone();
    entries[17].1 = b"consent event 17 (withdrawn)".to_vec();
    assert_eq!(
        log.verify(&entries, &[log.checkpoint(50)]),
        Err(LedgerError::EntryEdited { seq: 17 })
    );
    // The stored hash edited instead of the bytes.
    let mut entries = log.entries.clone();
    entries[0].2[5] ^= 1;
    assert_eq!(
        log.verify(&entries, &[]),
        Err(LedgerError::EntryEdited { seq: 0 })
    );
}

#[test]
fn edited_entry_with_recomputed_hash_is_bracketed_by_checkpoints() {
    let log = Log::new(50);
    let cps = [log.checkpoint(10), log.checkpoint(30), log.checkpoint(50)];
    let mut entries = log.entries.clone();
    entries[17].1 = b"forged".to_vec();
    entries[17].2 = leaf_hash(b"forged");
    assert_eq!(
        log.verify(&entries, &cps),
        Err(LedgerError::CheckpointMismatch {
            size: 30,
            verified_up_to: 10
        })
    );
}

#[test]
fn deleted_entry_is_named() {
    let log = Log::new(50);
    let mut entries = log.entries.clone();
    entries.remove(23);
    assert_eq!(
        log.verify(&entries, &[]),
        Err(LedgerError::EntriesMissing {
            expected: 23,
            found: 24
        })
    );
    // Several deleted, starting with the very first one.
    let mut entries = log.entries.clone();
    entries.drain(0..3);
    assert_eq!(
        log.verify(&entries, &[]),
        Err(LedgerError::EntriesMissing {
            expected: 0,
            found: 3
        })
    );
    // Second-to-last deleted: the gap is only decided at the end of the stream.
    let mut entries = log.entries.clone();
    entries.remove(48);
    assert_eq!(
        log.verify(&entries, &[]),
        Err(LedgerError::EntriesMissing {
            expected: 48,
            found: 49
        })
    );
}

#[test]
fn reordered_pair_is_named() {
    let log = Log::new(50);
    let mut entries = log.entries.clone();
    entries.swap(30, 31);
    assert_eq!(
        log.verify(&entries, &[log.checkpoint(50)]),
        Err(LedgerError::EntriesReordered {
            expected: 30,
            found: 31
        })
    );
    // Swapped contents under unchanged sequence numbers: every row is
    // self-consistent, only a checkpoint can tell.
    let mut entries = log.entries.clone();
    let (a, b) = (entries[30].clone(), entries[31].clone());
    entries[30] = (30, b.1, b.2);
    entries[31] = (31, a.1, a.2);
    assert_eq!(
        log.verify(&entries, &[log.checkpoint(20), log.checkpoint(40)]),
        Err(LedgerError::CheckpointMismatch {
            size: 40,
            verified_up_to: 20
        })
    );
    // A duplicated row.
    let mut entries = log.entries.clone();
    entries.insert(10, entries[9].clone());
    assert_eq!(
        log.verify(&entries, &[]),
        Err(LedgerError::EntriesReordered {
            expected: 10,
            found: 9
        })
    );
}

#[test]
fn truncated_tail_against_newer_checkpoint() {
    let log = Log::new(50);
    let cps = [log.checkpoint(20), log.checkpoint(50)];
    assert_eq!(
        log.verify(&log.entries[..42], &cps),
        Err(LedgerError::LogTruncated {
            entries: 42,
            size: 50
        })
    );
}

#[test]
fn rewritten_tail_against_older_checkpoint() {
    let log = Log::new(50);
    let cps = [log.checkpoint(20), log.checkpoint(40)];
    // Everything from 35 on replaced by an alternative history, with sequence
    // numbers and leaf hashes all consistent, and even extended.
    let mut entries = log.entries[..35].to_vec();
    entries.extend((35..60).map(|seq| {
        let entry = format!("rewritten event {seq}").into_bytes();
        let hash = leaf_hash(&entry);
        (seq, entry, hash)
    }));
    assert_eq!(
        log.verify(&entries, &cps),
        Err(LedgerError::CheckpointMismatch {
            size: 40,
            verified_up_to: 20
        })
    );
    // A change past the newest checkpoint is invisible offline; the report's
    // root is what to compare with the next published checkpoint.
    let mut entries = log.entries[..45].to_vec();
    entries.push((45, b"appended later".to_vec(), leaf_hash(b"appended later")));
    assert_eq!(log.verify(&entries, &cps).unwrap().entries, 46);
}

#[test]
fn forged_checkpoint_signature_is_named() {
    let log = Log::new(50);
    let pkcs8 = EcdsaNoteSigner::generate_pkcs8().unwrap();
    let attacker = EcdsaNoteSigner::from_pkcs8(ORIGIN, &pkcs8).unwrap();
    // The attacker's signature, relabelled with the trusted key's id so that
    // the line is attributed to the trusted key.
    let text = log.checkpoint_with(30, &attacker).to_note_text();
    let (prefix, sig) = text.rsplit_once(' ').unwrap();
    let mut blob = B64.decode(sig.trim_end()).unwrap();
    blob[..4].copy_from_slice(&log.signer.key_id());
    let forged = SignedCheckpoint::parse(&format!("{prefix} {}\n", B64.encode(blob))).unwrap();

    match log.verify(&log.entries, &[log.checkpoint(10), forged]) {
        Err(LedgerError::CheckpointRejected { size: 30, reason }) => {
            assert!(
                matches!(*reason, LedgerError::BadSignature { .. }),
                "{reason}"
            )
        }
        other => panic!("unexpected {other:?}"),
    }

    // A checkpoint for another log.
    let other_origin = SignedCheckpoint::sign(
        Checkpoint {
            origin: "elsewhere.example/log".into(),
            size: 10,
            root: log.checkpoint(10).checkpoint().root,
        },
        &log.signer,
    )
    .unwrap();
    assert!(matches!(
        log.verify(&log.entries, &[other_origin]),
        Err(LedgerError::CheckpointRejected { size: 10, .. })
    ));
    // Signed only by a key nobody trusts.
    let unknown = log.checkpoint_with(20, &attacker);
    match log.verify(&log.entries, &[unknown]) {
        Err(LedgerError::CheckpointRejected { size: 20, reason }) => {
            assert!(
                matches!(*reason, LedgerError::SignatureMissing { .. }),
                "{reason}"
            )
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn split_view_checkpoints_are_caught() {
    // Two validly signed checkpoints of one size with different roots prove
    // the log equivocated; an export can match at most one of them.
    let log = Log::new(20);
    let honest = log.checkpoint(20);
    let evil = SignedCheckpoint::sign(
        Checkpoint {
            origin: ORIGIN.into(),
            size: 20,
            root: leaf_hash(b"other history"),
        },
        &log.signer,
    )
    .unwrap();
    assert!(matches!(
        log.verify(&log.entries, &[honest, evil]),
        Err(LedgerError::CheckpointMismatch { size: 20, .. })
    ));
}

#[test]
fn push_api_reports_like_the_iterator() {
    let log = Log::new(10);
    let mut v = LogVerifier::new(&[log.checkpoint(10)], ORIGIN, &log.verifier).unwrap();
    for (seq, entry, hash) in &log.entries {
        v.push(*seq, entry, hash).unwrap();
    }
    assert_eq!(v.entries_checked(), 10);
    assert_eq!(v.finish().unwrap().entries, 10);

    let mut v = LogVerifier::from_verified(vec![log.checkpoint(10).checkpoint().clone()]).unwrap();
    for (seq, entry, hash) in &log.entries[..9] {
        v.push(*seq, entry, hash).unwrap();
    }
    assert_eq!(
        v.finish(),
        Err(LedgerError::LogTruncated {
            entries: 9,
            size: 10
        })
    );

    // A wrong empty-tree checkpoint is caught before any entry is read.
    let bogus = Checkpoint {
        origin: ORIGIN.into(),
        size: 0,
        root: [0; 32],
    };
    assert_eq!(
        LogVerifier::from_verified(vec![bogus]).err(),
        Some(LedgerError::CheckpointMismatch {
            size: 0,
            verified_up_to: 0
        })
    );
}
