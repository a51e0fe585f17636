//! Configuration: a TOML file with every key overridable by an environment
//! variable `SQIN_<KEY>` (for example `SQIN_LISTEN=0.0.0.0:8443`).
//!
//! Unknown keys in the file are refused, so a misspelt setting is an error at
//! start rather than a default silently in force.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use url::Url;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The provider's public URL: the `iss` of every token and the origin of
    /// its pages. Its host is also the WebAuthn relying-party ID, which must be
    /// a domain name (browsers refuse passkeys on a bare IP address).
    pub issuer: Url,
    /// Address the HTTP(S) server binds.
    pub listen: SocketAddr,
    /// Address the staff console binds: its own listener, loopback by
    /// default, so an operator can keep it off the public network (behind
    /// a VPN or an internal proxy).
    pub staff_listen: SocketAddr,
    /// The staff console's public URL: the origin of its pages and the
    /// WebAuthn relying party of staff passkeys (a domain name, https
    /// except on localhost).
    pub staff_url: Url,
    /// `sqlite://PATH?mode=rwc` (embedded, default) or `postgres://...`.
    pub database_url: String,
    /// Where generated local files live (SQLite database, demo key file).
    pub data_dir: PathBuf,
    /// File holding the 32-byte key-encryption key (raw or base64). Defaults to
    /// `<data_dir>/key-encryption.key`, generated on first start when absent.
    pub key_encryption_key_file: Option<PathBuf>,
    /// PEM certificate chain; with `tls_key_file`, serve HTTPS with rustls.
    pub tls_cert_file: Option<PathBuf>,
    /// PEM private key for `tls_cert_file`.
    pub tls_key_file: Option<PathBuf>,
    /// Serve plain HTTP on a non-loopback address, for a deployment behind a
    /// TLS-terminating proxy. Off by default: codes and tokens must not cross a
    /// network in clear.
    pub allow_plain_http: bool,
    /// Reverse proxies (networks in CIDR form, or single addresses) whose
    /// `X-Forwarded-For` names the client, so that per-address rate limits
    /// count citizens rather than the proxy. Empty (the default): the TCP
    /// peer is the client and the header is ignored, since any client can
    /// write it. See `web::client_addr`.
    pub trusted_proxies: Vec<String>,
    /// `text` for people, `json` for log collectors.
    pub log_format: LogFormat,
    /// What the access log (one line per request, at info, target
    /// `sqin::access`) says of the client: `none` (the default: an address
    /// is personal information, logged only where the PIA says so),
    /// `network` (its /24 or /48) or `full`.
    pub access_log_client: AccessLogClient,
    /// A tracing filter such as `info` or `sqin=debug,tower_http=info`.
    pub log_level: String,
    /// The time zone the pages show times in (a name of the IANA time zone
    /// database, such as `America/Toronto`, the default, or
    /// `America/Vancouver`), with its abbreviation; JSON documents keep
    /// RFC 3339 in UTC.
    pub time_zone: String,
    /// Largest request body accepted, in bytes.
    pub max_request_body_bytes: usize,
    /// A request that takes longer is answered 408 and abandoned.
    pub request_timeout_secs: u64,
    /// A connection must deliver a whole request head (request line and
    /// headers) within this many seconds: from when it opens, or on a
    /// kept-alive connection from the first byte of its next request. A
    /// slower one is closed.
    pub header_read_timeout_secs: u64,
    /// A kept-alive connection idle this long (no request in flight,
    /// nothing sent or received) is closed. Behind a proxy that reuses its
    /// connections to sqin, set this above the proxy's own idle timeout.
    pub keep_alive_timeout_secs: u64,
    /// Open connections each listener serves at most; one more is answered
    /// 503 with `Retry-After` (closed under TLS) at once. Keep it below the
    /// process's open-file limit (`ulimit -n`, systemd `LimitNOFILE`) less
    /// the database pool and files.
    pub max_connections: usize,
    /// On SIGTERM, how long requests in flight may take to finish.
    pub shutdown_grace_secs: u64,
    /// How long an enrolment code sent by mail stays valid.
    pub enrolment_code_ttl_days: i64,
    /// Lifetime of ID tokens and access tokens; a previous signing key stays
    /// published at least this long after a rotation.
    pub token_ttl_secs: i64,
    /// How long a node may use a cached relying-party registration: a secret
    /// rotation or a removal reaches every node within this many seconds.
    /// 0 reads the database on every client authentication.
    pub client_cache_secs: i64,
    /// The consent ledger's origin: the first line of its checkpoints and the
    /// name of its signing key, e.g. `id.gouv.example/ledger`. Fixed when the
    /// ledger is created (default: the issuer's host, port and path followed
    /// by `/ledger`); a different value later is refused at start.
    pub ledger_origin: Option<String>,
    /// How often the server signs a ledger checkpoint if the ledger grew.
    pub ledger_checkpoint_interval_secs: u64,
    /// An unchanged ledger is signed again after this long, so monitors and
    /// witnesses always find a fresh checkpoint.
    pub ledger_checkpoint_max_age_secs: i64,
    /// How often the server runs the ledger's retention purge; 0 leaves it
    /// to `sqin ledger purge` (for example from a timer).
    pub ledger_purge_interval_secs: u64,
    /// Each citizen gets one ledger data key per entry kind and period of this
    /// many days; personal details are destroyed at most one period after
    /// their retention ends.
    pub ledger_data_key_period_days: i64,
    /// The privacy impact assessment inventory the deployment adopted (its
    /// copy of `pia/inventory.toml`, for example with the retention periods
    /// its committee set). Unset: the inventory built into this binary. The
    /// server refuses to start under an inventory that does not describe
    /// the code, and takes the ledger's retention periods from it.
    pub pia_file: Option<PathBuf>,
    /// Witnesses of the consent ledger (C2SP tlog-witness): independent
    /// parties, such as the Commission, that cosign each checkpoint only if
    /// it extends the one they saw before. A list of tables `{ url = "https://witness.example/", vkey = "<name>+<id>+<key>" }`.
    pub ledger_witnesses: Vec<LedgerWitness>,
    /// Whether a client's `jwks_uri` may resolve to a loopback, private or
    /// link-local address (off: only public addresses, against SSRF). Turn
    /// it on only where the ministries' services live on an internal
    /// network.
    pub jwks_uri_allow_private: bool,
    /// PEM CA certificates trusted, besides the system's, for clients'
    /// `jwks_uri` (an internal PKI).
    pub jwks_uri_ca_file: Option<PathBuf>,
    /// `/.well-known/security.txt` (RFC 9116): where to report a
    /// vulnerability in this deployment, as `mailto:`, `https:` or `tel:`
    /// URIs, most preferred first. With `security_expires`; unset, the file
    /// is not served (404).
    pub security_contact: Vec<String>,
    /// The security.txt `Expires` (RFC 3339, for example
    /// `2027-06-30T00:00:00Z`; RFC 9116 advises less than a year ahead).
    /// `sqin serve` refuses to start once it has passed (the demo does not).
    pub security_expires: Option<String>,
    /// The security.txt `Policy`: the https URL of the body's vulnerability
    /// disclosure policy.
    pub security_policy: Option<String>,
    /// The security.txt `Preferred-Languages` (language tags, e.g. `fr`, `en`).
    pub security_languages: Vec<String>,
    /// Who runs this deployment, as citizens are told: the public body, the
    /// register and its holder, the privacy officer, the suppliers, the
    /// contact and complaint addresses, the policy's date and version, the
    /// site's name (a `[deployment]` table; docs/operations.md). The
    /// confidentiality policy at `/privacy` is filled in from it, and
    /// `sqin serve` refuses to start while the policy would show one
    /// missing (the demo brings its own fictitious values).
    pub deployment: Deployment,
}

pub use sqin_app::Deployment;

pub use sqin_app::LedgerWitness;

/// How much of the client's address the access log shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessLogClient {
    #[default]
    None,
    Network,
    Full,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            issuer: Url::parse("http://localhost:8080").unwrap_or_else(|_| unreachable_url()),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            staff_listen: SocketAddr::from(([127, 0, 0, 1], 8079)),
            staff_url: Url::parse("http://localhost:8079").unwrap_or_else(|_| unreachable_url()),
            database_url: "sqlite://var/sqin.db?mode=rwc".into(),
            data_dir: PathBuf::from("var"),
            key_encryption_key_file: None,
            tls_cert_file: None,
            tls_key_file: None,
            allow_plain_http: false,
            trusted_proxies: Vec::new(),
            log_format: LogFormat::Text,
            access_log_client: AccessLogClient::None,
            log_level: "info".into(),
            time_zone: crate::web::dates::DEFAULT_TIME_ZONE.into(),
            max_request_body_bytes: 64 * 1024,
            request_timeout_secs: 30,
            header_read_timeout_secs: 10,
            keep_alive_timeout_secs: 15,
            max_connections: 512,
            shutdown_grace_secs: 30,
            enrolment_code_ttl_days: 30,
            token_ttl_secs: 300,
            client_cache_secs: 5,
            ledger_origin: None,
            ledger_checkpoint_interval_secs: 60,
            ledger_checkpoint_max_age_secs: 86_400,
            ledger_purge_interval_secs: 3600,
            ledger_data_key_period_days: 30,
            pia_file: None,
            ledger_witnesses: Vec::new(),
            jwks_uri_allow_private: false,
            jwks_uri_ca_file: None,
            security_contact: Vec::new(),
            security_expires: None,
            security_policy: None,
            security_languages: Vec::new(),
            deployment: Deployment::default(),
        }
    }
}

fn unreachable_url() -> Url {
    // Url::parse of a constant cannot fail; this keeps the code panic-free.
    Url::parse("http://localhost").unwrap_or_else(|_| unreachable_url())
}

/// The environment variables read, one per key.
const KEYS: &[&str] = &[
    "issuer",
    "listen",
    "staff_listen",
    "staff_url",
    "database_url",
    "data_dir",
    "key_encryption_key_file",
    "tls_cert_file",
    "tls_key_file",
    "allow_plain_http",
    "trusted_proxies",
    "log_format",
    "access_log_client",
    "log_level",
    "time_zone",
    "max_request_body_bytes",
    "request_timeout_secs",
    "header_read_timeout_secs",
    "keep_alive_timeout_secs",
    "max_connections",
    "shutdown_grace_secs",
    "enrolment_code_ttl_days",
    "token_ttl_secs",
    "client_cache_secs",
    "ledger_origin",
    "ledger_checkpoint_interval_secs",
    "ledger_checkpoint_max_age_secs",
    "ledger_purge_interval_secs",
    "ledger_data_key_period_days",
    "pia_file",
    "ledger_witnesses",
    "jwks_uri_allow_private",
    "jwks_uri_ca_file",
    "security_contact",
    "security_expires",
    "security_policy",
    "security_languages",
    "deployment",
];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Parse(String),
    #[error("configuration key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

impl Config {
    /// Defaults, then the file (if any), then `SQIN_*` variables.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::Parse(format!(
                    "configuration file {} does not exist",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(Env::prefixed("SQIN_").only(KEYS));
        let config: Config = figment.extract().map_err(|e| {
            let mut message = String::new();
            for err in e {
                let key = err.path.join(".");
                let source = err
                    .metadata
                    .as_ref()
                    .map(|m| m.name.to_string())
                    .unwrap_or_default();
                if !message.is_empty() {
                    message.push_str("; ");
                }
                message.push_str(&format!("key `{key}` ({source}): {}", err.kind));
            }
            ConfigError::Parse(message)
        })?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, message: &str| ConfigError::Invalid {
            key,
            message: message.to_owned(),
        };
        match self.issuer.scheme() {
            "https" => {}
            "http" if self.issuer_is_loopback() => {}
            "http" if self.allow_plain_http => {}
            _ => {
                return Err(invalid(
                    "issuer",
                    "must be an https URL (http only for localhost, or with allow_plain_http behind a TLS proxy)",
                ))
            }
        }
        if self.issuer.query().is_some() || self.issuer.fragment().is_some() {
            return Err(invalid("issuer", "must not have a query or fragment"));
        }
        if matches!(
            self.issuer.host(),
            Some(url::Host::Ipv4(_) | url::Host::Ipv6(_))
        ) {
            return Err(invalid(
                "issuer",
                "must use a domain name, not an IP address: WebAuthn relying-party IDs are domains (use http://localhost:PORT locally)",
            ));
        }
        if self.issuer.host().is_none() {
            return Err(invalid("issuer", "has no host"));
        }
        let staff_loopback = matches!(self.staff_url.host(), Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost"));
        match self.staff_url.scheme() {
            "https" => {}
            "http" if staff_loopback || self.allow_plain_http => {}
            _ => {
                return Err(invalid(
                    "staff_url",
                    "must be an https URL (http only for localhost, or with allow_plain_http behind a TLS proxy)",
                ))
            }
        }
        if !matches!(self.staff_url.host(), Some(url::Host::Domain(_))) {
            return Err(invalid(
                "staff_url",
                "must use a domain name: it is the WebAuthn relying party of staff passkeys",
            ));
        }
        if self.staff_url.origin() == self.issuer.origin() {
            return Err(invalid(
                "staff_url",
                "must differ from the issuer's origin: the staff console is a site of its own",
            ));
        }
        if !self.tls_enabled() && !self.staff_listen.ip().is_loopback() && !self.allow_plain_http {
            return Err(invalid(
                "staff_listen",
                "plain HTTP on a non-loopback address is refused; configure tls_cert_file and tls_key_file, or set allow_plain_http behind a TLS-terminating proxy",
            ));
        }
        sqin_store::Backend::from_url(&self.database_url)
            .map_err(|e| invalid("database_url", &e.to_string()))?;
        match (&self.tls_cert_file, &self.tls_key_file) {
            (Some(_), None) => {
                return Err(invalid("tls_key_file", "is required with tls_cert_file"))
            }
            (None, Some(_)) => {
                return Err(invalid("tls_cert_file", "is required with tls_key_file"))
            }
            _ => {}
        }
        if !self.tls_enabled() && !self.listen.ip().is_loopback() && !self.allow_plain_http {
            return Err(invalid(
                "listen",
                "plain HTTP on a non-loopback address is refused; configure tls_cert_file and tls_key_file, or set allow_plain_http behind a TLS-terminating proxy",
            ));
        }
        crate::web::client_addr::TrustedProxies::parse(&self.trusted_proxies)
            .map_err(|e| invalid("trusted_proxies", &e))?;
        for w in &self.ledger_witnesses {
            if !matches!(w.url.scheme(), "http" | "https") {
                return Err(invalid(
                    "ledger_witnesses",
                    "a witness url must be http or https",
                ));
            }
            sqin_ledger_service::core::CosignatureVerifier::from_vkey(&w.vkey)
                .map_err(|e| invalid("ledger_witnesses", &e.to_string()))?;
        }
        if self.max_request_body_bytes < 1024 {
            return Err(invalid("max_request_body_bytes", "must be at least 1024"));
        }
        if self.request_timeout_secs == 0 {
            return Err(invalid("request_timeout_secs", "must be positive"));
        }
        if !(1..=300).contains(&self.header_read_timeout_secs) {
            return Err(invalid(
                "header_read_timeout_secs",
                "must be between 1 and 300",
            ));
        }
        if !(1..=3600).contains(&self.keep_alive_timeout_secs) {
            return Err(invalid(
                "keep_alive_timeout_secs",
                "must be between 1 and 3600",
            ));
        }
        if !(1..=1_000_000).contains(&self.max_connections) {
            return Err(invalid("max_connections", "must be between 1 and 1000000"));
        }
        if !(1..=365).contains(&self.enrolment_code_ttl_days) {
            return Err(invalid(
                "enrolment_code_ttl_days",
                "must be between 1 and 365",
            ));
        }
        if !(30..=3600).contains(&self.token_ttl_secs) {
            return Err(invalid("token_ttl_secs", "must be between 30 and 3600"));
        }
        if !(0..=300).contains(&self.client_cache_secs) {
            return Err(invalid("client_cache_secs", "must be between 0 and 300"));
        }
        if self.log_level.trim().is_empty() {
            return Err(invalid("log_level", "must not be empty"));
        }
        if !crate::web::dates::is_time_zone(&self.time_zone) {
            return Err(invalid(
                "time_zone",
                "must be a zone of the IANA time zone database, such as America/Toronto",
            ));
        }
        if let Some(origin) = &self.ledger_origin {
            sqin_ledger_service::validate_origin(origin)
                .map_err(|e| invalid("ledger_origin", &e.to_string()))?;
        }
        if self.ledger_checkpoint_interval_secs == 0 {
            return Err(invalid(
                "ledger_checkpoint_interval_secs",
                "must be positive",
            ));
        }
        if self.ledger_checkpoint_max_age_secs < 60 {
            return Err(invalid(
                "ledger_checkpoint_max_age_secs",
                "must be at least 60",
            ));
        }
        if !(1..=366).contains(&self.ledger_data_key_period_days) {
            return Err(invalid(
                "ledger_data_key_period_days",
                "must be between 1 and 366",
            ));
        }
        self.validate_security_txt()?;
        self.deployment
            .validate()
            .map_err(|(key, message)| ConfigError::Parse(format!("key `{key}`: {message}")))?;
        Ok(())
    }

    /// The security.txt keys (RFC 9116): both required fields or neither,
    /// URIs of the allowed schemes, an RFC 3339 expiry.
    fn validate_security_txt(&self) -> Result<(), ConfigError> {
        let invalid = |key, message: String| ConfigError::Invalid { key, message };
        for contact in &self.security_contact {
            let uri = contact.trim();
            let ok = ["mailto:", "https://", "tel:"]
                .iter()
                .any(|p| uri.len() > p.len() && uri.starts_with(p))
                && Url::parse(uri).is_ok()
                && !uri.chars().any(|c| c.is_whitespace() || c.is_control());
            if !ok {
                return Err(invalid(
                    "security_contact",
                    format!("{contact:?} must be a mailto:, https:// or tel: URI"),
                ));
            }
        }
        if let Some(text) = &self.security_expires {
            time::OffsetDateTime::parse(text.trim(), &Rfc3339).map_err(|e| {
                invalid(
                    "security_expires",
                    format!("{text:?} is not an RFC 3339 date and time ({e})"),
                )
            })?;
        }
        let configured = !self.security_contact.is_empty()
            || self.security_expires.is_some()
            || self.security_policy.is_some()
            || !self.security_languages.is_empty();
        if configured && self.security_contact.is_empty() {
            return Err(invalid(
                "security_contact",
                "is required for security.txt (RFC 9116), with security_expires".into(),
            ));
        }
        if configured && self.security_expires.is_none() {
            return Err(invalid(
                "security_expires",
                "is required for security.txt (RFC 9116), with security_contact".into(),
            ));
        }
        if let Some(policy) = &self.security_policy {
            let ok = Url::parse(policy.trim()).is_ok_and(|u| u.scheme() == "https");
            if !ok {
                return Err(invalid(
                    "security_policy",
                    format!("{policy:?} must be an https URL"),
                ));
            }
        }
        for tag in &self.security_languages {
            let t = tag.trim();
            if t.is_empty()
                || t.len() > 35
                || !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                return Err(invalid(
                    "security_languages",
                    format!("{tag:?} is not a language tag (such as fr or en-CA)"),
                ));
            }
        }
        Ok(())
    }

    /// When the security.txt expires, if it is configured (and valid).
    pub fn security_expires_at(&self) -> Option<time::OffsetDateTime> {
        let text = self.security_expires.as_deref()?;
        time::OffsetDateTime::parse(text.trim(), &Rfc3339)
            .ok()
            .map(|t| t.to_offset(time::UtcOffset::UTC))
    }

    /// What `sqin serve` checks at start-up beyond [`Config::validate`]: an
    /// expired security.txt is refused (RFC 9116: a reader must not trust
    /// it, so reports would go nowhere), except for the demo, which may run
    /// with an expired or absent one.
    pub fn check_security_txt_current(
        &self,
        now: time::OffsetDateTime,
        demo: bool,
    ) -> Result<(), ConfigError> {
        let Some(expires) = self.security_expires_at() else {
            return Ok(());
        };
        if expires <= now && !demo {
            return Err(ConfigError::Invalid {
                key: "security_expires",
                message: format!(
                    "the security.txt expired on {}; set a new expiry (RFC 9116: less than a year ahead) with a contact that is still answered",
                    self.security_expires.as_deref().unwrap_or_default().trim()
                ),
            });
        }
        if expires > now + time::Duration::days(366) {
            tracing::warn!(
                security_expires = %self.security_expires.as_deref().unwrap_or_default(),
                "security.txt expires more than a year ahead; RFC 9116 advises less"
            );
        }
        Ok(())
    }

    /// What `sqin serve` checks at start-up: the confidentiality policy at
    /// `/privacy` and the pages' layout show no placeholder. Each setting
    /// missing from `[deployment]` is named; the demo brings its own.
    pub fn check_deployment_complete(&self, demo: bool) -> Result<(), ConfigError> {
        let unfilled = crate::web::privacy::unfilled(&self.deployment);
        if demo || unfilled.is_empty() {
            return Ok(());
        }
        Err(ConfigError::Invalid {
            key: "deployment",
            message: format!(
                "the confidentiality policy (/privacy) would show placeholders to citizens; \
                 set: {} (see docs/operations.md, \"Who runs the deployment\")",
                unfilled.join(", ")
            ),
        })
    }

    pub fn tls_enabled(&self) -> bool {
        self.tls_cert_file.is_some() && self.tls_key_file.is_some()
    }

    fn issuer_is_loopback(&self) -> bool {
        match self.issuer.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            _ => false,
        }
    }

    /// The issuer without a trailing slash, as it appears in `iss`.
    pub fn issuer_str(&self) -> String {
        self.issuer.as_str().trim_end_matches('/').to_owned()
    }

    /// What the application needs of this configuration.
    pub fn settings(&self) -> sqin_app::Settings {
        sqin_app::Settings {
            issuer: self.issuer.clone(),
            staff_url: self.staff_url.clone(),
            database_url: self.database_url.clone(),
            kek: sqin_app::KekSource {
                path: self.kek_path(),
                generate_if_missing: self.key_encryption_key_file.is_none(),
            },
            enrolment_code_ttl_days: self.enrolment_code_ttl_days,
            token_ttl_secs: self.token_ttl_secs,
            client_cache_secs: self.client_cache_secs,
            ledger_origin: self.ledger_origin.clone(),
            ledger_data_key_period_days: self.ledger_data_key_period_days,
            ledger_checkpoint_interval_secs: self.ledger_checkpoint_interval_secs,
            ledger_checkpoint_max_age_secs: self.ledger_checkpoint_max_age_secs,
            ledger_purge_interval_secs: self.ledger_purge_interval_secs,
            pia_file: self.pia_file.clone(),
            ledger_witnesses: self.ledger_witnesses.clone(),
            jwks_uri_allow_private: self.jwks_uri_allow_private,
            jwks_uri_ca_file: self.jwks_uri_ca_file.clone(),
            deployment: self.deployment.clone(),
        }
    }

    pub fn kek_path(&self) -> PathBuf {
        self.key_encryption_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("key-encryption.key"))
    }
}

#[cfg(test)]
mod tests;
