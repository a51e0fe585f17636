//! The export a privacy commission verifies: JSON Lines, one object per
//! line, in this order:
//!
//! ```text
//! {"type":"header","format":"sqin-ledger-export/1","origin":"…","vkey":"…","tree_size":N,"checkpoints":C,"exported_at":T}
//! {"type":"checkpoint","id":1,"tree_size":0,"root_hash":"…","created_at":T,"note":"…"}     (C lines)
//! {"type":"entry","seq":0,"entry":"<base64 of the entry bytes>","leaf_hash":"<base64>"}     (N lines)
//! {"type":"end","entries":N}
//! ```
//!
//! It holds what the leaves commit to and nothing else: pseudonyms, kinds,
//! times and sealed ciphertexts, never a name, a claim value or a key. The
//! snapshot is consistent: checkpoints are read first, then exactly the
//! entries that existed at that moment (all of which they cover at most).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sqin_store::ledger as store;
use sqin_store::Connection;

use crate::{Ledger, LedgerServiceError};

/// The `format` of the header line.
pub const EXPORT_FORMAT: &str = "sqin-ledger-export/1";

const BATCH: i64 = 5_000;

/// One line of an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ExportLine {
    /// First line.
    Header {
        /// [`EXPORT_FORMAT`].
        format: String,
        /// The log's origin.
        origin: String,
        /// The log's verifier key, as the exporter knew it (pin your own).
        vkey: String,
        /// Number of entry lines.
        tree_size: u64,
        /// Number of checkpoint lines.
        checkpoints: u64,
        /// When the export was made.
        exported_at: i64,
    },
    /// A signed checkpoint.
    Checkpoint {
        /// Its position in the history.
        id: i64,
        /// Its size.
        tree_size: u64,
        /// Its root, base64.
        root_hash: String,
        /// When it was signed.
        created_at: i64,
        /// The signed note.
        note: String,
    },
    /// A checkpoint key rotation, declared before the entries so that a
    /// verifier knows every key up front; the entry at `seq` must say the
    /// same.
    KeyRotation {
        /// The rotation entry's sequence number.
        seq: u64,
        /// The key it replaced.
        previous_vkey: String,
        /// The key that signs from `seq + 1` on.
        vkey: String,
    },
    /// A leaf.
    Entry {
        /// Sequence number.
        seq: u64,
        /// The entry bytes, base64.
        entry: String,
        /// The stored leaf hash, base64.
        leaf_hash: String,
    },
    /// Last line.
    End {
        /// Number of entry lines.
        entries: u64,
    },
}

pub(crate) fn b64_decode(text: &str) -> Result<Vec<u8>, String> {
    B64.decode(text).map_err(|e| e.to_string())
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ExportSummary {
    /// Entries written.
    pub entries: u64,
    /// Checkpoints written.
    pub checkpoints: u64,
}

fn write_line(out: &mut dyn Write, line: &ExportLine) -> Result<(), LedgerServiceError> {
    serde_json::to_writer(&mut *out, line)?;
    out.write_all(b"\n")
        .map_err(|e| LedgerServiceError::Export(e.to_string()))
}

/// Writes the whole log to `out`. `progress(done, total)` is called after
/// each batch; setting `cancel` stops at the next one (the caller discards
/// the partial output).
pub async fn export(
    conn: &mut Connection,
    ledger: &Ledger,
    out: &mut (dyn Write + Send),
    now: i64,
    progress: &mut (dyn FnMut(u64, u64) + Send),
    cancel: &AtomicBool,
) -> Result<ExportSummary, LedgerServiceError> {
    let mut checkpoints = Vec::new();
    let mut after = 0;
    loop {
        let page = crate::checkpoints::history(conn, after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        checkpoints.extend(page);
    }
    // Entries that exist now; every checkpoint read above covers at most these.
    let total = crate::tree::tree_size(conn).await?;
    write_line(
        out,
        &ExportLine::Header {
            format: EXPORT_FORMAT.into(),
            origin: ledger.origin().to_owned(),
            vkey: ledger.vkey(),
            tree_size: total,
            checkpoints: checkpoints.len() as u64,
            exported_at: now,
        },
    )?;
    for cp in &checkpoints {
        write_line(
            out,
            &ExportLine::Checkpoint {
                id: cp.id,
                tree_size: cp.tree_size,
                root_hash: cp.root_b64(),
                created_at: cp.created_at,
                note: cp.note.clone(),
            },
        )?;
    }
    for row in store::entries_of_kind(conn, crate::event::EntryKind::CheckpointKeyRotated.as_str())
        .await?
        .iter()
        .filter(|r| u64::try_from(r.seq).is_ok_and(|s| s < total))
    {
        let r = crate::keychain::Rotation::from_entry(&row.entry).ok_or_else(|| {
            LedgerServiceError::Corrupt(format!("entry {} is not a key rotation", row.seq))
        })?;
        write_line(
            out,
            &ExportLine::KeyRotation {
                seq: r.seq,
                previous_vkey: r.previous_vkey,
                vkey: r.vkey,
            },
        )?;
    }
    let mut written = 0u64;
    let mut next = 0i64;
    let end = i64::try_from(total).unwrap_or(i64::MAX);
    while next < end {
        if cancel.load(Ordering::Relaxed) {
            return Err(LedgerServiceError::Cancelled);
        }
        let rows = store::entries_from(conn, next, BATCH.min(end - next)).await?;
        let Some(last) = rows.last() else { break };
        next = last.seq.saturating_add(1);
        for row in rows.iter().filter(|r| r.seq < end) {
            // Exported as stored, gaps and all: the verifier judges.
            let seq = u64::try_from(row.seq).unwrap_or(u64::MAX);
            write_line(
                out,
                &ExportLine::Entry {
                    seq,
                    entry: B64.encode(&row.entry),
                    leaf_hash: B64.encode(&row.leaf_hash),
                },
            )?;
            written += 1;
        }
        progress(written, total);
    }
    write_line(out, &ExportLine::End { entries: written })?;
    out.flush()
        .map_err(|e| LedgerServiceError::Export(e.to_string()))?;
    Ok(ExportSummary {
        entries: written,
        checkpoints: checkpoints.len() as u64,
    })
}
