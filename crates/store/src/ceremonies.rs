//! Server-side state of WebAuthn ceremonies in progress.
//!
//! The browser holds a random handle; the row holds the challenge state, the
//! hash of the browser cookie it is bound to, and an expiry of a few minutes.
//! [`take`] deletes and returns the row in one statement, so each challenge is
//! consumed exactly once even when two nodes receive the same answer.
use sqlx::{AnyConnection, Row};

use crate::{Result, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeremonyKind {
    /// An enrolment code and birthdate were accepted: the browser may now
    /// start registration ceremonies for that citizen until it expires.
    Grant,
    /// Registration of a passkey with an enrolment or recovery code.
    Enrol,
    /// Registration of a further passkey by a signed-in citizen.
    Add,
    /// Authentication.
    Login,
}

impl CeremonyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Grant => "grant",
            Self::Enrol => "enrol",
            Self::Add => "add",
            Self::Login => "login",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        match text {
            "grant" => Ok(Self::Grant),
            "enrol" => Ok(Self::Enrol),
            "add" => Ok(Self::Add),
            "login" => Ok(Self::Login),
            other => Err(StoreError::Corrupt(format!("ceremony kind {other}"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ceremony {
    pub id_hash: Vec<u8>,
    pub kind: CeremonyKind,
    pub browser_hash: Vec<u8>,
    pub citizen_id: Option<String>,
    pub code_hash: Option<Vec<u8>>,
    pub request: Option<String>,
    pub state: String,
    pub created_at: i64,
    pub expires_at: i64,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Ceremony> {
    Ok(Ceremony {
        id_hash: row.try_get("id_hash")?,
        kind: CeremonyKind::parse(&row.try_get::<String, _>("kind")?)?,
        browser_hash: row.try_get("browser_hash")?,
        citizen_id: row.try_get("citizen_id")?,
        code_hash: row.try_get("code_hash")?,
        request: row.try_get("request")?,
        state: row.try_get("state")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

pub async fn insert(conn: &mut AnyConnection, c: &Ceremony) -> Result<()> {
    sqlx::query(
        "INSERT INTO webauthn_ceremonies (id_hash, kind, browser_hash, citizen_id, code_hash,
            request, state, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&c.id_hash)
    .bind(c.kind.as_str())
    .bind(&c.browser_hash)
    .bind(&c.citizen_id)
    .bind(&c.code_hash)
    .bind(&c.request)
    .bind(&c.state)
    .bind(c.created_at)
    .bind(c.expires_at)
    .execute(conn)
    .await
    .map_err(|e| StoreError::conflict_on_unique(e, "ceremony"))?;
    Ok(())
}

/// Removes and returns the ceremony of this kind with this handle hash, bound
/// to this browser. Expiry is the caller's check (the row is gone either way).
pub async fn take(
    conn: &mut AnyConnection,
    id_hash: &[u8],
    kind: CeremonyKind,
    browser_hash: &[u8],
) -> Result<Option<Ceremony>> {
    let row = sqlx::query(
        "DELETE FROM webauthn_ceremonies WHERE id_hash = $1 AND kind = $2 AND browser_hash = $3
         RETURNING *",
    )
    .bind(id_hash)
    .bind(kind.as_str())
    .bind(browser_hash)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Reads a live ceremony without consuming it (enrolment grants, which serve
/// several registration attempts until one succeeds).
pub async fn peek(
    conn: &mut AnyConnection,
    id_hash: &[u8],
    kind: CeremonyKind,
    browser_hash: &[u8],
    now: i64,
) -> Result<Option<Ceremony>> {
    let row = sqlx::query(
        "SELECT * FROM webauthn_ceremonies
         WHERE id_hash = $1 AND kind = $2 AND browser_hash = $3 AND expires_at > $4",
    )
    .bind(id_hash)
    .bind(kind.as_str())
    .bind(browser_hash)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Removes every ceremony of a kind for a citizen (grants once a code is spent).
pub async fn delete_for_citizen(
    conn: &mut AnyConnection,
    citizen_id: &str,
    kind: CeremonyKind,
) -> Result<u64> {
    let done = sqlx::query("DELETE FROM webauthn_ceremonies WHERE citizen_id = $1 AND kind = $2")
        .bind(citizen_id)
        .bind(kind.as_str())
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Deletes expired ceremonies; returns how many.
pub async fn purge_expired(conn: &mut AnyConnection, now: i64) -> Result<u64> {
    let done = sqlx::query("DELETE FROM webauthn_ceremonies WHERE expires_at <= $1")
        .bind(now)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
