//! WebAuthn credentials (passkeys) and each citizen's WebAuthn user handle.
//!
//! The credential itself (public key, counter, flags) is kept as the JSON that
//! `webauthn-rs` serialises; the columns beside it are what queries need: the
//! owner, the name shown to the citizen, the counter (compared and raised in one
//! conditional update, so two nodes finishing logins at once cannot both accept
//! the same counter value), and when it was created and last used.
use sqlx::{AnyConnection, Row};

use crate::{Result, StoreError};

/// How a credential came to be registered (the level of assurance of a
/// passkey is that of the channel that vouched for its registration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrolledVia {
    /// First passkey, with an enrolment code sent by mail.
    Enrolment,
    /// Replacement after a loss, with a recovery code sent by mail.
    Recovery,
    /// Added from the account page by a citizen signed in with a passkey.
    Account,
}

impl EnrolledVia {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enrolment => "enrolment",
            Self::Recovery => "recovery",
            Self::Account => "account",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        match text {
            "enrolment" => Ok(Self::Enrolment),
            "recovery" => Ok(Self::Recovery),
            "account" => Ok(Self::Account),
            other => Err(StoreError::Corrupt(format!("passkey enrolled_via {other}"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRecord {
    pub credential_id: Vec<u8>,
    pub citizen_id: String,
    pub name: String,
    /// `webauthn_rs::prelude::Passkey` as JSON.
    pub credential: String,
    pub sign_count: i64,
    pub backup_eligible: bool,
    pub backed_up: bool,
    pub enrolled_via: EnrolledVia,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<PasskeyRecord> {
    Ok(PasskeyRecord {
        credential_id: row.try_get("credential_id")?,
        citizen_id: row.try_get("citizen_id")?,
        name: row.try_get("name")?,
        credential: row.try_get("credential")?,
        sign_count: row.try_get("sign_count")?,
        backup_eligible: row.try_get::<i64, _>("backup_eligible")? != 0,
        backed_up: row.try_get::<i64, _>("backed_up")? != 0,
        enrolled_via: EnrolledVia::parse(&row.try_get::<String, _>("enrolled_via")?)?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

/// The citizen's WebAuthn user handle, if one was ever assigned.
pub async fn user_handle(conn: &mut AnyConnection, citizen_id: &str) -> Result<Option<Vec<u8>>> {
    let row = sqlx::query("SELECT user_handle FROM passkey_users WHERE citizen_id = $1")
        .bind(citizen_id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| r.try_get("user_handle")).transpose()?)
}

/// Stores `fresh` as the citizen's user handle unless one exists, and returns
/// the handle that won (two ceremonies started at once agree).
pub async fn user_handle_or_insert(
    conn: &mut AnyConnection,
    citizen_id: &str,
    fresh: &[u8],
    now: i64,
) -> Result<Vec<u8>> {
    sqlx::query(
        "INSERT INTO passkey_users (citizen_id, user_handle, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (citizen_id) DO NOTHING",
    )
    .bind(citizen_id)
    .bind(fresh)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    user_handle(conn, citizen_id)
        .await?
        .ok_or(StoreError::NotFound("passkey user"))
}

/// The citizen a user handle (returned by an authenticator) belongs to.
pub async fn citizen_for_user_handle(
    conn: &mut AnyConnection,
    user_handle: &[u8],
) -> Result<Option<String>> {
    let row = sqlx::query("SELECT citizen_id FROM passkey_users WHERE user_handle = $1")
        .bind(user_handle)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| r.try_get("citizen_id")).transpose()?)
}

/// Registers a credential; a credential id already registered (to anyone) is a
/// [`StoreError::Conflict`].
pub async fn insert(conn: &mut AnyConnection, p: &PasskeyRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO passkeys (credential_id, citizen_id, name, credential, sign_count,
            backup_eligible, backed_up, enrolled_via, created_at, last_used_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&p.credential_id)
    .bind(&p.citizen_id)
    .bind(&p.name)
    .bind(&p.credential)
    .bind(p.sign_count)
    .bind(i64::from(p.backup_eligible))
    .bind(i64::from(p.backed_up))
    .bind(p.enrolled_via.as_str())
    .bind(p.created_at)
    .bind(p.last_used_at)
    .execute(conn)
    .await
    .map_err(|e| StoreError::conflict_on_unique(e, "passkey with this credential id"))?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, credential_id: &[u8]) -> Result<Option<PasskeyRecord>> {
    let row = sqlx::query("SELECT * FROM passkeys WHERE credential_id = $1")
        .bind(credential_id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// A citizen's passkeys, oldest first.
pub async fn for_citizen(conn: &mut AnyConnection, citizen_id: &str) -> Result<Vec<PasskeyRecord>> {
    let rows = sqlx::query(
        "SELECT * FROM passkeys WHERE citizen_id = $1 ORDER BY created_at, credential_id",
    )
    .bind(citizen_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn count_for_citizen(conn: &mut AnyConnection, citizen_id: &str) -> Result<i64> {
    Ok(
        sqlx::query("SELECT COUNT(*) AS n FROM passkeys WHERE citizen_id = $1")
            .bind(citizen_id)
            .fetch_one(conn)
            .await?
            .try_get("n")?,
    )
}

/// What a successful login changes on a credential.
#[derive(Debug, Clone)]
pub struct Use<'a> {
    pub credential_id: &'a [u8],
    pub sign_count: i64,
    pub credential: &'a str,
    pub backup_eligible: bool,
    pub backed_up: bool,
    pub at: i64,
}

/// Records a login: raises the counter only if the new value is above the
/// stored one (or both are 0: an authenticator without a counter, as synced
/// passkeys are). Returns false when the condition fails, which means another
/// copy of the credential signed with a counter at least as high: a cloned
/// authenticator, or a replay that raced a genuine login.
pub async fn record_use(conn: &mut AnyConnection, u: &Use<'_>) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE passkeys SET sign_count = $1, credential = $2, backup_eligible = $3,
            backed_up = $4, last_used_at = $5
         WHERE credential_id = $6 AND (sign_count < $1 OR (sign_count = 0 AND $1 = 0))",
    )
    .bind(u.sign_count)
    .bind(u.credential)
    .bind(i64::from(u.backup_eligible))
    .bind(i64::from(u.backed_up))
    .bind(u.at)
    .bind(u.credential_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Renames a credential of this citizen; false when it is not theirs.
pub async fn rename(
    conn: &mut AnyConnection,
    citizen_id: &str,
    credential_id: &[u8],
    name: &str,
) -> Result<bool> {
    let done =
        sqlx::query("UPDATE passkeys SET name = $1 WHERE credential_id = $2 AND citizen_id = $3")
            .bind(name)
            .bind(credential_id)
            .bind(citizen_id)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes a credential of this citizen; false when it is not theirs.
pub async fn delete(
    conn: &mut AnyConnection,
    citizen_id: &str,
    credential_id: &[u8],
) -> Result<bool> {
    let done = sqlx::query("DELETE FROM passkeys WHERE credential_id = $1 AND citizen_id = $2")
        .bind(credential_id)
        .bind(citizen_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
