//! The staff plane's rules, read from the privacy impact assessment.
//!
//! Who in the organisation may see what, through the information's whole
//! life, is not a convention here: each staff role of `pia/inventory.toml`
//! lists the [`StaffAction`]s it may take, the purposes it may state to open
//! a citizen's file and the roles it may grant, and each element lists what
//! each role may do with it. [`StaffPolicy`] is that table, built once at
//! start-up from the adopted PIA; the server asks it on every request and
//! answers 403 to anything it does not allow.
//!
//! - [`actions`]: the closed list of what staff can do in the code (the PIA
//!   check refuses a role granted an action the code does not have, and an
//!   action no role is granted).
//! - [`policy`]: per role, its actions, look-up purposes, grantable roles,
//!   and the elements it may read or only verify.
//! - [`four_eyes`]: sensitive actions are requested by one person and
//!   approved by another whose role allows it; nobody approves their own.
//! - [`review`]: the flags a privacy officer sees on the access register
//!   (bursts of look-ups, look-ups outside working hours, look-ups with no
//!   follow-up).
//! - [`badge`]: the pseudonymous badge a citizen sees ("Agent 4F2K").
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod actions;
pub mod badge;
pub mod four_eyes;
pub mod policy;
pub mod review;

pub use actions::StaffAction;
pub use four_eyes::{RequestKind, RequestRule};
pub use policy::{RolePolicy, StaffPolicy};

/// Time limits of the staff plane, in seconds.
pub mod limits {
    /// A staff session ends after this long without a request.
    pub const SESSION_IDLE_SECS: i64 = 15 * 60;
    /// A staff session ends this long after the passkey sign-in, whatever
    /// happens.
    pub const SESSION_ABSOLUTE_SECS: i64 = 8 * 3600;
    /// A sensitive action needs a passkey assertion at most this old.
    pub const REAUTH_SECS: i64 = 5 * 60;
    /// An invitation to enrol a staff passkey is valid this long.
    pub const INVITATION_SECS: i64 = 72 * 3600;
    /// A four-eyes request not approved within this lapses.
    pub const REQUEST_SECS: i64 = 72 * 3600;
    /// Look-ups one member of staff may make per [`LOOKUP_WINDOW_SECS`];
    /// the next is refused and the privacy officer alerted.
    pub const LOOKUPS_PER_WINDOW: i64 = 30;
    /// The look-up rate window.
    pub const LOOKUP_WINDOW_SECS: i64 = 3600;
}

/// Why the staff plane refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffError {
    /// The role may not take this action (403; nothing about the subject is
    /// said).
    #[error("your role does not allow this")]
    Forbidden,
    /// The request is malformed or incomplete; the message says what to fix.
    #[error("{0}")]
    Invalid(String),
}
