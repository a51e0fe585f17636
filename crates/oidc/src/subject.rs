//! Pairwise subject identifiers (OIDC Core 8.1).
//!
//! `sub = base64url(HMAC-SHA256(pairwise key, sector || 0x00 || account id))`.
//! Two relying parties in different sectors receive unrelated values for the
//! same citizen, so they cannot join their records on `sub`; the same relying
//! party always receives the same value, across logins and key rotations. The
//! HMAC key never leaves the server (it is sealed in the database), so nobody
//! can recompute or invert a `sub`. Clients registered with a public subject
//! type share one sector, `public`, and still never see the internal id.
use sqin_crypto::{b64url, HmacKey};
use sqin_store::clients::{ClientRecord, SubjectType};

/// The sector used for clients that are explicitly registered for public
/// (non-pairwise) subjects.
pub const PUBLIC_SECTOR: &str = "public";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairwiseSubject(String);

impl PairwiseSubject {
    pub fn derive(key: &HmacKey, sector: &str, citizen_id: &str) -> Self {
        Self(b64url(&key.sign(&[
            sector.as_bytes(),
            &[0u8],
            citizen_id.as_bytes(),
        ])))
    }

    pub fn for_client(key: &HmacKey, client: &ClientRecord, citizen_id: &str) -> Self {
        let sector = if client.subject_type == SubjectType::Public {
            PUBLIC_SECTOR
        } else {
            client.sector.as_str()
        };
        Self::derive(key, sector, citizen_id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sectors_separate_and_stable() {
        let key = HmacKey::from_bytes([3; 32]);
        let a = PairwiseSubject::derive(&key, "famille.example", "c1");
        let b = PairwiseSubject::derive(&key, "revenu.example", "c1");
        assert_ne!(a, b);
        assert_eq!(a, PairwiseSubject::derive(&key, "famille.example", "c1"));
        assert_ne!(a, PairwiseSubject::derive(&key, "famille.example", "c2"));
        // No ambiguity between (sector, id) splits.
        assert_ne!(
            PairwiseSubject::derive(&key, "ab", "c"),
            PairwiseSubject::derive(&key, "a", "bc")
        );
        let other_key = HmacKey::from_bytes([4; 32]);
        assert_ne!(
            a,
            PairwiseSubject::derive(&other_key, "famille.example", "c1")
        );
        assert_eq!(a.as_str().len(), 43);
    }
}
