//! Back-channel logout deliveries: a durable outbox of logout tokens.
use sqlx::{AnyConnection, Row};

use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: String,
    pub client_id: String,
    pub uri: String,
    pub sub: String,
    pub sid: Option<String>,
    pub created_at: i64,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub delivered_at: Option<i64>,
    pub gave_up_at: Option<i64>,
    pub last_error: Option<String>,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Delivery> {
    Ok(Delivery {
        id: row.try_get("id")?,
        client_id: row.try_get("client_id")?,
        uri: row.try_get("uri")?,
        sub: row.try_get("sub")?,
        sid: row.try_get("sid")?,
        created_at: row.try_get("created_at")?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        delivered_at: row.try_get("delivered_at")?,
        gave_up_at: row.try_get("gave_up_at")?,
        last_error: row.try_get("last_error")?,
    })
}

pub async fn enqueue(conn: &mut AnyConnection, d: &Delivery) -> Result<()> {
    sqlx::query(
        "INSERT INTO backchannel_deliveries (id, client_id, uri, sub, sid, created_at, attempts,
            next_attempt_at, delivered_at, gave_up_at, last_error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&d.id)
    .bind(&d.client_id)
    .bind(&d.uri)
    .bind(&d.sub)
    .bind(&d.sid)
    .bind(d.created_at)
    .bind(d.attempts)
    .bind(d.next_attempt_at)
    .bind(d.delivered_at)
    .bind(d.gave_up_at)
    .bind(&d.last_error)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deliveries due at `now`, oldest first.
pub async fn due(conn: &mut AnyConnection, now: i64, limit: i64) -> Result<Vec<Delivery>> {
    let rows = sqlx::query(
        "SELECT * FROM backchannel_deliveries
         WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= $1
         ORDER BY next_attempt_at, id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Claims a due delivery for one attempt: true for exactly one node, which
/// then owns the attempt until `lease_until`.
pub async fn claim(conn: &mut AnyConnection, id: &str, now: i64, lease_until: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE backchannel_deliveries SET next_attempt_at = $1, attempts = attempts + 1
         WHERE id = $2 AND delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= $3",
    )
    .bind(lease_until)
    .bind(id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delivered(conn: &mut AnyConnection, id: &str, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE backchannel_deliveries SET delivered_at = $1, last_error = NULL WHERE id = $2",
    )
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a failed attempt: retry at `retry_at`, or give up when `None`.
pub async fn failed(
    conn: &mut AnyConnection,
    id: &str,
    error: &str,
    retry_at: Option<i64>,
    now: i64,
) -> Result<()> {
    match retry_at {
        Some(at) => {
            sqlx::query(
                "UPDATE backchannel_deliveries SET last_error = $1, next_attempt_at = $2 WHERE id = $3",
            )
            .bind(error)
            .bind(at)
            .bind(id)
            .execute(conn)
            .await?;
        }
        None => {
            sqlx::query(
                "UPDATE backchannel_deliveries SET last_error = $1, gave_up_at = $2 WHERE id = $3",
            )
            .bind(error)
            .bind(now)
            .bind(id)
            .execute(conn)
            .await?;
        }
    }
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Delivery>> {
    let row = sqlx::query("SELECT * FROM backchannel_deliveries WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn for_client(conn: &mut AnyConnection, client_id: &str) -> Result<Vec<Delivery>> {
    let rows = sqlx::query(
        "SELECT * FROM backchannel_deliveries WHERE client_id = $1 ORDER BY created_at, id",
    )
    .bind(client_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The clients that received grants under a browser session.
pub async fn clients_of_session(
    conn: &mut AnyConnection,
    session_id: &str,
) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT DISTINCT client_id, citizen_id FROM grants WHERE session_id = $1 AND citizen_id IS NOT NULL",
    )
    .bind(session_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("client_id")?, r.try_get("citizen_id")?)))
        .collect()
}
