//! The `sqin` binary run as a real process: the operator's commands on both
//! backends, the ledger commands, signals, and a served log with a served
//! witness. One test binary, each module once a file of its own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin_api_doc;
mod cli;
mod clients_cli;
mod deployment;
mod ledger_cli;
mod pia_cli;
mod pia_diff;
mod report_cli;
mod security_txt;
mod signals;
mod staff_cli;
mod witness_processes;

fn main() -> std::process::ExitCode {
    sqin_store::testing::harness::main()
}
