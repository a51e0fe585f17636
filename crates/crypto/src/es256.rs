use crate::{b64url, sha256, CryptoError, PublicJwk};
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING,
};

/// An ES256 (ECDSA P-256, SHA-256) signing key with its key id.
///
/// The parsed ring key pair is kept for the key's lifetime: parsing PKCS#8
/// costs about as much as a signature, so re-parsing per token (as generic JWT
/// libraries do) would halve the token endpoint's throughput.
pub struct Es256KeyPair {
    kid: String,
    pkcs8: Vec<u8>,
    pair: EcdsaKeyPair,
    rng: SystemRandom,
}

impl Es256KeyPair {
    pub fn generate() -> Result<Self, CryptoError> {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| CryptoError::Random)?;
        Self::from_pkcs8(doc.as_ref())
    }

    /// Loads a key; its `kid` is the RFC 7638 thumbprint of the public key, so
    /// the id is derived, never chosen, and two nodes always agree on it.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, CryptoError> {
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &rng)
            .map_err(|_| CryptoError::InvalidKey("not a P-256 PKCS#8 key"))?;
        let (x, y) = split_point(pair.public_key().as_ref())?;
        let thumbprint_input = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            b64url(x),
            b64url(y)
        );
        let kid = b64url(&sha256(thumbprint_input.as_bytes()));
        Ok(Self {
            kid,
            pkcs8: pkcs8.to_vec(),
            pair,
            rng,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The private key, only to be sealed under the key-encryption key.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The uncompressed public point (0x04 || x || y).
    pub fn public_key_bytes(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    /// A raw 64-byte `r || s` signature, the JWS form of ES256 (RFC 7518 3.4).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let sig = self
            .pair
            .sign(&self.rng, message)
            .map_err(|_| CryptoError::Random)?;
        Ok(sig.as_ref().to_vec())
    }

    pub fn public_jwk(&self) -> PublicJwk {
        // The point was validated when the key was loaded.
        let (x, y) = split_point(self.public_key_bytes()).unwrap_or((&[], &[]));
        PublicJwk {
            kty: "EC".into(),
            crv: Some("P-256".into()),
            x: Some(b64url(x)),
            y: Some(b64url(y)),
            n: None,
            e: None,
            kid: self.kid.clone(),
            use_: "sig".into(),
            alg: "ES256".into(),
        }
    }
}

impl std::fmt::Debug for Es256KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Es256KeyPair")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn split_point(point: &[u8]) -> Result<(&[u8], &[u8]), CryptoError> {
    match point {
        [0x04, rest @ ..] if rest.len() == 64 => Ok(rest.split_at(32)),
        _ => Err(CryptoError::InvalidKey("not an uncompressed P-256 point")),
    }
}

/// Checks a raw `r || s` ES256 signature against an uncompressed public point.
pub fn verify_es256(point: &[u8], message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
        .verify(message, signature)
        .map_err(|_| CryptoError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_stable_kid() {
        let key = Es256KeyPair::generate().unwrap();
        let again = Es256KeyPair::from_pkcs8(key.pkcs8()).unwrap();
        assert_eq!(key.kid(), again.kid());
        let sig = key.sign(b"hello").unwrap();
        assert_eq!(sig.len(), 64);
        let point = key.public_jwk().point().unwrap();
        verify_es256(&point, b"hello", &sig).unwrap();
        assert!(verify_es256(&point, b"hellO", &sig).is_err());
        let other = Es256KeyPair::generate().unwrap();
        assert_ne!(other.kid(), key.kid());
    }
}
