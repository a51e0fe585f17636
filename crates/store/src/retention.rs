//! Deleting what is past its retention, one statement per kind of record.
//!
//! Each function deletes the rows whose retention clock ran out before
//! `cutoff` (the caller computes it from the element's retention in the
//! privacy impact assessment: `now - period`), and returns how many it
//! deleted. The clock starts where the PIA says: when the session, consent,
//! grant or code ended, or at the record's own time.
use sqlx::{AnyConnection, Row};

use crate::Result;

async fn delete(conn: &mut AnyConnection, sql: &str, cutoff: i64) -> Result<u64> {
    Ok(sqlx::query(sql)
        .bind(cutoff)
        .execute(conn)
        .await?
        .rows_affected())
}

/// The scheduled deletions: the PIA element whose retention sets the
/// cutoff, and the statement that deletes what ran out before it (`$1`).
///
/// - sessions ended (logged out, revoked or expired);
/// - consents withdrawn or lapsed (a lapsed one is first closed by the
///   OpenID Provider's housekeeping, which tells the relying party and
///   writes the ledger);
/// - grants revoked or expired, with their codes and refresh tokens;
/// - security events;
/// - enrolment codes spent, revoked or expired, of citizens who enrolled (a
///   never-enrolled citizen's codes stay with the registration: the last
///   one's expiry starts its clock, [`dormant_registrations`]);
/// - back-channel logout notices delivered or given up (they hold the
///   relying party's pairwise `sub`);
/// - complaints answered;
/// - correction requests answered (an open one stays until answered, or
///   goes with the account);
/// - incident register entries, from the day the body became aware, with
///   their lines.
pub const SCHEDULED: &[(&str, &str)] = &[
    (
        "session.id",
        "DELETE FROM sessions WHERE expires_at <= $1 OR revoked_at <= $1",
    ),
    (
        "consent.record",
        "DELETE FROM consents WHERE revoked_at <= $1",
    ),
    (
        "grant.record",
        "DELETE FROM grants WHERE expires_at <= $1 OR revoked_at <= $1",
    ),
    (
        "security_event.record",
        "DELETE FROM security_events WHERE at <= $1",
    ),
    (
        "enrolment_code.code_hash",
        "DELETE FROM enrolment_codes
         WHERE (spent_at <= $1 OR revoked_at <= $1 OR expires_at <= $1)
           AND citizen_id IN (SELECT id FROM citizens WHERE status <> 'registered')",
    ),
    (
        "logout_notice.record",
        "DELETE FROM backchannel_deliveries
         WHERE created_at <= $1 AND (delivered_at IS NOT NULL OR gave_up_at IS NOT NULL)",
    ),
    (
        "complaint.record",
        "DELETE FROM complaints WHERE closed_at <= $1",
    ),
    (
        "correction.record",
        "DELETE FROM correction_requests WHERE closed_at <= $1",
    ),
    (
        "incident.record",
        "DELETE FROM incidents WHERE aware_at <= $1",
    ),
    (
        "staff.invitation",
        "DELETE FROM staff_invitations WHERE used_at <= $1 OR expires_at <= $1",
    ),
    (
        "staff.session",
        "DELETE FROM staff_sessions WHERE ended_at <= $1 OR expires_at <= $1",
    ),
    (
        "staff.session",
        "DELETE FROM admin_tokens WHERE expires_at <= $1",
    ),
    (
        "staff.grant",
        "DELETE FROM staff_grants WHERE revoked_at <= $1 OR expires_at <= $1",
    ),
    (
        "staff.request",
        "DELETE FROM staff_requests WHERE decided_at <= $1 OR expires_at <= $1",
    ),
    ("staff.alert", "DELETE FROM staff_alerts WHERE at <= $1"),
    (
        "letter.record",
        "DELETE FROM mail_letters WHERE created_at <= $1",
    ),
    (
        "staff.member",
        "DELETE FROM automation_clients WHERE revoked_at <= $1",
    ),
    (
        "staff.member",
        "DELETE FROM staff_members WHERE disabled_at <= $1",
    ),
];

/// Runs one of [`SCHEDULED`]'s statements with its cutoff; rows deleted.
pub async fn delete_due(conn: &mut AnyConnection, statement: &str, cutoff: i64) -> Result<u64> {
    delete(conn, statement, cutoff).await
}

/// Registered citizens who never enrolled and whose last enrolment code
/// expired at or before `cutoff` (or who have none and were registered
/// before it): their internal ids, at most `limit`, oldest first.
pub async fn dormant_registrations(
    conn: &mut AnyConnection,
    cutoff: i64,
    limit: i64,
) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT id FROM citizens c
         WHERE c.status = 'registered' AND c.created_at <= $1
           AND NOT EXISTS (SELECT 1 FROM enrolment_codes e
                           WHERE e.citizen_id = c.id AND e.expires_at > $1)
         ORDER BY c.created_at, c.id
         LIMIT $2",
    )
    .bind(cutoff)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok(r.try_get::<String, _>("id")?))
        .collect()
}

/// Registered citizens who never enrolled, whose last code expired at or
/// before `cutoff` and whose sealed record still holds contact details
/// (email, postal address, language): those are kept a shorter time than
/// the registration, and cleared by [`crate::citizens::clear_contact_details`].
pub async fn dormant_contact_details(
    conn: &mut AnyConnection,
    cutoff: i64,
    limit: i64,
) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT id FROM citizens c
         WHERE c.status = 'registered' AND c.created_at <= $1 AND c.has_contact = 1
           AND NOT EXISTS (SELECT 1 FROM enrolment_codes e
                           WHERE e.citizen_id = c.id AND e.expires_at > $1)
         ORDER BY c.created_at, c.id
         LIMIT $2",
    )
    .bind(cutoff)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok(r.try_get::<String, _>("id")?))
        .collect()
}
