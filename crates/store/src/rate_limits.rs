//! Attempt counters kept in the database, so that every node of a
//! deployment counts against the same budget (an in-memory limiter would
//! give an attacker one budget per node).
//!
//! The window slides: a budget of `limit` attempts per `window` seconds
//! means at most `limit` counted attempts in *any* `window` seconds, never
//! twice the budget across the boundary of a window aligned to the clock.
//! Each bucket keeps one row per second in which attempts were counted; an
//! attempt is counted only when every bucket it is charged to has room, so
//! a refused attempt spends nothing and a client that keeps knocking gets
//! its budget back as its own attempts age out of the window.
//!
//! Concurrent attempts on one bucket are serialised, so none is let through
//! on a stale count: on SQLite by the write lock every transaction here
//! takes (`BEGIN IMMEDIATE`), on PostgreSQL by a transaction-scoped
//! advisory lock per bucket, taken in bucket order so two attempts charged
//! to the same buckets cannot deadlock.
use sqlx::{AnyConnection, Row};

use crate::Result;

/// One bucket an attempt is charged to, and its budget per window.
#[derive(Debug, Clone, Copy)]
pub struct Budget<'a> {
    /// A keyed hash of what is limited (never the address itself).
    pub bucket: &'a [u8],
    /// Attempts allowed in any `window` seconds.
    pub limit: i64,
}

/// A refused attempt: which budget was spent, and in how many seconds one
/// of its attempts leaves the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    /// The index, in the budgets given, of the first one that is spent.
    pub budget: usize,
    pub retry_after: i64,
}

/// The part of an address that identifies one client, to key a bucket by:
/// an IPv4 address, or the /64 of an IPv6 address (one subscriber usually
/// gets a whole /64).
pub fn client_prefix(addr: std::net::IpAddr) -> Vec<u8> {
    match addr {
        std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.octets().to_vec(),
            None => v6.octets().iter().take(8).copied().collect(),
        },
    }
}

/// The advisory-lock key of the purge of old rows on PostgreSQL (one purge
/// at a time; an attempt that finds it taken skips purging).
const PURGE_LOCK: i64 = 0x7371_696e_726c_7067; // "sqinrlpg"

fn is_postgres(conn: &AnyConnection) -> bool {
    conn.backend_name() == "PostgreSQL"
}

/// The advisory-lock key of a bucket: its first eight bytes (buckets are
/// keyed hashes, so these are uniformly spread).
fn lock_key(bucket: &[u8]) -> i64 {
    let mut first = [0u8; 8];
    for (slot, byte) in first.iter_mut().zip(bucket) {
        *slot = *byte;
    }
    i64::from_be_bytes(first)
}

/// Counts one attempt at `now` in every bucket of `budgets` if each has had
/// fewer than its `limit` attempts in the `window` seconds up to `now`;
/// otherwise counts nothing and says which budget is spent. In a
/// transaction of its own (or a savepoint of the caller's).
pub async fn hit(
    conn: &mut AnyConnection,
    budgets: &[Budget<'_>],
    window: i64,
    now: i64,
) -> Result<Result<(), Refused>> {
    let window = window.max(1);
    let since = now - window;
    let mut tx = crate::begin_on(conn).await?;
    if is_postgres(&tx) {
        let mut keys: Vec<i64> = budgets.iter().map(|b| lock_key(b.bucket)).collect();
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            sqlx::query("SELECT 1 AS locked FROM pg_advisory_xact_lock($1)")
                .bind(key)
                .fetch_one(&mut *tx)
                .await?;
        }
    }
    let mut fresh = false;
    for (i, budget) in budgets.iter().enumerate() {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(hits), 0) AS BIGINT) AS hits, MIN(at) AS oldest
             FROM rate_limits WHERE bucket = $1 AND at > $2",
        )
        .bind(budget.bucket)
        .bind(since)
        .fetch_one(&mut *tx)
        .await?;
        let hits: i64 = row.try_get("hits")?;
        if hits >= budget.limit {
            let oldest: Option<i64> = row.try_get("oldest")?;
            let retry_after = oldest.map_or(window, |at| at + window - now).max(1);
            tx.commit().await?;
            return Ok(Err(Refused {
                budget: i,
                retry_after,
            }));
        }
        fresh |= hits == 0;
    }
    for budget in budgets {
        sqlx::query(
            "INSERT INTO rate_limits (bucket, at, hits) VALUES ($1, $2, 1)
             ON CONFLICT (bucket, at) DO UPDATE SET hits = rate_limits.hits + 1",
        )
        .bind(budget.bucket)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    if fresh {
        // A bucket's first attempt in a window: a good moment to drop every
        // row that has left the window (on PostgreSQL only if no other
        // attempt is purging: purges never wait on one another).
        let purge = !is_postgres(&tx)
            || sqlx::query("SELECT pg_try_advisory_xact_lock($1) AS got")
                .bind(PURGE_LOCK)
                .fetch_one(&mut *tx)
                .await?
                .try_get::<bool, _>("got")?;
        if purge {
            sqlx::query("DELETE FROM rate_limits WHERE at <= $1")
                .bind(since)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(Ok(()))
}

/// Drops the attempts counted before `before` (the retention pass).
pub async fn purge_before(conn: &mut AnyConnection, before: i64) -> Result<u64> {
    let mut tx = crate::begin_on(conn).await?;
    if is_postgres(&tx) {
        sqlx::query("SELECT 1 AS locked FROM pg_advisory_xact_lock($1)")
            .bind(PURGE_LOCK)
            .fetch_one(&mut *tx)
            .await?;
    }
    let done = sqlx::query("DELETE FROM rate_limits WHERE at < $1")
        .bind(before)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}
