use ring::signature::{
    RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256, RSA_PSS_2048_8192_SHA256,
};
use serde::{Deserialize, Serialize};

use crate::{verify_es256, CryptoError, Es256KeyPair, PublicJwk, RsaSigningKey};

/// A JWS algorithm sqin signs its tokens with (RFC 7518 3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningAlg {
    /// ECDSA P-256 with SHA-256: sqin's own tokens, and the default for the
    /// relying parties sqin's tools register.
    #[serde(rename = "ES256")]
    Es256,
    /// RSASSA-PSS with SHA-256.
    #[serde(rename = "PS256")]
    Ps256,
    /// RSASSA-PKCS1-v1_5 with SHA-256: the algorithm OpenID Connect Core
    /// 15.1 requires a provider to support, and Dynamic Registration's
    /// default for `id_token_signed_response_alg`.
    #[serde(rename = "RS256")]
    Rs256,
}

impl SigningAlg {
    /// Every algorithm, in the order discovery lists them. Each has its own
    /// keys in the key ring.
    pub const ALL: [SigningAlg; 3] = [Self::Es256, Self::Ps256, Self::Rs256];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Ps256 => "PS256",
            Self::Rs256 => "RS256",
        }
    }

    /// The algorithm named `name` (its JWA name, exactly), if sqin signs
    /// with it.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }

    /// Whether its keys are RSA keys.
    pub fn is_rsa(self) -> bool {
        matches!(self, Self::Ps256 | Self::Rs256)
    }
}

impl std::fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A token signing key of any of [`SigningAlg::ALL`], parsed once for its
/// lifetime.
#[derive(Debug)]
pub enum SigningKey {
    Es256(Es256KeyPair),
    Rsa(RsaSigningKey),
}

impl SigningKey {
    /// A new key for `alg` (an RSA key takes a fraction of a second).
    pub fn generate(alg: SigningAlg) -> Result<Self, CryptoError> {
        match alg {
            SigningAlg::Es256 => Es256KeyPair::generate().map(Self::Es256),
            SigningAlg::Ps256 | SigningAlg::Rs256 => RsaSigningKey::generate(alg).map(Self::Rsa),
        }
    }

    /// Loads a stored key for `alg`.
    pub fn from_pkcs8(alg: SigningAlg, pkcs8: &[u8]) -> Result<Self, CryptoError> {
        match alg {
            SigningAlg::Es256 => Es256KeyPair::from_pkcs8(pkcs8).map(Self::Es256),
            SigningAlg::Ps256 | SigningAlg::Rs256 => {
                RsaSigningKey::from_pkcs8(alg, pkcs8).map(Self::Rsa)
            }
        }
    }

    pub fn alg(&self) -> SigningAlg {
        match self {
            Self::Es256(_) => SigningAlg::Es256,
            Self::Rsa(k) => k.alg(),
        }
    }

    /// The RFC 7638 thumbprint of its public key.
    pub fn kid(&self) -> &str {
        match self {
            Self::Es256(k) => k.kid(),
            Self::Rsa(k) => k.kid(),
        }
    }

    /// The private key, only to be sealed under the key-encryption key.
    pub fn pkcs8(&self) -> &[u8] {
        match self {
            Self::Es256(k) => k.pkcs8(),
            Self::Rsa(k) => k.pkcs8(),
        }
    }

    /// The JWS signature of `message` under [`Self::alg`].
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match self {
            Self::Es256(k) => k.sign(message),
            Self::Rsa(k) => k.sign(message),
        }
    }

    pub fn public_jwk(&self) -> PublicJwk {
        match self {
            Self::Es256(k) => k.public_jwk(),
            Self::Rsa(k) => k.public_jwk(),
        }
    }
}

/// A public key bound to the one algorithm it verifies (from its JWK's
/// `alg`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyingKey {
    alg: SigningAlg,
    material: Material,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Material {
    /// The uncompressed P-256 point.
    Point(Vec<u8>),
    /// Modulus and exponent, big-endian.
    Rsa { n: Vec<u8>, e: Vec<u8> },
}

impl VerifyingKey {
    pub(crate) fn es256(point: Vec<u8>) -> Self {
        Self {
            alg: SigningAlg::Es256,
            material: Material::Point(point),
        }
    }

    pub(crate) fn rsa(alg: SigningAlg, n: Vec<u8>, e: Vec<u8>) -> Option<Self> {
        (alg.is_rsa() && !n.is_empty() && !e.is_empty()).then_some(Self {
            alg,
            material: Material::Rsa { n, e },
        })
    }

    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    /// Checks a JWS signature made under [`Self::alg`].
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        match (&self.material, self.alg) {
            (Material::Point(point), SigningAlg::Es256) => verify_es256(point, message, signature),
            (Material::Rsa { n, e }, SigningAlg::Rs256 | SigningAlg::Ps256) => {
                let params = if self.alg == SigningAlg::Ps256 {
                    &RSA_PSS_2048_8192_SHA256
                } else {
                    &RSA_PKCS1_2048_8192_SHA256
                };
                RsaPublicKeyComponents { n, e }
                    .verify(params, message, signature)
                    .map_err(|_| CryptoError::BadSignature)
            }
            _ => Err(CryptoError::BadSignature),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_algorithm_signs_and_verifies_with_its_published_key_only() {
        let keys: Vec<SigningKey> = SigningAlg::ALL
            .into_iter()
            .map(|alg| SigningKey::generate(alg).unwrap())
            .collect();
        for key in &keys {
            let jwk = key.public_jwk();
            assert_eq!(jwk.alg, key.alg().as_str());
            assert_eq!(jwk.use_, "sig");
            assert_eq!(jwk.kid, key.kid());
            let vk = jwk.verifying_key().unwrap();
            assert_eq!(vk.alg(), key.alg());
            let sig = key.sign(b"hello").unwrap();
            vk.verify(b"hello", &sig).unwrap();
            assert!(vk.verify(b"hellO", &sig).is_err());
            // The same key loads again with the same kid.
            let again = SigningKey::from_pkcs8(key.alg(), key.pkcs8()).unwrap();
            assert_eq!(again.kid(), key.kid());
            assert_eq!(again.public_jwk(), jwk);
            // No other key checks it.
            for other in keys.iter().filter(|k| k.kid() != key.kid()) {
                let other = other.public_jwk().verifying_key().unwrap();
                assert!(other.verify(b"hello", &sig).is_err());
            }
        }
    }

    #[test]
    fn an_rsa_key_verifies_only_under_its_own_padding() {
        let rs = RsaSigningKey::generate(SigningAlg::Rs256).unwrap();
        assert_eq!(rs.public_jwk().n.map(|n| n.len()), Some(342), "2048 bits");
        assert_eq!(rs.public_jwk().e.as_deref(), Some("AQAB"));
        let sig = rs.sign(b"message").unwrap();
        assert_eq!(sig.len(), 256);
        // PKCS#1 v1.5 is deterministic; PSS is salted.
        assert_eq!(sig, rs.sign(b"message").unwrap());
        let mut as_pss = rs.public_jwk();
        as_pss.alg = "PS256".into();
        let pss = as_pss.verifying_key().unwrap();
        assert!(pss.verify(b"message", &sig).is_err());
        let ps = RsaSigningKey::from_pkcs8(SigningAlg::Ps256, rs.pkcs8()).unwrap();
        let salted = ps.sign(b"message").unwrap();
        assert_ne!(salted, ps.sign(b"message").unwrap());
        pss.verify(b"message", &salted).unwrap();
        assert!(rs
            .public_jwk()
            .verifying_key()
            .unwrap()
            .verify(b"message", &salted)
            .is_err());
    }

    #[test]
    fn a_key_of_the_wrong_kind_is_refused() {
        let ec = Es256KeyPair::generate().unwrap();
        assert!(SigningKey::from_pkcs8(SigningAlg::Rs256, ec.pkcs8()).is_err());
        let rsa = RsaSigningKey::generate(SigningAlg::Rs256).unwrap();
        assert!(SigningKey::from_pkcs8(SigningAlg::Es256, rsa.pkcs8()).is_err());
        assert!(RsaSigningKey::from_pkcs8(SigningAlg::Es256, rsa.pkcs8()).is_err());
        let mut jwk = ec.public_jwk();
        jwk.alg = "RS256".into();
        assert!(
            jwk.verifying_key().is_none(),
            "an EC key never checks RS256"
        );
        let mut jwk = rsa.public_jwk();
        jwk.alg = "ES256".into();
        assert!(jwk.verifying_key().is_none());
        jwk.alg = "HS256".into();
        assert!(jwk.verifying_key().is_none());
    }

    #[test]
    fn algorithm_names_are_exact() {
        for alg in SigningAlg::ALL {
            assert_eq!(SigningAlg::from_name(alg.as_str()), Some(alg));
            let json = serde_json::to_string(&alg).unwrap();
            assert_eq!(json, format!("\"{alg}\""));
            assert_eq!(serde_json::from_str::<SigningAlg>(&json).unwrap(), alg);
        }
        for name in ["rs256", "HS256", "none", "ES384", ""] {
            assert_eq!(SigningAlg::from_name(name), None);
        }
    }
}
