//! Whether this node's database answers (PostgreSQL; an SQLite file is
//! never "lost").
//!
//! sqlx's pool retries a refused connection until its acquire timeout
//! (5 s), so when PostgreSQL goes away every request would wait that long
//! before failing, and each would log an error of its own. Instead, the
//! first sign of trouble (a request that waits for a connection longer
//! than [`SLOW_ACQUIRE`], a connection that breaks, a caller's
//! [`crate::Store::recheck`]) starts a probe: one direct connection
//! attempt, outside the pool, bounded in time. If it fails the database is
//! **lost**: one line is logged, callers waiting in
//! [`crate::Store::acquire`] are released with an error, and later ones
//! get it at once, while the probe tries again every [`RETRY_EVERY`].
//! When it connects the database is **back**, with one more line.
//!
//! Callers that take their connections from [`crate::Store::pool`] rather
//! than [`crate::Store::acquire`] fail fast too: while the database is lost
//! that hands out a second, small pool whose acquire timeout is
//! [`FAIL_FAST_ACQUIRE`], and a connection it opens (the database answered
//! before the probe saw it) marks the database back at once.
//!
//! Nothing here logs per request: the loss and the return are one line
//! each, and the HTTP edge answers 503 with `Retry-After` without logging
//! an error of its own for an unavailable database.
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::any::AnyConnectOptions;
use sqlx::{AnyPool, ConnectOptions, Connection as _};
use tokio::sync::watch;

use crate::PooledConnection;

/// A wait for a pooled connection longer than this starts a probe.
pub const SLOW_ACQUIRE: Duration = Duration::from_millis(250);
/// How long a probe's connection attempt may take.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How often a lost database is tried again; also the least time between
/// two probes of a database that answered (a saturated pool makes many
/// slow acquires, and each probe costs the database a new backend).
pub const RETRY_EVERY: Duration = Duration::from_millis(500);
/// The acquire timeout of the pool [`crate::Store::pool`] hands out while
/// the database is lost: long enough to open a connection to a database
/// that is back, short enough that a request fails fast when it is not.
pub const FAIL_FAST_ACQUIRE: Duration = Duration::from_millis(250);

/// The database's state as this node sees it.
#[derive(Debug)]
pub struct Health {
    /// Watched at all (PostgreSQL).
    enabled: bool,
    /// The pool whose database this is (its connect options, whether it
    /// is closed).
    pool: AnyPool,
    /// The runtime the store was opened on: probes run there, whoever
    /// suspected the database (see [`report`]).
    runtime: Option<tokio::runtime::Handle>,
    /// `Some(since)` while the database is lost.
    lost: watch::Sender<Option<Instant>>,
    /// A probe is running (one at a time).
    probing: AtomicBool,
    /// When the last probe found the database answering: the next one
    /// waits [`RETRY_EVERY`] after it.
    answered_at: Mutex<Option<Instant>>,
    /// How many times the database was lost, and came back (for tests and
    /// metrics; each is also one log line).
    losses: AtomicU64,
    recoveries: AtomicU64,
}

/// What [`crate::Store::acquire`] answers while the database is lost.
pub fn lost_error() -> sqlx::Error {
    sqlx::Error::Io(io::Error::new(
        io::ErrorKind::NotConnected,
        "the database is unreachable (retried every 500 ms)",
    ))
}

/// Whether `e` says the database could not be reached or went away (as
/// opposed to refusing a query): the caller answers 503, not 500, and the
/// outage is logged once by [`Health`] rather than per request.
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // PostgreSQL: connection exceptions (class 08), the server shutting
        // down or starting (57P01..57P03), no connection slot left (53300).
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

/// Whether `e`, or an error it was caused by, is a database error that
/// [`is_unavailable`]: for errors that reach a caller boxed (a ledger
/// recorder's), through `source()`.
pub fn caused_by_unavailable(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(e) = cause {
        if let Some(sqlx) = e.downcast_ref::<sqlx::Error>() {
            return is_unavailable(sqlx);
        }
        if let Some(crate::StoreError::Database(sqlx)) = e.downcast_ref::<crate::StoreError>() {
            return is_unavailable(sqlx);
        }
        cause = e.source();
    }
    false
}

/// [`report`] for the database error `e` was caused by, if any (through
/// `source()`, as [`caused_by_unavailable`]); whether it says the database
/// is out of reach.
pub fn report_cause(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(e) = cause {
        let sqlx = match e.downcast_ref::<crate::StoreError>() {
            Some(crate::StoreError::Database(sqlx)) => Some(sqlx),
            _ => e.downcast_ref::<sqlx::Error>(),
        };
        if let Some(sqlx) = sqlx {
            report(sqlx);
            return is_unavailable(sqlx);
        }
        cause = e.source();
    }
    false
}

/// Every watched database of this process, so that an unavailable error
/// met anywhere (a query on a connection that broke, converted to a
/// [`crate::StoreError`]; an error the HTTP edge maps to 503) can start a
/// probe without a handle on its store. One entry per [`crate::Store`]
/// opened on PostgreSQL; a process has one, a test binary a few.
static WATCHED: Mutex<Vec<std::sync::Weak<Health>>> = Mutex::new(Vec::new());

/// `e` was met by a caller: when it says the database could not be
/// reached, probe the watched databases (each at most once per
/// [`RETRY_EVERY`] while they answer, so a failure that is not an outage
/// costs little). Logs nothing itself: a loss found is one line.
pub fn report(e: &sqlx::Error) {
    // A closed pool is this process shutting down, not the database.
    if !is_unavailable(e) || matches!(e, sqlx::Error::PoolClosed) {
        return;
    }
    let watched: Vec<Arc<Health>> = match WATCHED.lock() {
        Ok(watched) => watched
            .iter()
            .filter_map(std::sync::Weak::upgrade)
            .collect(),
        Err(_) => return,
    };
    for health in watched {
        health.suspect();
    }
}

impl Health {
    pub(crate) fn new(enabled: bool, pool: AnyPool) -> Arc<Self> {
        let health = Arc::new(Self {
            enabled,
            pool,
            runtime: tokio::runtime::Handle::try_current().ok(),
            lost: watch::Sender::new(None),
            probing: AtomicBool::new(false),
            answered_at: Mutex::new(None),
            losses: AtomicU64::new(0),
            recoveries: AtomicU64::new(0),
        });
        if enabled {
            if let Ok(mut watched) = WATCHED.lock() {
                watched.retain(|w| w.strong_count() > 0);
                watched.push(Arc::downgrade(&health));
            }
        }
        health
    }

    pub fn is_lost(&self) -> bool {
        self.lost.borrow().is_some()
    }

    /// How many times the database was lost and came back since start.
    pub fn transitions(&self) -> (u64, u64) {
        (
            self.losses.load(Ordering::Relaxed),
            self.recoveries.load(Ordering::Relaxed),
        )
    }

    /// Records that the probe could not connect: logs the loss once.
    fn set_lost(&self, why: &sqlx::Error) {
        let changed = self.lost.send_if_modified(|lost| match lost {
            Some(_) => false,
            None => {
                *lost = Some(Instant::now());
                true
            }
        });
        if changed {
            self.losses.fetch_add(1, Ordering::Relaxed);
            tracing::error!(
                error = %why,
                "database lost: requests that need it are answered 503 until it is back"
            );
            // The idle connections went with the database: drop them now, so
            // that when it is back the pool opens new ones instead of
            // handing out dead ones (one failed request each).
            while let Some(conn) = self.pool.try_acquire() {
                drop(conn.detach());
            }
        }
    }

    /// A connection to the database was just opened: if it was lost, it is
    /// back (the probe, still running, finds so too and stops).
    pub(crate) fn reached(&self) {
        self.set_back();
    }

    /// Records that the probe connected: logs the return once.
    fn set_back(&self) {
        let mut since = None;
        self.lost.send_if_modified(|lost| {
            since = lost.take();
            since.is_some()
        });
        if let Some(since) = since {
            self.recoveries.fetch_add(1, Ordering::Relaxed);
            tracing::info!(
                lost_for_ms = u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX),
                "database back"
            );
        }
    }

    /// Something failed as if the database were gone: probe it in the
    /// background, unless a probe is already running (while the database
    /// is lost one always is, until it is back) or one found it answering
    /// less than [`RETRY_EVERY`] ago.
    pub(crate) fn suspect(self: &Arc<Self>) {
        if !self.enabled || self.pool.is_closed() {
            return;
        }
        let Some(runtime) = self
            .runtime
            .clone()
            .or_else(|| tokio::runtime::Handle::try_current().ok())
        else {
            return;
        };
        if self.probing.swap(true, Ordering::AcqRel) {
            return;
        }
        let recently = self
            .answered_at
            .lock()
            .ok()
            .and_then(|at| *at)
            .is_some_and(|at| at.elapsed() < RETRY_EVERY);
        if recently && !self.is_lost() {
            self.probing.store(false, Ordering::Release);
            return;
        }
        let health = self.clone();
        // Ends the probe however it ends, even dropped with its runtime.
        let probing = Probing(self.clone());
        runtime.spawn(async move {
            let _probing = probing;
            let options = health.pool.connect_options();
            loop {
                match probe(&options).await {
                    Ok(()) => {
                        if let Ok(mut at) = health.answered_at.lock() {
                            *at = Some(Instant::now());
                        }
                        health.set_back();
                        break;
                    }
                    Err(e) => health.set_lost(&e),
                }
                if health.pool.is_closed() {
                    break;
                }
                tokio::time::sleep(RETRY_EVERY).await;
            }
        });
    }
}

/// A running probe: the next suspicion may start another once it is
/// dropped.
struct Probing(Arc<Health>);

impl Drop for Probing {
    fn drop(&mut self) {
        self.0.probing.store(false, Ordering::Release);
    }
}

/// One connection attempt outside the pool (which would retry a refusal
/// until its timeout), closed at once.
async fn probe(options: &AnyConnectOptions) -> Result<(), sqlx::Error> {
    match tokio::time::timeout(PROBE_TIMEOUT, options.connect()).await {
        Ok(Ok(conn)) => {
            let _ = tokio::time::timeout(PROBE_TIMEOUT, conn.close()).await;
            Ok(())
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err(sqlx::Error::Io(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no connection within {} s", PROBE_TIMEOUT.as_secs_f32()),
        ))),
    }
}

/// A connection from `pool`, failing at once while the database is lost,
/// and as soon as it is found lost while waiting.
pub(crate) async fn acquire(
    pool: &AnyPool,
    health: &Arc<Health>,
) -> Result<PooledConnection, sqlx::Error> {
    if !health.enabled {
        return pool.acquire().await;
    }
    if health.is_lost() {
        return Err(lost_error());
    }
    let mut lost = health.lost.subscribe();
    let acquire = pool.acquire();
    tokio::pin!(acquire);
    let slow = tokio::time::sleep(SLOW_ACQUIRE);
    tokio::pin!(slow);
    let mut suspected = false;
    loop {
        tokio::select! {
            biased;
            acquired = &mut acquire => {
                return acquired.inspect_err(|e| {
                    if matches!(e, sqlx::Error::PoolTimedOut) && !health.is_lost() {
                        tracing::warn!(
                            "no database connection became free within the pool's acquire timeout"
                        );
                    }
                    if is_unavailable(e) {
                        health.suspect();
                    }
                });
            }
            _ = lost.wait_for(Option::is_some) => return Err(lost_error()),
            () = &mut slow, if !suspected => {
                suspected = true;
                health.suspect();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Log lines, as a subscriber on this thread writes them.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_loss_and_the_return_are_logged_once_each() {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _entered = rt.enter();
        sqlx::any::install_default_drivers();
        let pool = sqlx::any::AnyPoolOptions::new()
            .connect_lazy("postgres://nobody@127.0.0.1:1/none")
            .unwrap();
        let health = Health::new(false, pool);
        tracing::subscriber::with_default(subscriber, || {
            for _ in 0..5 {
                health.set_lost(&lost_error());
                assert!(health.is_lost());
            }
            for _ in 0..5 {
                health.set_back();
                assert!(!health.is_lost());
            }
            health.set_lost(&lost_error());
            health.set_back();
        });
        assert_eq!(health.transitions(), (2, 2));
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.matches("database lost").count(), 2, "{text}");
        assert_eq!(text.matches("database back").count(), 2, "{text}");
        assert_eq!(text.lines().count(), 4, "{text}");
    }

    #[test]
    fn unavailability_is_told_from_refusals() {
        assert!(is_unavailable(&lost_error()));
        assert!(is_unavailable(&sqlx::Error::PoolTimedOut));
        assert!(!is_unavailable(&sqlx::Error::RowNotFound));
        assert!(!is_unavailable(&sqlx::Error::ColumnNotFound("x".into())));
    }

    #[test]
    fn unavailability_is_found_among_causes() {
        #[derive(Debug, thiserror::Error)]
        #[error("wrapped")]
        struct Wrapped(#[source] crate::StoreError);
        let lost = Wrapped(crate::StoreError::Database(lost_error()));
        assert!(caused_by_unavailable(&lost));
        let refused = Wrapped(crate::StoreError::Database(sqlx::Error::RowNotFound));
        assert!(!caused_by_unavailable(&refused));
        assert!(!caused_by_unavailable(&Wrapped(
            crate::StoreError::Conflict("x")
        )));
    }

    #[test]
    fn a_lost_database_fails_at_once() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            sqlx::any::install_default_drivers();
            // Never connected: acquiring would wait for the pool's timeout.
            let pool = sqlx::any::AnyPoolOptions::new()
                .acquire_timeout(Duration::from_secs(30))
                .connect_lazy("postgres://nobody@127.0.0.1:1/none")
                .unwrap();
            let health = Health::new(true, pool.clone());
            let started = Instant::now();
            let err = acquire(&pool, &health).await.unwrap_err();
            assert!(is_unavailable(&err), "{err}");
            assert!(health.is_lost());
            assert!(started.elapsed() < Duration::from_secs(3));
            let started = Instant::now();
            acquire(&pool, &health).await.unwrap_err();
            assert!(started.elapsed() < Duration::from_millis(50));
            pool.close().await;
        });
    }
}
