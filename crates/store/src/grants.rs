//! Grants and the tokens issued under them.
//!
//! A grant is one token family: created with an authorization code, carrying
//! every refresh token rotated from it and every access token signed under
//! it. Revoking the grant (code replay, refresh-token reuse, consent revoked,
//! logout) makes all of them inactive at once, because access tokens are
//! checked against their grant on use.
use sqlx::{AnyConnection, Row};

use crate::{json_list, to_json_list, Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRecord {
    pub id: String,
    /// `None` for client-credentials grants, which carry no citizen.
    pub citizen_id: Option<String>,
    pub client_id: String,
    pub session_id: Option<String>,
    pub consent_id: Option<String>,
    pub scope: Vec<String>,
    pub claims: Option<String>,
    pub auth_time: Option<i64>,
    pub acr: Option<String>,
    pub amr: Vec<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_reason: Option<String>,
}

fn grant_from_row(row: &sqlx::any::AnyRow) -> Result<GrantRecord> {
    let amr: Option<String> = row.try_get("amr")?;
    Ok(GrantRecord {
        id: row.try_get("id")?,
        citizen_id: row.try_get("citizen_id")?,
        client_id: row.try_get("client_id")?,
        session_id: row.try_get("session_id")?,
        consent_id: row.try_get("consent_id")?,
        scope: row
            .try_get::<String, _>("scope")?
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        claims: row.try_get("claims")?,
        auth_time: row.try_get("auth_time")?,
        acr: row.try_get("acr")?,
        amr: match amr {
            Some(text) => json_list(&text, "amr")?,
            None => Vec::new(),
        },
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        revoked_reason: row.try_get("revoked_reason")?,
    })
}

pub async fn insert_grant(conn: &mut AnyConnection, g: &GrantRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO grants (id, citizen_id, client_id, session_id, consent_id, scope, claims, auth_time,
            acr, amr, created_at, expires_at, revoked_at, revoked_reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&g.id)
    .bind(&g.citizen_id)
    .bind(&g.client_id)
    .bind(&g.session_id)
    .bind(&g.consent_id)
    .bind(g.scope.join(" "))
    .bind(&g.claims)
    .bind(g.auth_time)
    .bind(&g.acr)
    .bind(to_json_list(&g.amr))
    .bind(g.created_at)
    .bind(g.expires_at)
    .bind(g.revoked_at)
    .bind(&g.revoked_reason)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn grant(conn: &mut AnyConnection, id: &str) -> Result<Option<GrantRecord>> {
    let row = sqlx::query("SELECT * FROM grants WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(grant_from_row).transpose()
}

/// Whether a grant can still back tokens at `now`.
pub async fn grant_is_live(conn: &mut AnyConnection, id: &str, now: i64) -> Result<bool> {
    let row = sqlx::query(
        "SELECT 1 AS live FROM grants WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(id)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    Ok(row.is_some())
}

pub async fn revoke_grant(
    conn: &mut AnyConnection,
    id: &str,
    now: i64,
    reason: &str,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE grants SET revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes every live grant of a citizen, optionally only for one client.
pub async fn revoke_for_citizen(
    conn: &mut AnyConnection,
    citizen_id: &str,
    client_id: Option<&str>,
    now: i64,
    reason: &str,
) -> Result<Vec<GrantRecord>> {
    let rows = match client_id {
        Some(client_id) => {
            sqlx::query(
                "UPDATE grants SET revoked_at = $1, revoked_reason = $2
                 WHERE citizen_id = $3 AND client_id = $4 AND revoked_at IS NULL RETURNING *",
            )
            .bind(now)
            .bind(reason)
            .bind(citizen_id)
            .bind(client_id)
            .fetch_all(conn)
            .await?
        }
        None => {
            sqlx::query(
                "UPDATE grants SET revoked_at = $1, revoked_reason = $2
                 WHERE citizen_id = $3 AND revoked_at IS NULL RETURNING *",
            )
            .bind(now)
            .bind(reason)
            .bind(citizen_id)
            .fetch_all(conn)
            .await?
        }
    };
    rows.iter().map(grant_from_row).collect()
}

/// A citizen's live grants (not revoked, not expired at `now`), oldest
/// first: the access services hold now, as the citizen's data export lists
/// it.
pub async fn live_for_citizen(
    conn: &mut AnyConnection,
    citizen_id: &str,
    now: i64,
) -> Result<Vec<GrantRecord>> {
    let rows = sqlx::query(
        "SELECT * FROM grants WHERE citizen_id = $1 AND revoked_at IS NULL AND expires_at > $2
         ORDER BY created_at, id",
    )
    .bind(citizen_id)
    .bind(now)
    .fetch_all(conn)
    .await?;
    rows.iter().map(grant_from_row).collect()
}

/// The clients holding a live grant of the citizen, or a live consent, in
/// client order: the relying parties that must hear of an account closing.
pub async fn clients_of_citizen(conn: &mut AnyConnection, citizen_id: &str) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT client_id FROM grants WHERE citizen_id = $1 AND revoked_at IS NULL
         UNION
         SELECT client_id FROM consents WHERE citizen_id = $1 AND revoked_at IS NULL
         ORDER BY client_id",
    )
    .bind(citizen_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok(r.try_get::<String, _>("client_id")?))
        .collect()
}

/// Revokes every live grant issued under a browser session (logout).
pub async fn revoke_for_session(
    conn: &mut AnyConnection,
    session_id: &str,
    now: i64,
    reason: &str,
) -> Result<Vec<GrantRecord>> {
    let rows = sqlx::query(
        "UPDATE grants SET revoked_at = $1, revoked_reason = $2
         WHERE session_id = $3 AND revoked_at IS NULL RETURNING *",
    )
    .bind(now)
    .bind(reason)
    .bind(session_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(grant_from_row).collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRecord {
    pub code_hash: Vec<u8>,
    pub grant_id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub nonce: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

fn code_from_row(row: &sqlx::any::AnyRow) -> Result<CodeRecord> {
    Ok(CodeRecord {
        code_hash: row.try_get("code_hash")?,
        grant_id: row.try_get("grant_id")?,
        client_id: row.try_get("client_id")?,
        redirect_uri: row.try_get("redirect_uri")?,
        code_challenge: row.try_get("code_challenge")?,
        nonce: row.try_get("nonce")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        used_at: row.try_get("used_at")?,
    })
}

pub async fn insert_code(conn: &mut AnyConnection, c: &CodeRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO authorization_codes (code_hash, grant_id, client_id, redirect_uri, code_challenge,
            nonce, created_at, expires_at, used_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&c.code_hash)
    .bind(&c.grant_id)
    .bind(&c.client_id)
    .bind(&c.redirect_uri)
    .bind(&c.code_challenge)
    .bind(&c.nonce)
    .bind(c.created_at)
    .bind(c.expires_at)
    .bind(c.used_at)
    .execute(conn)
    .await
    .map_err(|e| StoreError::conflict_on_unique(e, "authorization code"))?;
    Ok(())
}

pub async fn find_code(conn: &mut AnyConnection, code_hash: &[u8]) -> Result<Option<CodeRecord>> {
    let row = sqlx::query("SELECT * FROM authorization_codes WHERE code_hash = $1")
        .bind(code_hash)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(code_from_row).transpose()
}

/// Marks a code used: true for exactly one caller.
pub async fn use_code(conn: &mut AnyConnection, code_hash: &[u8], now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE authorization_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL",
    )
    .bind(now)
    .bind(code_hash)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRecord {
    pub token_hash: Vec<u8>,
    pub grant_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

pub async fn insert_refresh(conn: &mut AnyConnection, r: &RefreshRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at, used_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&r.token_hash)
    .bind(&r.grant_id)
    .bind(r.created_at)
    .bind(r.expires_at)
    .bind(r.used_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find_refresh(
    conn: &mut AnyConnection,
    token_hash: &[u8],
) -> Result<Option<RefreshRecord>> {
    let row = sqlx::query("SELECT * FROM refresh_tokens WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(conn)
        .await?;
    row.map(|row| {
        Ok(RefreshRecord {
            token_hash: row.try_get("token_hash")?,
            grant_id: row.try_get("grant_id")?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
            used_at: row.try_get("used_at")?,
        })
    })
    .transpose()
}

/// Marks a refresh token rotated: true for exactly one caller.
pub async fn use_refresh(conn: &mut AnyConnection, token_hash: &[u8], now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
    )
    .bind(now)
    .bind(token_hash)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn revoke_access_token(
    conn: &mut AnyConnection,
    jti: &str,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING",
    )
    .bind(jti)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn access_token_revoked(conn: &mut AnyConnection, jti: &str) -> Result<bool> {
    let row = sqlx::query("SELECT 1 AS r FROM revoked_access_tokens WHERE jti = $1")
        .bind(jti)
        .fetch_optional(conn)
        .await?;
    Ok(row.is_some())
}

/// Every revoked access-token id that has not expired yet.
pub async fn revoked_access_tokens(conn: &mut AnyConnection, now: i64) -> Result<Vec<String>> {
    let rows = sqlx::query("SELECT jti FROM revoked_access_tokens WHERE expires_at > $1")
        .bind(now)
        .fetch_all(conn)
        .await?;
    rows.iter().map(|r| Ok(r.try_get("jti")?)).collect()
}

/// Records a client assertion's `jti`; false when it was already used
/// (RFC 7523 3: replay).
pub async fn record_assertion_jti(
    conn: &mut AnyConnection,
    client_id: &str,
    jti: &str,
    expires_at: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO client_assertion_jtis (client_id, jti, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (client_id, jti) DO NOTHING",
    )
    .bind(client_id)
    .bind(jti)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes what no check can need any more: expired codes, refresh tokens,
/// revocation entries and assertion ids.
pub async fn purge_expired(conn: &mut AnyConnection, now: i64) -> Result<u64> {
    let mut total = 0;
    for sql in [
        "DELETE FROM authorization_codes WHERE expires_at < $1",
        "DELETE FROM refresh_tokens WHERE expires_at < $1",
        "DELETE FROM revoked_access_tokens WHERE expires_at < $1",
        "DELETE FROM client_assertion_jtis WHERE expires_at < $1",
    ] {
        total += sqlx::query(sql)
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    Ok(total)
}
