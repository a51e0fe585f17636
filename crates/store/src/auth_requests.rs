//! Pending authorization requests, held server-side while the citizen signs
//! in and consents, so nothing the browser carries between steps is trusted.
use sqlx::{AnyConnection, Row};

use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthRequestRecord {
    pub id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub prompt: Option<String>,
    pub max_age: Option<i64>,
    pub acr_values: Option<String>,
    pub ui_locales: Option<String>,
    pub claims: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub consumed_at: Option<i64>,
    pub forced_login_at: Option<i64>,
    pub stale_session: Option<String>,
    /// The pairwise `sub` the request is about (`id_token_hint`, or a `sub`
    /// value in `claims`): only that citizen's session may answer it.
    pub subject_hint: Option<String>,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<AuthRequestRecord> {
    Ok(AuthRequestRecord {
        id: row.try_get("id")?,
        client_id: row.try_get("client_id")?,
        redirect_uri: row.try_get("redirect_uri")?,
        scope: row.try_get("scope")?,
        state: row.try_get("state")?,
        nonce: row.try_get("nonce")?,
        code_challenge: row.try_get("code_challenge")?,
        prompt: row.try_get("prompt")?,
        max_age: row.try_get("max_age")?,
        acr_values: row.try_get("acr_values")?,
        ui_locales: row.try_get("ui_locales")?,
        claims: row.try_get("claims")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        consumed_at: row.try_get("consumed_at")?,
        forced_login_at: row.try_get("forced_login_at")?,
        stale_session: row.try_get("stale_session")?,
        subject_hint: row.try_get("subject_hint")?,
    })
}

pub async fn insert(conn: &mut AnyConnection, r: &AuthRequestRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO auth_requests (id, client_id, redirect_uri, scope, state, nonce, code_challenge,
            prompt, max_age, acr_values, ui_locales, claims, created_at, expires_at, consumed_at,
            subject_hint)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(&r.id)
    .bind(&r.client_id)
    .bind(&r.redirect_uri)
    .bind(&r.scope)
    .bind(&r.state)
    .bind(&r.nonce)
    .bind(&r.code_challenge)
    .bind(&r.prompt)
    .bind(r.max_age)
    .bind(&r.acr_values)
    .bind(&r.ui_locales)
    .bind(&r.claims)
    .bind(r.created_at)
    .bind(r.expires_at)
    .bind(r.consumed_at)
    .bind(&r.subject_hint)
    .execute(conn)
    .await?;
    Ok(())
}

/// A request that is neither expired nor consumed.
pub async fn find_open(
    conn: &mut AnyConnection,
    id: &str,
    now: i64,
) -> Result<Option<AuthRequestRecord>> {
    let row = sqlx::query(
        "SELECT * FROM auth_requests WHERE id = $1 AND consumed_at IS NULL AND expires_at > $2",
    )
    .bind(id)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Records that the citizen was sent to a fresh ceremony (prompt=login), and
/// which session can therefore no longer satisfy the request.
pub async fn mark_login_forced(
    conn: &mut AnyConnection,
    id: &str,
    stale_session: Option<&str>,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE auth_requests SET forced_login_at = $1, stale_session = $2 WHERE id = $3")
        .bind(now)
        .bind(stale_session.unwrap_or(""))
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Consumes a request: true for exactly one caller.
pub async fn consume(conn: &mut AnyConnection, id: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE auth_requests SET consumed_at = $1 WHERE id = $2 AND consumed_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes requests that expired before `before` (housekeeping).
pub async fn delete_expired(conn: &mut AnyConnection, before: i64) -> Result<u64> {
    let done = sqlx::query("DELETE FROM auth_requests WHERE expires_at < $1")
        .bind(before)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
