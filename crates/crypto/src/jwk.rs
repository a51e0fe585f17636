use serde::{Deserialize, Serialize};

use crate::{b64url_decode, SigningAlg, VerifyingKey};

/// A public key in JWK form (RFC 7517), as published at the JWKS endpoint:
/// an EC key (`crv`, `x`, `y`) or an RSA key (`n`, `e`), always with its
/// `kid`, `use` and `alg`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicJwk {
    pub kty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    pub kid: String,
    #[serde(rename = "use")]
    pub use_: String,
    pub alg: String,
}

impl PublicJwk {
    /// The uncompressed point for ring, if the JWK is a well-formed P-256 key.
    pub fn point(&self) -> Option<Vec<u8>> {
        if self.kty != "EC" || self.crv.as_deref() != Some("P-256") {
            return None;
        }
        let x = b64url_decode(self.x.as_deref()?)?;
        let y = b64url_decode(self.y.as_deref()?)?;
        if x.len() != 32 || y.len() != 32 {
            return None;
        }
        let mut point = vec![0x04];
        point.extend_from_slice(&x);
        point.extend_from_slice(&y);
        Some(point)
    }

    /// The key that checks signatures made under this JWK's `alg`, if the
    /// JWK is a well-formed key of a kind that `alg` uses (an EC P-256 key
    /// for ES256, an RSA key for RS256 and PS256). The algorithm is the
    /// key's, so a token's header can never choose another one.
    pub fn verifying_key(&self) -> Option<VerifyingKey> {
        let alg = SigningAlg::from_name(&self.alg)?;
        match alg {
            SigningAlg::Es256 => self.point().map(VerifyingKey::es256),
            SigningAlg::Ps256 | SigningAlg::Rs256 => {
                if self.kty != "RSA" {
                    return None;
                }
                let n = b64url_decode(self.n.as_deref()?)?;
                let e = b64url_decode(self.e.as_deref()?)?;
                VerifyingKey::rsa(alg, n, e)
            }
        }
    }
}
