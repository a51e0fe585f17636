//! Relying parties (RPs): the ministries' services registered with sqin.
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRecord {
    pub client_id: String,
    pub name: String,
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
    pub sector: String,
    pub subject_type: SubjectType,
    pub jwks: Option<String>,
    pub backchannel_logout_uri: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<ClientRecord> {
    let scopes: String = row.try_get("scopes")?;
    Ok(ClientRecord {
        client_id: row.try_get("client_id")?,
        name: row.try_get("name")?,
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
        sector: row.try_get("sector")?,
        subject_type: SubjectType::parse(&row.try_get::<String, _>("subject_type")?)?,
        jwks: row.try_get("jwks")?,
        backchannel_logout_uri: row.try_get("backchannel_logout_uri")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn insert(conn: &mut AnyConnection, c: &ClientRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO clients (client_id, name, client_type, secret_hash, token_endpoint_auth_method,
            redirect_uris, post_logout_redirect_uris, scopes, purpose, sector, subject_type, jwks,
            backchannel_logout_uri, created_at, updated_at, claims)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
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
    .execute(conn)
    .await
    .map_err(|e| StoreError::conflict_on_unique(e, "client with this client_id"))?;
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
