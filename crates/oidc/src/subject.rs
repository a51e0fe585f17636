//! Pairwise subject identifiers (OIDC Core 8.1).
//!
//! `sub = base64url(HMAC-SHA256(pairwise key, sector || 0x00 || account id))`.
//! Two relying parties in different sectors receive unrelated values for the
//! same citizen, so they cannot join their records on `sub`; the same relying
//! party always receives the same value, across logins and key rotations. The
//! HMAC key never leaves the server (it is sealed in the database), so nobody
//! can recompute or invert a `sub`. Clients registered with a public subject
//! type share one sector, `public`, and still never see the internal id.
//!
//! The session id (`sid`, in ID tokens and back-channel logout tokens) is
//! pairwise in the same way: `sid = base64url(HMAC-SHA256(sid key, "sid" ||
//! 0x00 || sector || 0x00 || session handle))`, under a key derived from the
//! pairwise key for this one use. One sign-in seen by two sectors gives them
//! two unrelated `sid`s, so they cannot join on it either; each relying party
//! sees the same `sid` in its ID tokens and its logout tokens, and sqin, which
//! knows the session, recomputes it to recognise a hint ([`SessionSid::matches`]).
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
        Self::derive(key, sector_of(client), citizen_id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// The sector whose identifiers a client receives.
fn sector_of(client: &ClientRecord) -> &str {
    if client.subject_type == SubjectType::Public {
        PUBLIC_SECTOR
    } else {
        client.sector.as_str()
    }
}

/// A session's `sid` as one sector sees it (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSid(String);

impl SessionSid {
    /// `pairwise_key` is the provider's pairwise key; the `sid` key is
    /// derived from it (HMAC as a PRF, under a label of its own), so a `sid`
    /// can never be confused with a `sub`.
    pub fn derive(pairwise_key: &HmacKey, sector: &str, session_id: &str) -> Self {
        let key = HmacKey::from_bytes(pairwise_key.sign(&[b"sqin/session-sid-key/v1"]));
        Self(b64url(&key.sign(&[
            b"sid\0",
            sector.as_bytes(),
            &[0u8],
            session_id.as_bytes(),
        ])))
    }

    pub fn for_client(pairwise_key: &HmacKey, client: &ClientRecord, session_id: &str) -> Self {
        Self::derive(pairwise_key, sector_of(client), session_id)
    }

    /// Whether `presented` (a `sid` from a token issued to `client`) names
    /// the session `session_id`; compared in constant time.
    pub fn matches(
        pairwise_key: &HmacKey,
        client: &ClientRecord,
        session_id: &str,
        presented: &str,
    ) -> bool {
        let expected = Self::for_client(pairwise_key, client, session_id);
        sqin_crypto::HashedSecret(sqin_crypto::sha256(expected.0.as_bytes())).matches(presented)
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

    #[test]
    fn session_ids_are_per_sector_and_never_a_subject() {
        let key = HmacKey::from_bytes([3; 32]);
        let a = SessionSid::derive(&key, "famille.example", "s1");
        let b = SessionSid::derive(&key, "revenu.example", "s1");
        assert_ne!(a, b, "two sectors, two sids for one session");
        assert_eq!(a, SessionSid::derive(&key, "famille.example", "s1"));
        assert_ne!(a, SessionSid::derive(&key, "famille.example", "s2"));
        assert_ne!(a.as_str(), "s1");
        assert_ne!(
            a.as_str(),
            PairwiseSubject::derive(&key, "famille.example", "s1").as_str()
        );
        assert_eq!(a.as_str().len(), 43);
    }
}
