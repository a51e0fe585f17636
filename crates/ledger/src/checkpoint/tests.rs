use super::*;
use crate::hash::leaf_hash;

const ORIGIN: &str = "sqin.example.gov/consent-ledger";

fn signer(name: &str) -> EcdsaNoteSigner {
    let pkcs8 = EcdsaNoteSigner::generate_pkcs8().unwrap();
    EcdsaNoteSigner::from_pkcs8(name, &pkcs8).unwrap()
}

fn checkpoint() -> Checkpoint {
    Checkpoint {
        origin: ORIGIN.to_owned(),
        size: 5,
        root: leaf_hash(b"root"),
    }
}

fn signed() -> (EcdsaNoteSigner, SignedCheckpoint) {
    let s = signer(ORIGIN);
    let note = SignedCheckpoint::sign(checkpoint(), &s).unwrap();
    (s, note)
}

fn expect_bad_signature(text: &str, origin: &str, verifier: &EcdsaNoteVerifier) {
    let parsed = SignedCheckpoint::parse(text).unwrap();
    assert!(
        matches!(
            parsed.verify(origin, verifier),
            Err(LedgerError::BadSignature { .. })
        ),
        "{text}"
    );
}

#[test]
fn body_text_has_the_c2sp_layout() {
    let cp = Checkpoint {
        origin: "example.com/log".into(),
        size: 20852163,
        root: B64
            .decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
            .unwrap()
            .try_into()
            .unwrap(),
    };
    assert_eq!(
        cp.body_text(),
        "example.com/log\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    );
    assert_eq!(Checkpoint::parse_body(&cp.body_text()).unwrap(), cp);
}

#[test]
fn render_parse_round_trip_and_verify() {
    let (s, note) = signed();
    let text = note.to_note_text();
    let body = checkpoint().body_text();
    assert!(text.starts_with(&body));
    let sig_line = text.strip_prefix(&format!("{body}\n")).unwrap();
    assert!(sig_line.starts_with(&format!("\u{2014} {ORIGIN} ")));
    assert!(sig_line.ends_with('\n'));
    assert_eq!(sig_line.matches('\n').count(), 1);

    let parsed = SignedCheckpoint::parse(&text).unwrap();
    assert_eq!(parsed, note);
    assert_eq!(parsed.to_note_text(), text);
    assert_eq!(parsed.to_string(), text);
    assert_eq!(text.parse::<SignedCheckpoint>().unwrap(), note);
    assert_eq!(parsed.signatures().len(), 1);
    assert_eq!(parsed.signatures()[0].key_id, s.key_id());

    let verifier = s.verifier().unwrap();
    assert_eq!(parsed.verify(ORIGIN, &verifier).unwrap(), &checkpoint());
}

#[test]
fn empty_tree_checkpoint_round_trips() {
    let s = signer("log");
    let cp = Checkpoint {
        origin: "log".into(),
        size: 0,
        root: crate::EMPTY_ROOT,
    };
    let note = SignedCheckpoint::sign(cp.clone(), &s).unwrap();
    let parsed = SignedCheckpoint::parse(&note.to_note_text()).unwrap();
    assert_eq!(parsed.verify("log", &s.verifier().unwrap()).unwrap(), &cp);
}

#[test]
fn tampering_is_rejected() {
    let (s, note) = signed();
    let verifier = s.verifier().unwrap();
    let text = note.to_note_text();

    // Size.
    expect_bad_signature(&text.replacen("\n5\n", "\n6\n", 1), ORIGIN, &verifier);
    // Root: another well-formed root.
    let old_root = B64.encode(checkpoint().root);
    let new_root = B64.encode(leaf_hash(b"other"));
    expect_bad_signature(&text.replacen(&old_root, &new_root, 1), ORIGIN, &verifier);
    // Origin, checked against the forged origin so only the signature can fail.
    let forged = text.replacen(&format!("{ORIGIN}\n"), "evil.example/consent-ledger\n", 1);
    expect_bad_signature(&forged, "evil.example/consent-ledger", &verifier);
    // Signature bytes: flip one bit in each byte position after the key id.
    let mut sig = note.signatures()[0].clone();
    for i in 0..sig.signature.len() {
        sig.signature[i] ^= 0x01;
        let mut forged = note.clone();
        forged.signatures = vec![sig.clone()];
        expect_bad_signature(&forged.to_note_text(), ORIGIN, &verifier);
        sig.signature[i] ^= 0x01;
    }
}

#[test]
fn origin_must_match() {
    let (s, note) = signed();
    assert_eq!(
        note.verify("other.example/log", &s.verifier().unwrap()),
        Err(LedgerError::OriginMismatch {
            expected: "other.example/log".into(),
            found: ORIGIN.into(),
        })
    );
}

#[test]
fn unknown_signatures_are_ignored_but_the_trusted_one_is_required() {
    let (log, mut note) = signed();
    let witness = signer("witness.example/w1");
    note.add_signature(&witness).unwrap();
    let text = note.to_note_text();
    let parsed = SignedCheckpoint::parse(&text).unwrap();
    assert_eq!(parsed.signatures().len(), 2);
    parsed.verify(ORIGIN, &log.verifier().unwrap()).unwrap();
    parsed.verify(ORIGIN, &witness.verifier().unwrap()).unwrap();

    // A garbage signature from a key nobody knows changes nothing.
    let stranger = NoteSignature {
        key_name: "stranger.example".into(),
        key_id: [1, 2, 3, 4],
        signature: vec![0; 64],
    };
    let mut with_garbage = parsed.clone();
    with_garbage.signatures.insert(0, stranger);
    with_garbage
        .verify(ORIGIN, &log.verifier().unwrap())
        .unwrap();

    // Same name, different key: its id differs, so the note has no signature
    // from it, which must be rejected.
    let impostor = signer(ORIGIN);
    assert!(matches!(
        parsed.verify(ORIGIN, &impostor.verifier().unwrap()),
        Err(LedgerError::SignatureMissing { .. })
    ));

    // A line claiming the trusted name and id but signed by another key.
    let mut forged = SignedCheckpoint::sign(checkpoint(), &impostor).unwrap();
    forged.signatures[0].key_id = log.key_id();
    assert_eq!(
        forged.verify(ORIGIN, &log.verifier().unwrap()),
        Err(LedgerError::BadSignature {
            key_name: ORIGIN.into()
        })
    );
}

#[test]
fn malformed_notes_are_rejected_precisely() {
    let (_, note) = signed();
    let good = note.to_note_text();
    let body = checkpoint().body_text();
    let sig_line = good.strip_prefix(&format!("{body}\n")).unwrap().to_owned();
    let sig_b64 = sig_line.rsplit_once(' ').unwrap().1.trim_end().to_owned();
    let root_b64 = B64.encode(checkpoint().root);

    let cases: Vec<(String, &str)> = vec![
        (String::new(), "no blank line"),
        (body.clone(), "no blank line"),
        (format!("{body}\n"), "no signature lines"),
        (format!("{body}\n{sig_line}\n"), "no signature lines"),
        (
            good.strip_suffix('\n').unwrap().to_owned(),
            "must end with a newline",
        ),
        (format!("{body}\n-- {ORIGIN} {sig_b64}\n"), "em dash"),
        (format!("{body}\n\u{2014}  {sig_b64}\n"), "key name"),
        (format!("{body}\n\u{2014} a+b {sig_b64}\n"), "key name"),
        (format!("{body}\n\u{2014} {ORIGIN}\n"), "expected"),
        (
            format!("{body}\n\u{2014} {ORIGIN} {sig_b64} extra\n"),
            "extra field",
        ),
        (format!("{body}\n\u{2014} {ORIGIN} not*base64\n"), "base64"),
        (
            format!(
                "{body}\n\u{2014} {ORIGIN} {}\n",
                B64.encode([1, 2, 3, 4, 5]).trim_end_matches('=')
            ),
            "base64",
        ),
        (
            format!("{body}\n\u{2014} {ORIGIN} {}\n", B64.encode([1, 2, 3, 4])),
            "no signature bytes",
        ),
        (
            format!("{body}\n\u{2014} {ORIGIN} {}\n", B64.encode([1, 2, 3])),
            "shorter than its 4-byte key id",
        ),
        (good.replacen('\n', "\r\n", 1), "U+000D"),
        (good.replacen(ORIGIN, "tab\there", 1), "U+0009"),
        (format!("{good}\n"), "no signature lines"),
        (
            format!("{ORIGIN}\n5\n{root_b64}\nextension\n\n{sig_line}"),
            "extension lines",
        ),
        (format!("{ORIGIN}\n5\n\n{sig_line}"), "missing root hash"),
        (
            format!("\n5\n{root_b64}\n\n{sig_line}"),
            "origin line is empty",
        ),
        (
            format!("{ORIGIN}\n05\n{root_b64}\n\n{sig_line}"),
            "leading zero",
        ),
        (
            format!("{ORIGIN}\n+5\n{root_b64}\n\n{sig_line}"),
            "not a decimal",
        ),
        (
            format!("{ORIGIN}\n-5\n{root_b64}\n\n{sig_line}"),
            "not a decimal",
        ),
        (format!("{ORIGIN}\n\n{root_b64}\n\n{sig_line}"), "tree size"),
        (
            format!("{ORIGIN}\n18446744073709551616\n{root_b64}\n\n{sig_line}"),
            "64 bits",
        ),
        (
            format!("{ORIGIN}\n5\n{}\n\n{sig_line}", B64.encode([0u8; 31])),
            "31 bytes",
        ),
        (
            format!(
                "{ORIGIN}\n5\n{}\n\n{sig_line}",
                root_b64.trim_end_matches('=')
            ),
            "canonical base64",
        ),
        (
            format!("{body}\n{}", sig_line.repeat(MAX_SIGNATURES + 1)),
            "too many",
        ),
    ];
    for (text, why) in cases {
        let err = SignedCheckpoint::parse(&text).expect_err(&text);
        assert!(
            matches!(
                err,
                LedgerError::MalformedNote(_) | LedgerError::MalformedCheckpoint(_)
            ),
            "{text:?}: {err}"
        );
        assert!(
            err.to_string().contains(why),
            "{text:?}: expected {why:?} in {err}"
        );
    }
    assert!(SignedCheckpoint::parse(&"x".repeat(MAX_NOTE_BYTES + 1)).is_err());
    // The limit the spec requires us to accept.
    let sixteen = format!("{body}\n{}", sig_line.repeat(16));
    assert_eq!(
        SignedCheckpoint::parse(&sixteen)
            .unwrap()
            .signatures()
            .len(),
        16
    );
}

#[test]
fn signing_refuses_unrenderable_input() {
    let s = signer("log");
    for origin in ["", "two\nlines", "bell\u{7}"] {
        let cp = Checkpoint {
            origin: origin.into(),
            size: 1,
            root: [0; 32],
        };
        assert!(SignedCheckpoint::sign(cp, &s).is_err(), "{origin:?}");
    }
    let pkcs8 = EcdsaNoteSigner::generate_pkcs8().unwrap();
    for name in ["", "has space", "has+plus", "tab\tname", "nbsp\u{a0}name"] {
        assert!(
            matches!(
                EcdsaNoteSigner::from_pkcs8(name, &pkcs8),
                Err(LedgerError::InvalidKeyName(_))
            ),
            "{name:?}"
        );
    }
    assert!(matches!(
        EcdsaNoteSigner::from_pkcs8("log", b"not a key"),
        Err(LedgerError::InvalidKey(_))
    ));
    assert!(EcdsaNoteVerifier::new("log", &[4; 64]).is_err());
    assert!(EcdsaNoteVerifier::new("log", &[2; 65]).is_err());
}

#[test]
fn vkey_round_trip() {
    let s = signer("sqin.example.gov/log");
    let vkey = s.vkey();
    assert!(vkey.starts_with("sqin.example.gov/log+"));
    let verifier = EcdsaNoteVerifier::from_vkey(&vkey).unwrap();
    assert_eq!(verifier, s.verifier().unwrap());
    assert_eq!(verifier.vkey(), vkey);
    assert_eq!(verifier.public_key(), s.public_key());

    let (name, rest) = vkey.split_once('+').unwrap();
    let (id, key) = rest.split_once('+').unwrap();
    let wrong_id = format!(
        "{name}+{:08x}+{key}",
        u32::from_str_radix(id, 16).unwrap() ^ 1
    );
    assert!(EcdsaNoteVerifier::from_vkey(&wrong_id).is_err());
    assert!(EcdsaNoteVerifier::from_vkey(&format!("{name}+{id}")).is_err());
    assert!(EcdsaNoteVerifier::from_vkey(&format!("{name}+{id}+AQ==")).is_err());
}

// Generated with OpenSSL 3.0 (independently of ring):
//   openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 | openssl pkcs8 -topk8 -nocrypt -outform DER
//   openssl pkey -pubout -outform DER | sha256sum        -> key id 72738b07
//   openssl dgst -sha256 -sign key body.txt              -> the signature below
const KAT_PKCS8: &str = "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420641455030d84b7e134cdcee58c3554135a002fbd7e7f086b0e7c3bcf8616218fa144034200040a986da38f83c1bbfd6f983b9e05c5bc6d140151310ba56eab5b5634e73e35a7220ced7a7c76857d006c528c558166f9eca0245f9cfc77f9ddaff863c9b7064f";
const KAT_SPKI: &str = "3059301306072a8648ce3d020106082a8648ce3d030107034200040a986da38f83c1bbfd6f983b9e05c5bc6d140151310ba56eab5b5634e73e35a7220ced7a7c76857d006c528c558166f9eca0245f9cfc77f9ddaff863c9b7064f";
const KAT_NOTE: &str = "example.gov/kat-log\n7\n3dZ4ee0kE8Ne6szfoKmVlWOU4a0mOS8zsRtTmB2qYOc=\n\n\u{2014} example.gov/kat-log cnOLBzBFAiB7SG0JTGnxEqd55wgBB0ffmq5DSI8FjG7DhIdelbXTTAIhAIK1+4AM1dzaQHWd18egglSyLMi/cB/qv1rKOX2hHjoT\n";
const KAT_VKEY: &str = "example.gov/kat-log+72738b07+AjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABAqYbaOPg8G7/W+YO54FxbxtFAFRMQulbqtbVjTnPjWnIgztenx2hX0AbFKMVYFm+eygJF+c/Hf53a/4Y8m3Bk8=";

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn known_answer_interoperates_with_openssl() {
    let spki = unhex(KAT_SPKI);
    assert_eq!(&spki[..26], &P256_SPKI_PREFIX);
    let s = EcdsaNoteSigner::from_pkcs8("example.gov/kat-log", &unhex(KAT_PKCS8)).unwrap();
    assert_eq!(s.public_key(), &spki[26..]);
    assert_eq!(s.key_id(), [0x72, 0x73, 0x8b, 0x07]);
    assert_eq!(s.vkey(), KAT_VKEY);

    let verifier = EcdsaNoteVerifier::from_vkey(KAT_VKEY).unwrap();
    let note = SignedCheckpoint::parse(KAT_NOTE).unwrap();
    let cp = note.verify("example.gov/kat-log", &verifier).unwrap();
    assert_eq!(cp.size, 7);
    assert_eq!(note.to_note_text(), KAT_NOTE);

    // And what ring signs, OpenSSL-style verifiers accept: at least our own
    // verifier, via the vkey published for that key.
    let mine = SignedCheckpoint::sign(cp.clone(), &s).unwrap();
    mine.verify("example.gov/kat-log", &verifier).unwrap();
}
