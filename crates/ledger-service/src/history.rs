//! The citizen's own history: "who received my data", "who looked at my
//! file", their account's security events, and a download of everything,
//! each entry with an inclusion proof against a signed checkpoint.
//!
//! The server opens the sealed parts with the citizen's data keys; entries
//! whose key was destroyed (retention) are listed as such, without details.
//! Everything a citizen needs to check the proofs themselves is in the
//! response: the entry bytes, the checkpoint note and the verifier key. The
//! JSON shapes are the published schema of the download (docs/ledger.md).

use std::collections::{BTreeMap, HashMap};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::Serialize;
use sqin_ledger::{open, DataKey};
use sqin_store::ledger as store;
use sqin_store::Connection;

use crate::append::unwrap_row;
use crate::checkpoints::{covering, PublishedCheckpoint};
use crate::entry::Entry;
use crate::event::{Category, EntryKind, LedgerEvent};
use crate::tree::{inclusion_proofs, InclusionProof};
use crate::{Ledger, LedgerServiceError};

/// Most entries returned by one view; the response says when there were more
/// (narrow the dates).
pub const MAX_ENTRIES: usize = 10_000;

/// The `format` of a citizen's download.
pub const HISTORY_FORMAT: &str = "sqin-citizen-history/1";

/// Which entries to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryFilter {
    /// Only entries about this relying party.
    pub client_id: Option<String>,
    /// Only entries at or after this time (Unix seconds).
    pub from: Option<i64>,
    /// Only entries before this time (Unix seconds).
    pub to: Option<i64>,
    /// Only these parts of the view (all when empty).
    pub categories: Vec<Category>,
}

/// One entry as shown to its citizen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    /// Sequence number in the log.
    pub seq: u64,
    /// When it was recorded (RFC 3339, UTC).
    pub time: String,
    /// The same, in Unix seconds.
    pub time_unix: i64,
    /// What happened.
    pub kind: EntryKind,
    /// Which part of the view it belongs to.
    pub category: Category,
    /// The opened personal part; absent when `shredded`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<LedgerEvent>,
    /// Whether the details were destroyed at the end of their retention.
    pub shredded: bool,
    /// The exact entry bytes (base64): what the leaf hash commits to.
    pub entry: String,
    /// Proof that the entry is in the log the checkpoint signs.
    pub proof: InclusionProof,
}

/// The checkpoint proofs refer to, with what is needed to check it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProofContext {
    /// The log's origin.
    pub origin: String,
    /// The log's verifier key.
    pub vkey: String,
    /// The signed checkpoint every proof in the response is against.
    pub checkpoint: PublishedCheckpoint,
}

/// A citizen's download of their own history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CitizenHistory {
    /// [`HISTORY_FORMAT`].
    pub format: &'static str,
    /// When the download was made (RFC 3339).
    pub generated_at: String,
    /// Checkpoint and key.
    #[serde(flatten)]
    pub context: ProofContext,
    /// Entries, oldest first.
    pub entries: Vec<HistoryEntry>,
    /// Whether more entries matched than [`MAX_ENTRIES`].
    pub truncated: bool,
}

/// A consent as its history tells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentView {
    /// The OpenID Provider's consent id.
    pub consent_id: String,
    /// `active`, `revoked`, `expired`, or `unknown` (details destroyed).
    pub status: &'static str,
    /// The grant, revocation and expiry entries, oldest first.
    pub entries: Vec<HistoryEntry>,
}

/// One relying party and what it received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecipientView {
    /// The relying party's client id.
    pub client_id: String,
    /// Its registered name, if it is still registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its registered purpose, if it is still registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Consents, newest first.
    pub consents: Vec<ConsentView>,
    /// Disclosures, newest first.
    pub disclosures: Vec<HistoryEntry>,
    /// Sign-ins to this relying party, newest first.
    pub sign_ins: Vec<HistoryEntry>,
}

/// "Who received my data".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecipientsView {
    /// Checkpoint and key.
    #[serde(flatten)]
    pub context: ProofContext,
    /// One per relying party, most recent activity first.
    pub recipients: Vec<RecipientView>,
    /// Entries whose details were destroyed, so their recipient is unknown.
    pub shredded: Vec<HistoryEntry>,
    /// Whether more entries matched than [`MAX_ENTRIES`].
    pub truncated: bool,
}

/// A flat list of entries: "who looked at my file", security events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntriesView {
    /// Checkpoint and key.
    #[serde(flatten)]
    pub context: ProofContext,
    /// Entries, newest first.
    pub entries: Vec<HistoryEntry>,
    /// Whether more entries matched than [`MAX_ENTRIES`].
    pub truncated: bool,
}

/// RFC 3339 in UTC, or the number when out of range.
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

/// Loads, opens, filters and proves a citizen's entries (oldest first).
async fn load(
    conn: &mut Connection,
    ledger: &Ledger,
    citizen_id: &str,
    filter: &HistoryFilter,
    now: i64,
) -> Result<(ProofContext, Vec<HistoryEntry>, bool), LedgerServiceError> {
    // Entries still queued get their place first, so the view is complete
    // and every entry in it has a proof.
    crate::append::sequence(conn, ledger).await?;
    let subject = ledger.pseudonym(citizen_id);
    let limit = i64::try_from(MAX_ENTRIES + 1).unwrap_or(i64::MAX);
    let mut rows =
        store::entries_for_subject(conn, &subject, filter.from, filter.to, limit).await?;
    let truncated = rows.len() > MAX_ENTRIES;
    rows.truncate(MAX_ENTRIES);
    let mut keys: HashMap<String, DataKey> = HashMap::new();
    for row in store::data_keys_for_subject(conn, &subject).await? {
        keys.insert(row.id.clone(), unwrap_row(ledger, &row)?);
    }
    let mut shown = Vec::with_capacity(rows.len());
    for row in rows {
        let entry = Entry::decode(&row.entry)
            .map_err(|e| LedgerServiceError::Corrupt(format!("entry {}: {e}", row.seq)))?;
        if entry.subject.as_deref() != Some(subject.as_str())
            || i64::try_from(entry.seq).ok() != Some(row.seq)
        {
            return Err(LedgerServiceError::Corrupt(format!(
                "entry {} is indexed under the wrong citizen or position",
                row.seq
            )));
        }
        let category = entry.kind.category();
        if !filter.categories.is_empty() && !filter.categories.contains(&category) {
            continue;
        }
        let details = open_details(&entry, &keys)?;
        if let Some(wanted) = &filter.client_id {
            if details.as_ref().and_then(LedgerEvent::client_id) != Some(wanted.as_str()) {
                continue;
            }
        }
        shown.push((entry, details, row.entry));
    }
    let max_seq = shown.iter().map(|(e, _, _)| e.seq).max();
    // With the witnesses' cosignatures it has, so the download proves the
    // citizen saw the same log as they did.
    let checkpoint = covering(conn, ledger, max_seq, now).await?;
    let checkpoint = crate::checkpoints::with_cosignatures(conn, checkpoint).await?;
    let seqs: Vec<u64> = shown.iter().map(|(e, _, _)| e.seq).collect();
    let proofs = inclusion_proofs(conn, &seqs, checkpoint.tree_size).await?;
    let entries = shown
        .into_iter()
        .zip(proofs)
        .map(|((entry, details, bytes), proof)| HistoryEntry {
            seq: entry.seq,
            time: rfc3339(entry.time),
            time_unix: entry.time,
            kind: entry.kind,
            category: entry.kind.category(),
            shredded: entry.kind.is_personal() && details.is_none(),
            details,
            entry: B64.encode(bytes),
            proof,
        })
        .collect();
    Ok((
        ProofContext {
            origin: ledger.origin().to_owned(),
            vkey: ledger.vkey().to_owned(),
            checkpoint,
        },
        entries,
        truncated,
    ))
}

/// Opens an entry's sealed part; `None` when its key was destroyed.
pub(crate) fn open_details(
    entry: &Entry,
    keys: &HashMap<String, DataKey>,
) -> Result<Option<LedgerEvent>, LedgerServiceError> {
    let (Some(key_id), Some(sealed)) = (&entry.key, entry.sealed_bytes()) else {
        return Ok(None);
    };
    let Some(key) = keys.get(key_id) else {
        return Ok(None);
    };
    let sealed =
        sealed.map_err(|e| LedgerServiceError::Corrupt(format!("entry {}: {e}", entry.seq)))?;
    let aad = Entry::aad(
        &entry.uid,
        entry.time,
        entry.kind,
        entry.subject.as_deref().unwrap_or_default(),
        key_id,
    );
    let plain = open(key, &sealed, &aad).map_err(|_| {
        LedgerServiceError::Corrupt(format!(
            "entry {}: its sealed part does not open",
            entry.seq
        ))
    })?;
    let event: LedgerEvent = serde_json::from_slice(&plain)?;
    if event.kind() != entry.kind {
        return Err(LedgerServiceError::Corrupt(format!(
            "entry {}: sealed kind differs from the entry's",
            entry.seq
        )));
    }
    Ok(Some(event))
}

/// Everything the ledger holds about the citizen, with proofs: the JSON
/// download (Quebec s. 84: a structured, commonly used format).
pub async fn download(
    conn: &mut Connection,
    ledger: &Ledger,
    citizen_id: &str,
    filter: &HistoryFilter,
    now: i64,
) -> Result<CitizenHistory, LedgerServiceError> {
    let (context, entries, truncated) = load(conn, ledger, citizen_id, filter, now).await?;
    Ok(CitizenHistory {
        format: HISTORY_FORMAT,
        generated_at: rfc3339(now),
        context,
        entries,
        truncated,
    })
}

/// "Who looked at my file" (staff accesses) or the security events: the
/// entries of one category, newest first.
pub async fn entries_of(
    conn: &mut Connection,
    ledger: &Ledger,
    citizen_id: &str,
    category: Category,
    filter: &HistoryFilter,
    now: i64,
) -> Result<EntriesView, LedgerServiceError> {
    let filter = HistoryFilter {
        categories: vec![category],
        ..filter.clone()
    };
    let (context, mut entries, truncated) = load(conn, ledger, citizen_id, &filter, now).await?;
    entries.reverse();
    Ok(EntriesView {
        context,
        entries,
        truncated,
    })
}

/// "Who received my data": per relying party, its consents with their
/// status, the disclosures and the sign-ins, newest first.
pub async fn recipients(
    conn: &mut Connection,
    ledger: &Ledger,
    citizen_id: &str,
    filter: &HistoryFilter,
    now: i64,
) -> Result<RecipientsView, LedgerServiceError> {
    let filter = HistoryFilter {
        categories: vec![Category::Recipients, Category::Security],
        ..filter.clone()
    };
    let (context, entries, truncated) = load(conn, ledger, citizen_id, &filter, now).await?;
    let mut by_client: BTreeMap<String, (u64, Vec<HistoryEntry>)> = BTreeMap::new();
    let mut shredded = Vec::new();
    for entry in entries {
        match entry.details.as_ref().and_then(LedgerEvent::client_id) {
            Some(client) => {
                let slot = by_client.entry(client.to_owned()).or_default();
                slot.0 = slot.0.max(entry.seq);
                slot.1.push(entry);
            }
            None if entry.shredded && entry.category == Category::Recipients => {
                shredded.push(entry)
            }
            None => {}
        }
    }
    let mut recipients = Vec::with_capacity(by_client.len());
    for (client_id, (last_seq, entries)) in by_client {
        let registered = sqin_store::clients::get(conn, &client_id).await?;
        recipients.push((last_seq, recipient(client_id, registered, entries, now)));
    }
    recipients.sort_by_key(|r| std::cmp::Reverse(r.0));
    shredded.reverse();
    Ok(RecipientsView {
        context,
        recipients: recipients.into_iter().map(|(_, r)| r).collect(),
        shredded,
        truncated,
    })
}

fn recipient(
    client_id: String,
    registered: Option<sqin_store::clients::ClientRecord>,
    entries: Vec<HistoryEntry>,
    now: i64,
) -> RecipientView {
    let mut consents: BTreeMap<String, Vec<HistoryEntry>> = BTreeMap::new();
    let mut disclosures = Vec::new();
    let mut sign_ins = Vec::new();
    for entry in entries {
        match (&entry.details, entry.kind) {
            (Some(_), EntryKind::Disclosure) => disclosures.push(entry),
            (Some(_), EntryKind::SignIn) => sign_ins.push(entry),
            (Some(details), _) => {
                if let Some(id) = details.consent_id() {
                    consents.entry(id.to_owned()).or_default().push(entry);
                }
            }
            (None, _) => {}
        }
    }
    let mut consents: Vec<ConsentView> = consents
        .into_iter()
        .map(|(consent_id, entries)| ConsentView {
            status: consent_status(&entries, now),
            consent_id,
            entries,
        })
        .collect();
    consents.sort_by_key(|c| std::cmp::Reverse(c.entries.first().map_or(0, |e| e.seq)));
    disclosures.reverse();
    sign_ins.reverse();
    RecipientView {
        client_id,
        name: registered.as_ref().map(|c| c.name.clone()),
        purpose: registered.map(|c| c.purpose),
        consents,
        disclosures,
        sign_ins,
    }
}

fn consent_status(entries: &[HistoryEntry], now: i64) -> &'static str {
    let mut status = "unknown";
    for entry in entries {
        status = match &entry.details {
            Some(LedgerEvent::ConsentGranted { expires_at, .. }) => {
                if *expires_at <= now {
                    "expired"
                } else {
                    "active"
                }
            }
            Some(LedgerEvent::ConsentRevoked { .. }) => "revoked",
            Some(LedgerEvent::ConsentExpired { .. }) => "expired",
            _ => status,
        };
    }
    status
}
