//! The citizen register: identities imported from an identity-proofed
//! register, their personal fields sealed at rest (see [`RegisterVault`]).
use sqlx::{AnyConnection, Row};

use crate::{Result, StoreError};

mod upgrade;
mod vault;

pub use upgrade::seal_unsealed;
use vault::PersonalFields;
pub use vault::RegisterVault;

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

const COLUMNS: &str = "id, sealed_record, wrapped_key, status, created_at, updated_at";

fn from_row(vault: &RegisterVault, row: &sqlx::any::AnyRow) -> Result<Citizen> {
    let id: String = row.try_get("id")?;
    let (Some(sealed), Some(wrapped)) = (
        row.try_get::<Option<Vec<u8>>, _>("sealed_record")?,
        row.try_get::<Option<Vec<u8>>, _>("wrapped_key")?,
    ) else {
        return Err(StoreError::Corrupt(format!(
            "citizen {id} was stored before sealing and has not been sealed yet (the server seals such rows when it opens the database)"
        )));
    };
    let fields = vault.open(&id, &sealed, &wrapped)?;
    Ok(Citizen {
        id,
        register_id: fields.register_id,
        given_name: fields.given_name,
        family_name: fields.family_name,
        birthdate: fields.birthdate,
        email: fields.email,
        address: fields.address,
        locale: fields.locale,
        status: CitizenStatus::parse(&row.try_get::<String, _>("status")?)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Inserts a citizen, sealed; a second record for the same register identity
/// is a [`StoreError::Conflict`], so there is exactly one account per
/// identity.
pub async fn insert(conn: &mut AnyConnection, vault: &RegisterVault, c: &Citizen) -> Result<()> {
    let sealed = vault.seal(&c.id, &PersonalFields::of(c))?;
    sqlx::query(
        "INSERT INTO citizens (id, register_key, sealed_record, wrapped_key, has_contact, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&c.id)
    .bind(&sealed.register_key)
    .bind(&sealed.sealed_record)
    .bind(&sealed.wrapped_key)
    .bind(i32::from(has_contact(c)))
    .bind(c.status.as_str())
    .bind(c.created_at)
    .bind(c.updated_at)
    .execute(conn)
    .await
    .map_err(|e| StoreError::conflict_on_unique(e, "citizen with this register_id"))?;
    Ok(())
}

pub async fn by_id(
    conn: &mut AnyConnection,
    vault: &RegisterVault,
    id: &str,
) -> Result<Option<Citizen>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM citizens WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(|r| from_row(vault, r)).transpose()
}

pub async fn by_register_id(
    conn: &mut AnyConnection,
    vault: &RegisterVault,
    register_id: &str,
) -> Result<Option<Citizen>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM citizens WHERE register_key = $1"
    ))
    .bind(vault.register_key(register_id))
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(|r| from_row(vault, r)).transpose()
}

fn has_contact(c: &Citizen) -> bool {
    c.email.is_some() || c.address.is_some() || c.locale.is_some()
}

/// Removes the contact details (email, postal address, language) from a
/// citizen's record: the record is opened, cleared and sealed again under
/// a new data key, so the old key (and any copy of the old record) opens
/// nothing. `false` when there was no such citizen.
pub async fn clear_contact_details(
    conn: &mut AnyConnection,
    vault: &RegisterVault,
    id: &str,
    now: i64,
) -> Result<bool> {
    let Some(mut citizen) = by_id(&mut *conn, vault, id).await? else {
        return Ok(false);
    };
    citizen.email = None;
    citizen.address = None;
    citizen.locale = None;
    let sealed = vault.seal(id, &PersonalFields::of(&citizen))?;
    let done = sqlx::query(
        "UPDATE citizens SET sealed_record = $1, wrapped_key = $2, has_contact = 0, updated_at = $3
         WHERE id = $4",
    )
    .bind(&sealed.sealed_record)
    .bind(&sealed.wrapped_key)
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces a citizen's register fields with `updated`'s (a correction):
/// the record is sealed again under a new data key, so the old key (and any
/// copy of the old record) opens nothing. The register id cannot change
/// here (the row is found by it). `false` when there was no such citizen.
pub async fn replace_fields(
    conn: &mut AnyConnection,
    vault: &RegisterVault,
    updated: &Citizen,
    now: i64,
) -> Result<bool> {
    let Some(current) = by_id(&mut *conn, vault, &updated.id).await? else {
        return Ok(false);
    };
    if current.register_id != updated.register_id {
        return Err(StoreError::Corrupt(
            "a correction cannot change the register id".into(),
        ));
    }
    let sealed = vault.seal(&updated.id, &PersonalFields::of(updated))?;
    let done = sqlx::query(
        "UPDATE citizens SET sealed_record = $1, wrapped_key = $2, has_contact = $3, updated_at = $4
         WHERE id = $5",
    )
    .bind(&sealed.sealed_record)
    .bind(&sealed.wrapped_key)
    .bind(i32::from(has_contact(updated)))
    .bind(now)
    .bind(&updated.id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
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
