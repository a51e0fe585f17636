//! Fixed-window attempt counters kept in the database, so that every node of
//! a deployment counts against the same budget (an in-memory limiter would
//! give an attacker one budget per node).
use sqlx::{AnyConnection, Row};

use crate::Result;

/// Counts one hit in `bucket` for the window starting at `window_start` and
/// returns the hits in that window, this one included. A hit in a new window
/// restarts the count. One statement: concurrent hits are all counted.
pub async fn hit(conn: &mut AnyConnection, bucket: &[u8], window_start: i64) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1)
         ON CONFLICT (bucket) DO UPDATE SET
            hits = CASE WHEN rate_limits.window_start = excluded.window_start
                        THEN rate_limits.hits + 1 ELSE 1 END,
            window_start = excluded.window_start
         RETURNING hits",
    )
    .bind(bucket)
    .bind(window_start)
    .fetch_one(conn)
    .await?;
    Ok(row.try_get("hits")?)
}

/// Drops counters of windows that started before `before`.
pub async fn purge_before(conn: &mut AnyConnection, before: i64) -> Result<u64> {
    let done = sqlx::query("DELETE FROM rate_limits WHERE window_start < $1")
        .bind(before)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
