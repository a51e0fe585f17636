//! The staff access register and the alerts it raises.
//!
//! One row per access to a citizen's file, or act on it, by a member of
//! staff. The citizen is a keyed hash of the register id (`citizen_ref`),
//! so the register survives the account's closure without naming anyone.
//! The storage refuses every UPDATE, and every DELETE except of the rows the
//! retention pass permits in its own transaction ([`purge_before`]).
use sqlx::{AnyConnection, Row};

use crate::{json_list, to_json_list, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRecord {
    /// Dense, increasing; 0 before insertion.
    pub seq: i64,
    pub at: i64,
    pub staff_id: String,
    pub badge: String,
    pub role: String,
    /// `file.lookup`, `recovery.request`, `recovery.approve`, ...
    pub action: String,
    /// A PIA purpose id.
    pub purpose: String,
    pub reference: String,
    pub citizen_ref: Vec<u8>,
    /// Element ids seen or checked (never values).
    pub elements: Vec<String>,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<AccessRecord> {
    Ok(AccessRecord {
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        staff_id: row.try_get("staff_id")?,
        badge: row.try_get("badge")?,
        role: row.try_get("role")?,
        action: row.try_get("action")?,
        purpose: row.try_get("purpose")?,
        reference: row.try_get("reference")?,
        citizen_ref: row.try_get("citizen_ref")?,
        elements: json_list(&row.try_get::<String, _>("elements")?, "elements")?,
    })
}

/// Appends a record; its sequence number.
pub async fn append(conn: &mut AnyConnection, r: &AccessRecord) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO staff_access_log (at, staff_id, badge, role, action, purpose, reference,
            citizen_ref, elements) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING seq",
    )
    .bind(r.at)
    .bind(&r.staff_id)
    .bind(&r.badge)
    .bind(&r.role)
    .bind(&r.action)
    .bind(&r.purpose)
    .bind(&r.reference)
    .bind(&r.citizen_ref)
    .bind(to_json_list(&r.elements))
    .fetch_one(conn)
    .await?;
    Ok(row.try_get("seq")?)
}

/// What the privacy officer filters on.
#[derive(Debug, Clone, Default)]
pub struct AccessFilter {
    pub staff_id: Option<String>,
    pub citizen_ref: Option<Vec<u8>>,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// Records matching `filter`, oldest first, at most `limit`.
pub async fn list(
    conn: &mut AnyConnection,
    filter: &AccessFilter,
    limit: i64,
) -> Result<Vec<AccessRecord>> {
    let rows = sqlx::query(
        "SELECT * FROM staff_access_log
         WHERE ($1 IS NULL OR staff_id = $1)
           AND ($2 IS NULL OR citizen_ref = $2)
           AND at >= $3 AND at < $4
         ORDER BY seq LIMIT $5",
    )
    .bind(&filter.staff_id)
    .bind(&filter.citizen_ref)
    .bind(filter.from.unwrap_or(i64::MIN))
    .bind(filter.to.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// One line of the auditor's aggregate of the access register: how many
/// acts of one kind, by one role, for one purpose, in a period. It names
/// neither staff nor citizens.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccessCount {
    pub role: String,
    pub action: String,
    pub purpose: String,
    pub count: i64,
}

/// The register's acts between `from` and `to`, counted by role, action
/// and purpose.
pub async fn counts(conn: &mut AnyConnection, from: i64, to: i64) -> Result<Vec<AccessCount>> {
    let rows = sqlx::query(
        "SELECT role, action, purpose, COUNT(*) AS n FROM staff_access_log
         WHERE at >= $1 AND at < $2
         GROUP BY role, action, purpose ORDER BY role, action, purpose",
    )
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AccessCount {
                role: r.try_get("role")?,
                action: r.try_get("action")?,
                purpose: r.try_get("purpose")?,
                count: r.try_get("n")?,
            })
        })
        .collect()
}

/// How many look-ups one member of staff made since `since`.
pub async fn lookups_since(conn: &mut AnyConnection, staff_id: &str, since: i64) -> Result<i64> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM staff_access_log
         WHERE staff_id = $1 AND action = 'file.lookup' AND at >= $2",
    )
    .bind(staff_id)
    .bind(since)
    .fetch_one(conn)
    .await?;
    Ok(row.try_get("n")?)
}

/// Deletes the records older than `cutoff` (their retention ran out), under
/// the permit the storage's guard asks for; how many.
pub async fn purge_before(conn: &mut AnyConnection, cutoff: i64) -> Result<u64> {
    let row = sqlx::query("SELECT MAX(seq) AS s FROM staff_access_log WHERE at < $1")
        .bind(cutoff)
        .fetch_one(&mut *conn)
        .await?;
    let Some(until) = row.try_get::<Option<i64>, _>("s")? else {
        return Ok(0);
    };
    sqlx::query("INSERT INTO staff_access_purge (until_seq) VALUES ($1)")
        .bind(until)
        .execute(&mut *conn)
        .await?;
    let n = sqlx::query("DELETE FROM staff_access_log WHERE seq <= $1 AND at < $2")
        .bind(until)
        .bind(cutoff)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    sqlx::query("DELETE FROM staff_access_purge")
        .execute(conn)
        .await?;
    Ok(n)
}

// ---------------------------------------------------------------- alerts

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffAlert {
    pub id: i64,
    pub at: i64,
    pub staff_id: String,
    pub badge: String,
    /// `lookup_rate`.
    pub kind: String,
    pub detail: String,
    pub acknowledged_at: Option<i64>,
    pub acknowledged_by: Option<String>,
}

fn alert_from_row(row: &sqlx::any::AnyRow) -> Result<StaffAlert> {
    Ok(StaffAlert {
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        staff_id: row.try_get("staff_id")?,
        badge: row.try_get("badge")?,
        kind: row.try_get("kind")?,
        detail: row.try_get("detail")?,
        acknowledged_at: row.try_get("acknowledged_at")?,
        acknowledged_by: row.try_get("acknowledged_by")?,
    })
}

pub async fn raise_alert(
    conn: &mut AnyConnection,
    at: i64,
    staff_id: &str,
    badge: &str,
    kind: &str,
    detail: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO staff_alerts (at, staff_id, badge, kind, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(at)
    .bind(staff_id)
    .bind(badge)
    .bind(kind)
    .bind(detail)
    .execute(conn)
    .await?;
    Ok(())
}

/// Alerts not acknowledged yet, oldest first.
pub async fn open_alerts(conn: &mut AnyConnection) -> Result<Vec<StaffAlert>> {
    let rows = sqlx::query("SELECT * FROM staff_alerts WHERE acknowledged_at IS NULL ORDER BY id")
        .fetch_all(conn)
        .await?;
    rows.iter().map(alert_from_row).collect()
}

pub async fn acknowledge_alert(
    conn: &mut AnyConnection,
    id: i64,
    by: &str,
    now: i64,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE staff_alerts SET acknowledged_at = $3, acknowledged_by = $2
         WHERE id = $1 AND acknowledged_at IS NULL",
    )
    .bind(id)
    .bind(by)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}
