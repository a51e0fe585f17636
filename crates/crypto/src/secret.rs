use ring::rand::{SecureRandom, SystemRandom};
use subtle::ConstantTimeEq;

use crate::{b64url, CryptoError};

/// Crockford's base32 symbols, for codes a person types from a letter: 32
/// symbols (5 bits each) with no I, L, O or U, so that on input O can be read as
/// 0 and I or L as 1 ([`normalise_typed_code`]).
pub const ENROLMENT_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Canonical form of a code typed by a person: case, spaces and dashes ignored,
/// look-alike letters mapped to the digits they resemble.
pub fn normalise_typed_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

/// Fills an array with bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| CryptoError::Random)?;
    Ok(out)
}

/// A 256-bit random value in base64url, for codes, refresh tokens and client
/// secrets: long enough that a plain SHA-256 at rest is as good as a slow
/// password hash, and fast enough for the token endpoint's hot path.
pub fn random_token() -> Result<SecretString, CryptoError> {
    Ok(SecretString::new(b64url(&random_bytes::<32>()?)))
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// A secret value held in memory only as long as needed to show it once or
/// check it. `Debug` is redacted and there is no `PartialEq` on purpose.
#[derive(Clone)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself: call only where it must leave the process (shown once
    /// to an operator, sent to a client in a response body).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> HashedSecret {
        HashedSecret(sha256(self.0.as_bytes()))
    }
}

impl std::fmt::Debug for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

/// The SHA-256 of a high-entropy secret, the only form in which sqin stores
/// client secrets, refresh tokens and authorization codes.
#[derive(Clone, Copy)]
pub struct HashedSecret(pub [u8; 32]);

impl HashedSecret {
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; 32] = bytes.try_into().ok()?;
        Some(Self(arr))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Constant-time check of a presented secret against this hash.
    pub fn matches(&self, presented: &str) -> bool {
        let candidate = sha256(presented.as_bytes());
        bool::from(self.0.ct_eq(&candidate))
    }
}

impl std::fmt::Debug for HashedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HashedSecret(..)")
    }
}

/// A key for keyed hashes (HMAC-SHA256): enrolment codes and pairwise subjects.
/// Keyed, so a stolen database alone does not allow an offline search of the
/// small space of typed codes, nor linking a pairwise `sub` to an account.
#[derive(Clone)]
pub struct HmacKey(ring::hmac::Key, [u8; 32]);

impl HmacKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &bytes), bytes)
    }

    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Self::from_bytes(random_bytes::<32>()?))
    }

    /// The raw key, only to be wrapped under the key-encryption key for storage.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.1
    }

    pub fn sign(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut ctx = ring::hmac::Context::with_key(&self.0);
        for part in parts {
            ctx.update(part);
        }
        let tag = ctx.sign();
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }
}

impl std::fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HmacKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_long() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_ne!(a.expose(), b.expose());
        assert_eq!(a.expose().len(), 43);
        assert!(a.hash().matches(a.expose()));
        assert!(!a.hash().matches(b.expose()));
        assert_eq!(format!("{a:?}"), "SecretString(<redacted>)");
    }

    #[test]
    fn alphabet_has_32_distinct_unambiguous_letters() {
        let mut seen = std::collections::BTreeSet::new();
        for c in ENROLMENT_ALPHABET {
            assert!(!b"ILOU".contains(c), "{}", *c as char);
            seen.insert(*c);
        }
        assert_eq!(seen.len(), 32);
        assert_eq!(normalise_typed_code("ab0o-1il x"), "AB00111X");
    }
}
