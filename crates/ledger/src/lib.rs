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
#![warn(missing_docs)]

//! The storage-agnostic core of sqin's consent ledger.
//!
//! Consent decisions are appended to a Certificate-Transparency-style Merkle
//! log (RFC 9162) so that a citizen, an auditor or a court can check, with
//! only a signed checkpoint and a short proof, that a record exists and that
//! the log was never rewritten. This crate holds the parts that must be right
//! independently of where the log is stored: the hashing, the tree maths
//! over persisted subtree hashes, checkpoint notes, envelope encryption for
//! crypto-shredding, and offline verification of a full export. It knows
//! nothing about databases or HTTP, which keeps it auditable on its own.
//!
//! ```
//! use sqin_ledger::*;
//!
//! # fn main() -> Result<(), LedgerError> {
//! // Write path: the frontier says which subtree hashes to persist.
//! let mut frontier = Frontier::new();
//! let mut store = MemoryTree::new(); // stands in for the node table
//! for entry in [&b"consent 0"[..], b"consent 1", b"consent 2"] {
//!     let leaf = leaf_hash(entry);
//!     let _new_nodes: Vec<(NodeId, Hash)> = frontier.append(leaf)?; // persist these
//!     store.push(leaf);
//! }
//!
//! // Publish a signed checkpoint.
//! let signer = EcdsaNoteSigner::from_pkcs8("example.gov/ledger", &EcdsaNoteSigner::generate_pkcs8()?)?;
//! let checkpoint = Checkpoint { origin: "example.gov/ledger".into(), size: 3, root: frontier.root() };
//! let note = SignedCheckpoint::sign(checkpoint, &signer)?.to_note_text();
//!
//! // Read path: a client checks a proof against the checkpoint it trusts.
//! let verifier = EcdsaNoteVerifier::from_vkey(&signer.vkey())?;
//! let trusted = SignedCheckpoint::parse(&note)?;
//! let trusted = trusted.verify("example.gov/ledger", &verifier)?;
//! let proof = inclusion_proof(1, trusted.size, &store)?;
//! verify_inclusion(&leaf_hash(b"consent 1"), 1, trusted.size, &proof, &trusted.root)?;
//! # Ok(())
//! # }
//! ```

pub mod checkpoint;
pub mod cosignature;
pub mod envelope;
mod error;
pub mod hash;
pub mod tree;
pub mod verify;

pub use checkpoint::{
    Checkpoint, EcdsaNoteSigner, EcdsaNoteVerifier, NoteSignature, NoteSigner, NoteVerifier,
    SignedCheckpoint,
};
pub use cosignature::{CosignatureVerifier, Ed25519Cosigner};
pub use envelope::{open, seal, unwrap_data_key, wrap_data_key, DataKey};
pub use error::LedgerError;
pub use hash::{leaf_hash, node_hash, Hash, EMPTY_ROOT};
pub use tree::{
    consistency_proof, inclusion_proof, root_at, subtree_hash, verify_consistency,
    verify_inclusion, Frontier, MemoryTree, NodeId, NodeSource,
};
pub use verify::{verify_log, LogVerifier, VerifyReport};
