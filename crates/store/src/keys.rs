//! Token signing keys, sealed at rest, with their rotation state: each
//! algorithm has its own keys and states (one current and one next key per
//! algorithm).
pub use sqin_crypto::SigningAlg;
use sqlx::{AnyConnection, Row};

use crate::{Result, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Published ahead of use, so RPs have it cached before the first token.
    Next,
    /// Signs new tokens.
    Current,
    /// No longer signs; published until its last tokens expire.
    Previous,
    /// Unpublished; kept only for the record.
    Retired,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Next => "next",
            Self::Current => "current",
            Self::Previous => "previous",
            Self::Retired => "retired",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        match text {
            "next" => Ok(Self::Next),
            "current" => Ok(Self::Current),
            "previous" => Ok(Self::Previous),
            "retired" => Ok(Self::Retired),
            other => Err(StoreError::Corrupt(format!("key state {other}"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRow {
    pub kid: String,
    pub alg: SigningAlg,
    pub sealed_private: Vec<u8>,
    pub public_jwk: String,
    pub state: KeyState,
    pub created_at: i64,
    pub activated_at: Option<i64>,
    pub publish_until: Option<i64>,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<SigningKeyRow> {
    Ok(SigningKeyRow {
        kid: row.try_get("kid")?,
        alg: {
            let alg: String = row.try_get("alg")?;
            SigningAlg::from_name(&alg)
                .ok_or_else(|| StoreError::Corrupt(format!("signing key algorithm {alg}")))?
        },
        sealed_private: row.try_get("sealed_private")?,
        public_jwk: row.try_get("public_jwk")?,
        state: KeyState::parse(&row.try_get::<String, _>("state")?)?,
        created_at: row.try_get("created_at")?,
        activated_at: row.try_get("activated_at")?,
        publish_until: row.try_get("publish_until")?,
    })
}

pub async fn insert(conn: &mut AnyConnection, k: &SigningKeyRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, alg, sealed_private, public_jwk, state, created_at, activated_at, publish_until)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&k.kid)
    .bind(k.alg.as_str())
    .bind(&k.sealed_private)
    .bind(&k.public_jwk)
    .bind(k.state.as_str())
    .bind(k.created_at)
    .bind(k.activated_at)
    .bind(k.publish_until)
    .execute(conn)
    .await
    .map_err(|e| StoreError::conflict_on_unique(e, "signing key in this state"))?;
    Ok(())
}

/// Every key that is not retired, oldest first.
pub async fn list_live(conn: &mut AnyConnection) -> Result<Vec<SigningKeyRow>> {
    let rows =
        sqlx::query("SELECT * FROM signing_keys WHERE state <> 'retired' ORDER BY created_at, kid")
            .fetch_all(conn)
            .await?;
    rows.iter().map(from_row).collect()
}

pub async fn list_all(conn: &mut AnyConnection) -> Result<Vec<SigningKeyRow>> {
    let rows = sqlx::query("SELECT * FROM signing_keys ORDER BY created_at, kid")
        .fetch_all(conn)
        .await?;
    rows.iter().map(from_row).collect()
}

pub async fn set_state(
    conn: &mut AnyConnection,
    kid: &str,
    state: KeyState,
    activated_at: Option<i64>,
    publish_until: Option<i64>,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE signing_keys SET state = $1,
            activated_at = COALESCE($2, activated_at),
            publish_until = COALESCE($3, publish_until)
         WHERE kid = $4",
    )
    .bind(state.as_str())
    .bind(activated_at)
    .bind(publish_until)
    .bind(kid)
    .execute(conn)
    .await
    .map_err(|e| StoreError::conflict_on_unique(e, "signing key in this state"))?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("signing key"));
    }
    Ok(())
}
