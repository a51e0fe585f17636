//! `sqin ledger verify --export FILE` on a reviewer's machine: the JSON
//! Lines export read by `sqin_ledger_service::verify::verify_export`, once
//! with the key taken from the export and once with the seed's key pinned.
//! A hostile export must give an error naming a line, never a panic, and an
//! export that verifies under the pinned key must say so.
#![no_main]

use std::sync::atomic::AtomicBool;

use libfuzzer_sys::fuzz_target;
use sqin_ledger_service::verify::{verify_export, VerifyOptions};

const VKEY: &str = include_str!("../fixtures/log.vkey");

fuzz_target!(|data: &[u8]| {
    let cancel = AtomicBool::new(false);
    let mut progress = |_: u64, _: u64| {};
    let _ = verify_export(data, &VerifyOptions::default(), &mut progress, &cancel);
    let pinned = VerifyOptions {
        vkey: Some(VKEY.trim().to_owned()),
        origin: Some("fuzz.example/ledger".to_owned()),
        ..VerifyOptions::default()
    };
    if let Ok(report) = verify_export(data, &pinned, &mut progress, &cancel) {
        assert!(report.key_pinned);
        assert_eq!(report.origin, "fuzz.example/ledger");
        assert!(report.latest_checkpoint_size <= report.entries);
    }
});
