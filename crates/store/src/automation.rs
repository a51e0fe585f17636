//! Automation clients of the admin API and the access tokens they obtain:
//! a pipeline acts as the member of staff who owns it, never as more.
use sqlx::{AnyConnection, Row};

use crate::{Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutomationClient {
    pub client_id: String,
    pub name: String,
    pub owner_staff_id: String,
    pub secret_hash: Vec<u8>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<AutomationClient> {
    Ok(AutomationClient {
        client_id: row.try_get("client_id")?,
        name: row.try_get("name")?,
        owner_staff_id: row.try_get("owner_staff_id")?,
        secret_hash: row.try_get("secret_hash")?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

pub async fn insert(conn: &mut AnyConnection, c: &AutomationClient) -> Result<()> {
    sqlx::query(
        "INSERT INTO automation_clients (client_id, name, owner_staff_id, secret_hash, created_at, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&c.client_id)
    .bind(&c.name)
    .bind(&c.owner_staff_id)
    .bind(&c.secret_hash)
    .bind(c.created_at)
    .bind(c.revoked_at)
    .execute(conn)
    .await
    .map_err(|e| StoreError::conflict_on_unique(e, "automation client"))?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, client_id: &str) -> Result<Option<AutomationClient>> {
    let row = sqlx::query("SELECT * FROM automation_clients WHERE client_id = $1")
        .bind(client_id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn of_owner(conn: &mut AnyConnection, owner: &str) -> Result<Vec<AutomationClient>> {
    let rows = sqlx::query(
        "SELECT * FROM automation_clients WHERE owner_staff_id = $1 ORDER BY created_at, client_id",
    )
    .bind(owner)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Revokes a client and ends its tokens; `false` if it was not live.
pub async fn revoke(conn: &mut AnyConnection, client_id: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE automation_clients SET revoked_at = $1 WHERE client_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(client_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM admin_tokens WHERE client_id = $1")
        .bind(client_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn insert_token(
    conn: &mut AnyConnection,
    token_hash: &[u8],
    client_id: &str,
    issued_at: i64,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO admin_tokens (token_hash, client_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(client_id)
    .bind(issued_at)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The live client a token belongs to, if the token is live.
pub async fn client_of_token(
    conn: &mut AnyConnection,
    token_hash: &[u8],
    now: i64,
) -> Result<Option<(AutomationClient, i64)>> {
    let row = sqlx::query(
        "SELECT c.*, t.issued_at AS token_issued_at FROM admin_tokens t
         JOIN automation_clients c ON c.client_id = t.client_id
         WHERE t.token_hash = $1 AND t.expires_at > $2 AND c.revoked_at IS NULL",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    row.as_ref()
        .map(|r| Ok((from_row(r)?, r.try_get("token_issued_at")?)))
        .transpose()
}
