//! One-time enrolment codes, sent to a citizen out of band (by mail). Only a
//! keyed hash of each code is stored.
use sqlx::{AnyConnection, Row};

use crate::{Result, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodePurpose {
    /// The first passkey of a newly registered citizen.
    Enrolment,
    /// A replacement after a lost passkey (`sqin citizen reissue-code`).
    Recovery,
}

impl CodePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enrolment => "enrolment",
            Self::Recovery => "recovery",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        match text {
            "enrolment" => Ok(Self::Enrolment),
            "recovery" => Ok(Self::Recovery),
            other => Err(StoreError::Corrupt(format!("code purpose {other}"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentCode {
    pub code_hash: Vec<u8>,
    pub citizen_id: String,
    pub purpose: CodePurpose,
    pub issued_at: i64,
    pub expires_at: i64,
    pub spent_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub failed_attempts: i64,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<EnrolmentCode> {
    Ok(EnrolmentCode {
        code_hash: row.try_get("code_hash")?,
        citizen_id: row.try_get("citizen_id")?,
        purpose: CodePurpose::parse(&row.try_get::<String, _>("purpose")?)?,
        issued_at: row.try_get("issued_at")?,
        expires_at: row.try_get("expires_at")?,
        spent_at: row.try_get("spent_at")?,
        revoked_at: row.try_get("revoked_at")?,
        failed_attempts: row.try_get("failed_attempts")?,
    })
}

pub async fn insert(conn: &mut AnyConnection, code: &EnrolmentCode) -> Result<()> {
    sqlx::query(
        "INSERT INTO enrolment_codes (code_hash, citizen_id, purpose, issued_at, expires_at, spent_at, revoked_at, failed_attempts)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&code.code_hash)
    .bind(&code.citizen_id)
    .bind(code.purpose.as_str())
    .bind(code.issued_at)
    .bind(code.expires_at)
    .bind(code.spent_at)
    .bind(code.revoked_at)
    .bind(code.failed_attempts)
    .execute(conn)
    .await
    .map_err(|e| StoreError::conflict_on_unique(e, "enrolment code"))?;
    Ok(())
}

pub async fn find(conn: &mut AnyConnection, code_hash: &[u8]) -> Result<Option<EnrolmentCode>> {
    let row = sqlx::query("SELECT * FROM enrolment_codes WHERE code_hash = $1")
        .bind(code_hash)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn for_citizen(conn: &mut AnyConnection, citizen_id: &str) -> Result<Vec<EnrolmentCode>> {
    let rows = sqlx::query(
        "SELECT * FROM enrolment_codes WHERE citizen_id = $1 ORDER BY issued_at, code_hash",
    )
    .bind(citizen_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Revokes every still-usable code of a citizen, so that reissuing a code
/// leaves exactly one valid code in the mail.
pub async fn revoke_open(conn: &mut AnyConnection, citizen_id: &str, now: i64) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE enrolment_codes SET revoked_at = $1
         WHERE citizen_id = $2 AND spent_at IS NULL AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(citizen_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Spends a code atomically: the conditional update succeeds for exactly one
/// caller, even when two requests race with the same code.
pub async fn spend(
    conn: &mut AnyConnection,
    code_hash: &[u8],
    now: i64,
    max_failed_attempts: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE enrolment_codes SET spent_at = $1
         WHERE code_hash = $2 AND spent_at IS NULL AND revoked_at IS NULL
           AND expires_at > $1 AND failed_attempts < $3",
    )
    .bind(now)
    .bind(code_hash)
    .bind(max_failed_attempts)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Counts a failed attempt against a code and returns the new count.
pub async fn record_failure(conn: &mut AnyConnection, code_hash: &[u8]) -> Result<i64> {
    let row = sqlx::query(
        "UPDATE enrolment_codes SET failed_attempts = failed_attempts + 1
         WHERE code_hash = $1 RETURNING failed_attempts",
    )
    .bind(code_hash)
    .fetch_optional(conn)
    .await?;
    match row {
        Some(row) => Ok(row.try_get("failed_attempts")?),
        None => Err(StoreError::NotFound("enrolment code")),
    }
}
