//! The ledger service against real databases on both backends, one test
//! binary (each module was a file of its own), run by sqin's harness.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod appends;
mod common;
mod concurrency;
mod outbox;
mod retention;
mod rotation;
mod tamper;

fn main() -> std::process::ExitCode {
    sqin_store::testing::harness::main()
}
