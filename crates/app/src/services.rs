//! Start-up: open the database, load the key-encryption key, make sure the
//! server's keys exist, and hand out the services the CLI and HTTP use.
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, RwLock};

use base64::Engine;
use sqin_crypto::{random_bytes, HmacKey, KeyEncryptionKey};
use sqin_oidc::keys::{self, KeyRing};
use sqin_register::EnrolmentCodeIssuer;
use sqin_store::{secrets, Store};

use crate::{failed, AppError, Clock, During, Settings};

/// What every operation needs once the settings are known. Cheap to clone:
/// every field is shared.
#[derive(Clone)]
pub struct Services {
    pub settings: Arc<Settings>,
    /// The one source of time (see [`crate::clock`]).
    pub clock: Arc<dyn Clock>,
    /// The privacy impact assessment this server runs under (checked
    /// against the code at start-up).
    pub pia: Arc<crate::pia::AdoptedPia>,
    pub store: Store,
    pub kek: Arc<KeyEncryptionKey>,
    /// Seals and opens the register's personal fields (see
    /// [`sqin_store::citizens::RegisterVault`]).
    pub register: sqin_store::citizens::RegisterVault,
    pub codes: EnrolmentCodeIssuer,
    pub pairwise_key: HmacKey,
    /// Keys the tokens that bind a consent or logout form to its session.
    pub form_key: HmacKey,
    pub keys: Arc<RwLock<Arc<KeyRing>>>,
    /// The consent ledger: its checkpoint signing key, pseudonym key and
    /// data-key wrapping key (all sealed under the KEK in the database).
    pub ledger: sqin_ledger_service::Ledger,
    /// The ledger as the recorder the OpenID Provider writes through.
    pub recorder: Arc<dyn sqin_ledger_contract::LedgerRecorder>,
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
    /// What each staff role may do, from the PIA.
    pub staff_policy: Arc<sqin_staff::StaffPolicy>,
    /// Staff passkeys, on the staff console's origin.
    pub staff_passkeys: sqin_webauthn::StaffPasskeys,
    /// Fetches the keys clients publish at their `jwks_uri`.
    pub client_keys: Arc<crate::clients::jwks_uri::JwksFetcher>,
    /// Keys the pseudonymous citizen references of the staff access
    /// register (a keyed hash of the register id).
    pub staff_key: HmacKey,
}

/// Reads the key-encryption key, generating it at the default location on a
/// fresh machine (never at an explicitly configured path: a missing configured
/// key is an operator error, not something to paper over).
pub fn load_kek(source: &crate::KekSource) -> Result<KeyEncryptionKey, AppError> {
    let path = &source.path;
    if !path.exists() {
        if !source.generate_if_missing {
            return Err(AppError::Refused(format!(
                "configuration key `key_encryption_key_file`: {} does not exist",
                path.display()
            )));
        }
        generate_kek_file(path)?;
        tracing::warn!(path = %path.display(), "generated a new key-encryption key; back it up: without it the database's keys cannot be unsealed");
    }
    let bytes =
        std::fs::read(path).during(format!("reading the key-encryption key {}", path.display()))?;
    let raw = if bytes.len() == 32 {
        bytes
    } else {
        let text = String::from_utf8_lossy(&bytes);
        match base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .ok()
            .filter(|k| k.len() == 32)
        {
            Some(raw) => raw,
            None => {
                return Err(AppError::Refused(format!(
                    "configuration key `key_encryption_key_file`: {} must hold 32 raw bytes or their base64",
                    path.display()
                )))
            }
        }
    };
    Ok(KeyEncryptionKey::from_bytes(&raw)?)
}

fn generate_kek_file(path: &Path) -> Result<(), AppError> {
    let step = || format!("creating the key-encryption key {}", path.display());
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).during(step())?;
    }
    let key = random_bytes::<32>()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).during(step())?;
    file.write_all(
        base64::engine::general_purpose::STANDARD
            .encode(key)
            .as_bytes(),
    )
    .during(step())?;
    file.sync_all().during(step())?;
    Ok(())
}

/// A sealed server-wide HMAC key, created by the first node that needs it.
async fn server_hmac_key(
    store: &Store,
    kek: &KeyEncryptionKey,
    name: &str,
    now: i64,
) -> Result<HmacKey, AppError> {
    let context = format!("server-secret:{name}");
    let fresh = kek.seal(&context, &random_bytes::<32>()?)?;
    let mut conn = store.pool().acquire().await?;
    let sealed = secrets::get_or_insert(&mut conn, name, &fresh, now).await?;
    let raw = kek.open(&context, &sealed).during(format!(
        "server secret {name} cannot be unsealed: is this the key-encryption key the database was created with?"
    ))?;
    match <[u8; 32]>::try_from(raw) {
        Ok(bytes) => Ok(HmacKey::from_bytes(bytes)),
        Err(_) => failed(
            format!("reading server secret {name}"),
            "it has the wrong length",
        ),
    }
}

fn client_key_fetcher(
    settings: &Settings,
) -> Result<crate::clients::jwks_uri::JwksFetcher, AppError> {
    let roots = match &settings.jwks_uri_ca_file {
        Some(path) => Some(
            std::fs::read(path).during(format!("reading jwks_uri_ca_file {}", path.display()))?,
        ),
        None => None,
    };
    crate::clients::jwks_uri::JwksFetcher::new(settings.jwks_uri_allow_private, roots.as_deref())
        .or_else(|e| failed("configuring the fetching of clients' keys", e))
}

/// Seals the register rows an older version stored in clear (see
/// migration 0013), before anything reads them.
async fn seal_register(
    store: &Store,
    register: &sqin_store::citizens::RegisterVault,
) -> Result<(), AppError> {
    let mut conn = store.pool().acquire().await?;
    let sealed = sqin_store::citizens::seal_unsealed(&mut conn, register, |n| {
        tracing::info!(sealed = n, "sealing citizen records stored in clear");
    })
    .await
    .during("sealing the citizen records an older version stored in clear")?;
    if sealed > 0 {
        tracing::info!(sealed, "citizen records sealed at rest");
    }
    Ok(())
}

/// Opens everything. Migrations run here, so every command (and every node
/// of a cluster) brings the schema up to date before using it.
pub async fn open(settings: Settings, clock: Arc<dyn Clock>) -> Result<Services, AppError> {
    // Before anything is touched: a PIA that does not describe this code
    // stops every command.
    let pia = Arc::new(crate::pia::load(settings.pia_file.as_deref())?);
    let store = Store::open(&settings.database_url).await.during(format!(
        "opening the database (configuration key `database_url` = {})",
        redact_url(&settings.database_url)
    ))?;
    let kek = Arc::new(load_kek(&settings.kek)?);
    let now = clock.now();
    let secret = |name: &'static str| server_hmac_key(&store, &kek, name, now);
    let codes = EnrolmentCodeIssuer::new(
        secret("enrolment-code-key").await?,
        settings.enrolment_code_ttl_days * 86_400,
    );
    let register =
        sqin_store::citizens::RegisterVault::new(kek.clone(), secret("register-lookup-key").await?);
    seal_register(&store, &register).await?;
    let pairwise_key = secret("pairwise-subject-key").await?;
    let form_key = secret("form-key").await?;
    let csrf_key = secret("csrf-key").await?;
    let passkeys = sqin_webauthn::PasskeyService::new(
        &settings.issuer,
        codes.clone(),
        register.clone(),
        secret("passkey-service-key").await?,
        sqin_webauthn::Limits::default(),
    )?;
    let staff_key = secret("staff-access-key").await?;
    let client_keys = Arc::new(client_key_fetcher(&settings)?);
    let staff_passkeys = sqin_webauthn::StaffPasskeys::new(&settings.staff_url)?;
    let staff_policy = Arc::new(sqin_staff::StaffPolicy::from_pia(&pia.pia));
    let ledger = sqin_ledger_service::Ledger::open(
        &store,
        &kek,
        settings.ledger_settings(pia.ledger_retention.clone()),
        now,
    )
    .await
    .during("opening the consent ledger")?;
    let ring = {
        let mut conn = store.pool().acquire().await?;
        keys::ensure_keys(&mut conn, &kek, now).await?;
        keys::load(&mut conn, &kek, now).await?
    };
    Ok(Services {
        clients: Arc::new(sqin_oidc::cache::ClientCache::new(
            settings.client_cache_secs,
        )),
        settings: Arc::new(settings),
        clock,
        pia,
        store,
        kek,
        register,
        codes,
        pairwise_key,
        form_key,
        keys: Arc::new(RwLock::new(Arc::new(ring))),
        recorder: Arc::new(ledger.clone()),
        ledger,
        verified_tokens: Arc::new(sqin_oidc::cache::VerifiedTokens::default()),
        revoked_tokens: Arc::default(),
        discovery_document: Arc::default(),
        backchannel_wake: Arc::default(),
        http: crate::backchannel::http_client(),
        csrf_key,
        passkeys,
        staff_policy,
        staff_passkeys,
        staff_key,
        client_keys,
    })
}

impl Services {
    /// The current time, from the injected clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    pub fn key_ring(&self) -> Arc<KeyRing> {
        match self.keys.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The OpenID Provider's view of these services.
    pub fn provider(&self) -> sqin_oidc::Provider {
        sqin_oidc::Provider {
            issuer: self.settings.issuer_str(),
            keys: self.key_ring(),
            pairwise_key: self.pairwise_key.clone(),
            form_key: self.form_key.clone(),
            lifetimes: sqin_oidc::Lifetimes {
                token: self.settings.token_ttl_secs,
                ..Default::default()
            },
            ledger: self.recorder.clone(),
            register: self.register.clone(),
            remote_jwks: self.client_keys.clone(),
            clients: self.clients.clone(),
            verified: self.verified_tokens.clone(),
            revoked: self.revoked_tokens.clone(),
        }
    }

    /// Re-reads the keys, so a rotation made by `sqin keys rotate` (or another
    /// node) is picked up without a restart.
    pub async fn reload_keys(&self) -> Result<(), AppError> {
        let mut conn = self.store.pool().acquire().await?;
        let ring = keys::load(&mut conn, &self.kek, self.now()).await?;
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
