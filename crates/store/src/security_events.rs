//! A citizen's security events: sign-ins, passkeys added, renamed or removed,
//! recovery, codes refused, counters refused. Written in the transaction of
//! the change they describe; read by the account page, and drained into the
//! consent ledger as an outbox (`exported_at`).
use sqlx::{AnyConnection, Row};

use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityEventRecord {
    pub id: i64,
    pub citizen_id: String,
    pub kind: String,
    /// A JSON object.
    pub detail: String,
    pub at: i64,
    pub exported_at: Option<i64>,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<SecurityEventRecord> {
    Ok(SecurityEventRecord {
        id: row.try_get("id")?,
        citizen_id: row.try_get("citizen_id")?,
        kind: row.try_get("kind")?,
        detail: row.try_get("detail")?,
        at: row.try_get("at")?,
        exported_at: row.try_get("exported_at")?,
    })
}

pub async fn insert(
    conn: &mut AnyConnection,
    citizen_id: &str,
    kind: &str,
    detail: &str,
    at: i64,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO security_events (citizen_id, kind, detail, at) VALUES ($1, $2, $3, $4)
         RETURNING id",
    )
    .bind(citizen_id)
    .bind(kind)
    .bind(detail)
    .bind(at)
    .fetch_one(conn)
    .await?;
    Ok(row.try_get("id")?)
}

/// A citizen's latest events, newest first; only those of `kind` when given.
pub async fn recent(
    conn: &mut AnyConnection,
    citizen_id: &str,
    kind: Option<&str>,
    limit: i64,
) -> Result<Vec<SecurityEventRecord>> {
    let rows = match kind {
        Some(kind) => {
            sqlx::query(
                "SELECT * FROM security_events WHERE citizen_id = $1 AND kind = $2
                 ORDER BY at DESC, id DESC LIMIT $3",
            )
            .bind(citizen_id)
            .bind(kind)
            .bind(limit)
            .fetch_all(conn)
            .await?
        }
        None => {
            sqlx::query(
                "SELECT * FROM security_events WHERE citizen_id = $1
                 ORDER BY at DESC, id DESC LIMIT $2",
            )
            .bind(citizen_id)
            .bind(limit)
            .fetch_all(conn)
            .await?
        }
    };
    rows.iter().map(from_row).collect()
}

/// Events not yet handed to the ledger, oldest first.
pub async fn unexported(conn: &mut AnyConnection, limit: i64) -> Result<Vec<SecurityEventRecord>> {
    let rows =
        sqlx::query("SELECT * FROM security_events WHERE exported_at IS NULL ORDER BY id LIMIT $1")
            .bind(limit)
            .fetch_all(conn)
            .await?;
    rows.iter().map(from_row).collect()
}

pub async fn mark_exported(conn: &mut AnyConnection, id: i64, at: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE security_events SET exported_at = $1 WHERE id = $2 AND exported_at IS NULL",
    )
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
