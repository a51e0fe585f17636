//! Relying parties (RPs): the ministries' services registered with sqin.
pub use sqin_crypto::SigningAlg;
use sqlx::{AnyConnection, Row};

use crate::{json_list, to_json_list, Result, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientType {
    /// A server-side RP that can keep a secret or a private key.
    Confidential,
    /// A native or browser app: PKCE only, no client authentication.
    Public,
}

impl ClientType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confidential => "confidential",
            Self::Public => "public",
        }
    }

    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "confidential" => Ok(Self::Confidential),
            "public" => Ok(Self::Public),
            other => Err(StoreError::Corrupt(format!("client type {other}"))),
        }
    }
}

/// How a client authenticates at the token endpoint (RFC 7591 section 2,
/// `token_endpoint_auth_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    /// HTTP Basic with the client secret (RFC 6749 2.3.1).
    ClientSecretBasic,
    /// The client secret in the form body (RFC 6749 2.3.1).
    ClientSecretPost,
    /// A JWT signed with the client's private key (RFC 7523, OIDC Core 9).
    PrivateKeyJwt,
    /// A public client: no authentication (PKCE protects the code).
    None,
}

impl AuthMethod {
    /// Every method, in the order discovery lists them.
    pub const ALL: [AuthMethod; 4] = [
        Self::ClientSecretBasic,
        Self::ClientSecretPost,
        Self::PrivateKeyJwt,
        Self::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::None => "none",
        }
    }

    /// The method named `text` (its registration name), if sqin supports it.
    pub fn from_name(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }

    /// Whether the method proves possession of a shared secret.
    pub fn uses_secret(self) -> bool {
        matches!(self, Self::ClientSecretBasic | Self::ClientSecretPost)
    }

    fn parse(text: &str) -> Result<Self> {
        Self::from_name(text)
            .ok_or_else(|| StoreError::Corrupt(format!("token endpoint auth method {text}")))
    }
}

/// Which `sub` a client receives (OIDC Core 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubjectType {
    /// A pseudonym per sector: two sectors cannot correlate a citizen.
    Pairwise,
    /// The same `sub` in every sector (only where the PIA says why).
    Public,
}

impl SubjectType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pairwise => "pairwise",
            Self::Public => "public",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        match text {
            "pairwise" => Ok(Self::Pairwise),
            "public" => Ok(Self::Public),
            other => Err(StoreError::Corrupt(format!("subject type {other}"))),
        }
    }
}

/// Whether a client may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientStatus {
    /// Registered, waiting for a privacy officer's approval: its
    /// credentials do not work yet.
    Pending,
    Active,
    /// Stopped by an administrator, or by start-up because it is outside
    /// the PIA (`status_reason` says which).
    Suspended,
}

impl ClientStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }

    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "pending" => Ok(Self::Pending),
            "active" => Ok(Self::Active),
            "suspended" => Ok(Self::Suspended),
            other => Err(StoreError::Corrupt(format!("client status {other}"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRecord {
    pub client_id: String,
    pub name: String,
    pub name_fr: Option<String>,
    pub client_type: ClientType,
    pub secret_hash: Option<Vec<u8>>,
    pub token_endpoint_auth_method: AuthMethod,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    /// The claims its purpose allows, when narrower than its scopes carry;
    /// `None`: every claim of its scopes.
    pub claims: Option<Vec<String>>,
    pub purpose: String,
    pub purpose_fr: Option<String>,
    pub sector: String,
    pub subject_type: SubjectType,
    pub jwks: Option<String>,
    pub jwks_uri: Option<String>,
    pub backchannel_logout_uri: Option<String>,
    /// How its ID tokens and logout tokens are signed
    /// (`id_token_signed_response_alg`).
    pub id_token_signed_response_alg: SigningAlg,
    /// Its entry in the PIA's register of relying parties (`None` only for
    /// a client registered before entries existed, until start-up
    /// suspends it).
    pub pia_entry: Option<String>,
    pub status: ClientStatus,
    pub status_reason: Option<String>,
    /// Bumped by every metadata edit: the ETag of concurrent edits (a
    /// state change or a new secret is not an edit).
    pub version: i64,
    /// SHA-256 of the RFC 7592 registration access token, if it has one.
    pub registration_token_hash: Option<Vec<u8>>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ClientRecord {
    /// The name in `lang` ("fr" or "en"), or the default.
    pub fn name_in(&self, lang: &str) -> &str {
        match (lang, &self.name_fr) {
            ("fr", Some(n)) => n,
            _ => &self.name,
        }
    }

    /// The purpose in `lang`, or the default.
    pub fn purpose_in(&self, lang: &str) -> &str {
        match (lang, &self.purpose_fr) {
            ("fr", Some(p)) => p,
            _ => &self.purpose,
        }
    }
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<ClientRecord> {
    let scopes: String = row.try_get("scopes")?;
    Ok(ClientRecord {
        client_id: row.try_get("client_id")?,
        name: row.try_get("name")?,
        name_fr: row.try_get("name_fr")?,
        client_type: ClientType::parse(&row.try_get::<String, _>("client_type")?)?,
        secret_hash: row.try_get("secret_hash")?,
        token_endpoint_auth_method: AuthMethod::parse(
            &row.try_get::<String, _>("token_endpoint_auth_method")?,
        )?,
        redirect_uris: json_list(&row.try_get::<String, _>("redirect_uris")?, "redirect_uris")?,
        post_logout_redirect_uris: json_list(
            &row.try_get::<String, _>("post_logout_redirect_uris")?,
            "post_logout_redirect_uris",
        )?,
        scopes: scopes.split_whitespace().map(str::to_owned).collect(),
        claims: row
            .try_get::<Option<String>, _>("claims")?
            .map(|c| json_list(&c, "claims"))
            .transpose()?,
        purpose: row.try_get("purpose")?,
        purpose_fr: row.try_get("purpose_fr")?,
        sector: row.try_get("sector")?,
        subject_type: SubjectType::parse(&row.try_get::<String, _>("subject_type")?)?,
        jwks: row.try_get("jwks")?,
        jwks_uri: row.try_get("jwks_uri")?,
        backchannel_logout_uri: row.try_get("backchannel_logout_uri")?,
        id_token_signed_response_alg: {
            let alg: String = row.try_get("id_token_signed_response_alg")?;
            SigningAlg::from_name(&alg)
                .ok_or_else(|| StoreError::Corrupt(format!("ID token algorithm {alg}")))?
        },
        pia_entry: row.try_get("pia_entry")?,
        status: ClientStatus::parse(&row.try_get::<String, _>("status")?)?,
        status_reason: row.try_get("status_reason")?,
        version: row.try_get("version")?,
        registration_token_hash: row.try_get("registration_token_hash")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn insert(conn: &mut AnyConnection, c: &ClientRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO clients (client_id, name, client_type, secret_hash, token_endpoint_auth_method,
            redirect_uris, post_logout_redirect_uris, scopes, purpose, sector, subject_type, jwks,
            backchannel_logout_uri, created_at, updated_at, claims, name_fr, purpose_fr, jwks_uri,
            pia_entry, status, status_reason, version, registration_token_hash,
            id_token_signed_response_alg)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
            $19, $20, $21, $22, $23, $24, $25)",
    )
    .bind(&c.client_id)
    .bind(&c.name)
    .bind(c.client_type.as_str())
    .bind(&c.secret_hash)
    .bind(c.token_endpoint_auth_method.as_str())
    .bind(to_json_list(&c.redirect_uris))
    .bind(to_json_list(&c.post_logout_redirect_uris))
    .bind(c.scopes.join(" "))
    .bind(&c.purpose)
    .bind(&c.sector)
    .bind(c.subject_type.as_str())
    .bind(&c.jwks)
    .bind(&c.backchannel_logout_uri)
    .bind(c.created_at)
    .bind(c.updated_at)
    .bind(c.claims.as_deref().map(to_json_list))
    .bind(&c.name_fr)
    .bind(&c.purpose_fr)
    .bind(&c.jwks_uri)
    .bind(&c.pia_entry)
    .bind(c.status.as_str())
    .bind(&c.status_reason)
    .bind(c.version)
    .bind(&c.registration_token_hash)
    .bind(c.id_token_signed_response_alg.as_str())
    .execute(conn)
    .await
    .map_err(|e| StoreError::conflict_on_unique(e, "client with this client_id"))?;
    Ok(())
}

/// Replaces a client's metadata if it is still at `expected_version` (the
/// ETag the editor saw), and bumps the version; `false` when someone else
/// changed it first (nothing is written).
pub async fn update(
    conn: &mut AnyConnection,
    c: &ClientRecord,
    expected_version: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE clients SET name = $1, name_fr = $2, redirect_uris = $3,
            post_logout_redirect_uris = $4, scopes = $5, claims = $6, purpose = $7,
            purpose_fr = $8, sector = $9, subject_type = $10, jwks = $11, jwks_uri = $12,
            backchannel_logout_uri = $13, pia_entry = $14, updated_at = $15,
            id_token_signed_response_alg = $16, version = version + 1
         WHERE client_id = $17 AND version = $18",
    )
    .bind(&c.name)
    .bind(&c.name_fr)
    .bind(to_json_list(&c.redirect_uris))
    .bind(to_json_list(&c.post_logout_redirect_uris))
    .bind(c.scopes.join(" "))
    .bind(c.claims.as_deref().map(to_json_list))
    .bind(&c.purpose)
    .bind(&c.purpose_fr)
    .bind(&c.sector)
    .bind(c.subject_type.as_str())
    .bind(&c.jwks)
    .bind(&c.jwks_uri)
    .bind(&c.backchannel_logout_uri)
    .bind(&c.pia_entry)
    .bind(c.updated_at)
    .bind(c.id_token_signed_response_alg.as_str())
    .bind(&c.client_id)
    .bind(expected_version)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Sets a client's state (and why). Not a metadata edit: the version (the
/// edits' ETag) stays, so an edit waiting for approval still applies.
pub async fn set_status(
    conn: &mut AnyConnection,
    client_id: &str,
    status: ClientStatus,
    reason: Option<&str>,
    now: i64,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE clients SET status = $1, status_reason = $2, updated_at = $3
         WHERE client_id = $4",
    )
    .bind(status.as_str())
    .bind(reason)
    .bind(now)
    .bind(client_id)
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("client"));
    }
    Ok(())
}

/// Stores the hash of a new registration access token (RFC 7592).
pub async fn set_registration_token_hash(
    conn: &mut AnyConnection,
    client_id: &str,
    hash: &[u8],
) -> Result<()> {
    let done = sqlx::query("UPDATE clients SET registration_token_hash = $1 WHERE client_id = $2")
        .bind(hash)
        .bind(client_id)
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("client"));
    }
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, client_id: &str) -> Result<Option<ClientRecord>> {
    let row = sqlx::query("SELECT * FROM clients WHERE client_id = $1")
        .bind(client_id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list(conn: &mut AnyConnection) -> Result<Vec<ClientRecord>> {
    let rows = sqlx::query("SELECT * FROM clients ORDER BY name, client_id")
        .fetch_all(conn)
        .await?;
    rows.iter().map(from_row).collect()
}

pub async fn delete(conn: &mut AnyConnection, client_id: &str) -> Result<()> {
    let done = sqlx::query("DELETE FROM clients WHERE client_id = $1")
        .bind(client_id)
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("client"));
    }
    Ok(())
}

pub async fn set_secret_hash(
    conn: &mut AnyConnection,
    client_id: &str,
    secret_hash: &[u8],
    now: i64,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE clients SET secret_hash = $1, updated_at = $2
         WHERE client_id = $3 AND client_type = 'confidential'",
    )
    .bind(secret_hash)
    .bind(now)
    .bind(client_id)
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("confidential client"));
    }
    Ok(())
}
