//! The witness against the protocol's cases, with a real log key and real
//! Merkle trees.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use sqin_ledger::{
    consistency_proof, leaf_hash, Checkpoint, CosignatureVerifier, EcdsaNoteSigner, MemoryTree,
    SignedCheckpoint,
};

use super::*;

const ORIGIN: &str = "id.test.example/ledger";

struct Log {
    pkcs8: Vec<u8>,
    leaves: Vec<Hash>,
}

impl Log {
    fn new() -> Log {
        Log {
            pkcs8: EcdsaNoteSigner::generate_pkcs8().unwrap(),
            leaves: Vec::new(),
        }
    }

    fn signer(&self) -> EcdsaNoteSigner {
        EcdsaNoteSigner::from_pkcs8(ORIGIN, &self.pkcs8).unwrap()
    }

    fn tree(&self) -> MemoryTree {
        MemoryTree::from_leaves(self.leaves.iter().copied())
    }

    fn grow(&mut self, n: u64) {
        for i in 0..n {
            let at = self.leaves.len();
            self.leaves
                .push(leaf_hash(format!("entry {at} {i}").as_bytes()));
        }
    }

    fn note(&self) -> String {
        let tree = self.tree();
        SignedCheckpoint::sign(
            Checkpoint {
                origin: ORIGIN.into(),
                size: tree.size(),
                root: tree.root(),
            },
            &self.signer(),
        )
        .unwrap()
        .to_note_text()
    }

    fn request(&self, old: u64) -> String {
        let tree = self.tree();
        let proof = if old == 0 {
            vec![]
        } else {
            consistency_proof(old, tree.size(), &tree).unwrap()
        };
        request_body(old, &proof, &self.note())
    }
}

fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sqin-witness-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn cosigns_a_growing_log_and_remembers_across_restarts() {
    let d = dir("grow");
    let vkey = init(&d, "commission.test.example/witness").unwrap();
    assert!(
        init(&d, "again").is_err(),
        "a key is never replaced in place"
    );
    let mut log = Log::new();
    let witness = Witness::open(&d, &[log.signer().vkey()]).unwrap();
    assert_eq!(witness.vkey(), vkey);
    log.grow(5);
    let line = witness
        .add_checkpoint(&log.request(0), 1_700_000_000)
        .unwrap();
    let cosigned = SignedCheckpoint::parse(&format!("{}{line}", log.note())).unwrap();
    cosigned
        .verify(ORIGIN, &CosignatureVerifier::from_vkey(&vkey).unwrap())
        .unwrap();
    log.grow(7);
    witness
        .add_checkpoint(&log.request(5), 1_700_000_060)
        .unwrap();
    assert_eq!(witness.cosigned_size(ORIGIN), Some(12));
    // The same size again, same root: cosigned again (fresh time).
    witness
        .add_checkpoint(&log.request(12), 1_700_000_120)
        .unwrap();
    drop(witness);
    // Restarted: it remembers 12.
    let witness = Witness::open(&d, &[log.signer().vkey()]).unwrap();
    let err = witness
        .add_checkpoint(&log.request(5), 1_700_000_180)
        .unwrap_err();
    assert!(matches!(err, WitnessError::Conflict { size: 12 }), "{err}");
    assert_eq!(err.status(), 409);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn refuses_forks_bad_proofs_unknown_logs_and_forged_signatures() {
    let d = dir("refuse");
    init(&d, "commission.test.example/witness").unwrap();
    let mut log = Log::new();
    let witness = Witness::open(&d, &[log.signer().vkey()]).unwrap();
    log.grow(8);
    witness.add_checkpoint(&log.request(0), 1).unwrap();

    // A fork: another history of the same size, signed by the log's own key.
    let mut fork = Log {
        pkcs8: log.pkcs8.clone(),
        leaves: (0..8)
            .map(|i| leaf_hash(format!("forged {i}").as_bytes()))
            .collect(),
    };
    let err = witness.add_checkpoint(&fork.request(8), 2).unwrap_err();
    assert_eq!(err.status(), 409, "{err}");
    // A fork that grew: its proof from the witness's size does not verify.
    fork.grow(4);
    let err = witness.add_checkpoint(&fork.request(8), 3).unwrap_err();
    assert_eq!(
        (err.status(), err.to_string()),
        (422, "the consistency proof does not verify".into())
    );
    // The right log, with a damaged proof.
    log.grow(4);
    let good = log.request(8);
    let mut lines: Vec<String> = good.lines().map(str::to_owned).collect();
    lines[1] = B64.encode([0u8; 32]);
    let damaged = lines.join("\n") + "\n";
    assert_eq!(
        witness.add_checkpoint(&damaged, 4).unwrap_err().status(),
        422
    );
    // Not signed by the log's key.
    let stranger = Log {
        pkcs8: EcdsaNoteSigner::generate_pkcs8().unwrap(),
        leaves: log.leaves.clone(),
    };
    assert_eq!(
        witness
            .add_checkpoint(&stranger.request(8), 5)
            .unwrap_err()
            .status(),
        403
    );
    // Another log altogether.
    let other = EcdsaNoteSigner::from_pkcs8(
        "other.example/log",
        &EcdsaNoteSigner::generate_pkcs8().unwrap(),
    )
    .unwrap();
    let note = SignedCheckpoint::sign(
        Checkpoint {
            origin: "other.example/log".into(),
            size: 0,
            root: sqin_ledger::EMPTY_ROOT,
        },
        &other,
    )
    .unwrap()
    .to_note_text();
    assert_eq!(
        witness
            .add_checkpoint(&request_body(0, &[], &note), 6)
            .unwrap_err()
            .status(),
        404
    );
    // Old size larger than the checkpoint, and malformed requests.
    assert_eq!(
        witness
            .add_checkpoint(&log.request(8).replacen("old 8", "old 99", 1), 7)
            .unwrap_err()
            .status(),
        400
    );
    for bad in ["", "old x\n\n", "old 08\n\n", "old 8\nnot base64\n\n"] {
        assert_eq!(
            witness.add_checkpoint(bad, 8).unwrap_err().status(),
            400,
            "{bad:?}"
        );
    }
    // None of this moved the witness.
    assert_eq!(witness.cosigned_size(ORIGIN), Some(8));
    // The real growth is still cosigned.
    witness.add_checkpoint(&good, 9).unwrap();
    assert_eq!(witness.cosigned_size(ORIGIN), Some(12));
    let _ = std::fs::remove_dir_all(&d);
}
