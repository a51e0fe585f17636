//! Security events: what happened to a citizen's account.
//!
//! Every event is written by [`record`], in the transaction of the change it
//! describes, to the `security_events` table. That table is both what the
//! account page shows ("recent sign-ins") and an outbox for the consent
//! ledger: the ledger service reads `sqin_store::security_events::unexported`,
//! appends each event to the citizen's log and marks it exported, so an event
//! is never lost nor appended twice, whichever node wrote it.
use serde::Serialize;
use sqin_store::{security_events, Connection};

use crate::PasskeyError;

pub use sqin_ledger_contract::security::kind;
pub use sqin_ledger_contract::SecurityEvent;

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
    let (kind, detail) = event.to_row();
    security_events::insert(conn, citizen_id, kind, &detail, now).await?;
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
