//! Token signing keys: bootstrap, loading, publication and rotation.
//!
//! Each algorithm sqin signs with ([`SigningAlg::ALL`]: ES256, PS256,
//! RS256) has its own keys, and for each three states are published at
//! once: `next` (so RPs that cache the JWKS already know it before it signs
//! anything), `current` (signs), `previous` (kept until every token it
//! signed has expired). A rotation rotates every algorithm. Private keys are
//! stored sealed under the key-encryption key with the `kid` as associated
//! data.
//!
//! sqin's own tokens (access tokens) are ES256; a relying party's ID tokens
//! and logout tokens use the algorithm it registered
//! (`id_token_signed_response_alg`).
use std::collections::HashMap;
use std::sync::Arc;

use sqin_crypto::{KeyEncryptionKey, PublicJwk, SigningAlg, SigningKey, VerifyingKey};
use sqin_store::keys::{self, KeyState, SigningKeyRow};
use sqin_store::{begin_on, Connection, StoreError};

use crate::OidcError;

/// The current key of each algorithm.
#[derive(Debug, Clone)]
struct CurrentKeys {
    es256: Arc<SigningKey>,
    ps256: Arc<SigningKey>,
    rs256: Arc<SigningKey>,
}

/// The keys a node signs and verifies with, loaded from the database.
#[derive(Debug, Clone)]
pub struct KeyRing {
    current: CurrentKeys,
    published: Vec<PublicJwk>,
    /// The JWKS document, serialised once per load: it is served far more
    /// often than keys change.
    jwks_document: Arc<str>,
    verifying: HashMap<String, VerifyingKey>,
}

impl KeyRing {
    /// The current ES256 key, which signs sqin's own tokens (access tokens).
    pub fn signing_key(&self) -> &Arc<SigningKey> {
        &self.current.es256
    }

    /// The current key of `alg` (a relying party's ID and logout tokens).
    pub fn signing_key_for(&self, alg: SigningAlg) -> &Arc<SigningKey> {
        match alg {
            SigningAlg::Es256 => &self.current.es256,
            SigningAlg::Ps256 => &self.current.ps256,
            SigningAlg::Rs256 => &self.current.rs256,
        }
    }

    /// The JWKS document's keys: next, current and unexpired previous keys
    /// of every algorithm, each with its `alg`.
    pub fn published(&self) -> &[PublicJwk] {
        &self.published
    }

    /// The JWKS document (`{"keys": [...]}`) as served.
    pub fn jwks_document(&self) -> &Arc<str> {
        &self.jwks_document
    }

    /// The public key for a `kid` that may still verify tokens, bound to
    /// its algorithm.
    pub fn verifying_key(&self, kid: &str) -> Option<&VerifyingKey> {
        self.verifying.get(kid)
    }
}

fn context(kid: &str) -> String {
    format!("signing-key:{kid}")
}

fn new_row(
    kek: &KeyEncryptionKey,
    alg: SigningAlg,
    state: KeyState,
    now: i64,
) -> Result<SigningKeyRow, OidcError> {
    let key = SigningKey::generate(alg)?;
    let public_jwk = serde_json::to_string(&key.public_jwk())
        .map_err(|e| OidcError::KeyMaterial(e.to_string()))?;
    Ok(SigningKeyRow {
        kid: key.kid().to_owned(),
        alg,
        sealed_private: kek.seal(&context(key.kid()), key.pkcs8())?,
        public_jwk,
        state,
        created_at: now,
        activated_at: (state == KeyState::Current).then_some(now),
        publish_until: None,
    })
}

/// Makes sure every algorithm has a current and a next key. Safe when
/// several nodes start together: the database admits one current and one
/// next key per algorithm, and a node that loses the race simply uses the
/// winner's. (A database from before several algorithms gets its PS256 and
/// RS256 keys here.)
pub async fn ensure_keys(
    conn: &mut Connection,
    kek: &KeyEncryptionKey,
    now: i64,
) -> Result<(), OidcError> {
    for alg in SigningAlg::ALL {
        for state in [KeyState::Current, KeyState::Next] {
            let live = keys::list_live(conn).await?;
            if live.iter().any(|k| k.alg == alg && k.state == state) {
                continue;
            }
            match keys::insert(conn, &new_row(kek, alg, state, now)?).await {
                Ok(()) | Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

/// Loads the key ring: unseals each algorithm's current key, lists what is
/// published.
pub async fn load(
    conn: &mut Connection,
    kek: &KeyEncryptionKey,
    now: i64,
) -> Result<KeyRing, OidcError> {
    let live = keys::list_live(conn).await?;
    let mut current: HashMap<SigningAlg, Arc<SigningKey>> = HashMap::new();
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
        let verifier = jwk
            .verifying_key()
            .filter(|v| v.alg() == row.alg)
            .ok_or_else(|| {
                OidcError::KeyMaterial(format!(
                    "{}: the published key is not a {} key",
                    row.kid, row.alg
                ))
            })?;
        verifying.insert(row.kid.clone(), verifier);
        if row.state == KeyState::Current {
            let pkcs8 = kek.open(&context(&row.kid), &row.sealed_private).map_err(|_| {
                OidcError::KeyMaterial(format!(
                    "signing key {} cannot be unsealed: is this the key-encryption key the database was created with?",
                    row.kid
                ))
            })?;
            current.insert(row.alg, Arc::new(SigningKey::from_pkcs8(row.alg, &pkcs8)?));
        }
        published.push(jwk);
    }
    let jwks_document = serde_json::to_string(&serde_json::json!({ "keys": published }))
        .map_err(|e| OidcError::KeyMaterial(e.to_string()))?;
    let mut take = |alg| current.remove(&alg).ok_or(OidcError::NoSigningKey);
    Ok(KeyRing {
        current: CurrentKeys {
            es256: take(SigningAlg::Es256)?,
            ps256: take(SigningAlg::Ps256)?,
            rs256: take(SigningAlg::Rs256)?,
        },
        published,
        jwks_document: jwks_document.into(),
        verifying,
    })
}

/// What a rotation did to one algorithm's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlgorithmRotation {
    pub alg: SigningAlg,
    /// The former current key, still published.
    pub previous: Option<String>,
    /// The key that signs now (the former next key).
    pub current: String,
    /// The new next key.
    pub next: String,
}

/// What a rotation did, for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// Expired previous keys retired (of every algorithm).
    pub retired: Vec<String>,
    /// Each algorithm's keys, in [`SigningAlg::ALL`] order.
    pub algorithms: Vec<AlgorithmRotation>,
}

impl Rotation {
    /// What happened to `alg`'s keys.
    pub fn of(&self, alg: SigningAlg) -> Option<&AlgorithmRotation> {
        self.algorithms.iter().find(|a| a.alg == alg)
    }

    /// The key ids that sign now, as `ES256=kid PS256=kid RS256=kid`.
    pub fn currents(&self) -> String {
        self.summary(|a| Some(&a.current))
    }

    /// The new next key ids, as `ES256=kid PS256=kid RS256=kid`.
    pub fn nexts(&self) -> String {
        self.summary(|a| Some(&a.next))
    }

    /// The rotation as the CLI and the admin API show it: the ES256 keys'
    /// (which sign sqin's own tokens) at the top, as before there were
    /// several algorithms, and every algorithm's in `algorithms`.
    pub fn to_json(&self) -> serde_json::Value {
        let es256 = self.of(SigningAlg::Es256);
        serde_json::json!({
            "current": es256.map(|a| &a.current),
            "next": es256.map(|a| &a.next),
            "previous": es256.and_then(|a| a.previous.as_ref()),
            "retired": self.retired,
            "algorithms": self.algorithms.iter().map(|a| serde_json::json!({
                "alg": a.alg.as_str(),
                "current": a.current,
                "next": a.next,
                "previous": a.previous,
            })).collect::<Vec<_>>(),
        })
    }

    fn summary(&self, pick: impl Fn(&AlgorithmRotation) -> Option<&String>) -> String {
        self.algorithms
            .iter()
            .filter_map(|a| pick(a).map(|kid| format!("{}={kid}", a.alg)))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Rotates every algorithm's keys in one transaction: expired previous keys
/// retire, each current key becomes previous (published for
/// `keep_previous_secs`, at least the longest token lifetime), each next key
/// becomes current, and a new next key is made for each. The new keys are
/// made before the transaction begins (an RSA key takes a moment).
pub async fn rotate(
    conn: &mut Connection,
    kek: &KeyEncryptionKey,
    now: i64,
    keep_previous_secs: i64,
) -> Result<Rotation, OidcError> {
    let mut nexts = Vec::new();
    for alg in SigningAlg::ALL {
        nexts.push(new_row(kek, alg, KeyState::Next, now)?);
    }
    let mut tx = begin_on(conn).await?;
    let live = keys::list_live(&mut tx).await?;
    let mut retired = Vec::new();
    for k in live.iter().filter(|k| k.state == KeyState::Previous) {
        if k.publish_until.is_some_and(|t| t <= now) {
            keys::set_state(&mut tx, &k.kid, KeyState::Retired, None, None).await?;
            retired.push(k.kid.clone());
        }
    }
    let mut algorithms = Vec::new();
    for next in nexts {
        let alg = next.alg;
        let old_current = live
            .iter()
            .find(|k| k.alg == alg && k.state == KeyState::Current);
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
        let current = match live
            .iter()
            .find(|k| k.alg == alg && k.state == KeyState::Next)
        {
            Some(k) => {
                keys::set_state(&mut tx, &k.kid, KeyState::Current, Some(now), None).await?;
                k.kid.clone()
            }
            None => {
                let row = new_row(kek, alg, KeyState::Current, now)?;
                keys::insert(&mut tx, &row).await?;
                row.kid
            }
        };
        keys::insert(&mut tx, &next).await?;
        algorithms.push(AlgorithmRotation {
            alg,
            previous: old_current.map(|k| k.kid.clone()),
            current,
            next: next.kid,
        });
    }
    tx.commit().await?;
    Ok(Rotation {
        retired,
        algorithms,
    })
}
