//! Security events: what happened to a citizen's account.
//!
//! Every event is written by [`record`], in the transaction of the change it
//! describes, to the `security_events` table. That table is both what the
//! account page shows ("recent sign-ins") and an outbox for the consent
//! ledger: the ledger service reads `sqin_store::security_events::unexported`,
//! appends each event to the citizen's log and marks it exported, so an event
//! is never lost nor appended twice, whichever node wrote it.
use serde::Serialize;
use serde_json::json;
use sqin_store::{security_events, Connection};

use crate::PasskeyError;

/// One event. Details never carry secrets, codes, addresses or key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecurityEvent {
    /// A successful passkey sign-in.
    SignIn {
        passkey: String,
        acr: String,
    },
    /// The first passkey, registered with an enrolment code.
    Enrolled {
        passkey: String,
    },
    /// A passkey registered with a recovery code: every session was ended.
    Recovered {
        passkey: String,
        sessions_ended: u64,
    },
    /// A further passkey added from the account page.
    PasskeyAdded {
        passkey: String,
    },
    PasskeyRenamed {
        from: String,
        to: String,
    },
    PasskeyRemoved {
        passkey: String,
    },
    /// A right code with a wrong birthdate; `locked` when it was the last try.
    CodeRefused {
        locked: bool,
    },
    /// A new code was issued by the operator (`sqin citizen reissue-code`).
    CodeReissued {
        purpose: String,
    },
    /// A login was refused because the signature counter went backwards.
    SignCountRegression {
        passkey: String,
    },
}

/// The stable names, as stored and as the ledger shows them.
pub mod kind {
    pub const SIGN_IN: &str = "sign_in";
    pub const ENROLLED: &str = "enrolled";
    pub const RECOVERED: &str = "recovered";
    pub const PASSKEY_ADDED: &str = "passkey_added";
    pub const PASSKEY_RENAMED: &str = "passkey_renamed";
    pub const PASSKEY_REMOVED: &str = "passkey_removed";
    pub const CODE_REFUSED: &str = "code_refused";
    pub const CODE_REISSUED: &str = "code_reissued";
    pub const SIGN_COUNT_REGRESSION: &str = "sign_count_regression";
}

impl SecurityEvent {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::SignIn { .. } => kind::SIGN_IN,
            Self::Enrolled { .. } => kind::ENROLLED,
            Self::Recovered { .. } => kind::RECOVERED,
            Self::PasskeyAdded { .. } => kind::PASSKEY_ADDED,
            Self::PasskeyRenamed { .. } => kind::PASSKEY_RENAMED,
            Self::PasskeyRemoved { .. } => kind::PASSKEY_REMOVED,
            Self::CodeRefused { .. } => kind::CODE_REFUSED,
            Self::CodeReissued { .. } => kind::CODE_REISSUED,
            Self::SignCountRegression { .. } => kind::SIGN_COUNT_REGRESSION,
        }
    }

    pub fn detail(&self) -> serde_json::Value {
        match self {
            Self::SignIn { passkey, acr } => json!({ "passkey": passkey, "acr": acr }),
            Self::Enrolled { passkey }
            | Self::PasskeyAdded { passkey }
            | Self::PasskeyRemoved { passkey }
            | Self::SignCountRegression { passkey } => json!({ "passkey": passkey }),
            Self::Recovered {
                passkey,
                sessions_ended,
            } => json!({ "passkey": passkey, "sessions_ended": sessions_ended }),
            Self::PasskeyRenamed { from, to } => json!({ "from": from, "to": to }),
            Self::CodeRefused { locked } => json!({ "locked": locked }),
            Self::CodeReissued { purpose } => json!({ "purpose": purpose }),
        }
    }
}

/// An event as the account page and the ledger read it.
#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    pub kind: String,
    pub detail: serde_json::Value,
    pub at: i64,
}

/// Writes an event in the caller's transaction: the single place where
/// security events enter the system.
pub async fn record(
    conn: &mut Connection,
    citizen_id: &str,
    event: &SecurityEvent,
    now: i64,
) -> Result<(), PasskeyError> {
    security_events::insert(
        conn,
        citizen_id,
        event.kind(),
        &event.detail().to_string(),
        now,
    )
    .await?;
    tracing::info!(kind = event.kind(), "security event");
    Ok(())
}

/// A citizen's latest events, newest first (of one kind when given).
pub async fn recent(
    conn: &mut Connection,
    citizen_id: &str,
    kind: Option<&str>,
    limit: i64,
) -> Result<Vec<EventView>, PasskeyError> {
    Ok(security_events::recent(conn, citizen_id, kind, limit)
        .await?
        .into_iter()
        .map(|e| EventView {
            detail: serde_json::from_str(&e.detail).unwrap_or(serde_json::Value::Null),
            kind: e.kind,
            at: e.at,
        })
        .collect())
}
