//! Token signing keys: bootstrap, loading, publication and rotation.
//!
//! Three states are published at once: `next` (so RPs that cache the JWKS
//! already know it before it signs anything), `current` (signs), `previous`
//! (kept until every token it signed has expired). Private keys are stored
//! sealed under the key-encryption key with the `kid` as associated data.
use std::collections::HashMap;
use std::sync::Arc;

use sqin_crypto::{Es256KeyPair, KeyEncryptionKey, PublicJwk};
use sqin_store::keys::{self, KeyState, SigningKeyRow};
use sqin_store::{begin_on, Connection, StoreError};

use crate::OidcError;

/// The keys a node signs and verifies with, loaded from the database.
#[derive(Debug, Clone)]
pub struct KeyRing {
    current: Arc<Es256KeyPair>,
    published: Vec<PublicJwk>,
    /// The JWKS document, serialised once per load: it is served far more
    /// often than keys change.
    jwks_document: Arc<str>,
    verifying: HashMap<String, Vec<u8>>,
}

impl KeyRing {
    pub fn signing_key(&self) -> &Arc<Es256KeyPair> {
        &self.current
    }

    /// The JWKS document's keys: next, current and unexpired previous keys.
    pub fn published(&self) -> &[PublicJwk] {
        &self.published
    }

    /// The JWKS document (`{"keys": [...]}`) as served.
    pub fn jwks_document(&self) -> &Arc<str> {
        &self.jwks_document
    }

    /// The public point for a `kid` that may still verify tokens.
    pub fn verifying_key(&self, kid: &str) -> Option<&[u8]> {
        self.verifying.get(kid).map(Vec::as_slice)
    }
}

fn context(kid: &str) -> String {
    format!("signing-key:{kid}")
}

fn new_row(kek: &KeyEncryptionKey, state: KeyState, now: i64) -> Result<SigningKeyRow, OidcError> {
    let key = Es256KeyPair::generate()?;
    let public_jwk = serde_json::to_string(&key.public_jwk())
        .map_err(|e| OidcError::KeyMaterial(e.to_string()))?;
    Ok(SigningKeyRow {
        kid: key.kid().to_owned(),
        alg: "ES256".into(),
        sealed_private: kek.seal(&context(key.kid()), key.pkcs8())?,
        public_jwk,
        state,
        created_at: now,
        activated_at: (state == KeyState::Current).then_some(now),
        publish_until: None,
    })
}

/// Makes sure a current and a next key exist. Safe when several nodes start
/// together: the database admits one current and one next key, and a node that
/// loses the race simply uses the winner's.
pub async fn ensure_keys(
    conn: &mut Connection,
    kek: &KeyEncryptionKey,
    now: i64,
) -> Result<(), OidcError> {
    for state in [KeyState::Current, KeyState::Next] {
        let live = keys::list_live(conn).await?;
        if live.iter().any(|k| k.state == state) {
            continue;
        }
        match keys::insert(conn, &new_row(kek, state, now)?).await {
            Ok(()) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Loads the key ring: unseals the current key, lists what is published.
pub async fn load(
    conn: &mut Connection,
    kek: &KeyEncryptionKey,
    now: i64,
) -> Result<KeyRing, OidcError> {
    let live = keys::list_live(conn).await?;
    let mut current = None;
    let mut published = Vec::new();
    let mut verifying = HashMap::new();
    for row in live {
        let still_published = match row.state {
            KeyState::Previous => row.publish_until.is_none_or(|t| t > now),
            KeyState::Next | KeyState::Current => true,
            KeyState::Retired => false,
        };
        if !still_published {
            continue;
        }
        let jwk: PublicJwk = serde_json::from_str(&row.public_jwk)
            .map_err(|e| OidcError::KeyMaterial(format!("{}: {e}", row.kid)))?;
        if let Some(point) = jwk.point() {
            verifying.insert(row.kid.clone(), point);
        }
        if row.state == KeyState::Current {
            let pkcs8 = kek.open(&context(&row.kid), &row.sealed_private).map_err(|_| {
                OidcError::KeyMaterial(format!(
                    "signing key {} cannot be unsealed: is this the key-encryption key the database was created with?",
                    row.kid
                ))
            })?;
            current = Some(Arc::new(Es256KeyPair::from_pkcs8(&pkcs8)?));
        }
        published.push(jwk);
    }
    let jwks_document = serde_json::to_string(&serde_json::json!({ "keys": published }))
        .map_err(|e| OidcError::KeyMaterial(e.to_string()))?;
    Ok(KeyRing {
        current: current.ok_or(OidcError::NoSigningKey)?,
        published,
        jwks_document: jwks_document.into(),
        verifying,
    })
}

/// What a rotation did, for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub retired: Vec<String>,
    pub previous: Option<String>,
    pub current: String,
    pub next: String,
}

/// Rotates in one transaction: expired previous keys retire, the current key
/// becomes previous (published for `keep_previous_secs`, at least the longest
/// token lifetime), next becomes current, and a new next key is made.
pub async fn rotate(
    conn: &mut Connection,
    kek: &KeyEncryptionKey,
    now: i64,
    keep_previous_secs: i64,
) -> Result<Rotation, OidcError> {
    let mut tx = begin_on(conn).await?;
    let live = keys::list_live(&mut tx).await?;
    let mut retired = Vec::new();
    for k in live.iter().filter(|k| k.state == KeyState::Previous) {
        if k.publish_until.is_some_and(|t| t <= now) {
            keys::set_state(&mut tx, &k.kid, KeyState::Retired, None, None).await?;
            retired.push(k.kid.clone());
        }
    }
    let old_current = live.iter().find(|k| k.state == KeyState::Current);
    if let Some(k) = old_current {
        keys::set_state(
            &mut tx,
            &k.kid,
            KeyState::Previous,
            None,
            Some(now + keep_previous_secs),
        )
        .await?;
    }
    let current = match live.iter().find(|k| k.state == KeyState::Next) {
        Some(k) => {
            keys::set_state(&mut tx, &k.kid, KeyState::Current, Some(now), None).await?;
            k.kid.clone()
        }
        None => {
            let row = new_row(kek, KeyState::Current, now)?;
            keys::insert(&mut tx, &row).await?;
            row.kid
        }
    };
    let next = new_row(kek, KeyState::Next, now)?;
    keys::insert(&mut tx, &next).await?;
    tx.commit().await?;
    Ok(Rotation {
        retired,
        previous: old_current.map(|k| k.kid.clone()),
        current,
        next: next.kid,
    })
}
