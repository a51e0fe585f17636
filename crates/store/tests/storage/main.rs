//! The store's repositories on both backends, one test binary (each module
//! was a file of its own), run by sqin's harness.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ledger;
mod passkeys;
mod personal_data;
mod repositories;
mod sealed_register;
mod staff;

fn main() -> std::process::ExitCode {
    sqin_store::testing::harness::main()
}
