//! Consents: which claims a citizen agreed to give which relying party, for
//! its stated purpose, until when. The ledger keeps the history; this table
//! holds the live decision.
use sqlx::{AnyConnection, Row};

use crate::{json_list, to_json_list, Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRecord {
    pub id: String,
    pub citizen_id: String,
    pub client_id: String,
    pub scope: Vec<String>,
    pub claims: Vec<String>,
    pub purpose: String,
    pub granted_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<ConsentRecord> {
    Ok(ConsentRecord {
        id: row.try_get("id")?,
        citizen_id: row.try_get("citizen_id")?,
        client_id: row.try_get("client_id")?,
        scope: row
            .try_get::<String, _>("scope")?
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        claims: json_list(&row.try_get::<String, _>("claims")?, "claims")?,
        purpose: row.try_get("purpose")?,
        granted_at: row.try_get("granted_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

/// The live consent of a citizen for a client (not revoked; may be expired:
/// the caller compares `expires_at` with its clock).
pub async fn live(
    conn: &mut AnyConnection,
    citizen_id: &str,
    client_id: &str,
) -> Result<Option<ConsentRecord>> {
    let row = sqlx::query(
        "SELECT * FROM consents WHERE citizen_id = $1 AND client_id = $2 AND revoked_at IS NULL",
    )
    .bind(citizen_id)
    .bind(client_id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn for_citizen(conn: &mut AnyConnection, citizen_id: &str) -> Result<Vec<ConsentRecord>> {
    let rows = sqlx::query("SELECT * FROM consents WHERE citizen_id = $1 ORDER BY granted_at, id")
        .bind(citizen_id)
        .fetch_all(conn)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Replaces the live consent (revoking the previous one) in the caller's
/// transaction.
pub async fn replace(conn: &mut AnyConnection, c: &ConsentRecord) -> Result<()> {
    revoke(conn, &c.citizen_id, &c.client_id, c.granted_at).await?;
    sqlx::query(
        "INSERT INTO consents (id, citizen_id, client_id, scope, claims, purpose, granted_at, expires_at, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&c.id)
    .bind(&c.citizen_id)
    .bind(&c.client_id)
    .bind(c.scope.join(" "))
    .bind(to_json_list(&c.claims))
    .bind(&c.purpose)
    .bind(c.granted_at)
    .bind(c.expires_at)
    .bind(c.revoked_at)
    .execute(conn)
    .await
    .map_err(|e| StoreError::conflict_on_unique(e, "live consent"))?;
    Ok(())
}

/// Revokes the live consent, if any; true when one was revoked.
pub async fn revoke(
    conn: &mut AnyConnection,
    citizen_id: &str,
    client_id: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE consents SET revoked_at = $1
         WHERE citizen_id = $2 AND client_id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(citizen_id)
    .bind(client_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Live consents whose expiry has passed, oldest first.
pub async fn lapsed(conn: &mut AnyConnection, now: i64, limit: i64) -> Result<Vec<ConsentRecord>> {
    let rows = sqlx::query(
        "SELECT * FROM consents WHERE revoked_at IS NULL AND expires_at <= $1
         ORDER BY expires_at, id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}
