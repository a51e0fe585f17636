//! [`Ledger`]: the keys and settings every ledger operation needs, loaded
//! once at start-up and shared (cheaply cloned) by the HTTP handlers, the
//! background tasks and the CLI.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use sqin_crypto::{random_bytes, HmacKey, KeyEncryptionKey};
use sqin_ledger::{DataKey, EcdsaNoteSigner, EcdsaNoteVerifier, Frontier, Hash};
use sqin_store::{secrets, Backend, Store};

use crate::retention::Retention;
use crate::LedgerServiceError;

/// Names of the ledger's secrets in `server_secrets`, each sealed under the
/// KEK with `server-secret:<name>` as associated data (like the other server
/// secrets).
pub const CHECKPOINT_KEY_SECRET: &str = "ledger-checkpoint-key";
/// The pseudonym key (HMAC-SHA256).
pub const PSEUDONYM_KEY_SECRET: &str = "ledger-pseudonym-key";
/// The key that wraps citizens' data keys (AES-256-GCM).
pub const WRAPPING_KEY_SECRET: &str = "ledger-data-key-wrapping-key";

/// Shortest and longest data-key period accepted, in seconds.
const MIN_PERIOD: i64 = 3600;
const MAX_PERIOD: i64 = 366 * 86_400;

/// What the deployment decides about its ledger.
#[derive(Debug, Clone)]
pub struct LedgerSettings {
    /// The configured origin, if any. It must equal the origin the log was
    /// created with; a log's origin never changes.
    pub origin: Option<String>,
    /// The origin to create the log with when none is configured (derived
    /// from the issuer by the server).
    pub default_origin: String,
    /// Retention per entry kind.
    pub retention: Retention,
    /// Length of a data-key period in seconds: each citizen gets one data
    /// key per entry kind and period, so retention is enforced to within one
    /// period.
    pub data_key_period_secs: i64,
}

impl LedgerSettings {
    /// Settings with default retention and 30-day key periods.
    pub fn new(default_origin: impl Into<String>) -> Self {
        Self {
            origin: None,
            default_origin: default_origin.into(),
            retention: Retention::default(),
            data_key_period_secs: 30 * 86_400,
        }
    }
}

/// The last append this process made, to skip re-reading the frontier when
/// nobody else appended since (checked against the stored head, so it is
/// only an optimisation).
#[derive(Debug, Clone)]
pub(crate) struct CachedFrontier {
    pub size: u64,
    pub last_leaf: Hash,
    pub frontier: Frontier,
}

/// Unwrapped data keys this process used recently, so that an append needs
/// one statement (the queue insert, which checks that the key still exists)
/// instead of two. Entries live [`DATA_KEY_CACHE_SECS`]: a key destroyed by
/// another node is refused by that check at once and leaves this process's
/// memory within that time.
#[derive(Default)]
pub(crate) struct DataKeyCache {
    keys: HashMap<DataKeySlot, CachedDataKey>,
}

/// One citizen's key slot: pseudonym, entry kind, period start.
pub(crate) type DataKeySlot = (String, &'static str, i64);

#[derive(Clone)]
pub(crate) struct CachedDataKey {
    pub id: String,
    pub key: DataKey,
    cached_at: i64,
}

/// How long an unwrapped data key stays in a process's memory.
pub const DATA_KEY_CACHE_SECS: i64 = 60;
/// Most keys cached at once (about 100 bytes each); the cache starts over
/// when full.
const DATA_KEY_CACHE_MAX: usize = 8192;

impl DataKeyCache {
    fn get(&self, slot: &DataKeySlot, now: i64) -> Option<CachedDataKey> {
        self.keys
            .get(slot)
            .filter(|k| now.saturating_sub(k.cached_at) < DATA_KEY_CACHE_SECS && now >= k.cached_at)
            .cloned()
    }

    fn put(&mut self, slot: DataKeySlot, id: String, key: DataKey, now: i64) {
        if self.keys.len() >= DATA_KEY_CACHE_MAX {
            self.keys.clear();
        }
        self.keys.insert(
            slot,
            CachedDataKey {
                id,
                key,
                cached_at: now,
            },
        );
    }
}

/// The log's checkpoint keys as this process knows them.
pub(crate) struct CheckpointKeys {
    /// Signs new checkpoints.
    pub signer: EcdsaNoteSigner,
    /// Verifies what it signs.
    pub verifier: EcdsaNoteVerifier,
    /// Its C2SP verifier key.
    pub vkey: String,
    /// Every verifier key the log has used, oldest first, the current last.
    pub history: Vec<String>,
}

struct Inner {
    origin: String,
    keys: RwLock<Arc<CheckpointKeys>>,
    pseudonym_key: HmacKey,
    wrapping_key: [u8; 32],
    retention: Retention,
    data_key_period: i64,
    backend: Backend,
    frontier: Mutex<Option<CachedFrontier>>,
    data_keys: Mutex<DataKeyCache>,
}

/// The consent ledger's keys and settings. Clone it freely.
#[derive(Clone)]
pub struct Ledger {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("origin", &self.inner.origin)
            .field("vkey", &self.vkey())
            .field("backend", &self.inner.backend)
            .finish_non_exhaustive()
    }
}

/// A sealed server secret, created by the first node that needs it (first
/// writer wins, so nodes starting together agree).
async fn sealed_secret(
    conn: &mut sqin_store::Connection,
    kek: &KeyEncryptionKey,
    name: &str,
    fresh: &[u8],
    now: i64,
) -> Result<Vec<u8>, LedgerServiceError> {
    let context = format!("server-secret:{name}");
    let sealed = kek.seal(&context, fresh)?;
    let stored = secrets::get_or_insert(conn, name, &sealed, now).await?;
    kek.open(&context, &stored).map_err(|_| {
        LedgerServiceError::Corrupt(format!(
            "server secret {name} cannot be unsealed: is this the key-encryption key the database was created with?"
        ))
    })
}

fn key32(bytes: Vec<u8>, name: &str) -> Result<[u8; 32], LedgerServiceError> {
    bytes
        .try_into()
        .map_err(|_| LedgerServiceError::Corrupt(format!("server secret {name} is not 32 bytes")))
}

/// An origin must be one line a signed note can carry, and a key name (no
/// spaces, no `+`), since the checkpoint key is named after it.
pub fn validate_origin(origin: &str) -> Result<(), LedgerServiceError> {
    if origin.is_empty()
        || origin.len() > 255
        || origin.contains('+')
        || origin.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(LedgerServiceError::InvalidSetting(format!(
            "ledger origin {origin:?} must be 1 to 255 characters without spaces or '+', e.g. id.gouv.example/ledger"
        )));
    }
    Ok(())
}

impl Ledger {
    /// Loads (creating on a fresh database) the checkpoint signing key, the
    /// pseudonym key, the data-key wrapping key and the log's origin, and
    /// signs the first checkpoint of an empty log.
    pub async fn open(
        store: &Store,
        kek: &KeyEncryptionKey,
        settings: LedgerSettings,
        now: i64,
    ) -> Result<Ledger, LedgerServiceError> {
        settings
            .retention
            .validate()
            .map_err(|e| LedgerServiceError::InvalidSetting(format!("ledger retention: {e}")))?;
        if !(MIN_PERIOD..=MAX_PERIOD).contains(&settings.data_key_period_secs) {
            return Err(LedgerServiceError::InvalidSetting(
                "the data-key period must be between 1 hour and 366 days".into(),
            ));
        }
        let wanted = settings
            .origin
            .as_deref()
            .unwrap_or(&settings.default_origin);
        validate_origin(wanted)?;
        let mut conn = store
            .pool()
            .acquire()
            .await
            .map_err(sqin_store::StoreError::from)?;
        let origin = sqin_store::ledger::origin_get_or_insert(&mut conn, wanted, now).await?;
        if let Some(configured) = &settings.origin {
            if *configured != origin {
                return Err(LedgerServiceError::OriginMismatch {
                    configured: configured.clone(),
                    stored: origin,
                });
            }
        }
        // Before any rotation the checkpoint key is a server secret; after,
        // the newest row of `ledger_checkpoint_keys` (sealed under the
        // wrapping key, loaded below once that key is known).
        let rotated = !sqin_store::ledger::checkpoint_keys(&mut conn)
            .await?
            .is_empty();
        let original = if rotated {
            None
        } else {
            Some(
                sealed_secret(
                    &mut conn,
                    kek,
                    CHECKPOINT_KEY_SECRET,
                    &EcdsaNoteSigner::generate_pkcs8()?,
                    now,
                )
                .await?,
            )
        };
        let pseudonym_key = HmacKey::from_bytes(key32(
            sealed_secret(
                &mut conn,
                kek,
                PSEUDONYM_KEY_SECRET,
                &random_bytes::<32>()?,
                now,
            )
            .await?,
            PSEUDONYM_KEY_SECRET,
        )?);
        let wrapping_key = key32(
            sealed_secret(
                &mut conn,
                kek,
                WRAPPING_KEY_SECRET,
                &random_bytes::<32>()?,
                now,
            )
            .await?,
            WRAPPING_KEY_SECRET,
        )?;
        let signer = match &original {
            Some(pkcs8) => EcdsaNoteSigner::from_pkcs8(&origin, pkcs8)?,
            None => {
                rotated_signer(&mut conn, &origin, &wrapping_key)
                    .await?
                    .ok_or_else(|| LedgerServiceError::Corrupt("no current checkpoint key".into()))?
                    .0
            }
        };
        let vkey = signer.vkey();
        let history = match &original {
            Some(_) => vec![vkey.clone()],
            None => sqin_store::ledger::checkpoint_keys(&mut conn)
                .await?
                .into_iter()
                .map(|k| k.vkey)
                .collect(),
        };
        let ledger = Ledger {
            inner: Arc::new(Inner {
                keys: RwLock::new(Arc::new(CheckpointKeys {
                    verifier: signer.verifier()?,
                    signer,
                    vkey,
                    history,
                })),
                origin,
                pseudonym_key,
                wrapping_key,
                retention: settings.retention,
                data_key_period: settings.data_key_period_secs,
                backend: store.backend(),
                frontier: Mutex::new(None),
                data_keys: Mutex::new(DataKeyCache::default()),
            }),
        };
        crate::checkpoints::publish(
            &mut conn,
            &ledger,
            now,
            crate::checkpoints::CheckpointPolicy::IfNone,
        )
        .await?;
        Ok(ledger)
    }

    /// The log's identity, the first line of its checkpoints.
    pub fn origin(&self) -> &str {
        &self.inner.origin
    }

    /// The current checkpoint verifier key, `<origin>+<key id>+<base64
    /// key>`, to publish and to pin in auditors' tools.
    pub fn vkey(&self) -> String {
        self.keys().vkey.clone()
    }

    /// Every checkpoint verifier key the log has used, oldest first, the
    /// current one last.
    pub fn vkeys(&self) -> Vec<String> {
        self.keys().history.clone()
    }

    /// A verifier for checkpoints signed with the current key.
    pub fn verifier(&self) -> EcdsaNoteVerifier {
        self.keys().verifier.clone()
    }

    pub(crate) fn keys(&self) -> Arc<CheckpointKeys> {
        match self.inner.keys.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub(crate) fn set_keys(&self, keys: CheckpointKeys) {
        let keys = Arc::new(keys);
        match self.inner.keys.write() {
            Ok(mut guard) => *guard = keys,
            Err(poisoned) => *poisoned.into_inner() = keys,
        }
    }

    /// Brings this process's checkpoint key up to date with the database
    /// (another node may have rotated it): one query. Signing calls it with
    /// the appenders' lock held; the public endpoints call it before naming
    /// the key.
    pub async fn refresh_keys(
        &self,
        conn: &mut sqin_store::Connection,
    ) -> Result<(), LedgerServiceError> {
        let Some((signer, history)) =
            rotated_signer(conn, &self.inner.origin, &self.inner.wrapping_key).await?
        else {
            return Ok(());
        };
        if signer.vkey() != self.keys().vkey {
            tracing::info!(vkey = %signer.vkey(), "the ledger's checkpoint key was rotated; signing with the new key");
            self.set_keys(CheckpointKeys {
                vkey: signer.vkey(),
                verifier: signer.verifier()?,
                signer,
                history,
            });
        }
        Ok(())
    }

    /// Retention in force.
    pub fn retention(&self) -> &Retention {
        &self.inner.retention
    }

    /// Length of a data-key period in seconds.
    pub fn data_key_period(&self) -> i64 {
        self.inner.data_key_period
    }

    /// The storage engine (selects the appenders' lock).
    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// The citizen's pseudonym in the log: base64url of the first 128 bits
    /// of HMAC-SHA256(pseudonym key, "sqin-ledger-subject/v1" 0x00 citizen_id).
    /// Stable for a citizen, unlinkable to them without the sealed key.
    pub fn pseudonym(&self, citizen_id: &str) -> String {
        let mac = self.inner.pseudonym_key.sign(&[
            b"sqin-ledger-subject/v1".as_slice(),
            &[0u8],
            citizen_id.as_bytes(),
        ]);
        let (head, _) = mac.split_at(16);
        sqin_crypto::b64url(head)
    }

    pub(crate) fn wrapping_key(&self) -> &[u8; 32] {
        &self.inner.wrapping_key
    }

    pub(crate) fn cached_frontier(&self) -> Option<CachedFrontier> {
        match self.inner.frontier.lock() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn data_key_cache(&self) -> std::sync::MutexGuard<'_, DataKeyCache> {
        match self.inner.data_keys.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// A data key this process unwrapped less than a minute ago.
    pub(crate) fn cached_data_key(&self, slot: &DataKeySlot, now: i64) -> Option<CachedDataKey> {
        self.data_key_cache().get(slot, now)
    }

    pub(crate) fn cache_data_key(&self, slot: DataKeySlot, id: String, key: DataKey, now: i64) {
        self.data_key_cache().put(slot, id, key, now);
    }

    /// Forgets cached keys: one slot, or every slot of a pseudonym, or all.
    pub(crate) fn forget_data_keys(&self, which: ForgetKeys<'_>) {
        let mut cache = self.data_key_cache();
        match which {
            ForgetKeys::Slot(slot) => {
                cache.keys.remove(slot);
            }
            ForgetKeys::Subject(subject) => cache.keys.retain(|(s, _, _), _| s != subject),
            ForgetKeys::All => cache.keys.clear(),
        }
    }

    pub(crate) fn cache_frontier(&self, value: Option<CachedFrontier>) {
        match self.inner.frontier.lock() {
            Ok(mut guard) => *guard = value,
            Err(poisoned) => *poisoned.into_inner() = value,
        }
    }
}

/// The associated data a rotated checkpoint key is sealed with: it binds the
/// sealed key to its verifier key.
pub(crate) fn checkpoint_key_label(vkey: &str) -> String {
    format!("sqin-ledger-checkpoint-key/v1/{vkey}")
}

/// After a rotation: the current checkpoint key (the newest row, unsealed)
/// and every verifier key, oldest first. `None` before any rotation.
pub(crate) async fn rotated_signer(
    conn: &mut sqin_store::Connection,
    origin: &str,
    wrapping_key: &[u8; 32],
) -> Result<Option<(EcdsaNoteSigner, Vec<String>)>, LedgerServiceError> {
    let rows = sqin_store::ledger::checkpoint_keys(conn).await?;
    let Some(current) = rows.last() else {
        return Ok(None);
    };
    let sealed = current.sealed_key.as_deref().ok_or_else(|| {
        LedgerServiceError::Corrupt("the newest checkpoint key is retired".into())
    })?;
    let pkcs8 = sqin_ledger::open(
        &DataKey::from_bytes(*wrapping_key),
        sealed,
        checkpoint_key_label(&current.vkey).as_bytes(),
    )
    .map_err(|_| LedgerServiceError::Corrupt("the checkpoint key does not unseal".into()))?;
    let signer = EcdsaNoteSigner::from_pkcs8(origin, &pkcs8)?;
    if signer.vkey() != current.vkey {
        return Err(LedgerServiceError::Corrupt(
            "the checkpoint key does not match its verifier key".into(),
        ));
    }
    Ok(Some((signer, rows.into_iter().map(|k| k.vkey).collect())))
}

/// Which cached data keys [`Ledger::forget_data_keys`] drops.
pub(crate) enum ForgetKeys<'a> {
    Slot(&'a DataKeySlot),
    Subject(&'a str),
    All,
}

/// The label a data key is wrapped with, binding it to its row.
pub(crate) fn data_key_label(key_id: &str, subject: &str, kind: &str, period_start: i64) -> String {
    format!("sqin-ledger-data-key/v1/{key_id}/{subject}/{kind}/{period_start}")
}
