//! Fresh, isolated databases for tests, on SQLite and PostgreSQL.
//!
//! Every test gets its own database: a new SQLite file in a temporary
//! directory, or a new schema in the PostgreSQL database named by
//! `SQIN_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`),
//! dropped when the test ends. When PostgreSQL cannot be reached the Postgres
//! variant of a test is reported as ignored (see [`harness`]), unless
//! `SQIN_REQUIRE_POSTGRES=1` (set by CI), in which case it fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::sync::OnceLock;

use crate::{Backend, Store};

pub mod harness;

/// For the test macros.
pub use inventory;

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub fn postgres_admin_url() -> String {
    std::env::var("SQIN_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into())
}

pub(crate) fn postgres_required() -> bool {
    std::env::var("SQIN_REQUIRE_POSTGRES").is_ok_and(|v| v == "1" || v == "true")
}

/// A database that lives as long as the value.
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    schema: Option<String>,
    _dir: Option<tempfile_dir::TempDir>,
}

mod tempfile_dir {
    /// A directory removed on drop (kept minimal to avoid a dependency).
    pub struct TempDir(pub std::path::PathBuf);
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn unique_name() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "t{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(format!("sqin-test-{}", unique_name()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}/sqin.db?mode=rwc", dir.display());
        TestDb {
            url,
            backend: Backend::Sqlite,
            schema: None,
            _dir: Some(tempfile_dir::TempDir(dir)),
        }
    }

    /// A fresh schema on PostgreSQL, or `None` when it is unreachable and not
    /// required (the caller then skips).
    pub async fn postgres() -> Option<TestDb> {
        let admin = postgres_admin_url();
        let conn = match tokio::time::timeout(
            std::time::Duration::from_secs(5),
            Store::connect(&admin),
        )
        .await
        {
            Ok(Ok(store)) => store,
            outcome => {
                let why = match outcome {
                    Ok(Err(e)) => e.to_string(),
                    _ => "timed out".into(),
                };
                if postgres_required() {
                    panic!("PostgreSQL is required (SQIN_REQUIRE_POSTGRES=1) but {admin} is unreachable: {why}");
                }
                note_skip(&admin, &why);
                return None;
            }
        };
        let schema = unique_name();
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(conn.pool())
            .await
            .unwrap();
        conn.close().await;
        let sep = if admin.contains('?') { '&' } else { '?' };
        let url = format!("{admin}{sep}options=-c%20search_path%3D{schema}");
        Some(TestDb {
            url,
            backend: Backend::Postgres,
            schema: Some(schema),
            _dir: None,
        })
    }

    pub async fn for_backend(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite().await),
            Backend::Postgres => Self::postgres().await,
        }
    }

    pub async fn open(&self) -> Store {
        Store::open(&self.url).await.unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(schema) = self.schema.take() {
            let admin = postgres_admin_url();
            // Drop on a thread of its own: Drop cannot await, and the test's
            // runtime may already be shutting down.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    if let Ok(store) = Store::connect(&admin).await {
                        let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                            .execute(store.pool())
                            .await;
                        store.close().await;
                    }
                });
            })
            .join();
        }
    }
}

fn note_skip(url: &str, why: &str) {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        // Written to the real stderr, past the test harness's capture, so a
        // plain `cargo test` says plainly that the Postgres half did not run.
        let _ = writeln!(
            std::io::stderr(),
            "note: PostgreSQL not reachable at {url} ({why}): Postgres variants of the tests are SKIPPED. \
             Set SQIN_TEST_POSTGRES_URL, or SQIN_REQUIRE_POSTGRES=1 to make this a failure."
        );
    });
}

/// Runs raw SQL against a test database: for tests that simulate time passing
/// or tampering by editing rows directly.
pub async fn execute(pool: &sqlx::AnyPool, sql: &str) -> u64 {
    sqlx::query(sql)
        .execute(pool)
        .await
        .unwrap()
        .rows_affected()
}

/// Runs raw SQL and returns the outcome (for tests that check the storage
/// refuses something).
pub async fn execute_checked(pool: &sqlx::AnyPool, sql: &str) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(sql).execute(pool).await?.rows_affected())
}

/// The first column of the first row of `sql`, as an integer (a test's
/// `SELECT COUNT(*)`).
pub async fn scalar(pool: &sqlx::AnyPool, sql: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(sql)
        .fetch_one(pool)
        .await
        .unwrap()
        .get::<i64, _>(0)
}

/// A register vault under fixed test keys, for tests that write citizens
/// straight into a store (the server makes its own from the KEK).
pub fn register_vault() -> crate::citizens::RegisterVault {
    #[allow(clippy::expect_used)]
    let kek = sqin_crypto::KeyEncryptionKey::from_bytes(&[0x5a; 32]).expect("a 32-byte key");
    crate::citizens::RegisterVault::new(
        std::sync::Arc::new(kek),
        sqin_crypto::HmacKey::from_bytes([0xa5; 32]),
    )
}

impl TestDb {
    /// Connects without migrating, for upgrade tests.
    pub async fn connect(&self) -> Store {
        Store::connect(&self.url).await.unwrap()
    }
}

/// Where any of `needles` appears in clear in the database: every column of
/// every table, text or binary, as `table.column: needle`, sorted. The check behind
/// "a database copy reveals no citizen".
pub async fn find_in_clear(store: &Store, needles: &[&str]) -> Vec<String> {
    use sqlx::Row;
    let pool = store.pool();
    let columns: Vec<(String, String, bool)> = match store.backend() {
        Backend::Sqlite => {
            let tables: Vec<String> = sqlx::query(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .fetch_all(pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect();
            let mut out = Vec::new();
            for table in tables {
                for row in sqlx::query("SELECT name FROM pragma_table_info($1)")
                    .bind(&table)
                    .fetch_all(pool)
                    .await
                    .unwrap()
                {
                    out.push((table.clone(), row.get::<String, _>(0), false));
                }
            }
            out
        }
        Backend::Postgres => sqlx::query(
            "SELECT table_name::text, column_name::text, (data_type = 'bytea') AS binary
             FROM information_schema.columns
             WHERE table_schema = current_schema()
               AND table_name IN (SELECT table_name FROM information_schema.tables
                                  WHERE table_schema = current_schema() AND table_type = 'BASE TABLE')",
        )
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect(),
    };
    let mut found = Vec::new();
    for (table, column, binary) in &columns {
        let test = match (store.backend(), binary) {
            (Backend::Sqlite, _) => {
                format!("instr(CAST(\"{column}\" AS BLOB), CAST($1 AS BLOB)) > 0")
            }
            (Backend::Postgres, true) => {
                format!("position(convert_to($1, 'UTF8') in \"{column}\") > 0")
            }
            (Backend::Postgres, false) => format!("strpos(\"{column}\"::text, $1) > 0"),
        };
        for needle in needles {
            let hits: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM \"{table}\" WHERE {test}"))
                .bind(*needle)
                .fetch_one(pool)
                .await
                .unwrap()
                .get(0);
            if hits > 0 {
                found.push(format!("{table}.{column}: {needle}"));
            }
        }
    }
    found.sort();
    found
}
