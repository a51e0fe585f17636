//! Registration of relying parties (RPs): the rules their metadata obeys
//! ([`validate`]), the bounds their entry in the privacy impact assessment
//! sets ([`bounds`]), and what changes need a privacy officer's approval.
pub use sqin_crypto::SigningAlg;
use sqin_crypto::{b64url, random_bytes, random_token, SecretString};
use sqin_store::clients::{self, ClientRecord, ClientType};
pub use sqin_store::clients::{AuthMethod, ClientStatus, SubjectType};
use sqin_store::Connection;

use crate::OidcError;

pub mod bounds;
mod validate;

pub use bounds::{widening, Overreach, RegistrationBounds};
pub use validate::validate_redirect_uri;

/// What is declared when registering an RP (by the operator, an
/// administrator, or the ministry itself through RFC 7591).
#[derive(Debug, Clone, Default)]
pub struct ClientRegistration {
    /// A fixed id (the demo's); normally generated.
    pub client_id: Option<String>,
    /// The name shown to citizens (English, and the default).
    pub name: String,
    /// The name in French, when it differs.
    pub name_fr: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    /// The claims its purpose allows, when narrower than its scopes carry
    /// (each must be carried by one of its scopes); `None`: those of its
    /// scopes its PIA entry allows.
    pub claims: Option<Vec<String>>,
    /// The purpose shown to citizens (English); `None`: its PIA entry's.
    pub purpose: Option<String>,
    pub purpose_fr: Option<String>,
    /// The pairwise sector; `None`: its PIA entry's.
    pub sector: Option<String>,
    pub public_client: bool,
    /// `client_secret_basic` (default for confidential clients),
    /// `client_secret_post` or `private_key_jwt`.
    pub auth_method: Option<AuthMethod>,
    /// JWK set (JSON) for `private_key_jwt`.
    pub jwks: Option<String>,
    /// Where the client publishes its JWK set, for `private_key_jwt` (its
    /// own key rotations then need nobody at sqin).
    pub jwks_uri: Option<String>,
    pub public_subject: bool,
    pub backchannel_logout_uri: Option<String>,
    /// How its ID tokens and logout tokens are signed; `None`: ES256, the
    /// default of sqin's own tools (a registration protocol with another
    /// default says so here: Dynamic Registration's is RS256). Within
    /// [`id_token_algs_allowed`].
    pub id_token_signed_response_alg: Option<SigningAlg>,
}

/// The algorithms a client of `client_type` may have its ID tokens (and
/// logout tokens) signed with: for now every algorithm of the key ring.
/// A profile that narrows them (the FAPI profiles allow PS256 and ES256 of
/// these, not RS256) does so here, and registration and edits then refuse
/// the others.
pub fn id_token_algs_allowed(client_type: ClientType) -> &'static [SigningAlg] {
    match client_type {
        ClientType::Confidential | ClientType::Public => &SigningAlg::ALL,
    }
}

/// A registered client, with its secret in clear exactly once.
#[derive(Debug)]
pub struct RegisteredClient {
    pub record: ClientRecord,
    pub client_secret: Option<SecretString>,
}

/// A random client id (128 bits, base64url) that does not start with '-',
/// so that it is never taken for an option on a command line.
fn new_client_id() -> Result<String, OidcError> {
    loop {
        let id = b64url(&random_bytes::<16>()?);
        if !id.starts_with('-') {
            return Ok(id);
        }
    }
}

/// The record a validated registration describes (no secret yet).
fn record_of(
    reg: ClientRegistration,
    bounds: &RegistrationBounds,
    status: ClientStatus,
    now: i64,
) -> Result<ClientRecord, OidcError> {
    let method = reg.auth_method.unwrap_or(AuthMethod::None);
    Ok(ClientRecord {
        client_id: match reg.client_id {
            Some(id) => id,
            None => new_client_id()?,
        },
        purpose: reg.purpose.unwrap_or_else(|| bounds.purpose.clone()),
        purpose_fr: reg.purpose_fr.or_else(|| Some(bounds.purpose_fr.clone())),
        name: reg.name,
        name_fr: reg.name_fr,
        client_type: if reg.public_client {
            ClientType::Public
        } else {
            ClientType::Confidential
        },
        secret_hash: None,
        token_endpoint_auth_method: method,
        redirect_uris: reg.redirect_uris,
        post_logout_redirect_uris: reg.post_logout_redirect_uris,
        scopes: reg.scopes,
        claims: reg.claims,
        sector: reg.sector.unwrap_or_default(),
        subject_type: if reg.public_subject {
            SubjectType::Public
        } else {
            SubjectType::Pairwise
        },
        jwks: reg.jwks,
        jwks_uri: reg.jwks_uri,
        backchannel_logout_uri: reg.backchannel_logout_uri,
        id_token_signed_response_alg: reg
            .id_token_signed_response_alg
            .unwrap_or(SigningAlg::Es256),
        pia_entry: Some(bounds.entry.clone()),
        status,
        status_reason: None,
        version: 1,
        registration_token_hash: None,
        created_at: now,
        updated_at: now,
    })
}

/// Registers an RP within its PIA entry, with `status` (a new relying
/// party is usually [`ClientStatus::Pending`] until a privacy officer
/// approves it). A confidential client using a shared secret gets a 256-bit
/// random secret, returned once and stored only as its SHA-256.
pub async fn register(
    conn: &mut Connection,
    registration: ClientRegistration,
    bounds: &RegistrationBounds,
    status: ClientStatus,
    now: i64,
) -> Result<RegisteredClient, OidcError> {
    let reg = bounds.admit(registration)?;
    let mut record = record_of(reg, bounds, status, now)?;
    let client_secret = if record.token_endpoint_auth_method.uses_secret() {
        Some(random_token()?)
    } else {
        None
    };
    record.secret_hash = client_secret.as_ref().map(|s| s.hash().0.to_vec());
    clients::insert(conn, &record).await?;
    Ok(RegisteredClient {
        record,
        client_secret,
    })
}

/// What a registration would become, validated within its bounds, without
/// storing anything: an edit is checked (and compared with the record it
/// replaces) before it is stored or put to a privacy officer.
pub fn proposed(
    registration: ClientRegistration,
    bounds: &RegistrationBounds,
    current: &ClientRecord,
    now: i64,
) -> Result<ClientRecord, OidcError> {
    let reg = bounds.admit(ClientRegistration {
        client_id: Some(current.client_id.clone()),
        ..registration
    })?;
    let mut next = record_of(reg, bounds, current.status, now)?;
    if next.token_endpoint_auth_method != current.token_endpoint_auth_method
        || next.client_type != current.client_type
    {
        return Err(OidcError::InvalidMetadata {
            field: "token_endpoint_auth_method",
            message: format!(
                "stays {} for this client (a different kind of client is a new registration)",
                current.token_endpoint_auth_method.as_str()
            ),
        });
    }
    // What a metadata edit does not change: the credentials, the history.
    next.secret_hash = current.secret_hash.clone();
    next.status_reason = current.status_reason.clone();
    next.registration_token_hash = current.registration_token_hash.clone();
    next.created_at = current.created_at;
    next.version = current.version;
    Ok(next)
}

/// Issues a new secret for a confidential client; the old one stops working
/// at once.
pub async fn rotate_secret(
    conn: &mut Connection,
    client_id: &str,
    now: i64,
) -> Result<SecretString, OidcError> {
    let client = clients::get(conn, client_id)
        .await?
        .ok_or(OidcError::UnknownClient)?;
    if !client.token_endpoint_auth_method.uses_secret() {
        return Err(OidcError::InvalidMetadata {
            field: "token_endpoint_auth_method",
            message: format!(
                "client {client_id} authenticates with {} and has no secret to rotate",
                client.token_endpoint_auth_method.as_str()
            ),
        });
    }
    let secret = random_token()?;
    clients::set_secret_hash(conn, client_id, &secret.hash().0, now).await?;
    Ok(secret)
}

#[cfg(test)]
mod tests;
