//! What was done to the service itself, for a period, with proofs: every
//! governance entry (relying parties registered, edited, approved,
//! suspended; keys rotated; staff invited and granted roles; retention
//! runs; initial access tokens), each with its inclusion proof in a signed
//! checkpoint, so that a reviewer checks them with the published verifier
//! key alone and sees no personal data (there is none in these entries).
use base64::Engine;
use serde::{Deserialize, Serialize};
use sqin_ledger::{hash::leaf_hash, tree::verify_inclusion, EcdsaNoteVerifier, SignedCheckpoint};
use sqin_store::Connection;

use crate::entry::Entry;
use crate::event::{EntryKind, Housekeeping};
use crate::{Ledger, LedgerServiceError};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// One governance entry and its proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvenEntry {
    /// Its place in the log (leaf index).
    pub seq: u64,
    /// The entry exactly as logged (its leaf hash is over these bytes).
    pub entry: String,
    /// Its audit path in the checkpoint's tree, base64, sibling first.
    pub inclusion_path: Vec<String>,
}

/// The governance entries of `[from, to)` and the checkpoint they are in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GovernanceReport {
    /// The log's origin (the checkpoint must name it).
    pub origin: String,
    /// The period, Unix seconds, `to` excluded.
    pub from: i64,
    /// End of the period (excluded).
    pub to: i64,
    /// The signed checkpoint note every proof leads to.
    pub checkpoint: String,
    /// The governance entries of the period, oldest first.
    pub entries: Vec<ProvenEntry>,
}

/// The report, against the latest signed checkpoint (sign one first for
/// entries written since: only entries it covers are listed).
pub async fn report(
    conn: &mut Connection,
    ledger: &Ledger,
    from: i64,
    to: i64,
) -> Result<GovernanceReport, LedgerServiceError> {
    if from >= to {
        return Err(LedgerServiceError::InvalidRequest(
            "the period must end after it starts".into(),
        ));
    }
    let checkpoint = crate::checkpoints::latest(conn).await?;
    let rows = sqin_store::ledger::entries_of_kind(conn, EntryKind::Governance.as_str()).await?;
    let chosen: Vec<_> = rows
        .into_iter()
        .filter(|r| r.created_at >= from && r.created_at < to)
        .filter(|r| u64::try_from(r.seq).is_ok_and(|s| s < checkpoint.tree_size))
        .collect();
    let seqs: Vec<u64> = chosen
        .iter()
        .filter_map(|r| u64::try_from(r.seq).ok())
        .collect();
    let proofs = crate::tree::inclusion_proofs(conn, &seqs, checkpoint.tree_size).await?;
    let entries = chosen
        .iter()
        .zip(proofs)
        .map(|(row, proof)| {
            Ok(ProvenEntry {
                seq: proof.leaf_index,
                entry: String::from_utf8(row.entry.clone()).map_err(|_| {
                    LedgerServiceError::Corrupt(format!("entry {} is not UTF-8", row.seq))
                })?,
                inclusion_path: proof.inclusion_path.iter().map(|h| B64.encode(h)).collect(),
            })
        })
        .collect::<Result<Vec<_>, LedgerServiceError>>()?;
    Ok(GovernanceReport {
        origin: ledger.origin().to_owned(),
        from,
        to,
        checkpoint: checkpoint.note,
        entries,
    })
}

/// One governance act, as a verified report states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAct {
    /// Its place in the log.
    pub seq: u64,
    /// When it was logged (Unix seconds).
    pub time: i64,
    /// Who: a staff badge, the operator, a ministry, or sqin itself.
    pub actor: String,
    /// What was done (`client.registered`, `keys.rotated`, ...).
    pub what: String,
    /// Its public details (field names and non-secret values).
    pub details: std::collections::BTreeMap<String, String>,
}

/// Checks a report with the log's verifier key: the checkpoint's
/// signature, each entry's inclusion in it, that each is a governance
/// entry of the period; returns the acts. Any failure names the entry.
pub fn verify_report(report: &GovernanceReport, vkey: &str) -> Result<Vec<VerifiedAct>, String> {
    let verifier = EcdsaNoteVerifier::from_vkey(vkey).map_err(|e| e.to_string())?;
    let note = SignedCheckpoint::parse(&report.checkpoint).map_err(|e| e.to_string())?;
    let checkpoint = note
        .verify(&report.origin, &verifier)
        .map_err(|e| format!("the checkpoint does not verify: {e}"))?;
    let mut acts = Vec::with_capacity(report.entries.len());
    for proven in &report.entries {
        let at = |m: &str| format!("entry {}: {m}", proven.seq);
        let path = proven
            .inclusion_path
            .iter()
            .map(|h| {
                B64.decode(h)
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| at("a proof hash is not 32 bytes of base64"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        verify_inclusion(
            &leaf_hash(proven.entry.as_bytes()),
            proven.seq,
            checkpoint.size,
            &path,
            &checkpoint.root,
        )
        .map_err(|e| at(&format!("not in the checkpoint: {e}")))?;
        let entry = Entry::decode(proven.entry.as_bytes()).map_err(|e| at(&e))?;
        if entry.seq != proven.seq {
            return Err(at("its sequence number differs from the proof's"));
        }
        if entry.time < report.from || entry.time >= report.to {
            return Err(at("it is outside the report's period"));
        }
        let Some(Housekeeping::Governance {
            actor,
            what,
            details,
        }) = entry.details
        else {
            return Err(at("it is not a governance entry"));
        };
        acts.push(VerifiedAct {
            seq: entry.seq,
            time: entry.time,
            actor,
            what,
            details,
        });
    }
    Ok(acts)
}
