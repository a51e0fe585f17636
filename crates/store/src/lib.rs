//! Persistence for sqin on SQLite (the embedded default) and PostgreSQL (for
//! production, several stateless nodes on one database).
//!
//! One set of queries serves both backends through sqlx's `Any` driver: every
//! query uses `$n` placeholders (which SQLite accepts too), integers are
//! `BIGINT`/`INTEGER` Unix seconds, binary values `BYTEA`/`BLOB`. Where the two
//! backends really differ (migrations, locking), the difference lives in this
//! crate only, selected by [`Backend`]. Functions take an executor so that the
//! caller decides the transaction: data that must be written together is
//! written in one.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod auth_requests;
pub mod automation;
pub mod backchannel;
pub mod ceremonies;
pub mod citizens;
pub mod clients;
pub mod complaints;
pub mod consents;
pub mod corrections;
pub mod enrolment;
pub mod grants;
pub mod health;
pub mod incidents;
pub mod initial_access;
pub mod keys;
pub mod ledger;
pub mod passkeys;
pub mod rate_limits;
pub mod retention;
pub mod secrets;
pub mod security_events;
pub mod sessions;
pub mod staff;
pub mod staff_access;
pub mod staff_requests;
#[cfg(feature = "testing")]
pub mod testing;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool, Transaction};

pub use sqlx::AnyConnection as Connection;
pub use sqlx::Error as SqlxError;

/// Every element of personal information this crate persists, by the id the
/// PIA inventory (`pia/inventory.toml`) gives it, with where it lives
/// (`table.column`, or `table.*` for a whole row). A test compares this list
/// with the inventory in both directions, so a column of personal data cannot
/// be added without the PIA saying why, for how long and who may see it; and
/// another checks that every column of the schema is either here or in
/// [`NOT_PERSONAL`].
pub const PERSONAL_DATA: &[(&str, &str)] = &[
    ("citizen.id", "citizens.id"),
    ("citizen.register_id", "citizens.sealed_record"),
    ("citizen.register_id", "citizens_unsealed.register_id"),
    ("citizen.given_name", "citizens.sealed_record"),
    ("citizen.given_name", "citizens_unsealed.given_name"),
    ("citizen.family_name", "citizens.sealed_record"),
    ("citizen.family_name", "citizens_unsealed.family_name"),
    ("citizen.birthdate", "citizens.sealed_record"),
    ("citizen.birthdate", "citizens_unsealed.birthdate"),
    ("citizen.email", "citizens.sealed_record"),
    ("citizen.email", "citizens_unsealed.email"),
    ("citizen.address", "citizens.sealed_record"),
    ("citizen.address", "citizens_unsealed.address"),
    ("citizen.locale", "citizens.sealed_record"),
    ("citizen.locale", "citizens_unsealed.locale"),
    // Found by a keyed hash of the register id, never the id itself.
    ("citizen.register_id", "citizens.register_key"),
    ("citizen.id", "citizens_unsealed.id"),
    ("citizen.status", "citizens.status"),
    ("citizen.status", "citizens.created_at"),
    ("citizen.status", "citizens.updated_at"),
    ("enrolment_code.code_hash", "enrolment_codes.*"),
    (
        "enrolment_code.failed_attempts",
        "enrolment_codes.failed_attempts",
    ),
    ("passkey.credential_id", "passkeys.*"),
    // Which passkey opened which session: kept while the passkey is, so
    // removing it ends what rests on it (pruned once nothing does).
    ("passkey.credential_id", "session_credentials.*"),
    ("passkey.public_key", "passkeys.credential"),
    ("passkey.sign_count", "passkeys.sign_count"),
    ("passkey.name", "passkeys.name"),
    ("passkey.user_handle", "passkey_users.*"),
    ("security_event.record", "security_events.*"),
    ("session.id", "sessions.*"),
    ("session.auth_time", "sessions.auth_time"),
    ("session.ip_address", "rate_limits.*"),
    ("webauthn_ceremony.record", "webauthn_ceremonies.*"),
    ("consent.record", "consents.*"),
    ("grant.record", "grants.*"),
    ("grant.record", "authorization_codes.*"),
    ("grant.record", "refresh_tokens.*"),
    ("grant.record", "revoked_access_tokens.*"),
    ("logout_notice.record", "backchannel_deliveries.*"),
    ("complaint.record", "complaints.*"),
    ("correction.record", "correction_requests.*"),
    ("incident.record", "incidents.*"),
    ("incident.record", "incident_lines.*"),
    ("ledger.entry", "ledger_entries.*"),
    ("ledger.entry", "ledger_queue.*"),
    ("ledger.entry", "ledger_data_keys.*"),
    ("ledger.consent_record", "ledger_entries.entry"),
    ("ledger.disclosure_record", "ledger_entries.entry"),
    ("ledger.sign_in_record", "ledger_entries.entry"),
    ("ledger.security_record", "ledger_entries.entry"),
    ("ledger.staff_access_record", "ledger_entries.entry"),
    ("ledger.request_record", "ledger_entries.entry"),
    ("staff.member", "staff_members.*"),
    ("staff.invitation", "staff_invitations.*"),
    ("staff.passkey", "staff_passkeys.*"),
    ("staff.session", "staff_sessions.*"),
    ("staff.session", "staff_ceremonies.*"),
    ("staff.session", "admin_tokens.*"),
    ("staff.member", "automation_clients.*"),
    ("staff.grant", "staff_grants.*"),
    ("staff.request", "staff_requests.*"),
    ("staff.alert", "staff_alerts.*"),
    ("staff.access_record", "staff_access_log.*"),
    ("letter.record", "mail_letters.*"),
];

/// The tables that hold no personal information, each with why. With
/// [`PERSONAL_DATA`] this classifies every column of the schema (a test
/// fails on a table or column in neither), so a new table is a decision
/// about personal information before it is anything else.
pub const NOT_PERSONAL: &[(&str, &str)] = &[
    (
        "auth_requests.*",
        "a relying party's authorization request before sign-in: its parameters (with the relying party's own pairwise sub when it named one), no citizen",
    ),
    (
        "client_assertion_jtis.*",
        "ids of relying parties' signed client assertions, against replay",
    ),
    ("clients.*", "relying-party registrations"),
    (
        "initial_access_tokens.*",
        "hashes of the tokens that let a ministry register a client within one PIA entry",
    ),
    ("signing_keys.*", "the provider's token signing keys"),
    ("server_secrets.*", "the server's own keys, sealed"),
    (
        "citizens.wrapped_key",
        "a citizen record's data key, wrapped by the key-encryption key",
    ),
    (
        "citizens.has_contact",
        "whether a sealed record still holds contact details, for retention",
    ),
    (
        "ledger_checkpoints.*",
        "signed tree heads: sizes and hashes",
    ),
    ("ledger_nodes.*", "Merkle tree hashes"),
    ("ledger_log.*", "the log's origin"),
    ("ledger_lock.*", "the appenders' lock row"),
    (
        "ledger_cosignatures.*",
        "witnesses' cosignatures of checkpoints",
    ),
    ("ledger_witnesses.*", "the size each witness last cosigned"),
    (
        "staff_access_purge.*",
        "a sequence number, the retention pass's permit within its own transaction",
    ),
    (
        "ledger_checkpoint_keys.*",
        "the log's checkpoint keys (public verifier keys, the current private key sealed)",
    ),
];

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database engine a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL must start with sqlite: or postgres:")]
    UnsupportedUrl,
    #[error("already exists: {0}")]
    Conflict(&'static str),
    #[error("not found: {0}")]
    NotFound(&'static str),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("sealing failed: {0}")]
    Sealing(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// A query's failure; one that says the database is out of reach starts
/// a probe of it ([`health::report`]), wherever it was met.
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        health::report(&e);
        Self::Database(e)
    }
}

impl StoreError {
    /// Whether the database could not be reached (see
    /// [`health::is_unavailable`]): a 503, not a 500.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Database(e) if health::is_unavailable(e))
    }

    /// Maps a unique-constraint violation to a typed conflict naming `what`.
    pub(crate) fn conflict_on_unique(err: sqlx::Error, what: &'static str) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Conflict(what),
            _ => err.into(),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
pub type Tx = Transaction<'static, Any>;
pub type PooledConnection = sqlx::pool::PoolConnection<Any>;
/// A transaction nested in (or begun on) a borrowed connection.
pub type ConnTx<'c> = Transaction<'c, Any>;

/// Begins a transaction on a connection the caller holds, or a savepoint when
/// the connection is already inside one, so that domain functions compose.
///
/// On SQLite an outermost transaction starts with `BEGIN IMMEDIATE`: it takes
/// the write lock at once (waiting up to the busy timeout), so a transaction
/// that reads and then writes can never fail half-way with `SQLITE_BUSY`
/// because another connection wrote in between.
pub async fn begin_on(conn: &mut Connection) -> Result<ConnTx<'_>> {
    use sqlx::Connection as _;
    if conn.backend_name() == "SQLite" && !conn.is_in_transaction() {
        return Ok(conn.begin_with("BEGIN IMMEDIATE").await?);
    }
    Ok(conn.begin().await?)
}

/// How long a request may wait for a pooled connection while the database
/// answers (a busy pool); see [`health`] for a lost one.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection pool plus the backend it talks to, and whether that
/// answers ([`health`]).
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    /// PostgreSQL: what [`Store::pool`] hands out while the database is
    /// lost, the same database behind an acquire timeout of
    /// [`health::FAIL_FAST_ACQUIRE`] (sqlx retries a refused connection
    /// until the timeout, which is the main pool's 5 s).
    fail_fast: Option<AnyPool>,
    backend: Backend,
    health: std::sync::Arc<health::Health>,
}

impl Store {
    /// Connects without migrating; see [`Store::migrate`].
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        if backend == Backend::Sqlite {
            create_sqlite_parent_dir(url);
        }
        let options = AnyConnectOptions::from_str(url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // A connection is already tested when it is released to the pool
            // (sqlx pings it then); a second ping on acquire doubles the cost
            // of every short request for nothing.
            .test_before_acquire(false)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // A writer waits for the lock rather than failing
                        // with SQLITE_BUSY after sqlx's default 5 s: a
                        // starved host (a busy CI runner, a slow disk) must
                        // slow requests down, not fail them.
                        sqlx::query("PRAGMA busy_timeout = 30000")
                            .execute(conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options.clone())
            .await?;
        if backend == Backend::Sqlite {
            // WAL lets readers proceed while one writer commits; the setting is
            // persistent in the database file.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        let health = health::Health::new(backend == Backend::Postgres, pool.clone());
        let fail_fast = (backend == Backend::Postgres).then(|| {
            let reached = health.clone();
            AnyPoolOptions::new()
                .max_connections(4)
                .min_connections(0)
                .acquire_timeout(health::FAIL_FAST_ACQUIRE)
                // Its connections serve an outage's first moments back only;
                // after that the main pool is handed out again.
                .idle_timeout(Some(Duration::from_secs(10)))
                .test_before_acquire(false)
                // A connection opened: the database answers again.
                .after_connect(move |_, _| {
                    reached.reached();
                    Box::pin(async { Ok(()) })
                })
                .connect_lazy_with(options)
        });
        Ok(Self {
            pool,
            fail_fast,
            backend,
            health,
        })
    }

    /// Connects and applies pending migrations, as `sqin serve` does at start.
    pub async fn open(url: &str) -> Result<Self> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    /// Applies the migrations up to and including `last` only: how the
    /// upgrade tests build a database as an older version left it.
    #[cfg(feature = "testing")]
    pub async fn migrate_until(&self, last: i64) -> Result<()> {
        let all = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        let older = Migrator {
            migrations: all
                .iter()
                .filter(|m| m.version <= last)
                .cloned()
                .collect::<Vec<_>>()
                .into(),
            ignore_missing: false,
            locking: all.locking,
            no_tx: all.no_tx,
        };
        older.run(&self.pool).await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for callers that take their connections themselves. While
    /// the database is known lost, a pool with an acquire timeout of
    /// [`health::FAIL_FAST_ACQUIRE`] on the same database (see [`health`]),
    /// so that they fail fast too; [`Store::acquire`] fails at once.
    pub fn pool(&self) -> &AnyPool {
        match &self.fail_fast {
            Some(fail_fast) if self.health.is_lost() => fail_fast,
            _ => &self.pool,
        }
    }

    /// A pooled connection; while the database is lost, an error at once
    /// instead of the pool's acquire timeout (see [`health`]). The HTTP
    /// edge takes its connections here.
    pub async fn acquire(&self) -> Result<PooledConnection, SqlxError> {
        health::acquire(&self.pool, &self.health).await
    }

    /// Whether the database is known to be lost (a probe retries it).
    pub fn database_lost(&self) -> bool {
        self.health.is_lost()
    }

    /// How many times the database was lost, and came back.
    pub fn database_transitions(&self) -> (u64, u64) {
        self.health.transitions()
    }

    /// Something failed as if the database were gone (a caller answered
    /// 503): check it now, in the background, once at a time.
    pub fn recheck(&self) {
        self.health.suspect();
    }

    /// Begins a transaction on a pooled connection (`BEGIN IMMEDIATE` on
    /// SQLite, see [`begin_on`]).
    pub async fn begin(&self) -> Result<Tx> {
        match self.backend {
            Backend::Sqlite => Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?),
            Backend::Postgres => Ok(self.pool().begin().await?),
        }
    }

    /// Readiness: the database answers a query (at once an error while it
    /// is known to be lost).
    pub async fn ping(&self) -> Result<()> {
        let mut conn = self.acquire().await?;
        if let Err(e) = sqlx::query("SELECT 1").execute(&mut *conn).await {
            if health::is_unavailable(&e) {
                self.recheck();
            }
            return Err(e.into());
        }
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
        if let Some(fail_fast) = &self.fail_fast {
            fail_fast.close().await;
        }
    }
}

/// A pooled connection acquired only when first needed: a request that a
/// cache can answer (a client authentication, a client-credentials token)
/// never touches the pool.
pub struct LazyConnection {
    pool: AnyPool,
    health: Option<std::sync::Arc<health::Health>>,
    conn: Option<PooledConnection>,
}

impl LazyConnection {
    pub fn new(pool: &AnyPool) -> Self {
        Self {
            pool: pool.clone(),
            health: None,
            conn: None,
        }
    }

    /// Acquired as [`Store::acquire`] does (at once an error while the
    /// database is lost).
    pub fn on(store: &Store) -> Self {
        Self {
            pool: store.pool.clone(),
            health: Some(store.health.clone()),
            conn: None,
        }
    }

    pub async fn get(&mut self) -> Result<&mut Connection> {
        match &mut self.conn {
            Some(conn) => Ok(conn),
            slot => {
                let conn = match &self.health {
                    Some(health) => health::acquire(&self.pool, health).await?,
                    None => self.pool.acquire().await?,
                };
                Ok(slot.insert(conn))
            }
        }
    }
}

fn create_sqlite_parent_dir(url: &str) {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return;
    }
    if let Some(parent) = std::path::Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            let _ = std::fs::create_dir_all(parent);
        }
    }
}

/// Decodes a JSON list column written by this crate.
pub(crate) fn json_list(text: &str, column: &'static str) -> Result<Vec<String>> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

pub(crate) fn to_json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}
