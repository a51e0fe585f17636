//! The per-citizen data keys that seal the personal part of ledger entries:
//! the only ledger rows that are ever deleted (that is crypto-shredding).
use sqlx::{AnyConnection, Row};

use super::MAX_PARAMS;
use crate::{Result, StoreError};

/// Creates the key unless one exists for its citizen, kind and period, and
/// returns the one that won (no lock needed: concurrent creators agree).
pub async fn data_key_get_or_insert(
    conn: &mut AnyConnection,
    k: &DataKeyRow,
) -> Result<DataKeyRow> {
    sqlx::query(
        "INSERT INTO ledger_data_keys (id, subject, kind, period_start, period_end, wrapped_key, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (subject, kind, period_start) DO NOTHING",
    )
    .bind(&k.id)
    .bind(&k.subject)
    .bind(&k.kind)
    .bind(k.period_start)
    .bind(k.period_end)
    .bind(&k.wrapped_key)
    .bind(k.created_at)
    .execute(&mut *conn)
    .await?;
    data_key_for(conn, &k.subject, &k.kind, k.period_start)
        .await?
        .ok_or(StoreError::NotFound("ledger data key"))
}

/// A citizen's data key, wrapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataKeyRow {
    pub id: String,
    pub subject: String,
    pub kind: String,
    pub period_start: i64,
    pub period_end: i64,
    pub wrapped_key: Vec<u8>,
    pub created_at: i64,
}

fn data_key_from_row(row: &sqlx::any::AnyRow) -> Result<DataKeyRow> {
    Ok(DataKeyRow {
        id: row.try_get("id")?,
        subject: row.try_get("subject")?,
        kind: row.try_get("kind")?,
        period_start: row.try_get("period_start")?,
        period_end: row.try_get("period_end")?,
        wrapped_key: row.try_get("wrapped_key")?,
        created_at: row.try_get("created_at")?,
    })
}

pub async fn insert_data_key(conn: &mut AnyConnection, k: &DataKeyRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO ledger_data_keys (id, subject, kind, period_start, period_end, wrapped_key, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&k.id)
    .bind(&k.subject)
    .bind(&k.kind)
    .bind(k.period_start)
    .bind(k.period_end)
    .bind(&k.wrapped_key)
    .bind(k.created_at)
    .execute(conn)
    .await
    .map_err(|err| StoreError::conflict_on_unique(err, "ledger data key"))?;
    Ok(())
}

/// The key for one citizen, entry kind and period, if it exists (and has
/// not been shredded).
pub async fn data_key_for(
    conn: &mut AnyConnection,
    subject: &str,
    kind: &str,
    period_start: i64,
) -> Result<Option<DataKeyRow>> {
    let row = sqlx::query(
        "SELECT * FROM ledger_data_keys WHERE subject = $1 AND kind = $2 AND period_start = $3",
    )
    .bind(subject)
    .bind(kind)
    .bind(period_start)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(data_key_from_row).transpose()
}

/// One data key by id, if it has not been shredded.
pub async fn data_key_by_id(conn: &mut AnyConnection, id: &str) -> Result<Option<DataKeyRow>> {
    let row = sqlx::query("SELECT * FROM ledger_data_keys WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(data_key_from_row).transpose()
}

/// Every remaining key of one citizen.
pub async fn data_keys_for_subject(
    conn: &mut AnyConnection,
    subject: &str,
) -> Result<Vec<DataKeyRow>> {
    let rows = sqlx::query("SELECT * FROM ledger_data_keys WHERE subject = $1 ORDER BY id")
        .bind(subject)
        .fetch_all(conn)
        .await?;
    rows.iter().map(data_key_from_row).collect()
}

/// Up to `limit` keys of `kind` whose period ended at or before `cutoff`.
pub async fn data_keys_ended_by(
    conn: &mut AnyConnection,
    kind: &str,
    cutoff: i64,
    limit: i64,
) -> Result<Vec<DataKeyRow>> {
    let rows = sqlx::query(
        "SELECT * FROM ledger_data_keys WHERE kind = $1 AND period_end <= $2
         ORDER BY period_end, id LIMIT $3",
    )
    .bind(kind)
    .bind(cutoff)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(data_key_from_row).collect()
}

/// How many keys of `kind` ended at or before `cutoff` (for a progress bar).
pub async fn count_data_keys_ended_by(
    conn: &mut AnyConnection,
    kind: &str,
    cutoff: i64,
) -> Result<i64> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM ledger_data_keys WHERE kind = $1 AND period_end <= $2",
    )
    .bind(kind)
    .bind(cutoff)
    .fetch_one(conn)
    .await?;
    Ok(row.try_get("n")?)
}

/// Destroys keys by id: the crypto-shredding itself. Returns how many existed.
pub async fn delete_data_keys(conn: &mut AnyConnection, ids: &[String]) -> Result<u64> {
    let mut deleted = 0;
    for chunk in ids.chunks(MAX_PARAMS) {
        if chunk.is_empty() {
            continue;
        }
        let placeholders = (1..=chunk.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("DELETE FROM ledger_data_keys WHERE id IN ({placeholders})");
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id);
        }
        deleted += q.execute(&mut *conn).await?.rows_affected();
    }
    Ok(deleted)
}
