//! Rate limits on guessing: per client address and per code, counted in the
//! database so every node shares one budget.
use std::net::IpAddr;

use sqin_store::rate_limits;
use sqin_store::Connection;

use crate::{PasskeyError, PasskeyService};

/// Attempt budgets. Codes are 80-bit random values, so these limits are not
/// what keeps a code from being guessed; they keep an attacker who holds a
/// letter (but not the birthdate) from trying birthdates, together with the
/// lock-out after `CODE_MAX_FAILED_ATTEMPTS` wrong birthdates, and keep one
/// client from filling the ceremony table.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Length of a counting window, in seconds.
    pub window_secs: i64,
    /// Code-and-birthdate attempts per client address per window.
    pub code_attempts_per_address: i64,
    /// Attempts with one code per window (the code also locks for good after
    /// `CODE_MAX_FAILED_ATTEMPTS` wrong birthdates).
    pub attempts_per_code: i64,
    /// Ceremonies started per client address per window.
    pub ceremonies_per_address: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            window_secs: 900,
            code_attempts_per_address: 10,
            attempts_per_code: 5,
            ceremonies_per_address: 300,
        }
    }
}

#[derive(Clone, Copy)]
pub(crate) enum Bucket<'a> {
    CodeAttemptsFrom(IpAddr),
    Code(&'a [u8]),
    CeremoniesFrom(IpAddr),
}

/// The part of an address that identifies one client: an IPv4 address, or
/// the /64 of an IPv6 address (one subscriber usually gets a whole /64).
fn client_prefix(addr: IpAddr) -> Vec<u8> {
    match addr {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.octets().to_vec(),
            None => v6.octets().iter().take(8).copied().collect(),
        },
    }
}

impl PasskeyService {
    /// Counts a hit; refuses when the bucket's budget for this window is
    /// spent. Buckets are keyed hashes: client addresses are not stored.
    pub(crate) async fn hit(
        &self,
        conn: &mut Connection,
        bucket: Bucket<'_>,
        now: i64,
    ) -> Result<(), PasskeyError> {
        let (label, value, limit): (&[u8], Vec<u8>, i64) = match bucket {
            Bucket::CodeAttemptsFrom(ip) => (
                b"code-attempts-from",
                client_prefix(ip),
                self.limits.code_attempts_per_address,
            ),
            Bucket::Code(hash) => (b"code", hash.to_vec(), self.limits.attempts_per_code),
            Bucket::CeremoniesFrom(ip) => (
                b"ceremonies-from",
                client_prefix(ip),
                self.limits.ceremonies_per_address,
            ),
        };
        let window = self.limits.window_secs.max(1);
        let window_start = now - now.rem_euclid(window);
        let key = self.key.sign(&[b"rate-limit\0", label, b"\0", &value]);
        let hits = rate_limits::hit(conn, &key, window_start).await?;
        if hits > limit {
            return Err(PasskeyError::RateLimited {
                retry_after: window_start + window - now,
            });
        }
        if hits == 1 {
            // First hit of a window for this bucket: a good moment to drop
            // counters of windows that are over.
            rate_limits::purge_before(conn, window_start - window).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::client_prefix;

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let a = client_prefix("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = client_prefix("2001:db8:1:2:bbbb::2".parse().unwrap());
        let c = client_prefix("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            client_prefix("::ffff:192.0.2.1".parse().unwrap()),
            client_prefix("192.0.2.1".parse().unwrap())
        );
    }
}
