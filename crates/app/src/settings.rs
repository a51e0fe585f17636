//! What the services need to know about the deployment. The binary reads
//! its configuration file and environment and hands the application these
//! settings; nothing here knows about files, listeners or TLS.
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use url::Url;

/// The application's settings, derived from the deployment's configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The provider's public URL (`iss`), and the WebAuthn relying-party ID.
    pub issuer: Url,
    /// The staff console's public URL (the staff passkeys' relying party).
    pub staff_url: Url,
    /// `sqlite://...` or `postgres://...`.
    pub database_url: String,
    /// Where the key-encryption key is.
    pub kek: KekSource,
    /// How long a mailed enrolment code stays valid.
    pub enrolment_code_ttl_days: i64,
    /// Lifetime of ID and access tokens.
    pub token_ttl_secs: i64,
    /// How long a node may use a cached relying-party registration.
    pub client_cache_secs: i64,
    /// The ledger's configured origin, if any.
    pub ledger_origin: Option<String>,
    /// Length of a ledger data-key period, in days.
    pub ledger_data_key_period_days: i64,
    /// How often a checkpoint is signed when the ledger grew.
    pub ledger_checkpoint_interval_secs: u64,
    /// An unchanged ledger is signed again after this long.
    pub ledger_checkpoint_max_age_secs: i64,
    /// How often the retention purge runs; 0 leaves it to the operator.
    pub ledger_purge_interval_secs: u64,
    /// The adopted PIA inventory; `None`, the built-in one.
    pub pia_file: Option<PathBuf>,
    /// The ledger's witnesses.
    pub ledger_witnesses: Vec<LedgerWitness>,
    /// Whether clients' `jwks_uri` may be on private addresses.
    pub jwks_uri_allow_private: bool,
    /// Extra CA certificates (PEM) for clients' `jwks_uri`.
    pub jwks_uri_ca_file: Option<PathBuf>,
    /// Who runs the deployment, as citizens are told (the policy, the
    /// pages' name and contacts).
    pub deployment: crate::Deployment,
}

/// Where the key-encryption key lives.
#[derive(Debug, Clone)]
pub struct KekSource {
    /// The file holding it (32 raw bytes or their base64).
    pub path: PathBuf,
    /// Whether a missing file may be generated: only at the default
    /// location on a fresh laptop, never at an explicitly configured path
    /// (a missing configured key is an operator error).
    pub generate_if_missing: bool,
}

/// One witness of the consent ledger (C2SP tlog-witness).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerWitness {
    /// Its submission prefix (`<url>/add-checkpoint` is called).
    pub url: Url,
    /// Its verifier key (`sqin witness init` prints it).
    pub vkey: String,
}

impl Settings {
    /// Settings for `issuer` and `database_url` with the defaults of a
    /// laptop deployment (keys under `data_dir`).
    pub fn new(
        issuer: Url,
        staff_url: Url,
        database_url: impl Into<String>,
        data_dir: PathBuf,
    ) -> Self {
        Self {
            issuer,
            staff_url,
            database_url: database_url.into(),
            kek: KekSource {
                path: data_dir.join("key-encryption.key"),
                generate_if_missing: true,
            },
            enrolment_code_ttl_days: 30,
            token_ttl_secs: 300,
            client_cache_secs: 5,
            ledger_origin: None,
            ledger_data_key_period_days: 30,
            ledger_checkpoint_interval_secs: 60,
            ledger_checkpoint_max_age_secs: 86_400,
            ledger_purge_interval_secs: 3600,
            pia_file: None,
            ledger_witnesses: Vec::new(),
            jwks_uri_allow_private: false,
            jwks_uri_ca_file: None,
            deployment: crate::Deployment::default(),
        }
    }

    /// The issuer without a trailing slash, as it appears in `iss`.
    pub fn issuer_str(&self) -> String {
        self.issuer.as_str().trim_end_matches('/').to_owned()
    }

    /// The consent ledger's settings: the configured origin, or one derived
    /// from the issuer for a ledger created now, and the retention the PIA
    /// sets.
    pub fn ledger_settings(
        &self,
        retention: sqin_ledger_service::Retention,
    ) -> sqin_ledger_service::LedgerSettings {
        let host = self.issuer.host_str().unwrap_or("localhost");
        let port = self
            .issuer
            .port()
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        let path = self.issuer.path().trim_end_matches('/');
        sqin_ledger_service::LedgerSettings {
            origin: self.ledger_origin.clone(),
            default_origin: format!("{host}{port}{path}/ledger"),
            retention,
            data_key_period_secs: self.ledger_data_key_period_days * 86_400,
        }
    }
}
