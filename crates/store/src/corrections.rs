//! Correction requests (A-2.1 s. 89, s. 98): a signed-in citizen asks that
//! an element of their file be corrected; the staff role that keeps the
//! register opens the file for it and answers. Deleted with the account,
//! otherwise two years after the answer (`correction.record`).
use sqlx::{AnyConnection, Row};

use crate::{Result, StoreError};

/// The answer to a correction request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The element was corrected.
    Corrected,
    /// The request was refused, with reasons.
    Refused,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Corrected => "corrected",
            Self::Refused => "refused",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "corrected" => Some(Self::Corrected),
            "refused" => Some(Self::Refused),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectionRequest {
    /// The reference given to the citizen.
    pub id: String,
    pub citizen_id: String,
    /// The element of the file concerned (a PIA id).
    pub element: String,
    /// What the citizen says is wrong.
    pub details: String,
    /// The PIA role the request is routed to.
    pub routed_to: String,
    pub received_at: i64,
    pub answer_due: i64,
    /// When a member of staff first opened the file for it, and their badge.
    pub opened_at: Option<i64>,
    pub opened_by: Option<String>,
    pub decision: Option<Decision>,
    pub answer: Option<String>,
    pub answered_by: Option<String>,
    pub closed_at: Option<i64>,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<CorrectionRequest> {
    let decision: Option<String> = row.try_get("decision")?;
    let decision = match decision.as_deref() {
        None => None,
        Some(text) => Some(
            Decision::parse(text)
                .ok_or_else(|| StoreError::Corrupt(format!("correction decision {text}")))?,
        ),
    };
    Ok(CorrectionRequest {
        id: row.try_get("id")?,
        citizen_id: row.try_get("citizen_id")?,
        element: row.try_get("element")?,
        details: row.try_get("details")?,
        routed_to: row.try_get("routed_to")?,
        received_at: row.try_get("received_at")?,
        answer_due: row.try_get("answer_due")?,
        opened_at: row.try_get("opened_at")?,
        opened_by: row.try_get("opened_by")?,
        decision,
        answer: row.try_get("answer")?,
        answered_by: row.try_get("answered_by")?,
        closed_at: row.try_get("closed_at")?,
    })
}

pub async fn insert(conn: &mut AnyConnection, c: &CorrectionRequest) -> Result<()> {
    sqlx::query(
        "INSERT INTO correction_requests (id, citizen_id, element, details, routed_to, received_at,
            answer_due, opened_at, opened_by, decision, answer, answered_by, closed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&c.id)
    .bind(&c.citizen_id)
    .bind(&c.element)
    .bind(&c.details)
    .bind(&c.routed_to)
    .bind(c.received_at)
    .bind(c.answer_due)
    .bind(c.opened_at)
    .bind(&c.opened_by)
    .bind(c.decision.map(Decision::as_str))
    .bind(&c.answer)
    .bind(&c.answered_by)
    .bind(c.closed_at)
    .execute(conn)
    .await
    .map_err(|e| StoreError::conflict_on_unique(e, "correction request with this reference"))?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<CorrectionRequest>> {
    let row = sqlx::query("SELECT * FROM correction_requests WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// A citizen's own requests, newest first.
pub async fn for_citizen(
    conn: &mut AnyConnection,
    citizen_id: &str,
) -> Result<Vec<CorrectionRequest>> {
    let rows = sqlx::query(
        "SELECT * FROM correction_requests WHERE citizen_id = $1 ORDER BY received_at DESC, id",
    )
    .bind(citizen_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// How many requests the citizen has open (not yet answered).
pub async fn open_for_citizen(conn: &mut AnyConnection, citizen_id: &str) -> Result<i64> {
    Ok(sqlx::query(
        "SELECT COUNT(*) AS n FROM correction_requests WHERE citizen_id = $1 AND closed_at IS NULL",
    )
    .bind(citizen_id)
    .fetch_one(conn)
    .await?
    .try_get("n")?)
}

/// The requests routed to any of `roles` (the open ones only with
/// `open_only`), oldest first.
pub async fn routed_to(
    conn: &mut AnyConnection,
    roles: &[String],
    open_only: bool,
) -> Result<Vec<CorrectionRequest>> {
    let sql = if open_only {
        "SELECT * FROM correction_requests WHERE closed_at IS NULL ORDER BY received_at, id"
    } else {
        "SELECT * FROM correction_requests ORDER BY received_at, id"
    };
    let rows = sqlx::query(sql).fetch_all(conn).await?;
    let all: Vec<CorrectionRequest> = rows.iter().map(from_row).collect::<Result<_>>()?;
    Ok(all
        .into_iter()
        .filter(|c| roles.contains(&c.routed_to))
        .collect())
}

/// Notes the first opening of the file for the request (later openings
/// leave it as it is; each is in the access register).
pub async fn mark_opened(conn: &mut AnyConnection, id: &str, badge: &str, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE correction_requests SET opened_at = $1, opened_by = $2
         WHERE id = $3 AND opened_at IS NULL",
    )
    .bind(now)
    .bind(badge)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records the answer and closes the request; `false` if it was already
/// answered or does not exist.
pub async fn answer(
    conn: &mut AnyConnection,
    id: &str,
    decision: Decision,
    answer: &str,
    answered_by: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE correction_requests SET decision = $1, answer = $2, answered_by = $3, closed_at = $4
         WHERE id = $5 AND closed_at IS NULL",
    )
    .bind(decision.as_str())
    .bind(answer)
    .bind(answered_by)
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
