//! Signed checkpoints, the checkpoint keys that signed them, and the
//! witnesses' cosignatures of them.
use sqlx::{AnyConnection, Row};

use crate::{Result, StoreError};

/// A signed checkpoint as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRow {
    pub id: i64,
    pub tree_size: i64,
    pub root_hash: Vec<u8>,
    /// The complete C2SP signed note.
    pub note: String,
    pub created_at: i64,
}

fn checkpoint_from_row(row: &sqlx::any::AnyRow) -> Result<CheckpointRow> {
    Ok(CheckpointRow {
        id: row.try_get("id")?,
        tree_size: row.try_get("tree_size")?,
        root_hash: row.try_get("root_hash")?,
        note: row.try_get("note")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Stores a checkpoint and returns its id.
pub async fn insert_checkpoint(
    conn: &mut AnyConnection,
    tree_size: i64,
    root_hash: &[u8],
    note: &str,
    created_at: i64,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO ledger_checkpoints (tree_size, root_hash, note, created_at)
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(tree_size)
    .bind(root_hash)
    .bind(note)
    .bind(created_at)
    .fetch_one(conn)
    .await?;
    Ok(row.try_get("id")?)
}

pub async fn latest_checkpoint(conn: &mut AnyConnection) -> Result<Option<CheckpointRow>> {
    let row = sqlx::query("SELECT * FROM ledger_checkpoints ORDER BY id DESC LIMIT 1")
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(checkpoint_from_row).transpose()
}

/// The newest checkpoint of exactly this size, if one was signed.
pub async fn checkpoint_of_size(
    conn: &mut AnyConnection,
    tree_size: i64,
) -> Result<Option<CheckpointRow>> {
    let row = sqlx::query(
        "SELECT * FROM ledger_checkpoints WHERE tree_size = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(tree_size)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(checkpoint_from_row).transpose()
}

/// Checkpoints with `id > after_id`, oldest first, at most `limit`: the
/// published history, paged.
pub async fn checkpoints_after(
    conn: &mut AnyConnection,
    after_id: i64,
    limit: i64,
) -> Result<Vec<CheckpointRow>> {
    let rows = sqlx::query("SELECT * FROM ledger_checkpoints WHERE id > $1 ORDER BY id LIMIT $2")
        .bind(after_id)
        .bind(limit)
        .fetch_all(conn)
        .await?;
    rows.iter().map(checkpoint_from_row).collect()
}

/// A checkpoint key the log has used (see migration 0007).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointKeyRow {
    pub id: i64,
    /// The C2SP verifier key.
    pub vkey: String,
    /// The private key, sealed; `None` once retired.
    pub sealed_key: Option<Vec<u8>>,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

/// Every checkpoint key recorded, oldest first (empty before the first
/// rotation).
pub async fn checkpoint_keys(conn: &mut AnyConnection) -> Result<Vec<CheckpointKeyRow>> {
    let rows = sqlx::query("SELECT * FROM ledger_checkpoint_keys ORDER BY id")
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(CheckpointKeyRow {
                id: r.try_get("id")?,
                vkey: r.try_get("vkey")?,
                sealed_key: r.try_get("sealed_key")?,
                created_at: r.try_get("created_at")?,
                retired_at: r.try_get("retired_at")?,
            })
        })
        .collect()
}

/// Records a checkpoint key: the current one with its sealed private key, or
/// a retired one (`sealed_key` `None`, `retired_at` set).
pub async fn insert_checkpoint_key(
    conn: &mut AnyConnection,
    vkey: &str,
    sealed_key: Option<&[u8]>,
    created_at: i64,
    retired_at: Option<i64>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO ledger_checkpoint_keys (vkey, sealed_key, created_at, retired_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(vkey)
    .bind(sealed_key)
    .bind(created_at)
    .bind(retired_at)
    .execute(conn)
    .await
    .map_err(|err| StoreError::conflict_on_unique(err, "checkpoint key"))?;
    Ok(())
}

/// Retires the current checkpoint key `vkey`: its private key is deleted.
/// `false` if it was not the current key.
pub async fn retire_checkpoint_key(conn: &mut AnyConnection, vkey: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE ledger_checkpoint_keys SET sealed_key = NULL, retired_at = $2
         WHERE vkey = $1 AND retired_at IS NULL",
    )
    .bind(vkey)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a witness's cosignature line for a checkpoint (once per witness).
pub async fn insert_cosignature(
    conn: &mut AnyConnection,
    checkpoint_id: i64,
    witness: &str,
    line: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO ledger_cosignatures (checkpoint_id, witness, line, created_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (checkpoint_id, witness) DO NOTHING",
    )
    .bind(checkpoint_id)
    .bind(witness)
    .bind(line)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The cosignature lines of a checkpoint, in witness order.
pub async fn cosignatures(
    conn: &mut AnyConnection,
    checkpoint_id: i64,
) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT witness, line FROM ledger_cosignatures WHERE checkpoint_id = $1 ORDER BY witness",
    )
    .bind(checkpoint_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("witness")?, r.try_get("line")?)))
        .collect()
}

/// The size a witness last cosigned, as far as this log knows.
pub async fn witness_size(conn: &mut AnyConnection, witness: &str) -> Result<Option<i64>> {
    let row = sqlx::query("SELECT size FROM ledger_witnesses WHERE witness = $1")
        .bind(witness)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| r.try_get("size")).transpose()?)
}

/// Records the size a witness last cosigned.
pub async fn set_witness_size(
    conn: &mut AnyConnection,
    witness: &str,
    size: i64,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO ledger_witnesses (witness, size, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (witness) DO UPDATE SET size = excluded.size, updated_at = excluded.updated_at",
    )
    .bind(witness)
    .bind(size)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
