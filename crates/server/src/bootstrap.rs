//! Start-up: open the database, load the key-encryption key, make sure the
//! server's keys exist, and hand out the services the CLI and HTTP use.
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, RwLock};

use anyhow::{bail, Context};
use base64::Engine;
use sqin_crypto::{random_bytes, HmacKey, KeyEncryptionKey};
use sqin_oidc::keys::{self, KeyRing};
use sqin_register::EnrolmentCodeIssuer;
use sqin_store::{secrets, Store};

use crate::config::Config;

/// What every command needs once the configuration is loaded.
#[derive(Clone)]
pub struct Services {
    pub config: Arc<Config>,
    /// The privacy impact assessment this server runs under (checked
    /// against the code at start-up).
    pub pia: Arc<crate::pia::AdoptedPia>,
    pub store: Store,
    pub kek: Arc<KeyEncryptionKey>,
    pub codes: EnrolmentCodeIssuer,
    pub pairwise_key: HmacKey,
    /// Keys the tokens that bind a consent or logout form to its session.
    pub form_key: HmacKey,
    pub keys: Arc<RwLock<Arc<KeyRing>>>,
    /// The consent ledger: its checkpoint signing key, pseudonym key and
    /// data-key wrapping key (all sealed under the KEK in the database).
    pub ledger: sqin_ledger_service::Ledger,
    /// Where the OpenID Provider reports consents and disclosures.
    pub audit: Arc<dyn sqin_oidc::audit::AuditSink>,
    /// Relying-party registrations, cached for `client_cache_secs`.
    pub clients: Arc<sqin_oidc::cache::ClientCache>,
    /// Access tokens whose signature this node has verified.
    pub verified_tokens: Arc<sqin_oidc::cache::VerifiedTokens>,
    /// This node's copy of the revoked access-token ids.
    pub revoked_tokens: Arc<sqin_oidc::cache::RevokedAccessTokens>,
    /// Wakes the back-channel logout sender after a logout.
    pub backchannel_wake: Arc<tokio::sync::Notify>,
    /// Outgoing HTTP (back-channel logout deliveries).
    pub http: reqwest::Client,
    /// The discovery document: it depends only on the configuration.
    pub discovery_document: Arc<std::sync::OnceLock<Arc<str>>>,
    /// Keys the CSRF tokens of the web pages (bound to the browser cookie).
    pub csrf_key: HmacKey,
    /// The passkey service: WebAuthn ceremonies, enrolment and recovery.
    pub passkeys: sqin_webauthn::PasskeyService,
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Reads the key-encryption key, generating it at the default location on a
/// fresh machine (never at an explicitly configured path: a missing configured
/// key is an operator error, not something to paper over).
pub fn load_kek(config: &Config) -> anyhow::Result<KeyEncryptionKey> {
    let path = config.kek_path();
    if !path.exists() {
        if config.key_encryption_key_file.is_some() {
            bail!(
                "configuration key `key_encryption_key_file`: {} does not exist",
                path.display()
            );
        }
        generate_kek_file(&path)?;
        tracing::warn!(path = %path.display(), "generated a new key-encryption key; back it up: without it the database's keys cannot be unsealed");
    }
    let bytes = std::fs::read(&path)
        .with_context(|| format!("reading the key-encryption key {}", path.display()))?;
    let raw = if bytes.len() == 32 {
        bytes
    } else {
        let text = String::from_utf8_lossy(&bytes);
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .ok()
            .filter(|k| k.len() == 32)
            .with_context(|| {
                format!(
                    "configuration key `key_encryption_key_file`: {} must hold 32 raw bytes or their base64",
                    path.display()
                )
            })?
    };
    Ok(KeyEncryptionKey::from_bytes(&raw)?)
}

fn generate_kek_file(path: &Path) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let key = random_bytes::<32>()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(
        base64::engine::general_purpose::STANDARD
            .encode(key)
            .as_bytes(),
    )?;
    file.sync_all()?;
    Ok(())
}

/// A sealed server-wide HMAC key, created by the first node that needs it.
async fn server_hmac_key(
    store: &Store,
    kek: &KeyEncryptionKey,
    name: &str,
) -> anyhow::Result<HmacKey> {
    let context = format!("server-secret:{name}");
    let fresh = kek.seal(&context, &random_bytes::<32>()?)?;
    let mut conn = store.pool().acquire().await?;
    let sealed = secrets::get_or_insert(&mut conn, name, &fresh, now()).await?;
    let raw = kek.open(&context, &sealed).with_context(|| {
        format!("server secret {name} cannot be unsealed: is this the key-encryption key the database was created with?")
    })?;
    let bytes: [u8; 32] = raw
        .try_into()
        .map_err(|_| anyhow::anyhow!("server secret {name} has the wrong length"))?;
    Ok(HmacKey::from_bytes(bytes))
}

/// Opens everything. Migrations run here, so every command (and every node
/// of a cluster) brings the schema up to date before using it.
pub async fn open(config: Config) -> anyhow::Result<Services> {
    let client_cache_secs = config.client_cache_secs;
    // Before anything is touched: a PIA that does not describe this code
    // stops every command.
    let pia = Arc::new(crate::pia::load(config.pia_file.as_deref())?);
    let store = Store::open(&config.database_url).await.with_context(|| {
        format!(
            "opening the database (configuration key `database_url` = {})",
            redact_url(&config.database_url)
        )
    })?;
    let kek = load_kek(&config)?;
    let codes = EnrolmentCodeIssuer::new(
        server_hmac_key(&store, &kek, "enrolment-code-key").await?,
        config.enrolment_code_ttl_days * 86_400,
    );
    let pairwise_key = server_hmac_key(&store, &kek, "pairwise-subject-key").await?;
    let form_key = server_hmac_key(&store, &kek, "form-key").await?;
    let csrf_key = server_hmac_key(&store, &kek, "csrf-key").await?;
    let passkeys = sqin_webauthn::PasskeyService::new(
        &config.issuer,
        codes.clone(),
        server_hmac_key(&store, &kek, "passkey-service-key").await?,
        sqin_webauthn::Limits::default(),
    )?;
    let ledger = sqin_ledger_service::Ledger::open(
        &store,
        &kek,
        config.ledger_settings(pia.ledger_retention.clone()),
        now(),
    )
    .await
    .context("opening the consent ledger")?;
    let ring = {
        let mut conn = store.pool().acquire().await?;
        keys::ensure_keys(&mut conn, &kek, now()).await?;
        keys::load(&mut conn, &kek, now()).await?
    };
    Ok(Services {
        config: Arc::new(config),
        pia,
        store,
        kek: Arc::new(kek),
        codes,
        pairwise_key,
        form_key,
        keys: Arc::new(RwLock::new(Arc::new(ring))),
        audit: Arc::new(crate::audit::LedgerAudit {
            ledger: ledger.clone(),
        }),
        ledger,
        clients: Arc::new(sqin_oidc::cache::ClientCache::new(client_cache_secs)),
        verified_tokens: Arc::new(sqin_oidc::cache::VerifiedTokens::default()),
        revoked_tokens: Arc::default(),
        discovery_document: Arc::default(),
        backchannel_wake: Arc::default(),
        http: crate::backchannel::http_client(),
        csrf_key,
        passkeys,
    })
}

impl Services {
    pub fn key_ring(&self) -> Arc<KeyRing> {
        match self.keys.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The OpenID Provider's view of these services.
    pub fn provider(&self) -> sqin_oidc::Provider {
        sqin_oidc::Provider {
            issuer: self.config.issuer_str(),
            keys: self.key_ring(),
            pairwise_key: self.pairwise_key.clone(),
            form_key: self.form_key.clone(),
            lifetimes: sqin_oidc::Lifetimes {
                token: self.config.token_ttl_secs,
                ..Default::default()
            },
            audit: self.audit.clone(),
            clients: self.clients.clone(),
            verified: self.verified_tokens.clone(),
            revoked: self.revoked_tokens.clone(),
        }
    }

    /// Re-reads the keys, so a rotation made by `sqin keys rotate` (or another
    /// node) is picked up without a restart.
    pub async fn reload_keys(&self) -> anyhow::Result<()> {
        let mut conn = self.store.pool().acquire().await?;
        let ring = keys::load(&mut conn, &self.kek, now()).await?;
        match self.keys.write() {
            Ok(mut guard) => *guard = Arc::new(ring),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(ring),
        }
        Ok(())
    }
}

/// A database URL fit for an error message: the password is replaced.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}
