//! Destruction by code: retention purges and account deletion, both by
//! crypto-shredding, both logged in the ledger they shred.
//!
//! Nothing in the tree changes: the entries keep their sealed parts, and
//! every leaf hash, root, proof and checkpoint stays valid. What goes is the
//! data key, the only way to open those sealed parts.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use sqin_store::ledger as store;
use sqin_store::Connection;

use crate::append::{append_locked, Body, EntryId};
use crate::entry::Entry;
use crate::event::{EntryKind, Housekeeping};
use crate::handle::ForgetKeys;
use crate::{Ledger, LedgerServiceError};

/// What a purge found or did, per entry kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    /// Keys destroyed (or due, for a dry run) per kind.
    pub keys: BTreeMap<EntryKind, u64>,
    /// The `retention_purge` entries that record the destruction.
    pub entries: Vec<EntryId>,
    /// Whether the run stopped early (Ctrl-C); run it again to finish.
    pub interrupted: bool,
}

impl PurgeReport {
    /// Keys destroyed in all.
    pub fn total(&self) -> u64 {
        self.keys.values().sum()
    }
}

/// The time before which a key's period must have ended for it to be due:
/// `now - retention`.
fn cutoff(ledger: &Ledger, kind: EntryKind, now: i64) -> Option<(i64, i64)> {
    let days = ledger.retention().days(kind)?;
    Some((days, now.saturating_sub(days.saturating_mul(86_400))))
}

/// Counts the keys due for destruction, without destroying anything.
pub async fn due(
    conn: &mut Connection,
    ledger: &Ledger,
    now: i64,
) -> Result<BTreeMap<EntryKind, u64>, LedgerServiceError> {
    let mut out = BTreeMap::new();
    for kind in EntryKind::PERSONAL {
        let Some((_, cut)) = cutoff(ledger, kind, now) else {
            continue;
        };
        let n = store::count_data_keys_ended_by(conn, kind.as_str(), cut).await?;
        if n > 0 {
            out.insert(kind, u64::try_from(n).unwrap_or(0));
        }
    }
    Ok(out)
}

/// Destroys every data key whose entries are all past retention, in
/// batches of at most `batch` keys.
///
/// Each batch is one transaction that takes the appenders' lock, deletes the
/// keys and appends a `retention_purge` entry naming them, so every
/// destruction is logged and a crash or Ctrl-C (`cancel`, checked between
/// batches) leaves only whole batches done; running again resumes.
/// `progress(done, total)` follows the keys.
pub async fn purge(
    conn: &mut Connection,
    ledger: &Ledger,
    now: i64,
    batch: u32,
    progress: &mut (dyn FnMut(u64, u64) + Send),
    cancel: &AtomicBool,
) -> Result<PurgeReport, LedgerServiceError> {
    let batch = i64::from(batch.clamp(1, 10_000));
    let total: u64 = due(conn, ledger, now).await?.values().sum();
    let mut report = PurgeReport::default();
    for kind in EntryKind::PERSONAL {
        let Some((days, cut)) = cutoff(ledger, kind, now) else {
            continue;
        };
        loop {
            if cancel.load(Ordering::Relaxed) {
                report.interrupted = true;
                return Ok(report);
            }
            let mut tx = sqin_store::begin_on(conn).await?;
            store::lock(&mut tx, ledger.backend()).await?;
            let keys: Vec<String> = store::data_keys_ended_by(&mut tx, kind.as_str(), cut, batch)
                .await?
                .into_iter()
                .map(|k| k.id)
                .collect();
            if keys.is_empty() {
                tx.commit().await?;
                break;
            }
            let destroyed = store::delete_data_keys(&mut tx, &keys).await?;
            ledger.forget_data_keys(ForgetKeys::All);
            let entry = append_locked(
                &mut tx,
                ledger,
                &Entry::new_uid()?,
                now,
                EntryKind::RetentionPurge,
                None,
                Body::Public(Housekeeping::RetentionPurge {
                    purged_kind: kind,
                    retention_days: days,
                    cutoff: cut,
                    keys,
                }),
            )
            .await?;
            tx.commit().await?;
            *report.keys.entry(kind).or_default() += destroyed;
            report.entries.push(entry);
            progress(report.total(), total.max(report.total()));
        }
    }
    Ok(report)
}

/// What shredding an account did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShredReport {
    /// The `account_shredded` entry.
    pub entry: EntryId,
    /// Keys destroyed.
    pub keys_destroyed: u64,
}

/// Crypto-shreds everything the ledger holds about a citizen whose account
/// is being deleted, in the caller's transaction (the one that deletes the
/// account), and logs it under their pseudonym.
pub async fn shred_citizen(
    conn: &mut Connection,
    ledger: &Ledger,
    citizen_id: &str,
    now: i64,
) -> Result<ShredReport, LedgerServiceError> {
    if citizen_id.is_empty() {
        return Err(LedgerServiceError::InvalidRequest(
            "citizen_id is empty".into(),
        ));
    }
    let subject = ledger.pseudonym(citizen_id);
    store::lock(conn, ledger.backend()).await?;
    let keys: Vec<String> = store::data_keys_for_subject(conn, &subject)
        .await?
        .into_iter()
        .map(|k| k.id)
        .collect();
    let keys_destroyed = store::delete_data_keys(conn, &keys).await?;
    ledger.forget_data_keys(ForgetKeys::Subject(&subject));
    let entry = append_locked(
        conn,
        ledger,
        &Entry::new_uid()?,
        now,
        EntryKind::AccountShredded,
        Some(subject),
        Body::Public(Housekeeping::AccountShredded { keys }),
    )
    .await?;
    Ok(ShredReport {
        entry,
        keys_destroyed,
    })
}
