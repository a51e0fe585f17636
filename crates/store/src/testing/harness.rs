//! The test harness of sqin's integration-test binaries.
//!
//! Rust's built-in harness can only ignore a test at compile time, so a test
//! whose PostgreSQL, Chromium or Node.js is missing could only return early
//! and be counted as passed. This harness decides at run time and reports
//! such a test as **ignored**, with the reason printed once, never as
//! passed; with `SQIN_REQUIRE_POSTGRES=1` or `SQIN_REQUIRE_BROWSER=1` (as CI
//! sets them) it runs them, and they fail if their component is missing.
//!
//! Tests register themselves with the macros [`crate::both_backends!`],
//! [`crate::async_test!`], [`crate::sync_test!`] and
//! [`crate::needs_test!`]; a binary declares `harness = false` in its
//! `Cargo.toml` and runs them all with
//!
//! ```ignore
//! fn main() -> std::process::ExitCode {
//!     sqin_store::testing::harness::main()
//! }
//! ```
//!
//! The runner is `libtest-mimic`: the same arguments (filters, `--exact`,
//! `--ignored`, `--list`, `--test-threads`) and the same output as
//! `cargo test` always had.
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::process::ExitCode;

use libtest_mimic::{Arguments, Failed, Trial};

use super::{postgres_admin_url, postgres_required, TestDb};
use crate::Store;

/// What an async test body returns.
pub type TestFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A test's body.
pub enum Body {
    /// Runs once per backend, each time on a fresh database.
    Backends(fn(TestDb) -> TestFuture),
    /// An async test, on a multi-threaded runtime.
    Async(fn() -> TestFuture),
    /// A plain test.
    Sync(fn()),
}

/// What a test needs besides a database: `Err(reason)` when it is missing.
pub type Prerequisite = fn() -> Result<(), String>;

/// One registered test.
pub struct Case {
    /// `crate::module::test`, as `module_path!()` gives it.
    pub path: &'static str,
    pub body: Body,
    /// Worker threads of the test's runtime.
    pub workers: usize,
    /// Checked before the test runs; when it fails the test is ignored, or
    /// failed with the reason under `SQIN_REQUIRE_BROWSER=1`.
    pub needs: Option<Prerequisite>,
}

inventory::collect!(Case);

/// The test's name as filters and reports see it: its path without the
/// binary's crate name (`ledger::appends_in_order`).
fn display_name(path: &str) -> &str {
    path.split_once("::").map_or(path, |(_, rest)| rest)
}

fn runtime(workers: usize) -> Result<tokio::runtime::Runtime, Failed> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers.max(1))
        .enable_all()
        .build()
        .map_err(|e| Failed::from(format!("cannot start a runtime: {e}")))
}

/// Whether PostgreSQL answers at the test URL; the reason when not.
fn probe_postgres() -> Result<(), String> {
    let admin = postgres_admin_url();
    let rt = runtime(1).map_err(|e| format!("{e:?}"))?;
    rt.block_on(async {
        match tokio::time::timeout(std::time::Duration::from_secs(5), Store::connect(&admin)).await
        {
            Ok(Ok(store)) => {
                store.close().await;
                Ok(())
            }
            Ok(Err(e)) => Err(format!("PostgreSQL not reachable at {admin}: {e}")),
            Err(_) => Err(format!("PostgreSQL at {admin} did not answer within 5 s")),
        }
    })
}

/// Whether browser-level tests must run whatever is missing (CI).
pub fn browser_required() -> bool {
    std::env::var("SQIN_REQUIRE_BROWSER").is_ok_and(|v| v == "1" || v == "true")
}

fn note(text: &str) {
    let _ = writeln!(std::io::stderr(), "note: {text}");
}

/// Runs every registered test of this binary.
pub fn main() -> ExitCode {
    let args = Arguments::from_args();
    let mut cases: Vec<&'static Case> = inventory::iter::<Case>.into_iter().collect();
    cases.sort_by_key(|c| c.path);
    let listing = args.list;
    // One probe of PostgreSQL for the whole binary, and only when one of
    // its tests would use it.
    let wants_postgres = cases.iter().any(|c| matches!(c.body, Body::Backends(_)));
    let postgres = if wants_postgres && !listing {
        probe_postgres()
    } else {
        Ok(())
    };
    let postgres_ignored = match &postgres {
        Err(why) if !postgres_required() => {
            note(&format!(
                "{why}: the PostgreSQL variants are IGNORED. Set SQIN_TEST_POSTGRES_URL, or SQIN_REQUIRE_POSTGRES=1 to make this a failure."
            ));
            true
        }
        _ => false,
    };
    let mut trials = Vec::new();
    for case in cases {
        let name = display_name(case.path);
        let workers = case.workers;
        let missing = match case.needs {
            Some(check) if !listing => check().err(),
            _ => None,
        };
        let ignore_for_missing = match &missing {
            Some(why) if !browser_required() => {
                note(&format!("{name} IGNORED: {why}"));
                true
            }
            _ => false,
        };
        let required_but_missing = missing.filter(|_| !ignore_for_missing);
        let guard = move || -> Result<(), Failed> {
            match &required_but_missing {
                Some(why) => Err(format!("required (SQIN_REQUIRE_BROWSER=1) but {why}").into()),
                None => Ok(()),
            }
        };
        match case.body {
            Body::Backends(run) => {
                let sqlite = guard.clone();
                trials.push(
                    Trial::test(format!("{name}::sqlite"), move || {
                        sqlite()?;
                        runtime(workers)?.block_on(async { run(TestDb::sqlite().await).await });
                        Ok(())
                    })
                    .with_ignored_flag(ignore_for_missing),
                );
                trials.push(
                    Trial::test(format!("{name}::postgres"), move || {
                        guard()?;
                        runtime(workers)?.block_on(async {
                            match TestDb::postgres().await {
                                Some(db) => run(db).await,
                                None => panic!("PostgreSQL became unreachable during the run"),
                            }
                        });
                        Ok(())
                    })
                    .with_ignored_flag(ignore_for_missing || postgres_ignored),
                );
            }
            Body::Async(run) => trials.push(
                Trial::test(name, move || {
                    guard()?;
                    runtime(workers)?.block_on(run());
                    Ok(())
                })
                .with_ignored_flag(ignore_for_missing),
            ),
            Body::Sync(run) => trials.push(
                Trial::test(name, move || {
                    guard()?;
                    run();
                    Ok(())
                })
                .with_ignored_flag(ignore_for_missing),
            ),
        }
    }
    libtest_mimic::run(&args, trials).exit_code()
}

/// Declares a test that runs once per backend, each on a fresh database:
/// `name::sqlite` and `name::postgres`.
///
/// ```ignore
/// sqin_store::both_backends!(async fn inserts(db: TestDb) { ... });
/// ```
#[macro_export]
macro_rules! both_backends {
    (async fn $name:ident($db:ident : TestDb) $body:block) => {
        $crate::both_backends!(workers = 2, async fn $name($db: TestDb) $body);
    };
    (workers = $workers:literal, async fn $name:ident($db:ident : TestDb) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($db: $crate::testing::TestDb) $body
            fn boxed(db: $crate::testing::TestDb) -> $crate::testing::harness::TestFuture {
                ::std::boxed::Box::pin(run(db))
            }
            $crate::testing::inventory::submit! {
                $crate::testing::harness::Case {
                    path: module_path!(),
                    body: $crate::testing::harness::Body::Backends(boxed),
                    workers: $workers,
                    needs: None,
                }
            }
        }
    };
}

/// Declares an async test (a multi-threaded runtime, two workers unless
/// `workers = N` says otherwise).
#[macro_export]
macro_rules! async_test {
    (workers = $workers:literal, async fn $name:ident() $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run() $body
            fn boxed() -> $crate::testing::harness::TestFuture {
                ::std::boxed::Box::pin(run())
            }
            $crate::testing::inventory::submit! {
                $crate::testing::harness::Case {
                    path: module_path!(),
                    body: $crate::testing::harness::Body::Async(boxed),
                    workers: $workers,
                    needs: None,
                }
            }
        }
    };
    (async fn $name:ident() $body:block) => {
        $crate::async_test!(workers = 2, async fn $name() $body);
    };
}

/// Declares a plain test.
#[macro_export]
macro_rules! sync_test {
    (fn $name:ident() $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn run() $body
            $crate::testing::inventory::submit! {
                $crate::testing::harness::Case {
                    path: module_path!(),
                    body: $crate::testing::harness::Body::Sync(run),
                    workers: 1,
                    needs: None,
                }
            }
        }
    };
}

/// Declares an async test that needs something besides a database (a
/// browser, Node.js packages): `needs` is a `fn() -> Result<(), String>`
/// checked first; when it fails the test is reported as ignored with the
/// reason, or failed under `SQIN_REQUIRE_BROWSER=1`. With `backends`, the
/// test runs once per backend like [`both_backends!`].
#[macro_export]
macro_rules! needs_test {
    (needs = $needs:path, async fn $name:ident() $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run() $body
            fn boxed() -> $crate::testing::harness::TestFuture {
                ::std::boxed::Box::pin(run())
            }
            $crate::testing::inventory::submit! {
                $crate::testing::harness::Case {
                    path: module_path!(),
                    body: $crate::testing::harness::Body::Async(boxed),
                    workers: 2,
                    needs: Some($needs),
                }
            }
        }
    };
    (needs = $needs:path, backends, async fn $name:ident($db:ident : TestDb) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($db: $crate::testing::TestDb) $body
            fn boxed(db: $crate::testing::TestDb) -> $crate::testing::harness::TestFuture {
                ::std::boxed::Box::pin(run(db))
            }
            $crate::testing::inventory::submit! {
                $crate::testing::harness::Case {
                    path: module_path!(),
                    body: $crate::testing::harness::Body::Backends(boxed),
                    workers: 2,
                    needs: Some($needs),
                }
            }
        }
    };
}
