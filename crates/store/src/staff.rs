//! The staff directory: members of staff, their one-time invitations, their
//! passkeys and sessions, and the roles granted to them.
use sqlx::{AnyConnection, Row};

use crate::{Result, StoreError};

/// A member of staff (never a citizen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMember {
    pub id: String,
    pub display_name: String,
    /// What citizens see of them ("Agent 4F2K").
    pub badge: String,
    pub created_at: i64,
    /// The inviter's badge, or `operator`.
    pub created_by: String,
    pub disabled_at: Option<i64>,
}

fn member_from_row(row: &sqlx::any::AnyRow) -> Result<StaffMember> {
    Ok(StaffMember {
        id: row.try_get("id")?,
        display_name: row.try_get("display_name")?,
        badge: row.try_get("badge")?,
        created_at: row.try_get("created_at")?,
        created_by: row.try_get("created_by")?,
        disabled_at: row.try_get("disabled_at")?,
    })
}

pub async fn insert_member(conn: &mut AnyConnection, m: &StaffMember) -> Result<()> {
    sqlx::query(
        "INSERT INTO staff_members (id, display_name, badge, created_at, created_by, disabled_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&m.id)
    .bind(&m.display_name)
    .bind(&m.badge)
    .bind(m.created_at)
    .bind(&m.created_by)
    .bind(m.disabled_at)
    .execute(conn)
    .await
    .map_err(|e| StoreError::conflict_on_unique(e, "member of staff with this badge"))?;
    Ok(())
}

pub async fn member(conn: &mut AnyConnection, id: &str) -> Result<Option<StaffMember>> {
    let row = sqlx::query("SELECT * FROM staff_members WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(member_from_row).transpose()
}

pub async fn member_by_badge(conn: &mut AnyConnection, badge: &str) -> Result<Option<StaffMember>> {
    let row = sqlx::query("SELECT * FROM staff_members WHERE badge = $1")
        .bind(badge)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(member_from_row).transpose()
}

/// Every member of staff, by badge.
pub async fn members(conn: &mut AnyConnection) -> Result<Vec<StaffMember>> {
    let rows = sqlx::query("SELECT * FROM staff_members ORDER BY badge")
        .fetch_all(conn)
        .await?;
    rows.iter().map(member_from_row).collect()
}

/// Disables a member of staff: their sessions end and their grants stop.
pub async fn disable_member(conn: &mut AnyConnection, id: &str, now: i64) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE staff_members SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL",
    )
    .bind(id)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    sqlx::query("UPDATE staff_sessions SET ended_at = $2 WHERE staff_id = $1 AND ended_at IS NULL")
        .bind(id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(n == 1)
}

// ---------------------------------------------------------------- invitations

pub async fn insert_invitation(
    conn: &mut AnyConnection,
    code_hash: &[u8],
    staff_id: &str,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO staff_invitations (code_hash, staff_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(code_hash)
    .bind(staff_id)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The member an unused, unexpired invitation is for.
pub async fn invitation(
    conn: &mut AnyConnection,
    code_hash: &[u8],
    now: i64,
) -> Result<Option<String>> {
    let row = sqlx::query(
        "SELECT staff_id FROM staff_invitations
         WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(code_hash)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| r.try_get("staff_id")).transpose()?)
}

/// Spends an invitation; false if it was spent or lapsed meanwhile.
pub async fn spend_invitation(
    conn: &mut AnyConnection,
    code_hash: &[u8],
    now: i64,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE staff_invitations SET used_at = $2
         WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(code_hash)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

// ---------------------------------------------------------------- passkeys

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffPasskey {
    pub credential_id: Vec<u8>,
    pub staff_id: String,
    /// The webauthn-rs `Passkey`, as JSON (public key and counter).
    pub credential: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

fn passkey_from_row(row: &sqlx::any::AnyRow) -> Result<StaffPasskey> {
    Ok(StaffPasskey {
        credential_id: row.try_get("credential_id")?,
        staff_id: row.try_get("staff_id")?,
        credential: row.try_get("credential")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

pub async fn insert_passkey(conn: &mut AnyConnection, p: &StaffPasskey) -> Result<()> {
    sqlx::query(
        "INSERT INTO staff_passkeys (credential_id, staff_id, credential, created_at, last_used_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&p.credential_id)
    .bind(&p.staff_id)
    .bind(&p.credential)
    .bind(p.created_at)
    .bind(p.last_used_at)
    .execute(conn)
    .await
    .map_err(|e| StoreError::conflict_on_unique(e, "staff passkey"))?;
    Ok(())
}

pub async fn passkey(
    conn: &mut AnyConnection,
    credential_id: &[u8],
) -> Result<Option<StaffPasskey>> {
    let row = sqlx::query("SELECT * FROM staff_passkeys WHERE credential_id = $1")
        .bind(credential_id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(passkey_from_row).transpose()
}

pub async fn passkeys_of(conn: &mut AnyConnection, staff_id: &str) -> Result<Vec<StaffPasskey>> {
    let rows = sqlx::query("SELECT * FROM staff_passkeys WHERE staff_id = $1 ORDER BY created_at")
        .bind(staff_id)
        .fetch_all(conn)
        .await?;
    rows.iter().map(passkey_from_row).collect()
}

/// Stores the credential's new state (its counter) after a sign-in.
pub async fn passkey_used(
    conn: &mut AnyConnection,
    credential_id: &[u8],
    credential: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE staff_passkeys SET credential = $2, last_used_at = $3 WHERE credential_id = $1",
    )
    .bind(credential_id)
    .bind(credential)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------- sessions

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSession {
    pub token_hash: Vec<u8>,
    pub staff_id: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub reauth_at: i64,
    pub expires_at: i64,
    pub ended_at: Option<i64>,
}

fn session_from_row(row: &sqlx::any::AnyRow) -> Result<StaffSession> {
    Ok(StaffSession {
        token_hash: row.try_get("token_hash")?,
        staff_id: row.try_get("staff_id")?,
        created_at: row.try_get("created_at")?,
        last_seen_at: row.try_get("last_seen_at")?,
        reauth_at: row.try_get("reauth_at")?,
        expires_at: row.try_get("expires_at")?,
        ended_at: row.try_get("ended_at")?,
    })
}

pub async fn insert_session(conn: &mut AnyConnection, s: &StaffSession) -> Result<()> {
    sqlx::query(
        "INSERT INTO staff_sessions (token_hash, staff_id, created_at, last_seen_at, reauth_at,
            expires_at, ended_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&s.token_hash)
    .bind(&s.staff_id)
    .bind(s.created_at)
    .bind(s.last_seen_at)
    .bind(s.reauth_at)
    .bind(s.expires_at)
    .bind(s.ended_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A live session: not ended, before its absolute end, and seen within
/// `idle_secs`; its `last_seen_at` moves to `now`.
pub async fn touch_session(
    conn: &mut AnyConnection,
    token_hash: &[u8],
    now: i64,
    idle_secs: i64,
) -> Result<Option<StaffSession>> {
    let row = sqlx::query(
        "UPDATE staff_sessions SET last_seen_at = $2
         WHERE token_hash = $1 AND ended_at IS NULL AND expires_at > $2 AND last_seen_at > $3
         RETURNING *",
    )
    .bind(token_hash)
    .bind(now)
    .bind(now - idle_secs)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(session_from_row).transpose()
}

/// Records a fresh passkey assertion on a live session.
pub async fn reauthenticated(
    conn: &mut AnyConnection,
    token_hash: &[u8],
    now: i64,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE staff_sessions SET reauth_at = $2, last_seen_at = $2
         WHERE token_hash = $1 AND ended_at IS NULL AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

pub async fn end_session(conn: &mut AnyConnection, token_hash: &[u8], now: i64) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE staff_sessions SET ended_at = $2 WHERE token_hash = $1 AND ended_at IS NULL",
    )
    .bind(token_hash)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

// ---------------------------------------------------------------- grants

/// A role held by a member of staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffGrant {
    pub id: String,
    pub staff_id: String,
    pub role: String,
    pub reason: String,
    pub requested_by: String,
    pub approved_by: String,
    pub granted_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<String>,
}

fn grant_from_row(row: &sqlx::any::AnyRow) -> Result<StaffGrant> {
    Ok(StaffGrant {
        id: row.try_get("id")?,
        staff_id: row.try_get("staff_id")?,
        role: row.try_get("role")?,
        reason: row.try_get("reason")?,
        requested_by: row.try_get("requested_by")?,
        approved_by: row.try_get("approved_by")?,
        granted_at: row.try_get("granted_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        revoked_by: row.try_get("revoked_by")?,
    })
}

pub async fn insert_grant(conn: &mut AnyConnection, g: &StaffGrant) -> Result<()> {
    sqlx::query(
        "INSERT INTO staff_grants (id, staff_id, role, reason, requested_by, approved_by,
            granted_at, expires_at, revoked_at, revoked_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&g.id)
    .bind(&g.staff_id)
    .bind(&g.role)
    .bind(&g.reason)
    .bind(&g.requested_by)
    .bind(&g.approved_by)
    .bind(g.granted_at)
    .bind(g.expires_at)
    .bind(g.revoked_at)
    .bind(&g.revoked_by)
    .execute(conn)
    .await?;
    Ok(())
}

/// The roles a member of staff holds now: granted, not revoked, not expired,
/// and the member not disabled.
pub async fn live_grants(
    conn: &mut AnyConnection,
    staff_id: &str,
    now: i64,
) -> Result<Vec<StaffGrant>> {
    let rows = sqlx::query(
        "SELECT g.* FROM staff_grants g JOIN staff_members m ON m.id = g.staff_id
         WHERE g.staff_id = $1 AND g.revoked_at IS NULL AND g.expires_at > $2
           AND m.disabled_at IS NULL
         ORDER BY g.granted_at",
    )
    .bind(staff_id)
    .bind(now)
    .fetch_all(conn)
    .await?;
    rows.iter().map(grant_from_row).collect()
}

/// Every grant ever made to a member of staff, newest first.
pub async fn grants_of(conn: &mut AnyConnection, staff_id: &str) -> Result<Vec<StaffGrant>> {
    let rows =
        sqlx::query("SELECT * FROM staff_grants WHERE staff_id = $1 ORDER BY granted_at DESC")
            .bind(staff_id)
            .fetch_all(conn)
            .await?;
    rows.iter().map(grant_from_row).collect()
}

/// Members of staff who hold `role` now.
pub async fn holders_of(conn: &mut AnyConnection, role: &str, now: i64) -> Result<i64> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM staff_grants g JOIN staff_members m ON m.id = g.staff_id
         WHERE g.role = $1 AND g.revoked_at IS NULL AND g.expires_at > $2 AND m.disabled_at IS NULL",
    )
    .bind(role)
    .bind(now)
    .fetch_one(conn)
    .await?;
    Ok(row.try_get("n")?)
}

/// The members of staff (distinct ids) who hold `role` now.
pub async fn holder_ids(conn: &mut AnyConnection, role: &str, now: i64) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT DISTINCT m.id AS id FROM staff_grants g JOIN staff_members m ON m.id = g.staff_id
         WHERE g.role = $1 AND g.revoked_at IS NULL AND g.expires_at > $2 AND m.disabled_at IS NULL
         ORDER BY m.id",
    )
    .bind(role)
    .bind(now)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
}

pub async fn revoke_grant(conn: &mut AnyConnection, id: &str, by: &str, now: i64) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE staff_grants SET revoked_at = $3, revoked_by = $2 WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(by)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

// ---------------------------------------------------------------- ceremonies

/// A staff passkey ceremony between start and finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffCeremony {
    pub id_hash: Vec<u8>,
    /// `enrol`, `login` or `reauth`.
    pub kind: String,
    pub browser_hash: Vec<u8>,
    pub staff_id: Option<String>,
    pub code_hash: Option<Vec<u8>>,
    pub state: String,
    pub created_at: i64,
    pub expires_at: i64,
}

pub async fn insert_ceremony(conn: &mut AnyConnection, c: &StaffCeremony) -> Result<()> {
    sqlx::query("DELETE FROM staff_ceremonies WHERE expires_at <= $1")
        .bind(c.created_at)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO staff_ceremonies (id_hash, kind, browser_hash, staff_id, code_hash, state,
            created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&c.id_hash)
    .bind(&c.kind)
    .bind(&c.browser_hash)
    .bind(&c.staff_id)
    .bind(&c.code_hash)
    .bind(&c.state)
    .bind(c.created_at)
    .bind(c.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes and returns the ceremony of this kind and browser (a challenge
/// is answered once); `None` when there is none.
pub async fn take_ceremony(
    conn: &mut AnyConnection,
    id_hash: &[u8],
    kind: &str,
    browser_hash: &[u8],
) -> Result<Option<StaffCeremony>> {
    let row = sqlx::query(
        "DELETE FROM staff_ceremonies WHERE id_hash = $1 AND kind = $2 AND browser_hash = $3
         RETURNING *",
    )
    .bind(id_hash)
    .bind(kind)
    .bind(browser_hash)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok(StaffCeremony {
            id_hash: r.try_get("id_hash")?,
            kind: r.try_get("kind")?,
            browser_hash: r.try_get("browser_hash")?,
            staff_id: r.try_get("staff_id")?,
            code_hash: r.try_get("code_hash")?,
            state: r.try_get("state")?,
            created_at: r.try_get("created_at")?,
            expires_at: r.try_get("expires_at")?,
        })
    })
    .transpose()
}

/// Deletes expired ceremonies; how many.
pub async fn purge_expired_ceremonies(conn: &mut AnyConnection, now: i64) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM staff_ceremonies WHERE expires_at <= $1")
            .bind(now)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// One grant by id.
pub async fn grant(conn: &mut AnyConnection, id: &str) -> Result<Option<StaffGrant>> {
    let row = sqlx::query("SELECT * FROM staff_grants WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(grant_from_row).transpose()
}
