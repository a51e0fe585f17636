//! Rate limits on guessing and on ceremonies: per client address, per code,
//! and per client address and account hint, counted in the database so
//! every node shares one budget, in windows that slide with the clock
//! (`sqin_store::rate_limits`): a budget of N per window is never more than
//! N in any window's length.
//!
//! Ceremonies are budgeted per (client address, account hint) with a higher
//! ceiling per address, so that many citizens behind one address (an
//! office, a carrier-grade NAT) do not share one small budget: the hint is
//! the register identifier typed, the citizen signed in (adding a passkey),
//! the enrolment grant presented, or "discoverable" when a sign-in names no
//! account (no credential is known before the authenticator answers). One
//! hint spending its budget leaves the others alone; only the ceiling
//! shuts the address out.
//!
//! Each refusal (each `429`) is logged, one line without personal data (the
//! limit's name and the wait; never the address, the hint or a hash of
//! them), and counted per limit ([`PasskeyService::refused`]).
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use sqin_store::rate_limits::{self, Budget};
use sqin_store::Connection;

use crate::{PasskeyError, PasskeyService};

/// Attempt budgets, each per window of [`Limits::window_secs`]. Codes are
/// 80-bit random values, so these limits are not what keeps a code from
/// being guessed; they keep an attacker who holds a letter (but not the
/// birthdate) from trying birthdates, together with the lock-out after
/// `CODE_MAX_FAILED_ATTEMPTS` wrong birthdates, and keep one client from
/// filling the ceremony table.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Length of the (sliding) counting window, in seconds.
    pub window_secs: i64,
    /// Code-and-birthdate attempts per client address per window.
    pub code_attempts_per_address: i64,
    /// Attempts with one code per window (the code also locks for good after
    /// `CODE_MAX_FAILED_ATTEMPTS` wrong birthdates).
    pub attempts_per_code: i64,
    /// Ceremonies started per client address and account hint (a register
    /// identifier, a signed-in citizen, an enrolment grant) per window.
    pub ceremonies_per_hint: i64,
    /// Discoverable sign-ins (no account named) started per client address
    /// per window: every citizen behind the address shares this hint, so it
    /// is larger.
    pub discoverable_per_address: i64,
    /// Ceremonies started per client address per window, whatever the hint:
    /// the ceiling.
    pub ceremonies_per_address: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            window_secs: 900,
            code_attempts_per_address: 10,
            attempts_per_code: 5,
            ceremonies_per_hint: 30,
            discoverable_per_address: 300,
            ceremonies_per_address: 1200,
        }
    }
}

/// A budget that refused an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// [`Limits::code_attempts_per_address`].
    CodeAttemptsPerAddress,
    /// [`Limits::attempts_per_code`].
    AttemptsPerCode,
    /// [`Limits::ceremonies_per_hint`].
    CeremoniesPerHint,
    /// [`Limits::discoverable_per_address`].
    DiscoverablePerAddress,
    /// [`Limits::ceremonies_per_address`].
    CeremoniesPerAddress,
}

impl Limit {
    /// Every limit.
    pub const ALL: [Limit; 5] = [
        Self::CodeAttemptsPerAddress,
        Self::AttemptsPerCode,
        Self::CeremoniesPerHint,
        Self::DiscoverablePerAddress,
        Self::CeremoniesPerAddress,
    ];

    /// The name in log lines.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CodeAttemptsPerAddress => "code_attempts_per_address",
            Self::AttemptsPerCode => "attempts_per_code",
            Self::CeremoniesPerHint => "ceremonies_per_hint",
            Self::DiscoverablePerAddress => "discoverable_per_address",
            Self::CeremoniesPerAddress => "ceremonies_per_address",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Refusals since this node started, per limit.
#[derive(Debug, Default)]
pub(crate) struct Refusals([AtomicU64; Limit::ALL.len()]);

impl Refusals {
    fn count(&self, limit: Limit) {
        if let Some(c) = self.0.get(limit.index()) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn get(&self, limit: Limit) -> u64 {
        self.0
            .get(limit.index())
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }
}

/// Whose ceremony a client starts, as far as the request says.
#[derive(Clone, Copy)]
pub(crate) enum Hint<'a> {
    /// A sign-in that names no account.
    Discoverable,
    /// The register identifier typed.
    RegisterId(&'a str),
    /// The signed-in citizen (adding a passkey).
    Citizen(&'a str),
    /// The enrolment grant presented.
    Grant(&'a str),
}

#[derive(Clone, Copy)]
pub(crate) enum Bucket<'a> {
    CodeAttemptsFrom(IpAddr),
    Code(&'a [u8]),
    /// A ceremony started from an address: its hint's budget and the
    /// address's ceiling.
    Ceremony(IpAddr, Hint<'a>),
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

/// What a hint's bucket is keyed by (after the address prefix): its kind
/// and value, register identifiers compared as the register does.
fn hint_value(hint: Hint<'_>) -> Vec<u8> {
    let (kind, value): (&[u8], String) = match hint {
        Hint::Discoverable => (b"discoverable", String::new()),
        Hint::RegisterId(id) => (b"register-id", id.trim().to_uppercase()),
        Hint::Citizen(id) => (b"citizen", id.to_owned()),
        Hint::Grant(g) => (b"grant", g.to_owned()),
    };
    [kind, b"\0", value.as_bytes()].concat()
}

impl PasskeyService {
    /// Counts an attempt; refuses it (and counts nothing) when one of the
    /// budgets it is charged to is spent. Buckets are keyed hashes: client
    /// addresses and hints are not stored.
    pub(crate) async fn hit(
        &self,
        conn: &mut Connection,
        bucket: Bucket<'_>,
        now: i64,
    ) -> Result<(), PasskeyError> {
        let l = &self.limits;
        let budgets: Vec<(Limit, &[u8], Vec<u8>, i64)> = match bucket {
            Bucket::CodeAttemptsFrom(ip) => vec![(
                Limit::CodeAttemptsPerAddress,
                b"code-attempts-from",
                client_prefix(ip),
                l.code_attempts_per_address,
            )],
            Bucket::Code(hash) => vec![(
                Limit::AttemptsPerCode,
                b"code",
                hash.to_vec(),
                l.attempts_per_code,
            )],
            Bucket::Ceremony(ip, hint) => {
                let prefix = client_prefix(ip);
                let own = match hint {
                    Hint::Discoverable => (
                        Limit::DiscoverablePerAddress,
                        b"ceremonies-from-for".as_slice(),
                        [prefix.as_slice(), b"\0", &hint_value(hint)].concat(),
                        l.discoverable_per_address,
                    ),
                    _ => (
                        Limit::CeremoniesPerHint,
                        b"ceremonies-from-for".as_slice(),
                        [prefix.as_slice(), b"\0", &hint_value(hint)].concat(),
                        l.ceremonies_per_hint,
                    ),
                };
                vec![
                    own,
                    (
                        Limit::CeremoniesPerAddress,
                        b"ceremonies-from",
                        prefix,
                        l.ceremonies_per_address,
                    ),
                ]
            }
        };
        let keys: Vec<[u8; 32]> = budgets
            .iter()
            .map(|(_, label, value, _)| self.key.sign(&[b"rate-limit\0", label, b"\0", value]))
            .collect();
        let charged: Vec<Budget<'_>> = keys
            .iter()
            .zip(&budgets)
            .map(|(key, (_, _, _, limit))| Budget {
                bucket: key.as_slice(),
                limit: *limit,
            })
            .collect();
        match rate_limits::hit(conn, &charged, l.window_secs, now).await? {
            Ok(()) => Ok(()),
            Err(refused) => {
                let limit = budgets
                    .get(refused.budget)
                    .map_or(Limit::CeremoniesPerAddress, |b| b.0);
                self.refusals.count(limit);
                tracing::warn!(
                    limit = limit.as_str(),
                    retry_after = refused.retry_after,
                    "rate limit reached: attempt refused with 429"
                );
                Err(PasskeyError::RateLimited {
                    retry_after: refused.retry_after,
                })
            }
        }
    }

    /// How many attempts `limit` refused (answered `429`) on this node since
    /// it started.
    pub fn refused(&self, limit: Limit) -> u64 {
        self.refusals.get(limit)
    }
}

#[cfg(test)]
mod tests {
    use super::{client_prefix, hint_value, Hint};

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

    #[test]
    fn hints_of_different_kinds_never_share_a_bucket() {
        assert_eq!(
            hint_value(Hint::RegisterId(" r-100 ")),
            hint_value(Hint::RegisterId("R-100"))
        );
        assert_ne!(
            hint_value(Hint::RegisterId("x")),
            hint_value(Hint::Citizen("x"))
        );
        assert_ne!(
            hint_value(Hint::Discoverable),
            hint_value(Hint::RegisterId(""))
        );
    }
}

/// Each refusal is logged once, with the limit's name and never the
/// address or the hint (the log call site, checked with a subscriber of the
/// test's own on a database of its own).
#[cfg(test)]
mod log_tests {
    use std::net::IpAddr;
    use std::sync::{Arc, Mutex};

    use sqin_crypto::HmacKey;
    use sqin_register::EnrolmentCodeIssuer;
    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    use super::{Bucket, Hint, Limit, Limits};
    use crate::{PasskeyError, PasskeyService};

    /// The passkey service's log lines: level, then each field.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<String>>>);

    impl Lines {
        fn all(&self) -> Vec<String> {
            self.0.lock().map(|l| l.clone()).unwrap_or_default()
        }
    }

    struct Fields(String);

    impl Visit for Fields {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.0.push_str(&format!(" {}={value:?}", field.name()));
        }
    }

    impl Subscriber for Lines {
        fn enabled(&self, metadata: &Metadata<'_>) -> bool {
            metadata.target().starts_with("sqin_webauthn")
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let mut fields = Fields(event.metadata().level().to_string());
            event.record(&mut fields);
            if let Ok(mut lines) = self.0.lock() {
                lines.push(fields.0);
            }
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    #[test]
    fn each_refusal_is_logged_with_the_limit_and_without_the_address_or_hint() {
        let lines = Lines::default();
        let _default = tracing::subscriber::set_default(lines.clone());
        // A runtime on this thread, so every event is this subscriber's.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let db = sqin_store::testing::TestDb::sqlite().await;
            let store = db.open().await;
            let service = PasskeyService::new(
                &url::Url::parse("http://localhost:8080").unwrap(),
                EnrolmentCodeIssuer::new(HmacKey::from_bytes([1; 32]), 86_400),
                sqin_store::testing::register_vault(),
                HmacKey::from_bytes([2; 32]),
                Limits {
                    ceremonies_per_hint: 2,
                    discoverable_per_address: 3,
                    ceremonies_per_address: 4,
                    ..Limits::default()
                },
            )
            .unwrap();
            let mut conn = store.pool().acquire().await.unwrap();
            let ip: IpAddr = "198.51.100.23".parse().unwrap();
            let hint = |id| Bucket::Ceremony(ip, Hint::RegisterId(id));
            let t = 1_000_000;
            for _ in 0..2 {
                service.hit(&mut conn, hint("R-HINT-ONE"), t).await.unwrap();
            }
            let refused = service.hit(&mut conn, hint("R-HINT-ONE"), t).await;
            assert!(matches!(refused, Err(PasskeyError::RateLimited { .. })));
            // Another hint from the address has a budget of its own, up to
            // the address's ceiling.
            for _ in 0..2 {
                service.hit(&mut conn, hint("R-HINT-TWO"), t).await.unwrap();
            }
            let refused = service.hit(&mut conn, hint("R-HINT-THREE"), t).await;
            assert!(matches!(refused, Err(PasskeyError::RateLimited { .. })));
            assert_eq!(service.refused(Limit::CeremoniesPerHint), 1);
            assert_eq!(service.refused(Limit::CeremoniesPerAddress), 1);
        });
        let logged: Vec<String> = lines
            .all()
            .into_iter()
            .filter(|l| l.contains("429"))
            .collect();
        assert_eq!(logged.len(), 2, "one line per refusal: {logged:?}");
        assert!(logged[0].starts_with("WARN"), "{logged:?}");
        assert!(
            logged[0].contains("limit=\"ceremonies_per_hint\""),
            "{logged:?}"
        );
        assert!(
            logged[1].contains("limit=\"ceremonies_per_address\""),
            "{logged:?}"
        );
        for line in &logged {
            assert!(line.contains("retry_after="), "{line}");
            for secret in ["198.51.100", "HINT", "hint-"] {
                assert!(!line.contains(secret), "{line} names {secret}");
            }
        }
    }
}
