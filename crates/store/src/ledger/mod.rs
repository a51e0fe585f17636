//! The consent ledger's tables: entries (leaves), complete-subtree nodes,
//! signed checkpoints, and the per-citizen data keys used for crypto-shredding.
//!
//! Entries, nodes and checkpoints are append-only: this module has no function
//! that updates or deletes them, and triggers in the migration refuse it.
//! Only data keys are ever deleted (that is what shredding is). The Merkle
//! maths lives in `sqin-ledger`; the write path, proofs and verification in
//! `sqin-ledger-service`.
use sqlx::{AnyConnection, Row};

use crate::{Backend, Result, StoreError};

mod checkpoints;
mod keys;

pub use checkpoints::*;
pub use keys::*;

/// Largest number of bound parameters put into one statement: well under
/// SQLite's limit (32766 since 3.32) and PostgreSQL's (65535).
const MAX_PARAMS: usize = 3000;

/// Serialises appenders inside the caller's transaction, until it ends.
///
/// PostgreSQL: a transaction-scoped advisory lock, keyed by the schema so
/// that two logs in one database (test schemas) do not contend. SQLite:
/// writing the lock row takes the database's write lock before the tree's
/// head is read, so a concurrent writer waits (busy timeout) instead of
/// failing later on a stale snapshot.
pub async fn lock(conn: &mut AnyConnection, backend: Backend) -> Result<()> {
    match backend {
        Backend::Postgres => {
            sqlx::query(
                "SELECT 1 AS locked FROM pg_advisory_xact_lock(hashtextextended('sqin-ledger:' || current_schema(), 0))",
            )
            .fetch_one(conn)
            .await?;
        }
        Backend::Sqlite => {
            sqlx::query("UPDATE ledger_lock SET appends = appends + 1 WHERE id = 1")
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

/// The origin recorded when the log was created, if it was.
pub async fn origin(conn: &mut AnyConnection) -> Result<Option<String>> {
    let row = sqlx::query("SELECT origin FROM ledger_log WHERE id = 1")
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| r.try_get("origin")).transpose()?)
}

/// Records `origin` unless the log already has one, and returns the one that
/// won: nodes starting together on a fresh database agree.
pub async fn origin_get_or_insert(
    conn: &mut AnyConnection,
    origin_line: &str,
    now: i64,
) -> Result<String> {
    sqlx::query(
        "INSERT INTO ledger_log (id, origin, created_at) VALUES (1, $1, $2)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(origin_line)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    origin(conn)
        .await?
        .ok_or(StoreError::NotFound("ledger origin"))
}

/// One leaf as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRow {
    pub seq: i64,
    /// The entry's random id, also inside `entry`.
    pub uid: String,
    /// Exactly the bytes the leaf hash commits to.
    pub entry: Vec<u8>,
    pub leaf_hash: Vec<u8>,
    pub kind: String,
    pub created_at: i64,
    pub subject: Option<String>,
    pub data_key_id: Option<String>,
}

/// A binary column, also when SQLite's dynamic typing stored it as text
/// (a hand edit such as `entry || 'x'`): the verifier must see the bytes and
/// name the entry, not fail on a type.
fn bytes(row: &sqlx::any::AnyRow, column: &str) -> Result<Vec<u8>> {
    match row.try_get::<Vec<u8>, _>(column) {
        Ok(v) => Ok(v),
        Err(e) => row
            .try_get::<String, _>(column)
            .map(String::into_bytes)
            .map_err(|_| e.into()),
    }
}

fn entry_from_row(row: &sqlx::any::AnyRow) -> Result<EntryRow> {
    Ok(EntryRow {
        seq: row.try_get("seq")?,
        uid: row.try_get("uid")?,
        entry: bytes(row, "entry")?,
        leaf_hash: bytes(row, "leaf_hash")?,
        kind: row.try_get("kind")?,
        created_at: row.try_get("created_at")?,
        subject: row.try_get("subject")?,
        data_key_id: row.try_get("data_key_id")?,
    })
}

const ENTRY_COLUMNS: &str = "seq, uid, entry, leaf_hash, kind, created_at, subject, data_key_id";

pub async fn insert_entry(conn: &mut AnyConnection, e: &EntryRow) -> Result<()> {
    insert_entries(conn, std::slice::from_ref(e)).await
}

/// Writes entries in as few statements as the parameter limit allows.
pub async fn insert_entries(conn: &mut AnyConnection, entries: &[EntryRow]) -> Result<()> {
    const COLUMNS: usize = 8;
    for chunk in entries.chunks(MAX_PARAMS / COLUMNS) {
        let mut sql = String::from(
            "INSERT INTO ledger_entries (seq, uid, entry, leaf_hash, kind, created_at, subject, data_key_id) VALUES ",
        );
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            let p = i * COLUMNS;
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p + 6,
                p + 7,
                p + 8
            ));
        }
        let mut query = sqlx::query(&sql);
        for e in chunk {
            query = query
                .bind(e.seq)
                .bind(&e.uid)
                .bind(&e.entry)
                .bind(&e.leaf_hash)
                .bind(&e.kind)
                .bind(e.created_at)
                .bind(&e.subject)
                .bind(&e.data_key_id);
        }
        query.execute(&mut *conn).await.map_err(|err| {
            StoreError::conflict_on_unique(err, "ledger entry with this sequence number or uid")
        })?;
    }
    Ok(())
}

/// The entry with this uid, once the sequencer has placed it.
pub async fn entry_by_uid(conn: &mut AnyConnection, uid: &str) -> Result<Option<EntryRow>> {
    let row = sqlx::query(&format!(
        "SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE uid = $1"
    ))
    .bind(uid)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(entry_from_row).transpose()
}

/// An entry written by a caller, waiting for its sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedRow {
    /// Queue order (assigned by the database; 0 when inserting).
    pub id: i64,
    pub uid: String,
    pub kind: String,
    pub created_at: i64,
    pub subject: String,
    pub data_key_id: String,
    pub sealed: Vec<u8>,
}

fn queued_from_row(row: &sqlx::any::AnyRow) -> Result<QueuedRow> {
    Ok(QueuedRow {
        id: row.try_get("id")?,
        uid: row.try_get("uid")?,
        kind: row.try_get("kind")?,
        created_at: row.try_get("created_at")?,
        subject: row.try_get("subject")?,
        data_key_id: row.try_get("data_key_id")?,
        sealed: bytes(row, "sealed")?,
    })
}

/// Queues an entry in the caller's transaction; no lock is taken.
pub async fn enqueue(conn: &mut AnyConnection, q: &QueuedRow) -> Result<()> {
    insert_queued(
        conn,
        "INSERT INTO ledger_queue (uid, kind, created_at, subject, data_key_id, sealed)
         VALUES ($1, $2, $3, $4, $5, $6)",
        q,
    )
    .await?;
    Ok(())
}

/// Runs an INSERT into the queue whose six parameters are `q`'s columns.
async fn insert_queued(conn: &mut AnyConnection, sql: &str, q: &QueuedRow) -> Result<u64> {
    Ok(sqlx::query(sql)
        .bind(&q.uid)
        .bind(&q.kind)
        .bind(q.created_at)
        .bind(&q.subject)
        .bind(&q.data_key_id)
        .bind(&q.sealed)
        .execute(conn)
        .await
        .map_err(|err| StoreError::conflict_on_unique(err, "queued ledger entry"))?
        .rows_affected())
}

/// Queues an entry sealed under data key `q.data_key_id` only if that key
/// still exists, in one statement; `false` when it does not (it was
/// destroyed since the caller read it). On PostgreSQL the key row is
/// share-locked until the caller's transaction ends, so a concurrent shred
/// waits and then destroys this entry's key too.
pub async fn enqueue_if_key_exists(
    conn: &mut AnyConnection,
    backend: Backend,
    q: &QueuedRow,
) -> Result<bool> {
    let sql = match backend {
        Backend::Postgres => {
            "INSERT INTO ledger_queue (uid, kind, created_at, subject, data_key_id, sealed)
             SELECT $1, $2, $3, $4, $5, $6
             WHERE EXISTS (SELECT 1 FROM ledger_data_keys WHERE id = $5 FOR KEY SHARE)"
        }
        Backend::Sqlite => {
            "INSERT INTO ledger_queue (uid, kind, created_at, subject, data_key_id, sealed)
             SELECT $1, $2, $3, $4, $5, $6
             WHERE EXISTS (SELECT 1 FROM ledger_data_keys WHERE id = $5)"
        }
    };
    Ok(insert_queued(conn, sql, q).await? == 1)
}

/// The oldest committed queued entries, at most `limit`.
pub async fn queued(conn: &mut AnyConnection, limit: i64) -> Result<Vec<QueuedRow>> {
    let rows = sqlx::query("SELECT * FROM ledger_queue ORDER BY id LIMIT $1")
        .bind(limit)
        .fetch_all(conn)
        .await?;
    rows.iter().map(queued_from_row).collect()
}

/// How many entries wait for the sequencer.
pub async fn count_queued(conn: &mut AnyConnection) -> Result<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM ledger_queue")
        .fetch_one(conn)
        .await?;
    Ok(row.try_get("n")?)
}

/// Removes queued rows whose entries were written (the storage refuses it
/// for any other).
pub async fn delete_queued(conn: &mut AnyConnection, ids: &[i64]) -> Result<()> {
    for chunk in ids.chunks(MAX_PARAMS) {
        if chunk.is_empty() {
            continue;
        }
        let placeholders = (1..=chunk.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("DELETE FROM ledger_queue WHERE id IN ({placeholders})");
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The last leaf: its sequence number and hash (`None` for an empty log).
pub async fn head(conn: &mut AnyConnection) -> Result<Option<(i64, Vec<u8>)>> {
    let row = sqlx::query("SELECT seq, leaf_hash FROM ledger_entries ORDER BY seq DESC LIMIT 1")
        .fetch_optional(conn)
        .await?;
    row.map(|r| Ok((r.try_get("seq")?, r.try_get("leaf_hash")?)))
        .transpose()
}

/// Number of entries, i.e. the current tree size (entries are dense).
pub async fn size(conn: &mut AnyConnection) -> Result<i64> {
    Ok(head(conn).await?.map_or(0, |(seq, _)| seq + 1))
}

pub async fn entry(conn: &mut AnyConnection, seq: i64) -> Result<Option<EntryRow>> {
    let row = sqlx::query(&format!(
        "SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE seq = $1"
    ))
    .bind(seq)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(entry_from_row).transpose()
}

/// The first entry with this leaf hash (RFC 9162 `get-proof-by-hash`).
pub async fn entry_by_leaf_hash(
    conn: &mut AnyConnection,
    leaf_hash: &[u8],
) -> Result<Option<EntryRow>> {
    let row = sqlx::query(&format!(
        "SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE leaf_hash = $1 ORDER BY seq LIMIT 1"
    ))
    .bind(leaf_hash)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(entry_from_row).transpose()
}

/// Up to `limit` entries with `seq >= from`, in order: a page of an export or
/// a verification pass. Gaps are returned as they are, for the verifier to see.
pub async fn entries_from(
    conn: &mut AnyConnection,
    from: i64,
    limit: i64,
) -> Result<Vec<EntryRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE seq >= $1 ORDER BY seq LIMIT $2"
    ))
    .bind(from)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(entry_from_row).collect()
}

/// Up to `limit` entries written in `[from_time, to_time)` with `seq >
/// after`, in order: a page of a period's statistics.
pub async fn entries_between(
    conn: &mut AnyConnection,
    from_time: i64,
    to_time: i64,
    after: i64,
    limit: i64,
) -> Result<Vec<EntryRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {ENTRY_COLUMNS} FROM ledger_entries
         WHERE created_at >= $1 AND created_at < $2 AND seq > $3
         ORDER BY seq LIMIT $4"
    ))
    .bind(from_time)
    .bind(to_time)
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(entry_from_row).collect()
}

/// A citizen's entries (by pseudonym), oldest first, optionally within
/// `[from_time, to_time)`, at most `limit`.
pub async fn entries_for_subject(
    conn: &mut AnyConnection,
    subject: &str,
    from_time: Option<i64>,
    to_time: Option<i64>,
    limit: i64,
) -> Result<Vec<EntryRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {ENTRY_COLUMNS} FROM ledger_entries
         WHERE subject = $1 AND created_at >= $2 AND created_at < $3
         ORDER BY seq LIMIT $4"
    ))
    .bind(subject)
    .bind(from_time.unwrap_or(i64::MIN))
    .bind(to_time.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(entry_from_row).collect()
}

/// Address and hash of one complete subtree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeRow {
    pub level: i64,
    pub idx: i64,
    pub hash: [u8; 32],
}

fn node_from_row(row: &sqlx::any::AnyRow) -> Result<NodeRow> {
    let hash: Vec<u8> = row.try_get("hash")?;
    Ok(NodeRow {
        level: row.try_get("level")?,
        idx: row.try_get("idx")?,
        hash: hash
            .try_into()
            .map_err(|_| StoreError::Corrupt("ledger node hash is not 32 bytes".into()))?,
    })
}

/// Writes the nodes one append completed, in one statement per chunk.
pub async fn insert_nodes(conn: &mut AnyConnection, nodes: &[NodeRow]) -> Result<()> {
    for chunk in nodes.chunks(MAX_PARAMS / 3) {
        let mut sql = String::from("INSERT INTO ledger_nodes (level, idx, hash) VALUES ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3));
        }
        let mut query = sqlx::query(&sql);
        for n in chunk {
            query = query.bind(n.level).bind(n.idx).bind(n.hash.to_vec());
        }
        query
            .execute(&mut *conn)
            .await
            .map_err(|err| StoreError::conflict_on_unique(err, "ledger node"))?;
    }
    Ok(())
}

/// The stored nodes among `ids` (`(level, idx)` pairs); absent ones are
/// simply not returned.
pub async fn nodes(conn: &mut AnyConnection, ids: &[(i64, i64)]) -> Result<Vec<NodeRow>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(MAX_PARAMS / 2) {
        if chunk.is_empty() {
            continue;
        }
        let mut sql = String::from(
            "SELECT level, idx, hash FROM ledger_nodes WHERE (level, idx) IN (VALUES ",
        );
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(${}, ${})", 2 * i + 1, 2 * i + 2));
        }
        sql.push(')');
        let mut query = sqlx::query(&sql);
        for (level, idx) in chunk {
            query = query.bind(*level).bind(*idx);
        }
        for row in query.fetch_all(&mut *conn).await? {
            out.push(node_from_row(&row)?);
        }
    }
    Ok(out)
}

/// Every stored node of `level` with `idx` in `[first, last]`, in order: the
/// nodes completed by a range of appends, for verification.
pub async fn nodes_in_range(
    conn: &mut AnyConnection,
    level: i64,
    first: i64,
    last: i64,
) -> Result<Vec<NodeRow>> {
    let rows = sqlx::query(
        "SELECT level, idx, hash FROM ledger_nodes WHERE level = $1 AND idx >= $2 AND idx <= $3
         ORDER BY idx",
    )
    .bind(level)
    .bind(first)
    .bind(last)
    .fetch_all(conn)
    .await?;
    rows.iter().map(node_from_row).collect()
}

/// Every entry of one kind, oldest first (for the few public housekeeping
/// kinds a verifier needs up front, such as key rotations).
pub async fn entries_of_kind(conn: &mut AnyConnection, kind: &str) -> Result<Vec<EntryRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE kind = $1 ORDER BY seq"
    ))
    .bind(kind)
    .fetch_all(conn)
    .await?;
    rows.iter().map(entry_from_row).collect()
}

/// How many entries of each kind the log holds, and since when: the
/// auditor's aggregate view, which names no one.
pub async fn counts_by_kind(conn: &mut AnyConnection) -> Result<Vec<(String, i64, i64)>> {
    let rows = sqlx::query(
        "SELECT kind, COUNT(*) AS n, MIN(created_at) AS first FROM ledger_entries
         GROUP BY kind ORDER BY kind",
    )
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("kind")?, r.try_get("n")?, r.try_get("first")?)))
        .collect()
}
