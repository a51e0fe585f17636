//! Server-wide secrets (the pairwise-subject key, the enrolment-code key),
//! stored sealed under the key-encryption key so that every node of a
//! deployment shares them through the database.
use sqlx::{AnyConnection, Row};

use crate::Result;

pub async fn get(conn: &mut AnyConnection, name: &str) -> Result<Option<Vec<u8>>> {
    let row = sqlx::query("SELECT sealed_value FROM server_secrets WHERE name = $1")
        .bind(name)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| r.try_get("sealed_value")).transpose()?)
}

/// Stores `sealed` unless a value exists, and returns the value that won: two
/// nodes starting at once on a fresh database end up with the same secret.
pub async fn get_or_insert(
    conn: &mut AnyConnection,
    name: &str,
    sealed: &[u8],
    now: i64,
) -> Result<Vec<u8>> {
    sqlx::query(
        "INSERT INTO server_secrets (name, sealed_value, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(sealed)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    get(conn, name)
        .await?
        .ok_or(crate::StoreError::NotFound("server secret"))
}

/// Deletes a secret (a key that must sign nothing more); `false` if absent.
pub async fn delete(conn: &mut AnyConnection, name: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM server_secrets WHERE name = $1")
        .bind(name)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
