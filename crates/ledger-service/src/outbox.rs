//! The passkey service's security events, moved into the ledger.
//!
//! The passkey service writes each security event (sign-in, passkey added or
//! removed, recovery, refused code, counter regression) to its
//! `security_events` table in the transaction of the change, which serves its
//! account page and is this ledger's outbox. [`drain_security_events`] appends
//! each unexported event and marks it exported in one transaction, so an event
//! is appended exactly once whichever node drains it, and none is lost if a
//! node dies between the two.

use sqin_store::security_events::{self, SecurityEventRecord};
use sqin_store::Connection;

use sqin_ledger_contract::SecurityEvent;

use crate::{append, Ledger, LedgerEvent, LedgerServiceError};

/// Events moved per transaction.
const BATCH: i64 = 100;

/// The ledger event for an outbox row; `Ok(None)` for kinds the ledger does
/// not record (a passkey renamed changes no access and discloses nothing).
pub fn to_ledger_event(record: &SecurityEventRecord) -> Result<Option<LedgerEvent>, String> {
    SecurityEvent::from_row(&record.kind, &record.detail)
        .map(|event| event.ledger_event(record.citizen_id.clone()))
        .map_err(|e| format!("security event {}: {e}", record.id))
}

/// Moves every unexported security event into the ledger, oldest first, in
/// transactions of up to 100 events, and returns how many entries were
/// appended. Each entry carries the event's own time. An event that cannot
/// be understood is marked exported and reported in the log (by kind and
/// id, never its content) rather than blocking the events after it.
pub async fn drain_security_events(
    conn: &mut Connection,
    ledger: &Ledger,
    now: i64,
) -> Result<u64, LedgerServiceError> {
    let mut appended = 0;
    loop {
        let mut tx = sqin_store::begin_on(conn).await?;
        // The appenders' lock first: drains from several nodes take turns,
        // and on SQLite the transaction holds the write lock before it reads.
        crate::append::lock(&mut tx, ledger).await?;
        let batch = security_events::unexported(&mut tx, BATCH).await?;
        if batch.is_empty() {
            tx.commit().await?;
            return Ok(appended);
        }
        let full = batch.len() as i64 == BATCH;
        for record in batch {
            // Marked in the same transaction as the append: exactly once.
            if !security_events::mark_exported(&mut tx, record.id, now).await? {
                continue;
            }
            match to_ledger_event(&record) {
                Ok(Some(event)) => {
                    append(&mut tx, ledger, event, record.at).await?;
                    appended += 1;
                }
                Ok(None) => {}
                Err(reason) => {
                    tracing::error!(kind = %record.kind, id = record.id, %reason, "security event not recorded in the ledger");
                }
            }
        }
        tx.commit().await?;
        if !full {
            return Ok(appended);
        }
    }
}
