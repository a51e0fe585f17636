//! sqin's application layer: what the binary's adapters (HTTP, pages, CLI)
//! share and call.
//!
//! - [`Services`]: everything an operation needs once the deployment's
//!   settings are known (the store, the keys, the ledger, the passkey
//!   service, the PIA the server runs under, the [`Clock`]), opened once by
//!   [`open`].
//! - [`jobs`]: the background work of a running node (sequencing and
//!   checkpointing the ledger, draining the passkey service's outbox,
//!   delivering back-channel logouts, refreshing keys and revocations,
//!   retention), started by one [`jobs::spawn_all`] that `sqin serve` and
//!   the test server both call.
//! - Orchestration that spans domain crates, one module per concern:
//!   [`account`] (closing an account), [`staff`] (staff access),
//!   [`complaints`], [`corrections`], [`incidents`], [`retention`], [`backchannel`]
//!   (delivering logout notices), [`witness`] (asking witnesses to cosign),
//!   [`pia`] (the assessment the server runs under).
//!
//! Domain crates below know nothing of this one; this one knows nothing of
//! HTTP. Errors are [`AppError`], mapped once by each adapter.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod account;
pub mod backchannel;
pub mod citizen_data;
pub mod clients;
pub mod clock;
pub mod complaints;
pub mod consent_notice;
pub mod corrections;
pub mod deployment;
mod error;
pub mod incidents;
pub mod jobs;
pub mod passkeys;
pub mod pia;
pub mod report;
pub mod retention;
mod services;
pub mod settings;
pub mod staff;
pub mod witness;

pub use clock::{Clock, SystemClock};
pub use deployment::Deployment;
pub use error::{failed, AppError, AppResult, During};
pub use services::{open, redact_url, Services};
pub use settings::{KekSource, LedgerWitness, Settings};
