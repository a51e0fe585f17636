use ring::rand::SystemRandom;
use ring::signature::{
    RsaEncoding, RsaKeyPair, RsaPublicKeyComponents, RSA_PKCS1_SHA256, RSA_PSS_SHA256,
};

use crate::{b64url, sha256, CryptoError, PublicJwk, SigningAlg};

/// The size of the RSA keys sqin makes: 2048 bits, the minimum of RFC 7518
/// 3.3 and 3.5, which every relying-party library accepts.
pub const RSA_BITS: usize = 2048;

/// An RSA signing key for RS256 (RSASSA-PKCS1-v1_5) or PS256 (RSASSA-PSS),
/// both with SHA-256, with its RFC 7638 key id. One key serves one
/// algorithm: the JWKS names it in `alg`, and a token under the other
/// algorithm does not verify with it.
///
/// Made with the `rsa` crate (ring cannot generate RSA keys); parsed and
/// used by ring, whose RSA signing is constant-time, so the `rsa` crate
/// never performs a private-key operation.
pub struct RsaSigningKey {
    kid: String,
    alg: SigningAlg,
    pkcs8: Vec<u8>,
    pair: RsaKeyPair,
    rng: SystemRandom,
}

impl RsaSigningKey {
    /// A new [`RSA_BITS`] key for `alg` (RS256 or PS256).
    pub fn generate(alg: SigningAlg) -> Result<Self, CryptoError> {
        use rsa::pkcs8::EncodePrivateKey;
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, RSA_BITS)
            .map_err(|_| CryptoError::Random)?;
        let der = key
            .to_pkcs8_der()
            .map_err(|_| CryptoError::InvalidKey("an RSA key that cannot be encoded"))?;
        Self::from_pkcs8(alg, der.as_bytes())
    }

    /// Loads a key for `alg`; its `kid` is the RFC 7638 thumbprint of the
    /// public key.
    pub fn from_pkcs8(alg: SigningAlg, pkcs8: &[u8]) -> Result<Self, CryptoError> {
        if !alg.is_rsa() {
            return Err(CryptoError::InvalidKey("an RSA key signs RS256 or PS256"));
        }
        let pair = RsaKeyPair::from_pkcs8(pkcs8)
            .map_err(|_| CryptoError::InvalidKey("not an RSA PKCS#8 key of 2048 bits or more"))?;
        let public = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
        let thumbprint_input = format!(
            r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
            b64url(&public.e),
            b64url(&public.n)
        );
        Ok(Self {
            kid: b64url(&sha256(thumbprint_input.as_bytes())),
            alg,
            pkcs8: pkcs8.to_vec(),
            pair,
            rng: SystemRandom::new(),
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    /// The private key, only to be sealed under the key-encryption key.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The signature, as long as the modulus (RFC 7518 3.3, 3.5; PSS with a
    /// salt as long as the hash).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let padding: &'static dyn RsaEncoding = match self.alg {
            SigningAlg::Ps256 => &RSA_PSS_SHA256,
            _ => &RSA_PKCS1_SHA256,
        };
        let mut signature = vec![0; self.pair.public().modulus_len()];
        self.pair
            .sign(padding, &self.rng, message, &mut signature)
            .map_err(|_| CryptoError::Random)?;
        Ok(signature)
    }

    pub fn public_jwk(&self) -> PublicJwk {
        let public = RsaPublicKeyComponents::<Vec<u8>>::from(self.pair.public());
        PublicJwk {
            kty: "RSA".into(),
            crv: None,
            x: None,
            y: None,
            n: Some(b64url(&public.n)),
            e: Some(b64url(&public.e)),
            kid: self.kid.clone(),
            use_: "sig".into(),
            alg: self.alg.as_str().into(),
        }
    }
}

impl std::fmt::Debug for RsaSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaSigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}
