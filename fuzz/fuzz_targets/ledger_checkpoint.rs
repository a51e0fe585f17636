//! C2SP signed notes as a reviewer's tools and the witness read them:
//! `SignedCheckpoint::parse` (and `Checkpoint::parse_body`), verification
//! with a fixed log key and a fixed witness key, and both verifier-key
//! parsers. Invariants: a parsed note renders back to a note that parses to
//! the same thing, and no note verifies under a key that did not sign it.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sqin_ledger::{
    Checkpoint, CosignatureVerifier, EcdsaNoteVerifier, NoteVerifier, SignedCheckpoint,
};

/// The log key and the witness key of the committed seed notes.
const LOG_VKEY: &str = include_str!("../fixtures/log.vkey");
const WITNESS_VKEY: &str = include_str!("../fixtures/witness.vkey");
const ORIGIN: &str = "fuzz.example/ledger";

fn keys() -> &'static (EcdsaNoteVerifier, CosignatureVerifier) {
    static K: OnceLock<(EcdsaNoteVerifier, CosignatureVerifier)> = OnceLock::new();
    K.get_or_init(|| {
        (
            EcdsaNoteVerifier::from_vkey(LOG_VKEY.trim()).expect("log vkey"),
            CosignatureVerifier::from_vkey(WITNESS_VKEY.trim()).expect("witness vkey"),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (log, witness) = keys();
    let _ = Checkpoint::parse_body(text);
    let _ = EcdsaNoteVerifier::from_vkey(text);
    let _ = CosignatureVerifier::from_vkey(text);
    let Ok(note) = SignedCheckpoint::parse(text) else {
        return;
    };
    let rendered = note.to_note_text();
    let again = SignedCheckpoint::parse(&rendered).expect("a rendered note parses");
    assert_eq!(again, note, "render/parse is not a round trip");
    assert_eq!(
        Checkpoint::parse_body(&note.checkpoint().body_text()).as_ref(),
        Ok(note.checkpoint()),
    );
    if let Ok(cp) = note.verify(ORIGIN, log) {
        assert_eq!(cp.origin, ORIGIN);
        assert!(note
            .signatures()
            .iter()
            .any(|s| s.key_name == log.key_name() && s.key_id == log.key_id()));
    }
    if note.verify(ORIGIN, witness).is_ok() {
        let sig = note
            .signatures()
            .iter()
            .find(|s| s.key_id == witness.key_id())
            .expect("a cosignature verified");
        assert!(CosignatureVerifier::timestamp(&sig.signature).is_some());
    }
});
