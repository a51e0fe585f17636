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

//! sqin's consent ledger as a service: the storage-agnostic Merkle core
//! (`sqin-ledger`) wired to the database (`sqin-store`).
//!
//! - **Write**: the OpenID Provider calls [`append`] with a typed
//!   [`LedgerEvent`] inside its own transaction; the passkey service's
//!   security events arrive through its outbox ([`outbox`]). The personal
//!   part is sealed under the citizen's data key and the entry queued, with
//!   no lock, committing with the caller. [`sequence`] then gives queued
//!   entries dense sequence numbers in batches and stores the
//!   complete-subtree hashes they finish ([`append_sequenced`] does it in
//!   the caller's transaction instead).
//! - **Publish**: [`checkpoints::publish`] signs C2SP checkpoints (ECDSA
//!   P-256) periodically and on demand; every one is kept.
//! - **Prove**: [`tree::inclusion_proof`] and [`tree::consistency_proof`]
//!   read O(log n) stored nodes.
//! - **Verify**: [`verify::verify_store`] and [`verify::verify_export`]
//!   rebuild the tree and name the first bad entry.
//! - **Destroy**: [`purge::purge`] crypto-shreds what is past retention;
//!   [`purge::shred_citizen`] does it for a deleted account. Both are logged.
//! - **Show**: [`history`] gives the citizen their own entries, opened, with
//!   proofs.
//!
//! Storage refuses updates and deletes of entries, nodes and checkpoints
//! (triggers), and this crate has no such code path. See `docs/ledger.md`.

mod append;
pub mod checkpoints;
pub mod entry;
mod error;
/// The event types, from the ledger contract (re-exported for callers).
pub use sqin_ledger_contract::event;
pub mod export;
pub mod governance;
mod handle;
pub mod history;
pub mod keychain;
pub mod outbox;
pub mod purge;
pub mod retention;
pub mod statistics;
pub mod tree;
pub mod verify;

pub use append::{append, append_governance, append_sequenced, lock, sequence, Appended, EntryId};
pub use checkpoints::{CheckpointPolicy, PublishedCheckpoint};
pub use error::{LedgerServiceError, VerificationFailure};
pub use handle::{
    validate_origin, Ledger, LedgerSettings, CHECKPOINT_KEY_SECRET, PSEUDONYM_KEY_SECRET,
    WRAPPING_KEY_SECRET,
};
pub use retention::Retention;
pub use sqin_ledger_contract::{
    Category, DisclosureEndpoint, EntryKind, Housekeeping, LedgerEvent, LedgerRecorder, RecordError,
};
pub use verify::{VerifyOptions, VerifyReport};

/// The core crate, re-exported for callers that verify proofs.
pub use sqin_ledger as core;
