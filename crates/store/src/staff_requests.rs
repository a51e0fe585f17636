//! Four-eyes requests (a recovery code, an account closure, a role grant)
//! and the letters that carry codes to the registered address.
use sqlx::{AnyConnection, Row};

use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRequest {
    pub id: String,
    /// `recovery`, `closure` or `grant`.
    pub kind: String,
    /// The citizen concerned (recovery, closure); `None` after the account
    /// is gone.
    pub citizen_id: Option<String>,
    /// The member of staff a grant is for.
    pub grantee_id: Option<String>,
    pub role: Option<String>,
    pub grant_until: Option<i64>,
    pub purpose: String,
    pub reference: String,
    pub requested_by: String,
    pub requested_at: i64,
    pub expires_at: i64,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    /// `approved` or `refused`.
    pub decision: Option<String>,
    /// The relying party a `relying_party` request is about.
    pub client_id: Option<String>,
    /// What a `relying_party` request asks for (JSON), applied on approval.
    pub payload: Option<String>,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<StaffRequest> {
    Ok(StaffRequest {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        citizen_id: row.try_get("citizen_id")?,
        grantee_id: row.try_get("grantee_id")?,
        role: row.try_get("role")?,
        grant_until: row.try_get("grant_until")?,
        purpose: row.try_get("purpose")?,
        reference: row.try_get("reference")?,
        requested_by: row.try_get("requested_by")?,
        requested_at: row.try_get("requested_at")?,
        expires_at: row.try_get("expires_at")?,
        decided_by: row.try_get("decided_by")?,
        decided_at: row.try_get("decided_at")?,
        decision: row.try_get("decision")?,
        client_id: row.try_get("client_id")?,
        payload: row.try_get("payload")?,
    })
}

pub async fn insert(conn: &mut AnyConnection, r: &StaffRequest) -> Result<()> {
    sqlx::query(
        "INSERT INTO staff_requests (id, kind, citizen_id, grantee_id, role, grant_until, purpose,
            reference, requested_by, requested_at, expires_at, decided_by, decided_at, decision,
            client_id, payload)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(&r.id)
    .bind(&r.kind)
    .bind(&r.citizen_id)
    .bind(&r.grantee_id)
    .bind(&r.role)
    .bind(r.grant_until)
    .bind(&r.purpose)
    .bind(&r.reference)
    .bind(&r.requested_by)
    .bind(r.requested_at)
    .bind(r.expires_at)
    .bind(&r.decided_by)
    .bind(r.decided_at)
    .bind(&r.decision)
    .bind(&r.client_id)
    .bind(&r.payload)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<StaffRequest>> {
    let row = sqlx::query("SELECT * FROM staff_requests WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Requests not decided and not lapsed, oldest first.
pub async fn open(conn: &mut AnyConnection, now: i64) -> Result<Vec<StaffRequest>> {
    let rows = sqlx::query(
        "SELECT * FROM staff_requests WHERE decided_at IS NULL AND expires_at > $1
         ORDER BY requested_at, id",
    )
    .bind(now)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The requests about one relying party, newest first (whether its
/// registration was ever approved, whether one is open).
pub async fn for_client(conn: &mut AnyConnection, client_id: &str) -> Result<Vec<StaffRequest>> {
    let rows = sqlx::query(
        "SELECT * FROM staff_requests WHERE kind = 'relying_party' AND client_id = $1
         ORDER BY requested_at DESC, id",
    )
    .bind(client_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Records the decision, once: false when the request was decided or lapsed
/// meanwhile (two approvers at once: only one wins).
pub async fn decide(
    conn: &mut AnyConnection,
    id: &str,
    by: &str,
    decision: &str,
    now: i64,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE staff_requests SET decided_by = $2, decision = $3, decided_at = $4
         WHERE id = $1 AND decided_at IS NULL AND expires_at > $4",
    )
    .bind(id)
    .bind(by)
    .bind(decision)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

// ---------------------------------------------------------------- letters

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub id: String,
    pub citizen_id: Option<String>,
    /// `recovery`.
    pub kind: String,
    /// The letter's content, sealed under the key-encryption key.
    pub sealed: Vec<u8>,
    pub created_at: i64,
    pub printed_at: Option<i64>,
    pub printed_by: Option<String>,
}

fn letter_from_row(row: &sqlx::any::AnyRow) -> Result<Letter> {
    Ok(Letter {
        id: row.try_get("id")?,
        citizen_id: row.try_get("citizen_id")?,
        kind: row.try_get("kind")?,
        sealed: row.try_get("sealed")?,
        created_at: row.try_get("created_at")?,
        printed_at: row.try_get("printed_at")?,
        printed_by: row.try_get("printed_by")?,
    })
}

pub async fn insert_letter(conn: &mut AnyConnection, l: &Letter) -> Result<()> {
    sqlx::query(
        "INSERT INTO mail_letters (id, citizen_id, kind, sealed, created_at, printed_at, printed_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&l.id)
    .bind(&l.citizen_id)
    .bind(&l.kind)
    .bind(&l.sealed)
    .bind(l.created_at)
    .bind(l.printed_at)
    .bind(&l.printed_by)
    .execute(conn)
    .await?;
    Ok(())
}

/// Letters not printed yet, oldest first.
pub async fn unprinted_letters(conn: &mut AnyConnection) -> Result<Vec<Letter>> {
    let rows =
        sqlx::query("SELECT * FROM mail_letters WHERE printed_at IS NULL ORDER BY created_at, id")
            .fetch_all(conn)
            .await?;
    rows.iter().map(letter_from_row).collect()
}

/// Marks a letter printed, once.
pub async fn letter_printed(
    conn: &mut AnyConnection,
    id: &str,
    by: &str,
    now: i64,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE mail_letters SET printed_at = $3, printed_by = $2 WHERE id = $1 AND printed_at IS NULL",
    )
    .bind(id)
    .bind(by)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}
