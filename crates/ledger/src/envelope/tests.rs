use super::*;
use crate::hash::leaf_hash;

#[test]
fn seal_open_round_trip() {
    let key = DataKey::generate().unwrap();
    for plaintext in [&b""[..], b"x", &[7u8; 1000][..]] {
        let sealed = seal(&key, plaintext, b"consent/v1").unwrap();
        assert_eq!(sealed.len(), plaintext.len() + SEAL_OVERHEAD);
        assert_eq!(open(&key, &sealed, b"consent/v1").unwrap(), plaintext);
    }
}

#[test]
fn nonces_are_fresh() {
    let key = DataKey::generate().unwrap();
    let a = seal(&key, b"same", b"").unwrap();
    let b = seal(&key, b"same", b"").unwrap();
    assert_ne!(a, b);
}

#[test]
fn wrong_key_aad_or_tampering_fails() {
    let key = DataKey::generate().unwrap();
    let other = DataKey::generate().unwrap();
    let sealed = seal(&key, b"national id 123", b"citizen/42").unwrap();
    assert_eq!(
        open(&other, &sealed, b"citizen/42"),
        Err(LedgerError::DecryptionFailed)
    );
    assert_eq!(
        open(&key, &sealed, b"citizen/43"),
        Err(LedgerError::DecryptionFailed)
    );
    for i in 0..sealed.len() {
        let mut bad = sealed.clone();
        bad[i] ^= 0x80;
        assert!(open(&key, &bad, b"citizen/42").is_err(), "byte {i}");
    }
    assert!(open(&key, &sealed[..SEAL_OVERHEAD - 1], b"citizen/42").is_err());
    assert!(open(&key, &sealed[..sealed.len() - 1], b"citizen/42").is_err());
    assert!(open(&key, &[], b"").is_err());
}

#[test]
fn wrap_unwrap_data_key() {
    let kek = [9u8; KEY_LEN];
    let key = DataKey::generate().unwrap();
    let wrapped = wrap_data_key(&kek, &key, "citizen/42/v1").unwrap();
    assert_eq!(wrapped.len(), KEY_LEN + SEAL_OVERHEAD);
    let unwrapped = unwrap_data_key(&kek, &wrapped, "citizen/42/v1").unwrap();
    assert_eq!(unwrapped.as_bytes(), key.as_bytes());
    // Bound to its label and KEK.
    assert!(unwrap_data_key(&kek, &wrapped, "citizen/43/v1").is_err());
    assert!(unwrap_data_key(&[8u8; KEY_LEN], &wrapped, "citizen/42/v1").is_err());
    // A wrapped blob of the wrong length never yields a key.
    let short = seal_with(&kek, &[1u8; 16], b"citizen/42/v1").unwrap();
    assert!(unwrap_data_key(&kek, &short, "citizen/42/v1").is_err());
}

#[test]
fn debug_is_redacted() {
    let key = DataKey::from_bytes([0xab; KEY_LEN]);
    let shown = format!("{key:?}");
    assert_eq!(shown, "DataKey(<redacted>)");
    assert!(!shown.contains("171"));
}

#[test]
fn shredding_keeps_the_ledger_verifiable() {
    // The leaf commits to ciphertext; destroying the wrapped key loses the
    // plaintext but not the hash.
    let kek = [1u8; KEY_LEN];
    let key = DataKey::generate().unwrap();
    let sealed = seal(&key, b"name: Jane Doe", b"entry/0").unwrap();
    let leaf = leaf_hash(&sealed);
    let wrapped = wrap_data_key(&kek, &key, "citizen/7").unwrap();
    assert_eq!(
        open(
            &unwrap_data_key(&kek, &wrapped, "citizen/7").unwrap(),
            &sealed,
            b"entry/0"
        )
        .unwrap(),
        b"name: Jane Doe"
    );
    drop((key, wrapped)); // erasure request: every copy of the key is destroyed
    assert_eq!(leaf_hash(&sealed), leaf);
    assert!(open(&DataKey::generate().unwrap(), &sealed, b"entry/0").is_err());
}
