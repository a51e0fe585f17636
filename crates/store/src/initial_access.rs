//! Initial access tokens (RFC 7591 section 3): what lets a ministry's own
//! pipeline register a client, within one entry of the PIA, without anyone
//! at sqin typing its metadata.
use sqlx::{AnyConnection, Row};

use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialAccessToken {
    pub token_hash: Vec<u8>,
    pub pia_entry: String,
    pub issued_by: String,
    pub issued_at: i64,
    pub expires_at: i64,
    pub uses_left: i64,
    pub revoked_at: Option<i64>,
}

pub async fn insert(conn: &mut AnyConnection, t: &InitialAccessToken) -> Result<()> {
    sqlx::query(
        "INSERT INTO initial_access_tokens (token_hash, pia_entry, issued_by, issued_at, expires_at, uses_left, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&t.token_hash)
    .bind(&t.pia_entry)
    .bind(&t.issued_by)
    .bind(t.issued_at)
    .bind(t.expires_at)
    .bind(t.uses_left)
    .bind(t.revoked_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Spends one use of the token with this hash, if it is live; the PIA entry
/// it is for. Atomic: two registrations cannot share the last use.
pub async fn spend(
    conn: &mut AnyConnection,
    token_hash: &[u8],
    now: i64,
) -> Result<Option<String>> {
    let row = sqlx::query(
        "UPDATE initial_access_tokens SET uses_left = uses_left - 1
         WHERE token_hash = $1 AND uses_left > 0 AND expires_at > $2 AND revoked_at IS NULL
         RETURNING pia_entry",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| r.try_get("pia_entry")).transpose()?)
}

/// Gives back a use spent on a registration that was then refused.
pub async fn refund(conn: &mut AnyConnection, token_hash: &[u8]) -> Result<()> {
    sqlx::query("UPDATE initial_access_tokens SET uses_left = uses_left + 1 WHERE token_hash = $1")
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes tokens that expired or are used up before `cutoff`.
pub async fn purge(conn: &mut AnyConnection, cutoff: i64) -> Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM initial_access_tokens WHERE expires_at <= $1 OR uses_left <= 0 OR revoked_at IS NOT NULL",
    )
    .bind(cutoff)
    .execute(conn)
    .await?
    .rows_affected())
}
