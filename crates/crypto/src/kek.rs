use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};

use crate::{random_bytes, CryptoError};

/// The key-encryption key: the one secret an operator must protect on disk.
/// Everything else secret that sqin keeps (signing keys, the pairwise-subject
/// key, the enrolment-code key) is stored in the database sealed under it, so
/// several stateless nodes share those keys through the database while a copy
/// of the database alone reveals none of them.
pub struct KeyEncryptionKey(LessSafeKey);

impl KeyEncryptionKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let key = UnboundKey::new(&AES_256_GCM, bytes)
            .map_err(|_| CryptoError::InvalidKey("a key-encryption key is 32 bytes"))?;
        Ok(Self(LessSafeKey::new(key)))
    }

    /// Seals `plaintext`; `context` (for example `signing-key:<kid>`) is bound as
    /// associated data so a sealed value cannot be moved to another row.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let nonce_bytes = random_bytes::<NONCE_LEN>()?;
        let mut buffer = plaintext.to_vec();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(context.as_bytes()),
                &mut buffer,
            )
            .map_err(|_| CryptoError::Decrypt)?;
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&buffer);
        Ok(out)
    }

    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < NONCE_LEN {
            return Err(CryptoError::Decrypt);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Decrypt)?;
        let mut buffer = body.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buffer)
            .map_err(|_| CryptoError::Decrypt)?;
        Ok(plain.to_vec())
    }
}

impl std::fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyEncryptionKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_context_binding() {
        let kek = KeyEncryptionKey::from_bytes(&[7u8; 32]).unwrap();
        let sealed = kek.seal("signing-key:a", b"secret").unwrap();
        assert_eq!(kek.open("signing-key:a", &sealed).unwrap(), b"secret");
        assert!(kek.open("signing-key:b", &sealed).is_err());
        let other = KeyEncryptionKey::from_bytes(&[8u8; 32]).unwrap();
        assert!(other.open("signing-key:a", &sealed).is_err());
        assert!(KeyEncryptionKey::from_bytes(&[1u8; 16]).is_err());
    }
}
