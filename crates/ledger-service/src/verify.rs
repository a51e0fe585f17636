//! Verifying the whole log: from the database (`sqin ledger verify`) or from
//! an export on a reviewer's machine (`sqin ledger verify --export FILE`).
//!
//! Both rebuild the tree from the entry bytes with the core's streaming
//! [`LogVerifier`] and check it against every signed checkpoint (all of which
//! must verify under the log key) plus any checkpoint the reviewer brings.
//! On top of the core's checks, each entry's own `seq` field must match its
//! position (a swapped pair is named as such), each entry must parse, and, on
//! the database, every stored tree node must be the hash the entries give
//! (so the proofs the server hands out are true). Verification stops at the
//! first problem and names the entry, node or checkpoint.

use std::collections::HashMap;
use std::io::BufRead;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use sqin_ledger::{Frontier, Hash, LedgerError, LogVerifier, NodeId, SignedCheckpoint};
use sqin_store::ledger as store;
use sqin_store::Connection;

use crate::entry::Entry;
use crate::event::EntryKind;
use crate::export::{ExportLine, EXPORT_FORMAT};
use crate::keychain::{KeyChain, Rotation};
use crate::tree::b64_hash;
use crate::{Ledger, LedgerServiceError, VerificationFailure};

/// Entries read per database round trip.
const BATCH: i64 = 5_000;

/// What the reviewer brings.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// The log's verifier key as published (`/ledger/vkey`). Without it the
    /// key is taken from the data being verified, which proves consistency
    /// but not authenticity: pin it.
    pub vkey: Option<String>,
    /// Checkpoint notes obtained independently (e.g. fetched from
    /// `/ledger/checkpoint` last week); the log must be consistent with each.
    pub checkpoints: Vec<String>,
    /// The expected origin, for an export (defaults to the export's own).
    pub origin: Option<String>,
    /// Witness verifier keys (C2SP tlog-cosignature): every checkpoint the
    /// reviewer brings must carry a valid cosignature from each, so the log
    /// verified is the one those witnesses saw, not a fork shown only to
    /// this reviewer.
    pub witnesses: Vec<String>,
}

/// The outcome of a successful verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// The log's origin.
    pub origin: String,
    /// Entries checked (the verified tree size).
    pub entries: u64,
    /// Root of all of them, base64.
    #[serde(serialize_with = "b64_hash")]
    pub root_hash: Hash,
    /// Signed checkpoints checked, stored and brought.
    pub checkpoints_verified: usize,
    /// Size of the largest checkpoint; entries past it are covered by no
    /// signature yet.
    pub latest_checkpoint_size: u64,
    /// Whether the verifier key was pinned by the caller rather than taken
    /// from the data.
    pub key_pinned: bool,
    /// Stored tree nodes compared with the rebuilt tree (database only).
    pub nodes_checked: u64,
    /// Entries committed but still waiting for the sequencer (database
    /// only): not in the tree yet, so not covered by this verification.
    pub queued: u64,
}

/// The per-entry checks shared by both modes.
struct Checker {
    log: LogVerifier,
    /// A second frontier whose new nodes are compared with the stored ones.
    shadow: Frontier,
    nodes_checked: u64,
    /// The key rotations the checkpoints were verified with, each to be
    /// found as an entry at its place in the stream.
    rotations: Vec<Rotation>,
    next_rotation: usize,
}

impl Checker {
    fn new(
        checkpoints: &[SignedCheckpoint],
        origin: &str,
        chain: &KeyChain,
    ) -> Result<Self, LedgerServiceError> {
        Ok(Self {
            log: LogVerifier::from_verified(chain.verify_all(checkpoints, origin)?)
                .map_err(VerificationFailure::Log)?,
            shadow: Frontier::new(),
            nodes_checked: 0,
            rotations: chain.rotations().to_vec(),
            next_rotation: 0,
        })
    }

    /// A rotation entry must be the next declared rotation, and a declared
    /// rotation's place must hold its entry.
    fn check_rotation(&mut self, seq: u64, entry: &[u8]) -> Result<(), VerificationFailure> {
        let found = Rotation::from_entry(entry);
        let expected = self.rotations.get(self.next_rotation);
        match (found, expected) {
            (Some(found), Some(expected)) if found == *expected => {
                self.next_rotation += 1;
                Ok(())
            }
            (Some(_), _) => Err(VerificationFailure::KeyChain(format!(
                "entry {seq} rotates the checkpoint key, but the checkpoints were verified without that rotation"
            ))),
            (None, Some(expected)) if expected.seq == seq => Err(VerificationFailure::KeyChain(
                format!("entry {seq} was declared a key rotation but is not one"),
            )),
            (None, _) => Ok(()),
        }
    }

    fn finish(self) -> Result<sqin_ledger::VerifyReport, VerificationFailure> {
        if let Some(missing) = self.rotations.get(self.next_rotation) {
            return Err(VerificationFailure::KeyChain(format!(
                "the key rotation declared at entry {} is not in the log",
                missing.seq
            )));
        }
        self.log.finish().map_err(VerificationFailure::Log)
    }

    fn checked(&self) -> u64 {
        self.log.entries_checked()
    }

    fn push(
        &mut self,
        seq: u64,
        entry: &[u8],
        stored_leaf: &Hash,
        nodes: Option<&HashMap<NodeId, Hash>>,
    ) -> Result<(), VerificationFailure> {
        let parsed = Entry::decode(entry);
        if let Ok(e) = &parsed {
            if e.seq != seq {
                return Err(LedgerError::EntriesReordered {
                    expected: seq,
                    found: e.seq,
                }
                .into());
            }
        }
        let before = self.log.entries_checked();
        self.log.push(seq, entry, stored_leaf)?;
        if self.log.entries_checked() == before {
            // A jump in sequence numbers: the core reports it on the next row.
            return Ok(());
        }
        if let Err(reason) = parsed {
            return Err(VerificationFailure::EntryMalformed { seq, reason });
        }
        self.check_rotation(seq, entry)?;
        if let Some(stored) = nodes {
            let mut made = Vec::with_capacity(8);
            self.shadow
                .append_with(*stored_leaf, |id, hash| made.push((id, hash)))?;
            for (id, hash) in made {
                self.nodes_checked += 1;
                match stored.get(&id) {
                    None => {
                        return Err(VerificationFailure::NodeMissing {
                            level: id.level,
                            index: id.index,
                        })
                    }
                    Some(found) if *found != hash => {
                        let width = 1u64 << id.level;
                        return Err(VerificationFailure::NodeMismatch {
                            level: id.level,
                            index: id.index,
                            first_entry: id.index.saturating_mul(width),
                            width,
                        });
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(())
    }
}

/// The key the caller pinned, or `fallback` (which proves consistency, not
/// authenticity), and whether it was pinned.
fn pinned_or(opts: &VerifyOptions, fallback: &str) -> (String, bool) {
    match &opts.vkey {
        Some(vkey) => (vkey.trim().to_owned(), true),
        None => (fallback.to_owned(), false),
    }
}

/// Every brought checkpoint carries a valid cosignature from each witness.
fn require_cosigned(
    opts: &VerifyOptions,
    brought: &[SignedCheckpoint],
    origin: &str,
) -> Result<(), LedgerServiceError> {
    if opts.witnesses.is_empty() {
        return Ok(());
    }
    if brought.is_empty() {
        return Err(VerificationFailure::Witness(
            "witnesses can only vouch for a checkpoint you bring (--checkpoint)".into(),
        )
        .into());
    }
    for vkey in &opts.witnesses {
        let witness = sqin_ledger::CosignatureVerifier::from_vkey(vkey)?;
        for note in brought {
            note.verify(origin, &witness).map_err(|e| {
                VerificationFailure::Witness(format!(
                    "the checkpoint of size {} is not cosigned by {}: {e}",
                    note.checkpoint().size,
                    witness.name()
                ))
            })?;
        }
    }
    Ok(())
}

fn parse_brought(opts: &VerifyOptions) -> Result<Vec<SignedCheckpoint>, LedgerServiceError> {
    opts.checkpoints
        .iter()
        .map(|note| SignedCheckpoint::parse(note).map_err(LedgerServiceError::Ledger))
        .collect()
}

fn hash32(bytes: &[u8], seq: u64) -> Result<Hash, VerificationFailure> {
    bytes
        .try_into()
        .map_err(|_| VerificationFailure::EntryMalformed {
            seq,
            reason: "stored leaf hash is not 32 bytes".into(),
        })
}

/// Verifies the log in the database: every entry, every stored node, every
/// stored checkpoint, and the checkpoints in `opts`. `progress(done, total)`
/// is called after each batch; setting `cancel` stops at the next batch.
pub async fn verify_store(
    conn: &mut Connection,
    ledger: &Ledger,
    opts: &VerifyOptions,
    progress: &mut (dyn FnMut(u64, u64) + Send),
    cancel: &AtomicBool,
) -> Result<VerifyReport, LedgerServiceError> {
    let origin = store::origin(conn)
        .await?
        .ok_or(LedgerServiceError::NotFound("ledger origin"))?;
    // Trust starts at the pinned key (or, unpinned, the log's first key) and
    // follows the rotations recorded in the log.
    let oldest = ledger
        .vkeys()
        .into_iter()
        .next()
        .unwrap_or_else(|| ledger.vkey());
    let (pinned, key_pinned) = pinned_or(opts, &oldest);
    let rotations = store::entries_of_kind(conn, EntryKind::CheckpointKeyRotated.as_str())
        .await?
        .iter()
        .map(|row| {
            Rotation::from_entry(&row.entry).ok_or_else(|| VerificationFailure::EntryMalformed {
                seq: u64::try_from(row.seq).unwrap_or(0),
                reason: "a checkpoint_key_rotated row that is not a key rotation".into(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let chain = KeyChain::new(&pinned, &rotations)?;
    // Stored checkpoints: the row must say what its signed note says.
    let mut checkpoints = parse_brought(opts)?;
    require_cosigned(opts, &checkpoints, &origin)?;
    let mut after = 0;
    loop {
        let page = store::checkpoints_after(conn, after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for row in page {
            let damaged =
                |reason: String| VerificationFailure::CheckpointDamaged { id: row.id, reason };
            let note = SignedCheckpoint::parse(&row.note).map_err(|e| damaged(e.to_string()))?;
            let body = note.checkpoint();
            if i64::try_from(body.size).ok() != Some(row.tree_size)
                || body.root.as_slice() != row.root_hash.as_slice()
            {
                return Err(
                    damaged("its size or root column differs from its signed note".into()).into(),
                );
            }
            checkpoints.push(note);
        }
    }
    let latest_checkpoint_size = checkpoints
        .iter()
        .map(|c| c.checkpoint().size)
        .max()
        .unwrap_or(0);
    let mut checker = Checker::new(&checkpoints, &origin, &chain)?;
    let total = u64::try_from(store::size(conn).await?).unwrap_or(0);
    let mut next: i64 = 0;
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(LedgerServiceError::Cancelled);
        }
        let rows = store::entries_from(conn, next, BATCH).await?;
        let Some(last) = rows.last() else { break };
        next = last.seq.saturating_add(1);
        let first = checker.checked();
        let end = first.saturating_add(rows.len() as u64);
        let nodes = nodes_completed_in(conn, first, end).await?;
        for row in &rows {
            let seq = u64::try_from(row.seq).map_err(|_| VerificationFailure::EntryMalformed {
                seq: 0,
                reason: format!("negative sequence number {}", row.seq),
            })?;
            let leaf = hash32(&row.leaf_hash, seq)?;
            checker.push(seq, &row.entry, &leaf, Some(&nodes))?;
        }
        progress(checker.checked(), total.max(checker.checked()));
    }
    let nodes_checked = checker.nodes_checked;
    let report = checker.finish()?;
    let queued = u64::try_from(store::count_queued(conn).await?).unwrap_or(0);
    Ok(VerifyReport {
        origin,
        entries: report.entries,
        root_hash: report.root,
        checkpoints_verified: checkpoints.len(),
        latest_checkpoint_size,
        key_pinned,
        nodes_checked,
        queued,
    })
}

/// The stored nodes that appending entries `[first, end)` completes: for
/// each level, node `i` is completed by entry `(i + 1) * 2^level - 1`.
async fn nodes_completed_in(
    conn: &mut Connection,
    first: u64,
    end: u64,
) -> Result<HashMap<NodeId, Hash>, LedgerServiceError> {
    let mut out = HashMap::new();
    for level in 0u8..64 {
        let lo = first >> level;
        let hi = end >> level;
        if hi == 0 {
            break;
        }
        if hi <= lo {
            continue;
        }
        let (Ok(lo), Ok(hi)) = (i64::try_from(lo), i64::try_from(hi - 1)) else {
            break;
        };
        for row in store::nodes_in_range(conn, i64::from(level), lo, hi).await? {
            let idx = u64::try_from(row.idx).unwrap_or(u64::MAX);
            out.insert(NodeId::new(level, idx), row.hash);
        }
    }
    Ok(out)
}

/// Verifies an export (see [`crate::export`]) read from `reader`, without a
/// database or any key but the verifier key. `progress(done, total)` is
/// called every few thousand entries; setting `cancel` stops there.
pub fn verify_export(
    reader: impl BufRead,
    opts: &VerifyOptions,
    progress: &mut dyn FnMut(u64, u64),
    cancel: &AtomicBool,
) -> Result<VerifyReport, LedgerServiceError> {
    let bad = |line: usize, msg: &str| LedgerServiceError::Export(format!("line {line}: {msg}"));
    let mut lines = reader.lines().enumerate();
    let (origin, vkey, total) = match lines.next() {
        Some((_, Ok(text))) => match serde_json::from_str::<ExportLine>(&text) {
            Ok(ExportLine::Header {
                format,
                origin,
                vkey,
                tree_size,
                ..
            }) if format == EXPORT_FORMAT => (origin, vkey, tree_size),
            Ok(ExportLine::Header { format, .. }) => {
                return Err(bad(1, &format!("unsupported export format {format:?}")))
            }
            _ => return Err(bad(1, "the first line must be the export header")),
        },
        Some((_, Err(e))) => return Err(bad(1, &e.to_string())),
        None => return Err(LedgerServiceError::Export("the export is empty".into())),
    };
    let origin = match &opts.origin {
        Some(expected) if *expected != origin => {
            return Err(LedgerServiceError::Export(format!(
                "the export is of log {origin:?}, not {expected:?}"
            )))
        }
        _ => origin,
    };
    let (pinned, key_pinned) = pinned_or(opts, &vkey);
    let mut checkpoints = parse_brought(opts)?;
    require_cosigned(opts, &checkpoints, &origin)?;
    let mut rotations = Vec::new();
    let mut checker: Option<Checker> = None;
    let mut ended = None;
    for (index, line) in lines {
        let number = index + 1;
        let text = line.map_err(|e| bad(number, &e.to_string()))?;
        if ended.is_some() {
            return Err(bad(number, "content after the end line"));
        }
        let parsed: ExportLine =
            serde_json::from_str(&text).map_err(|e| bad(number, &e.to_string()))?;
        match parsed {
            ExportLine::Header { .. } => return Err(bad(number, "a second header")),
            ExportLine::Checkpoint { note, .. } => {
                if checker.is_some() {
                    return Err(bad(number, "checkpoints must come before entries"));
                }
                checkpoints.push(SignedCheckpoint::parse(&note).map_err(|e| {
                    LedgerServiceError::Export(format!("line {number}: checkpoint: {e}"))
                })?);
            }
            ExportLine::KeyRotation {
                seq,
                previous_vkey,
                vkey,
            } => {
                if checker.is_some() {
                    return Err(bad(number, "key rotations must come before entries"));
                }
                rotations.push(Rotation {
                    seq,
                    previous_vkey,
                    vkey,
                });
            }
            ExportLine::Entry {
                seq,
                entry,
                leaf_hash,
            } => {
                if checker.is_none() {
                    let chain = KeyChain::new(&pinned, &rotations)?;
                    checker = Some(Checker::new(&checkpoints, &origin, &chain)?);
                }
                let Some(c) = checker.as_mut() else {
                    return Err(bad(number, "internal: no checker"));
                };
                let entry = crate::export::b64_decode(&entry)
                    .map_err(|e| bad(number, &format!("entry: {e}")))?;
                let leaf = crate::export::b64_decode(&leaf_hash)
                    .map_err(|e| bad(number, &format!("leaf_hash: {e}")))?;
                let leaf = hash32(&leaf, seq)?;
                c.push(seq, &entry, &leaf, None)?;
                if c.checked() % 4096 == 0 {
                    if cancel.load(Ordering::Relaxed) {
                        return Err(LedgerServiceError::Cancelled);
                    }
                    progress(c.checked(), total.max(c.checked()));
                }
            }
            ExportLine::End { entries } => ended = Some(entries),
        }
    }
    let Some(declared) = ended else {
        return Err(LedgerServiceError::Export(
            "the export has no end line: it was cut short".into(),
        ));
    };
    let checker = match checker {
        Some(c) => c,
        None => Checker::new(&checkpoints, &origin, &KeyChain::new(&pinned, &rotations)?)?,
    };
    let report = checker.finish()?;
    if report.entries != declared {
        return Err(LedgerServiceError::Export(format!(
            "the end line declares {declared} entries but the export holds {}",
            report.entries
        )));
    }
    progress(report.entries, total.max(report.entries));
    Ok(VerifyReport {
        origin,
        entries: report.entries,
        root_hash: report.root,
        checkpoints_verified: checkpoints.len(),
        latest_checkpoint_size: checkpoints
            .iter()
            .map(|c| c.checkpoint().size)
            .max()
            .unwrap_or(0),
        key_pinned,
        nodes_checked: 0,
        queued: 0,
    })
}
