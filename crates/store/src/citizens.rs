//! The citizen register: identities imported from an identity-proofed register.
use sqlx::{AnyConnection, Row};

use crate::{Result, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CitizenStatus {
    /// Imported, no passkey yet.
    Registered,
    /// Has registered at least one passkey.
    Enrolled,
    /// Account closed; kept only as long as retention requires.
    Closed,
}

impl CitizenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::Enrolled => "enrolled",
            Self::Closed => "closed",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        match text {
            "registered" => Ok(Self::Registered),
            "enrolled" => Ok(Self::Enrolled),
            "closed" => Ok(Self::Closed),
            other => Err(StoreError::Corrupt(format!("citizen status {other}"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citizen {
    pub id: String,
    pub register_id: String,
    pub given_name: String,
    pub family_name: String,
    pub birthdate: String,
    pub email: Option<String>,
    pub address: Option<String>,
    pub locale: Option<String>,
    pub status: CitizenStatus,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, register_id, given_name, family_name, birthdate, email, address, locale, status, created_at, updated_at";

fn from_row(row: &sqlx::any::AnyRow) -> Result<Citizen> {
    Ok(Citizen {
        id: row.try_get("id")?,
        register_id: row.try_get("register_id")?,
        given_name: row.try_get("given_name")?,
        family_name: row.try_get("family_name")?,
        birthdate: row.try_get("birthdate")?,
        email: row.try_get("email")?,
        address: row.try_get("address")?,
        locale: row.try_get("locale")?,
        status: CitizenStatus::parse(&row.try_get::<String, _>("status")?)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Inserts a citizen; a second record for the same register identity is a
/// [`StoreError::Conflict`], so there is exactly one account per identity.
pub async fn insert(conn: &mut AnyConnection, c: &Citizen) -> Result<()> {
    sqlx::query(
        "INSERT INTO citizens (id, register_id, given_name, family_name, birthdate, email, address, locale, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&c.id)
    .bind(&c.register_id)
    .bind(&c.given_name)
    .bind(&c.family_name)
    .bind(&c.birthdate)
    .bind(&c.email)
    .bind(&c.address)
    .bind(&c.locale)
    .bind(c.status.as_str())
    .bind(c.created_at)
    .bind(c.updated_at)
    .execute(conn)
    .await
    .map_err(|e| StoreError::conflict_on_unique(e, "citizen with this register_id"))?;
    Ok(())
}

pub async fn by_id(conn: &mut AnyConnection, id: &str) -> Result<Option<Citizen>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM citizens WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn by_register_id(
    conn: &mut AnyConnection,
    register_id: &str,
) -> Result<Option<Citizen>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM citizens WHERE register_id = $1"
    ))
    .bind(register_id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn set_status(
    conn: &mut AnyConnection,
    id: &str,
    status: CitizenStatus,
    now: i64,
) -> Result<()> {
    let done = sqlx::query("UPDATE citizens SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(status.as_str())
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("citizen"));
    }
    Ok(())
}

/// Deletes a citizen and, through the schema's cascades, everything keyed
/// to them: passkeys, sessions, enrolment codes, consents, grants and their
/// tokens, security events. `false` when there was no such citizen.
pub async fn delete(conn: &mut AnyConnection, id: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM citizens WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn count(conn: &mut AnyConnection) -> Result<i64> {
    Ok(sqlx::query("SELECT COUNT(*) AS n FROM citizens")
        .fetch_one(conn)
        .await?
        .try_get("n")?)
}
