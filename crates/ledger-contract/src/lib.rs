#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]
#![warn(missing_docs)]

//! The contract between everything that happens in sqin and the consent
//! ledger that records it.
//!
//! There is one road into the ledger: a producer builds a typed
//! [`LedgerEvent`] and hands it to a [`LedgerRecorder`] together with the
//! connection of the transaction that makes the recorded fact true (the
//! consent stored, the tokens signed, the file opened). The append commits or
//! fails with that transaction, so nothing is acknowledged without its entry.
//!
//! The OpenID Provider (`sqin-oidc`) and the application layer (`sqin-app`)
//! record directly. The passkey service (`sqin-webauthn`) records through an
//! outbox instead, so that a sign-in never waits for the ledger's sequencer:
//! it writes a typed [`SecurityEvent`] in its own transaction, and the
//! ledger service later turns each row into its [`LedgerEvent`]
//! ([`SecurityEvent::ledger_event`]) exactly once. Both ends of the outbox
//! use the same type, so no field is read back by name.
//!
//! This crate is deliberately small (serde, thiserror and the store's
//! connection type), so the producers depend on the contract and not on the
//! ledger's implementation, and the ledger service implements the trait.

pub mod event;
pub mod security;

use std::future::Future;
use std::pin::Pin;

pub use event::{Category, DisclosureEndpoint, EntryKind, Housekeeping, LedgerEvent};
pub use security::SecurityEvent;
use sqin_store::Connection;

/// Why an event could not be recorded. The producer's transaction must be
/// rolled back: the fact it describes did not happen.
#[derive(Debug, thiserror::Error)]
#[error("the ledger could not record a {kind} entry: {source}")]
pub struct RecordError {
    /// The kind of entry that was refused.
    pub kind: EntryKind,
    /// What went wrong, as the recorder reported it.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// What [`LedgerRecorder::record`] returns.
pub type RecordFuture<'c> = Pin<Box<dyn Future<Output = Result<(), RecordError>> + Send + 'c>>;

/// Appends an event to the ledger inside the caller's open transaction.
///
/// Implemented by the ledger service's `Ledger`; a benchmark may substitute
/// a recorder that does nothing, which is the only reason this is a trait.
pub trait LedgerRecorder: Send + Sync {
    /// Appends `event`, dated `now` (Unix seconds), using `conn`, which must
    /// be the transaction that makes the event true.
    fn record<'c>(
        &'c self,
        conn: &'c mut Connection,
        event: LedgerEvent,
        now: i64,
    ) -> RecordFuture<'c>;
}
