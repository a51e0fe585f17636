//! The write path.
//!
//! [`append`] is what the OpenID Provider calls for every consent and
//! disclosure: inside the caller's transaction it seals the event under the
//! citizen's data key and queues the entry. No lock is taken, so concurrent
//! logins commit in parallel (and share the database's group commit); the
//! entry commits or rolls back with the caller's transaction, so a disclosure
//! is never acknowledged without its entry.
//!
//! [`sequence`] (run continuously by every node, and before any checkpoint or
//! citizen view) moves queued entries into the tree in batches: under the
//! appenders' lock it gives them the next dense sequence numbers, writes the
//! entries and the complete-subtree nodes they finish, and removes them from
//! the queue, all in one transaction. This is the batching of modern
//! transparency logs (Trillian's sequencer, Tessera's integration): one
//! serialised commit per batch instead of one per login.
//!
//! [`append_sequenced`] gives an entry its sequence number inside the
//! caller's transaction instead, holding the appenders' lock until that
//! transaction ends: for callers that need the number at once, at the cost
//! of serialising their commits.

use serde::{Deserialize, Serialize};
use sqin_ledger::{leaf_hash, seal, unwrap_data_key, wrap_data_key, DataKey};
use sqin_store::ledger::{self as store, DataKeyRow, EntryRow, QueuedRow};
use sqin_store::{Backend, Connection};

use crate::entry::{Entry, ENTRY_VERSION};
use crate::event::{EntryKind, Housekeeping, LedgerEvent};
use crate::handle::{data_key_label, CachedFrontier, ForgetKeys};
use crate::tree::{current_frontier, node_rows};
use crate::{Ledger, LedgerServiceError};

/// Queued entries moved per sequencer transaction.
pub const SEQUENCE_BATCH: i64 = 1000;

/// A ledger entry's sequence number: its leaf index in the Merkle tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EntryId(pub u64);

impl std::fmt::Display for EntryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// An appended entry: its uid now, its sequence number once sequenced.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Appended {
    /// The entry's random id, as it will appear in the entry.
    pub uid: String,
}

impl Appended {
    /// The entry's sequence number, if the sequencer has placed it.
    pub async fn entry_id(
        &self,
        conn: &mut Connection,
    ) -> Result<Option<EntryId>, LedgerServiceError> {
        Ok(store::entry_by_uid(conn, &self.uid)
            .await?
            .and_then(|row| u64::try_from(row.seq).ok())
            .map(EntryId))
    }
}

/// The sealed personal part of an event, ready for an entry.
struct Sealed {
    uid: String,
    kind: EntryKind,
    subject: String,
    key_id: String,
    sealed: Vec<u8>,
}

/// Seals `event` for its citizen: pseudonym, data key, ciphertext.
async fn seal_event(
    conn: &mut Connection,
    ledger: &Ledger,
    event: &LedgerEvent,
    now: i64,
) -> Result<Sealed, LedgerServiceError> {
    event
        .validate()
        .map_err(LedgerServiceError::InvalidRequest)?;
    let kind = event.kind();
    let subject = ledger.pseudonym(event.citizen_id());
    let plaintext = serde_json::to_vec(event)?;
    let (key_id, data_key) = data_key_for(conn, ledger, &subject, kind, now).await?;
    let uid = Entry::new_uid()?;
    let aad = Entry::aad(&uid, now, kind, &subject, &key_id);
    Ok(Sealed {
        sealed: seal(&data_key, &plaintext, &aad)?,
        uid,
        kind,
        subject,
        key_id,
    })
}

/// Records `event` in the caller's transaction (`&mut *tx`): sealed under
/// the citizen's data key and queued for the sequencer. Commits or rolls back
/// with the caller; takes no lock on PostgreSQL.
///
/// Call it in the transaction that makes the fact true (the consent stored,
/// the tokens issued), before acknowledging anything: if it fails, fail the
/// operation.
pub async fn append(
    conn: &mut Connection,
    ledger: &Ledger,
    event: LedgerEvent,
    now: i64,
) -> Result<Appended, LedgerServiceError> {
    event
        .validate()
        .map_err(LedgerServiceError::InvalidRequest)?;
    let kind = event.kind();
    let subject = ledger.pseudonym(event.citizen_id());
    let plaintext = serde_json::to_vec(&event)?;
    let uid = Entry::new_uid()?;
    let slot = (subject.clone(), kind.as_str(), period_start(ledger, now));
    // The usual case: the key is cached, and one statement both checks that
    // it still exists (a shred on another node may have destroyed it) and
    // queues the entry.
    if let Some(cached) = ledger.cached_data_key(&slot, now) {
        let aad = Entry::aad(&uid, now, kind, &subject, &cached.id);
        let row = queued_row(
            &uid,
            kind,
            now,
            &subject,
            &cached.id,
            seal(&cached.key, &plaintext, &aad)?,
        );
        if store::enqueue_if_key_exists(conn, ledger.backend(), &row).await? {
            return Ok(Appended { uid });
        }
        ledger.forget_data_keys(ForgetKeys::Slot(&slot));
    }
    if ledger.backend() == Backend::Sqlite {
        // SQLite has one writer anyway; taking the write lock before reading
        // the data key keeps a deferred transaction from failing on a stale
        // read. (The cached path above reads and writes in one statement.)
        store::lock(conn, ledger.backend()).await?;
    }
    let (key_id, data_key) = data_key_for(conn, ledger, &subject, kind, now).await?;
    let aad = Entry::aad(&uid, now, kind, &subject, &key_id);
    let row = queued_row(
        &uid,
        kind,
        now,
        &subject,
        &key_id,
        seal(&data_key, &plaintext, &aad)?,
    );
    store::enqueue(conn, &row).await?;
    Ok(Appended { uid })
}

fn queued_row(
    uid: &str,
    kind: EntryKind,
    now: i64,
    subject: &str,
    key_id: &str,
    sealed: Vec<u8>,
) -> QueuedRow {
    QueuedRow {
        id: 0,
        uid: uid.to_owned(),
        kind: kind.as_str().to_owned(),
        created_at: now,
        subject: subject.to_owned(),
        data_key_id: key_id.to_owned(),
        sealed,
    }
}

/// Start of the data-key period `now` falls in.
fn period_start(ledger: &Ledger, now: i64) -> i64 {
    let period = ledger.data_key_period();
    now.div_euclid(period) * period
}

/// Records `event` with its sequence number assigned in the caller's
/// transaction. From this call until that transaction ends, other appenders
/// and the sequencer wait (a PostgreSQL advisory lock, SQLite's write lock):
/// append last and commit promptly.
pub async fn append_sequenced(
    conn: &mut Connection,
    ledger: &Ledger,
    event: LedgerEvent,
    now: i64,
) -> Result<EntryId, LedgerServiceError> {
    store::lock(conn, ledger.backend()).await?;
    let sealed = seal_event(conn, ledger, &event, now).await?;
    append_locked(
        conn,
        ledger,
        &sealed.uid,
        now,
        sealed.kind,
        Some(sealed.subject),
        Body::Sealed {
            key_id: sealed.key_id,
            sealed: sealed.sealed,
        },
    )
    .await
}

/// Takes the appenders' lock now, until the caller's transaction ends.
///
/// The ledger's own functions take it when they need it; call this first
/// only in a transaction of yours that reads before it appends on SQLite,
/// where a read-then-write transaction fails with `SQLITE_BUSY` if another
/// writer committed in between.
pub async fn lock(conn: &mut Connection, ledger: &Ledger) -> Result<(), LedgerServiceError> {
    store::lock(conn, ledger.backend()).await?;
    Ok(())
}

/// Moves every queued entry into the tree, in transactions of
/// [`SEQUENCE_BATCH`], and returns how many it placed.
pub async fn sequence(conn: &mut Connection, ledger: &Ledger) -> Result<u64, LedgerServiceError> {
    // A look without the lock first: an idle sequencer writes nothing.
    if store::queued(conn, 1).await?.is_empty() {
        return Ok(0);
    }
    let mut total = 0;
    loop {
        let mut tx = sqin_store::begin_on(conn).await?;
        store::lock(&mut tx, ledger.backend()).await?;
        let placed = sequence_locked(&mut tx, ledger, SEQUENCE_BATCH).await?;
        tx.commit().await?;
        total += placed;
        if placed < SEQUENCE_BATCH as u64 {
            return Ok(total);
        }
    }
}

/// Places up to `limit` queued entries, oldest first, with the appenders'
/// lock held by this transaction.
pub(crate) async fn sequence_locked(
    conn: &mut Connection,
    ledger: &Ledger,
    limit: i64,
) -> Result<u64, LedgerServiceError> {
    let queued = store::queued(conn, limit).await?;
    let Some(last) = queued.last() else {
        return Ok(0);
    };
    let last_id = last.id;
    let mut frontier = current_frontier(conn, ledger).await?;
    let mut entries = Vec::with_capacity(queued.len());
    let mut nodes = Vec::with_capacity(2 * queued.len());
    let mut last_leaf = [0u8; 32];
    for q in &queued {
        let kind = EntryKind::parse(&q.kind)
            .filter(|k| k.is_personal())
            .ok_or_else(|| {
                LedgerServiceError::Corrupt(format!("queued entry {} kind {}", q.id, q.kind))
            })?;
        let seq = frontier.size();
        let entry = Entry {
            v: ENTRY_VERSION,
            seq,
            uid: q.uid.clone(),
            time: q.created_at,
            kind,
            subject: Some(q.subject.clone()),
            key: Some(q.data_key_id.clone()),
            sealed: Some(Entry::encode_sealed(&q.sealed)),
            details: None,
        };
        let bytes = entry.encode()?;
        last_leaf = leaf_hash(&bytes);
        nodes.extend(node_rows(&frontier.append(last_leaf)?)?);
        entries.push(EntryRow {
            seq: seq_i64(seq)?,
            uid: q.uid.clone(),
            entry: bytes,
            leaf_hash: last_leaf.to_vec(),
            kind: q.kind.clone(),
            created_at: q.created_at,
            subject: Some(q.subject.clone()),
            data_key_id: Some(q.data_key_id.clone()),
        });
    }
    ledger.cache_frontier(None);
    store::insert_entries(conn, &entries).await?;
    store::insert_nodes(conn, &nodes).await?;
    let ids: Vec<i64> = queued.iter().map(|q| q.id).collect();
    store::delete_queued(conn, &ids).await?;
    ledger.cache_frontier(Some(CachedFrontier {
        size: frontier.size(),
        last_leaf,
        frontier,
    }));
    tracing::debug!(
        placed = entries.len(),
        up_to_queue_id = last_id,
        "sequenced ledger entries"
    );
    Ok(entries.len() as u64)
}

fn seq_i64(seq: u64) -> Result<i64, LedgerServiceError> {
    i64::try_from(seq).map_err(|_| LedgerServiceError::Corrupt("the log is full".into()))
}

/// What goes into an entry besides its header.
pub(crate) enum Body {
    Sealed { key_id: String, sealed: Vec<u8> },
    Public(Housekeeping),
}

/// Appends one entry with the appenders' lock already held by this
/// transaction. Entries queued before it are placed first, so the log's order
/// is the order in which entries were committed to the ledger.
pub(crate) async fn append_locked(
    conn: &mut Connection,
    ledger: &Ledger,
    uid: &str,
    now: i64,
    kind: EntryKind,
    subject: Option<String>,
    body: Body,
) -> Result<EntryId, LedgerServiceError> {
    while sequence_locked(conn, ledger, SEQUENCE_BATCH).await? == SEQUENCE_BATCH as u64 {}
    let mut frontier = current_frontier(conn, ledger).await?;
    let seq = frontier.size();
    let mut entry = Entry {
        v: ENTRY_VERSION,
        seq,
        uid: uid.to_owned(),
        time: now,
        kind,
        subject,
        key: None,
        sealed: None,
        details: None,
    };
    let data_key_id = match body {
        Body::Sealed { key_id, sealed } => {
            entry.sealed = Some(Entry::encode_sealed(&sealed));
            entry.key = Some(key_id.clone());
            Some(key_id)
        }
        Body::Public(details) => {
            entry.details = Some(details);
            None
        }
    };
    let bytes = entry.encode()?;
    let leaf = leaf_hash(&bytes);
    let new_nodes = frontier.append(leaf)?;
    // The cache must not describe a state that may not commit; it is set
    // again only once both writes succeeded (and is checked against the
    // stored head before use, in case the transaction later rolls back).
    ledger.cache_frontier(None);
    store::insert_entry(
        conn,
        &EntryRow {
            seq: seq_i64(seq)?,
            uid: uid.to_owned(),
            entry: bytes,
            leaf_hash: leaf.to_vec(),
            kind: kind.as_str().to_owned(),
            created_at: now,
            subject: entry.subject,
            data_key_id,
        },
    )
    .await?;
    store::insert_nodes(conn, &node_rows(&new_nodes)?).await?;
    ledger.cache_frontier(Some(CachedFrontier {
        size: frontier.size(),
        last_leaf: leaf,
        frontier,
    }));
    Ok(EntryId(seq))
}

/// The citizen's data key for this kind and period, created on first use.
/// Concurrent first uses agree on one key (the insert does nothing when
/// another committed first).
async fn data_key_for(
    conn: &mut Connection,
    ledger: &Ledger,
    subject: &str,
    kind: EntryKind,
    now: i64,
) -> Result<(String, DataKey), LedgerServiceError> {
    let period = ledger.data_key_period();
    let period_start = period_start(ledger, now);
    let row = match store::data_key_for(conn, subject, kind.as_str(), period_start).await? {
        Some(row) => row,
        None => {
            let key_id = sqin_crypto::b64url(&sqin_crypto::random_bytes::<16>()?);
            let key = DataKey::generate()?;
            let label = data_key_label(&key_id, subject, kind.as_str(), period_start);
            store::data_key_get_or_insert(
                conn,
                &DataKeyRow {
                    wrapped_key: wrap_data_key(ledger.wrapping_key(), &key, &label)?,
                    id: key_id,
                    subject: subject.to_owned(),
                    kind: kind.as_str().to_owned(),
                    period_start,
                    period_end: period_start + period,
                    created_at: now,
                },
            )
            .await?
        }
    };
    let key = unwrap_row(ledger, &row)?;
    ledger.cache_data_key(
        (subject.to_owned(), kind.as_str(), period_start),
        row.id.clone(),
        key.clone(),
        now,
    );
    Ok((row.id, key))
}

/// Unwraps a stored data key.
pub(crate) fn unwrap_row(ledger: &Ledger, row: &DataKeyRow) -> Result<DataKey, LedgerServiceError> {
    let label = data_key_label(&row.id, &row.subject, &row.kind, row.period_start);
    unwrap_data_key(ledger.wrapping_key(), &row.wrapped_key, &label)
        .map_err(|_| LedgerServiceError::Corrupt(format!("data key {} does not unwrap", row.id)))
}

/// The ledger is the recorder every producer writes through: [`append`] in
/// the producer's transaction.
impl sqin_ledger_contract::LedgerRecorder for Ledger {
    fn record<'c>(
        &'c self,
        conn: &'c mut Connection,
        event: LedgerEvent,
        now: i64,
    ) -> sqin_ledger_contract::RecordFuture<'c> {
        Box::pin(async move {
            let kind = event.kind();
            append(conn, self, event, now)
                .await
                .map(|_| ())
                .map_err(|e| sqin_ledger_contract::RecordError {
                    kind,
                    source: Box::new(e),
                })
        })
    }
}

/// Appends a public governance entry (a member of staff or the operator
/// acted on the service itself) in the caller's transaction: it commits, or
/// fails, with the act it records. No citizen is in it.
pub async fn append_governance(
    conn: &mut Connection,
    ledger: &Ledger,
    actor: &str,
    what: &str,
    details: std::collections::BTreeMap<String, String>,
    now: i64,
) -> Result<EntryId, LedgerServiceError> {
    if actor.trim().is_empty() || what.trim().is_empty() {
        return Err(LedgerServiceError::InvalidRequest(
            "a governance entry names its actor and what was done".into(),
        ));
    }
    store::lock(conn, ledger.backend()).await?;
    append_locked(
        conn,
        ledger,
        &Entry::new_uid()?,
        now,
        EntryKind::Governance,
        None,
        Body::Public(Housekeeping::Governance {
            actor: actor.to_owned(),
            what: what.to_owned(),
            details,
        }),
    )
    .await
}
