//! How long the personal part of each kind of entry is kept.
//!
//! The server reads it from the privacy impact assessment it adopted
//! (`pia/inventory.toml`: each kind's [`EntryKind::pia_element`] has a
//! `retention` such as `P5Y`), so the period a reviewer reads is the period
//! the code enforces. Retention is enforced by
//! destroying data keys ([`crate::purge`]); a key covers one citizen, one
//! kind and one period, so an entry's personal part is destroyed between its
//! retention and its retention plus one key period.

use serde::{Deserialize, Serialize};

use crate::event::EntryKind;

/// Retention in days for the personal part of each kind of entry.
///
/// The default equals the repository's PIA (a test keeps them equal) and
/// serves tools and tests that have no PIA at hand: five years for consents,
/// disclosures, staff accesses and the steps of requests, two years for account security events,
/// one year for sign-ins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Retention {
    /// Consent granted: keep longer than any consent can last.
    pub consent_granted: i64,
    /// Consent withdrawn.
    pub consent_revoked: i64,
    /// Consent lapsed.
    pub consent_expired: i64,
    /// Claims disclosed to a relying party.
    pub disclosure: i64,
    /// Sign-ins.
    pub sign_in: i64,
    /// Passkey registered.
    pub passkey_added: i64,
    /// Passkey removed.
    pub passkey_removed: i64,
    /// Enrolment or recovery code issued again.
    pub code_reissued: i64,
    /// Account recovery steps.
    pub recovery: i64,
    /// Refused sign-ins from a possibly cloned authenticator.
    pub sign_count_regression: i64,
    /// Codes refused for a wrong second factor.
    pub code_refused: i64,
    /// Staff accesses to the citizen's file.
    pub staff_access: i64,
    /// Steps of the citizen's requests (corrections).
    pub rights_request: i64,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            consent_granted: 1825,
            consent_revoked: 1825,
            consent_expired: 1825,
            disclosure: 1825,
            sign_in: 365,
            passkey_added: 730,
            passkey_removed: 730,
            code_reissued: 730,
            recovery: 730,
            sign_count_regression: 730,
            code_refused: 730,
            staff_access: 1825,
            rights_request: 1825,
        }
    }
}

/// Longest retention accepted, in days (100 years).
pub const MAX_RETENTION_DAYS: i64 = 36_500;

impl Retention {
    /// Retention of `kind` in days; `None` for housekeeping kinds, which have
    /// no personal part and are kept forever.
    pub fn days(&self, kind: EntryKind) -> Option<i64> {
        Some(match kind {
            EntryKind::ConsentGranted => self.consent_granted,
            EntryKind::ConsentRevoked => self.consent_revoked,
            EntryKind::ConsentExpired => self.consent_expired,
            EntryKind::Disclosure => self.disclosure,
            EntryKind::SignIn => self.sign_in,
            EntryKind::PasskeyAdded => self.passkey_added,
            EntryKind::PasskeyRemoved => self.passkey_removed,
            EntryKind::CodeReissued => self.code_reissued,
            EntryKind::Recovery => self.recovery,
            EntryKind::SignCountRegression => self.sign_count_regression,
            EntryKind::CodeRefused => self.code_refused,
            EntryKind::StaffAccess => self.staff_access,
            EntryKind::RightsRequest => self.rights_request,
            EntryKind::RetentionPurge
            | EntryKind::AccountShredded
            | EntryKind::CheckpointKeyRotated
            | EntryKind::Governance => return None,
        })
    }

    /// Retention built from a function of the kind (the server passes the
    /// PIA's periods).
    pub fn from_days(days: impl Fn(EntryKind) -> i64) -> Retention {
        Retention {
            consent_granted: days(EntryKind::ConsentGranted),
            consent_revoked: days(EntryKind::ConsentRevoked),
            consent_expired: days(EntryKind::ConsentExpired),
            disclosure: days(EntryKind::Disclosure),
            sign_in: days(EntryKind::SignIn),
            passkey_added: days(EntryKind::PasskeyAdded),
            passkey_removed: days(EntryKind::PasskeyRemoved),
            code_reissued: days(EntryKind::CodeReissued),
            recovery: days(EntryKind::Recovery),
            sign_count_regression: days(EntryKind::SignCountRegression),
            code_refused: days(EntryKind::CodeRefused),
            staff_access: days(EntryKind::StaffAccess),
            rights_request: days(EntryKind::RightsRequest),
        }
    }

    /// Every period is between 1 day and [`MAX_RETENTION_DAYS`]; the error
    /// names the offending kind.
    pub fn validate(&self) -> Result<(), String> {
        for kind in EntryKind::PERSONAL {
            let days = self.days(kind).unwrap_or(0);
            if !(1..=MAX_RETENTION_DAYS).contains(&days) {
                return Err(format!(
                    "{kind} must be between 1 and {MAX_RETENTION_DAYS} days, not {days}"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_personal_kind_has_a_valid_default() {
        let r = Retention::default();
        r.validate().unwrap();
        for kind in EntryKind::PERSONAL {
            assert!(r.days(kind).is_some());
        }
        assert_eq!(r.days(EntryKind::AccountShredded), None);
        let bad = Retention {
            sign_in: 0,
            ..Retention::default()
        };
        assert!(bad.validate().unwrap_err().contains("sign_in"));
    }
}
