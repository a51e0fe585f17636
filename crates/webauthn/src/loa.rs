//! Levels of assurance reached by passkey ceremonies (see docs/assurance.md).
//!
//! Identity proofing happened before sqin: the citizen is in an
//! identity-proofed register, and the enrolment or recovery code was mailed to
//! the register's postal address. Every passkey is bound to that identity
//! through such a code (directly, or by a citizen already signed in with one),
//! and every ceremony requires user verification, so a sign-in is two factors
//! (possession of the key, and the biometric or PIN that unlocks it):
//! eIDAS "substantial", NIST SP 800-63B AAL2. Nothing in sqin reaches "high"
//! (that needs attested hardware keys and in-person proofing), and recovery
//! with a mailed code re-establishes exactly the mailed code's level, the one
//! enrolment had, never more.
use sqin_session::{acr, amr};

/// RFC 8176 "swk": proof of possession of a software-secured key. A synced
/// passkey (backup eligible) lives in a cloud keychain, not only in hardware.
pub const AMR_SWK: &str = "swk";

/// What a session started by a ceremony asserts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assurance {
    pub acr: &'static str,
    pub amr: Vec<&'static str>,
}

/// A sign-in with a user-verified passkey. `backup_eligible` passkeys (synced
/// between devices) are reported as `swk`, device-bound ones as `hwk`; both
/// are AAL2 (NIST SP 800-63B-4 admits syncable authenticators at AAL2).
pub fn for_sign_in(user_verified: bool, backup_eligible: bool) -> Option<Assurance> {
    if !user_verified {
        return None;
    }
    let key = if backup_eligible { AMR_SWK } else { amr::HWK };
    Some(Assurance {
        acr: acr::SUBSTANTIAL,
        amr: vec![key, amr::USER, amr::MFA],
    })
}

/// The session started right after registering a passkey with a mailed code
/// (enrolment or recovery): the level of the code's channel, substantial.
pub fn for_code_enrolment(user_verified: bool, backup_eligible: bool) -> Option<Assurance> {
    for_sign_in(user_verified, backup_eligible)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_verification_is_required_for_any_level() {
        assert_eq!(for_sign_in(false, false), None);
        let hw = for_sign_in(true, false).unwrap();
        assert_eq!(hw.acr, acr::SUBSTANTIAL);
        assert_eq!(hw.amr, vec!["hwk", "user", "mfa"]);
        assert_eq!(
            for_sign_in(true, true).unwrap().amr,
            vec!["swk", "user", "mfa"]
        );
        assert_eq!(
            for_code_enrolment(true, false).unwrap().acr,
            acr::SUBSTANTIAL
        );
    }
}
