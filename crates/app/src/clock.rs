//! The one source of time above the domain crates.
//!
//! Domain functions take `now` (Unix seconds) as an argument; whoever calls
//! them reads it from the [`Clock`] in [`crate::Services`], never from the
//! system. So a test can advance time past a code's lifetime, a consent's
//! expiry or a retention period and watch the real server react, instead of
//! editing rows or sleeping.
#[cfg(any(test, feature = "testing"))]
use std::sync::atomic::{AtomicI64, Ordering};

/// Where "now" comes from.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time in Unix seconds.
    fn now(&self) -> i64;
}

/// The system's clock: what every deployment runs on.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}

/// The system's clock shifted by an offset that a test moves forward: time
/// still flows (sessions age, tokens expire) and [`ManualClock::advance`]
/// jumps ahead. Only in builds with the `testing` feature.
#[cfg(any(test, feature = "testing"))]
#[derive(Debug, Default)]
pub struct ManualClock {
    offset: AtomicI64,
}

#[cfg(any(test, feature = "testing"))]
impl ManualClock {
    /// Moves this clock `secs` seconds ahead.
    pub fn advance(&self, secs: i64) {
        self.offset.fetch_add(secs, Ordering::SeqCst);
    }
}

#[cfg(any(test, feature = "testing"))]
impl Clock for ManualClock {
    fn now(&self) -> i64 {
        SystemClock.now() + self.offset.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_only_moves_forward_when_told() {
        let clock = ManualClock::default();
        let before = clock.now();
        clock.advance(3600);
        let after = clock.now();
        assert!((3600..3700).contains(&(after - before)), "{before} {after}");
    }
}
