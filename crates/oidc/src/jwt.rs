//! Compact JWS (RFC 7515) signing and verification of sqin's own tokens
//! (ES256, PS256 and RS256) over ring.
//!
//! Hand-written on purpose for sqin's own tokens: the signing key stays parsed
//! for the key's lifetime (a generic JWT library re-parses PKCS#8 on every
//! signature, doubling the cost of the token endpoint), and verification
//! accepts only a `kid` of sqin's key ring, under the one algorithm that key
//! is published for (a header naming another is refused), so there is no
//! algorithm confusion to get wrong. Client assertions from other parties
//! are verified with `jsonwebtoken` instead.
use serde_json::{Map, Value};
use sqin_crypto::{b64url, b64url_decode, sha256, SigningKey};

use crate::keys::KeyRing;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("not a compact JWS")]
    Malformed,
    #[error("unsupported algorithm or unknown key")]
    UnknownKey,
    #[error("signature does not verify")]
    BadSignature,
    #[error("wrong token type")]
    WrongType,
    #[error("signing failed")]
    Signing,
}

/// Signs `claims` as a compact JWS with header `{alg, kid, typ}`, `alg`
/// being the key's.
pub fn sign(key: &SigningKey, typ: &str, claims: &Value) -> Result<String, JwtError> {
    let header = format!(
        r#"{{"alg":"{}","kid":"{}","typ":"{}"}}"#,
        key.alg(),
        key.kid(),
        typ
    );
    let payload = serde_json::to_vec(claims).map_err(|_| JwtError::Signing)?;
    let mut token = b64url(header.as_bytes());
    token.push('.');
    token.push_str(&b64url(&payload));
    let signature = key.sign(token.as_bytes()).map_err(|_| JwtError::Signing)?;
    token.push('.');
    token.push_str(&b64url(&signature));
    Ok(token)
}

/// Verifies a token signed by one of the key ring's keys and returns its
/// claims. Expiry and audience are the caller's to check: they differ between
/// an access token at userinfo and an `id_token_hint` at logout.
pub fn verify(
    ring: &KeyRing,
    token: &str,
    expected_typ: Option<&str>,
) -> Result<Map<String, Value>, JwtError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let header: Value = serde_json::from_slice(&b64url_decode(h).ok_or(JwtError::Malformed)?)
        .map_err(|_| JwtError::Malformed)?;
    if header.get("crit").is_some() {
        return Err(JwtError::Malformed);
    }
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or(JwtError::UnknownKey)?;
    let key = ring.verifying_key(kid).ok_or(JwtError::UnknownKey)?;
    // The key's algorithm, never one the header chooses.
    if header.get("alg").and_then(Value::as_str) != Some(key.alg().as_str()) {
        return Err(JwtError::UnknownKey);
    }
    let signature = b64url_decode(s).ok_or(JwtError::Malformed)?;
    let signed_len = h.len() + 1 + p.len();
    let signed = token.get(..signed_len).ok_or(JwtError::Malformed)?;
    key.verify(signed.as_bytes(), &signature)
        .map_err(|_| JwtError::BadSignature)?;
    if let Some(typ) = expected_typ {
        let actual = header.get("typ").and_then(Value::as_str).unwrap_or("");
        // RFC 9068 4: "at+jwt", also accepted with the "application/" prefix.
        let actual = actual.strip_prefix("application/").unwrap_or(actual);
        if !actual.eq_ignore_ascii_case(typ) {
            return Err(JwtError::WrongType);
        }
    }
    let claims: Value = serde_json::from_slice(&b64url_decode(p).ok_or(JwtError::Malformed)?)
        .map_err(|_| JwtError::Malformed)?;
    match claims {
        Value::Object(map) => Ok(map),
        _ => Err(JwtError::Malformed),
    }
}

/// `at_hash` (OIDC Core 3.1.3.6): the left half of SHA-256 of the access
/// token (the hash of ES256, PS256 and RS256 alike).
pub fn at_hash(access_token: &str) -> String {
    let digest = sha256(access_token.as_bytes());
    b64url(digest.get(..16).unwrap_or(&digest))
}
