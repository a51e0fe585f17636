//! Authenticated browser sessions (see `sqin-session` for the seam's rules).
use sqlx::{AnyConnection, Row};

use crate::{json_list, to_json_list, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id_hash: Vec<u8>,
    pub citizen_id: String,
    pub auth_time: i64,
    pub acr: String,
    pub amr: Vec<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<SessionRecord> {
    Ok(SessionRecord {
        id_hash: row.try_get("id_hash")?,
        citizen_id: row.try_get("citizen_id")?,
        auth_time: row.try_get("auth_time")?,
        acr: row.try_get("acr")?,
        amr: json_list(&row.try_get::<String, _>("amr")?, "amr")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

pub async fn insert(conn: &mut AnyConnection, s: &SessionRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, citizen_id, auth_time, acr, amr, created_at, expires_at, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&s.id_hash)
    .bind(&s.citizen_id)
    .bind(s.auth_time)
    .bind(&s.acr)
    .bind(to_json_list(&s.amr))
    .bind(s.created_at)
    .bind(s.expires_at)
    .bind(s.revoked_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A session that is neither expired nor revoked at `now`.
pub async fn find_live(
    conn: &mut AnyConnection,
    id_hash: &[u8],
    now: i64,
) -> Result<Option<SessionRecord>> {
    let row = sqlx::query(
        "SELECT * FROM sessions WHERE id_hash = $1 AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(id_hash)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn revoke(conn: &mut AnyConnection, id_hash: &[u8], now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE sessions SET revoked_at = $1 WHERE id_hash = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(id_hash)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends every session of a citizen (recovery, account closure).
pub async fn revoke_all_for_citizen(
    conn: &mut AnyConnection,
    citizen_id: &str,
    now: i64,
) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE sessions SET revoked_at = $1 WHERE citizen_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(citizen_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

pub async fn live_for_citizen(
    conn: &mut AnyConnection,
    citizen_id: &str,
    now: i64,
) -> Result<Vec<SessionRecord>> {
    let rows = sqlx::query(
        "SELECT * FROM sessions WHERE citizen_id = $1 AND revoked_at IS NULL AND expires_at > $2
         ORDER BY created_at",
    )
    .bind(citizen_id)
    .bind(now)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Which passkey opened a session (`session_credentials`): kept while a grant
/// issued under the session may still live, so that removing the passkey can
/// end what rests on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCredential {
    /// The session's `id_hash`.
    pub session_hash: Vec<u8>,
    /// The session's `sid` (what `grants.session_id` holds).
    pub session_id: String,
    pub citizen_id: String,
    pub credential_id: Vec<u8>,
    pub created_at: i64,
}

/// Records the passkey that opened a session, and forgets the sessions of
/// that passkey on which nothing rests any more (neither the session nor a
/// grant issued under it is left), so a passkey used every day keeps only a
/// few rows.
pub async fn record_credential(conn: &mut AnyConnection, link: &SessionCredential) -> Result<()> {
    sqlx::query(
        "DELETE FROM session_credentials WHERE credential_id = $1
           AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id_hash = session_credentials.session_hash)
           AND NOT EXISTS (SELECT 1 FROM grants g WHERE g.session_id = session_credentials.session_id)",
    )
    .bind(&link.credential_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO session_credentials (session_hash, session_id, citizen_id, credential_id, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&link.session_hash)
    .bind(&link.session_id)
    .bind(&link.citizen_id)
    .bind(&link.credential_id)
    .bind(link.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The sessions a passkey of the citizen opened, oldest first.
pub async fn opened_by(
    conn: &mut AnyConnection,
    citizen_id: &str,
    credential_id: &[u8],
) -> Result<Vec<SessionCredential>> {
    let rows = sqlx::query(
        "SELECT * FROM session_credentials WHERE citizen_id = $1 AND credential_id = $2
         ORDER BY created_at, session_id",
    )
    .bind(citizen_id)
    .bind(credential_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SessionCredential {
                session_hash: r.try_get("session_hash")?,
                session_id: r.try_get("session_id")?,
                citizen_id: r.try_get("citizen_id")?,
                credential_id: r.try_get("credential_id")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// Forgets which sessions a passkey opened (the passkey is being removed;
/// its deletion would cascade to them anyway).
pub async fn forget_credential(
    conn: &mut AnyConnection,
    citizen_id: &str,
    credential_id: &[u8],
) -> Result<u64> {
    let done =
        sqlx::query("DELETE FROM session_credentials WHERE citizen_id = $1 AND credential_id = $2")
            .bind(citizen_id)
            .bind(credential_id)
            .execute(conn)
            .await?;
    Ok(done.rows_affected())
}
