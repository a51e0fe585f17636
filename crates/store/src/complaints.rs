//! Complaints about the protection of personal information (pia/governance.md,
//! section 6): filed by a citizen from their account, or by anyone with a
//! contact and no account; answered by the privacy officer.
use sqlx::{AnyConnection, Row};

use crate::{Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Complaint {
    /// The file number given to the complainant.
    pub id: String,
    /// `None` once the account is deleted (the complaint stays its time).
    pub citizen_id: Option<String>,
    pub subject: String,
    pub facts: String,
    pub received_at: i64,
    pub answer_due: i64,
    pub answer: Option<String>,
    pub answered_by: Option<String>,
    pub closed_at: Option<i64>,
    /// How to answer someone who filed without an account (an email or a
    /// postal address); `None` for a signed-in citizen's complaint.
    pub contact: Option<String>,
    /// The SHA-256 of the status code given once at filing, with which
    /// someone without an account reads the answer by the file number.
    pub status_code_hash: Option<Vec<u8>>,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Complaint> {
    Ok(Complaint {
        id: row.try_get("id")?,
        citizen_id: row.try_get("citizen_id")?,
        subject: row.try_get("subject")?,
        facts: row.try_get("facts")?,
        received_at: row.try_get("received_at")?,
        answer_due: row.try_get("answer_due")?,
        answer: row.try_get("answer")?,
        answered_by: row.try_get("answered_by")?,
        closed_at: row.try_get("closed_at")?,
        contact: row.try_get("contact")?,
        status_code_hash: row.try_get("status_code_hash")?,
    })
}

pub async fn insert(conn: &mut AnyConnection, c: &Complaint) -> Result<()> {
    sqlx::query(
        "INSERT INTO complaints (id, citizen_id, subject, facts, received_at, answer_due, answer,
            answered_by, closed_at, contact, status_code_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&c.id)
    .bind(&c.citizen_id)
    .bind(&c.subject)
    .bind(&c.facts)
    .bind(c.received_at)
    .bind(c.answer_due)
    .bind(&c.answer)
    .bind(&c.answered_by)
    .bind(c.closed_at)
    .bind(&c.contact)
    .bind(&c.status_code_hash)
    .execute(conn)
    .await
    .map_err(|e| StoreError::conflict_on_unique(e, "complaint with this number"))?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Complaint>> {
    let row = sqlx::query("SELECT * FROM complaints WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// A citizen's own complaints, newest first.
pub async fn for_citizen(conn: &mut AnyConnection, citizen_id: &str) -> Result<Vec<Complaint>> {
    let rows =
        sqlx::query("SELECT * FROM complaints WHERE citizen_id = $1 ORDER BY received_at DESC, id")
            .bind(citizen_id)
            .fetch_all(conn)
            .await?;
    rows.iter().map(from_row).collect()
}

/// Every complaint (only the open ones with `open_only`), oldest first.
pub async fn list(conn: &mut AnyConnection, open_only: bool) -> Result<Vec<Complaint>> {
    let sql = if open_only {
        "SELECT * FROM complaints WHERE closed_at IS NULL ORDER BY received_at, id"
    } else {
        "SELECT * FROM complaints ORDER BY received_at, id"
    };
    let rows = sqlx::query(sql).fetch_all(conn).await?;
    rows.iter().map(from_row).collect()
}

/// Records the answer and closes the file; `false` if it was already closed
/// or does not exist.
pub async fn answer(
    conn: &mut AnyConnection,
    id: &str,
    answer: &str,
    answered_by: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE complaints SET answer = $1, answered_by = $2, closed_at = $3
         WHERE id = $4 AND closed_at IS NULL",
    )
    .bind(answer)
    .bind(answered_by)
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
