//! What the ledger records: typed events, their kinds, and the public
//! details of the ledger's own housekeeping entries.
//!
//! A [`LedgerEvent`] is what a producer hands to a
//! [`crate::LedgerRecorder`]. Everything
//! in it except `citizen_id` is personal data about the citizen's dealings
//! with the state, so it is serialised as JSON and sealed under the
//! citizen's data key; `citizen_id` never enters the log at all, only its
//! keyed pseudonym does. Claim *names* are recorded, never claim values.

use serde::{Deserialize, Serialize};

/// The kind of a ledger entry. Its name appears in clear in the entry (so a
/// reviewer can count kinds without any key) and selects the retention
/// period of the entry's personal part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A citizen agreed to give a relying party some claims for a purpose.
    ConsentGranted,
    /// A citizen (or the system on their behalf) withdrew a consent.
    ConsentRevoked,
    /// A consent reached its expiry.
    ConsentExpired,
    /// Claims left sqin for a relying party.
    Disclosure,
    /// The citizen signed in, to sqin or through it to a relying party.
    SignIn,
    /// A passkey was registered on the account.
    PasskeyAdded,
    /// A passkey was removed from the account.
    PasskeyRemoved,
    /// An enrolment or recovery code was issued again.
    CodeReissued,
    /// A step of account recovery.
    Recovery,
    /// An authenticator presented a signature counter that went backwards
    /// (a possible clone); the sign-in was refused.
    SignCountRegression,
    /// Someone entered the citizen's enrolment or recovery code with a wrong
    /// second factor.
    CodeRefused,
    /// A staff member opened the citizen's file.
    StaffAccess,
    /// A step of a request the citizen made of the body about their own
    /// information (a correction): asked, answered.
    RightsRequest,
    /// Housekeeping: data keys past retention were destroyed.
    RetentionPurge,
    /// Housekeeping: a deleted account's data keys were destroyed.
    AccountShredded,
    /// Housekeeping: the log's checkpoint key was replaced; the entry names
    /// the old and the new verifier key, and the checkpoint right after it
    /// is signed by both.
    CheckpointKeyRotated,
    /// Governance: something a member of staff or the operator did to the
    /// service itself (a member invited, a role granted or revoked, a
    /// request approved, a relying party registered, keys rotated). Public:
    /// who by badge, what, and non-secret details; no citizen.
    Governance,
}

impl EntryKind {
    /// Every kind, in declaration order.
    pub const ALL: [EntryKind; 17] = [
        Self::ConsentGranted,
        Self::ConsentRevoked,
        Self::ConsentExpired,
        Self::Disclosure,
        Self::SignIn,
        Self::PasskeyAdded,
        Self::PasskeyRemoved,
        Self::CodeReissued,
        Self::Recovery,
        Self::SignCountRegression,
        Self::CodeRefused,
        Self::StaffAccess,
        Self::RightsRequest,
        Self::RetentionPurge,
        Self::AccountShredded,
        Self::CheckpointKeyRotated,
        Self::Governance,
    ];

    /// The kinds whose entries carry a sealed personal part, and so have a
    /// retention period.
    pub const PERSONAL: [EntryKind; 13] = [
        Self::ConsentGranted,
        Self::ConsentRevoked,
        Self::ConsentExpired,
        Self::Disclosure,
        Self::SignIn,
        Self::PasskeyAdded,
        Self::PasskeyRemoved,
        Self::CodeReissued,
        Self::Recovery,
        Self::SignCountRegression,
        Self::CodeRefused,
        Self::StaffAccess,
        Self::RightsRequest,
    ];

    /// The snake_case name used in entries, the database and configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConsentGranted => "consent_granted",
            Self::ConsentRevoked => "consent_revoked",
            Self::ConsentExpired => "consent_expired",
            Self::Disclosure => "disclosure",
            Self::SignIn => "sign_in",
            Self::PasskeyAdded => "passkey_added",
            Self::PasskeyRemoved => "passkey_removed",
            Self::CodeReissued => "code_reissued",
            Self::Recovery => "recovery",
            Self::SignCountRegression => "sign_count_regression",
            Self::CodeRefused => "code_refused",
            Self::StaffAccess => "staff_access",
            Self::RightsRequest => "rights_request",
            Self::RetentionPurge => "retention_purge",
            Self::AccountShredded => "account_shredded",
            Self::CheckpointKeyRotated => "checkpoint_key_rotated",
            Self::Governance => "governance",
        }
    }

    /// Parses [`EntryKind::as_str`]'s output.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The element of the privacy impact assessment (`pia/inventory.toml`)
    /// that declares this kind's sealed personal part, and whose retention
    /// the purge enforces; `None` for housekeeping kinds, which have none.
    pub fn pia_element(self) -> Option<&'static str> {
        Some(match self {
            Self::ConsentGranted | Self::ConsentRevoked | Self::ConsentExpired => {
                "ledger.consent_record"
            }
            Self::Disclosure => "ledger.disclosure_record",
            Self::SignIn => "ledger.sign_in_record",
            Self::PasskeyAdded
            | Self::PasskeyRemoved
            | Self::CodeReissued
            | Self::Recovery
            | Self::SignCountRegression
            | Self::CodeRefused => "ledger.security_record",
            Self::StaffAccess => "ledger.staff_access_record",
            Self::RightsRequest => "ledger.request_record",
            Self::RetentionPurge
            | Self::AccountShredded
            | Self::CheckpointKeyRotated
            | Self::Governance => return None,
        })
    }

    /// Whether entries of this kind have a sealed personal part.
    pub fn is_personal(self) -> bool {
        Self::PERSONAL.contains(&self)
    }

    /// Which part of the citizen's view shows this kind.
    pub fn category(self) -> Category {
        match self {
            Self::ConsentGranted
            | Self::ConsentRevoked
            | Self::ConsentExpired
            | Self::Disclosure => Category::Recipients,
            Self::StaffAccess => Category::StaffAccess,
            Self::RightsRequest => Category::Requests,
            Self::SignIn
            | Self::PasskeyAdded
            | Self::PasskeyRemoved
            | Self::CodeReissued
            | Self::Recovery
            | Self::SignCountRegression
            | Self::CodeRefused => Category::Security,
            Self::RetentionPurge | Self::AccountShredded | Self::CheckpointKeyRotated => {
                Category::Housekeeping
            }
            Self::Governance => Category::Governance,
        }
    }
}

impl std::fmt::Display for EntryKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The parts of the citizen's view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// "Who received my data": consents and disclosures.
    Recipients,
    /// "Who looked at my file".
    StaffAccess,
    /// The citizen's requests to the body (corrections) and their steps.
    Requests,
    /// Sign-ins and changes to the account's credentials.
    Security,
    /// The ledger's own retention and shredding records.
    Housekeeping,
    /// What staff and operators did to the service (public).
    Governance,
}

/// Where a disclosure's claims left sqin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisclosureEndpoint {
    /// In an ID token from the token endpoint.
    IdToken,
    /// From the userinfo endpoint.
    Userinfo,
    /// From the introspection endpoint (RFC 7662).
    Introspection,
}

impl DisclosureEndpoint {
    /// The name used in entries.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IdToken => "id_token",
            Self::Userinfo => "userinfo",
            Self::Introspection => "introspection",
        }
    }
}

/// Something the ledger must record about a citizen.
///
/// `citizen_id` is the internal account id; it selects the pseudonym and
/// the data key and is never written to the log. Every other field is sealed.
/// Events read back from the ledger (the citizen's view) carry an empty
/// `citizen_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LedgerEvent {
    /// The citizen agreed to give `claims` to `client_id` for `purpose`.
    ConsentGranted {
        /// The internal account id; never written to the log.
        #[serde(skip)]
        citizen_id: String,
        /// The relying party.
        client_id: String,
        /// The OpenID Provider's id for this consent; disclosures refer to it.
        consent_id: String,
        /// The purpose text shown to the citizen.
        purpose: String,
        /// Scopes granted.
        scopes: Vec<String>,
        /// Claim names, never values.
        claims: Vec<String>,
        /// Version of the consent notice shown (Quebec A-2.1 s. 53.1 asks
        /// for the text the citizen agreed to).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        notice_version: Option<String>,
        /// When the consent lapses (Unix seconds).
        expires_at: i64,
    },
    /// A consent was withdrawn.
    ConsentRevoked {
        /// The internal account id; never written to the log.
        #[serde(skip)]
        citizen_id: String,
        /// The relying party.
        client_id: String,
        /// The consent concerned.
        consent_id: String,
        /// Why: `citizen` (withdrawn on the account page), `replaced` (a new
        /// consent superseded it), `staff`, `account_closed`, ...
        reason: String,
    },
    /// A consent reached its expiry.
    ConsentExpired {
        /// The internal account id; never written to the log.
        #[serde(skip)]
        citizen_id: String,
        /// The relying party.
        client_id: String,
        /// The consent concerned.
        consent_id: String,
    },
    /// Claims left sqin for a relying party.
    Disclosure {
        /// The internal account id; never written to the log.
        #[serde(skip)]
        citizen_id: String,
        /// The relying party.
        client_id: String,
        /// The consent the disclosure rests on.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        consent_id: Option<String>,
        /// The grant (token family) it belongs to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grant_id: Option<String>,
        /// Where the claims left.
        endpoint: DisclosureEndpoint,
        /// Claim names, never values.
        claims: Vec<String>,
    },
    /// The citizen signed in; `client_id` is the relying party they were
    /// signing in to, if any.
    SignIn {
        /// The internal account id; never written to the log.
        #[serde(skip)]
        citizen_id: String,
        /// The relying party signed in to, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        /// Level of assurance reached.
        acr: String,
        /// Authentication methods (RFC 8176).
        #[serde(default)]
        amr: Vec<String>,
        /// The passkey used (its non-secret handle), if known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        passkey: Option<String>,
    },
    /// A passkey was registered.
    PasskeyAdded {
        /// The internal account id; never written to the log.
        #[serde(skip)]
        citizen_id: String,
        /// A non-secret handle for the credential (e.g. a hash of its id).
        passkey: String,
        /// The name the citizen gave it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// How: `enrolment` (the first passkey, with a mailed code),
        /// `account` (from the account page), `recovery`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        via: Option<String>,
    },
    /// A passkey was removed.
    PasskeyRemoved {
        /// The internal account id; never written to the log.
        #[serde(skip)]
        citizen_id: String,
        /// A non-secret handle for the credential.
        passkey: String,
        /// The name the citizen gave it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// An enrolment or recovery code was issued again.
    CodeReissued {
        /// The internal account id; never written to the log.
        #[serde(skip)]
        citizen_id: String,
        /// `enrolment` or `recovery`.
        purpose: String,
    },
    /// A step of account recovery (`code_accepted`, `passkey_registered`,
    /// `sessions_revoked`, ...).
    Recovery {
        /// The internal account id; never written to the log.
        #[serde(skip)]
        citizen_id: String,
        /// Which step.
        step: String,
        /// The passkey registered, for `passkey_registered`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        passkey: Option<String>,
        /// How many sessions were ended, for `sessions_revoked` or
        /// `passkey_registered`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sessions_ended: Option<u64>,
    },
    /// An authenticator's signature counter went backwards; the sign-in was
    /// refused.
    SignCountRegression {
        /// The internal account id; never written to the log.
        #[serde(skip)]
        citizen_id: String,
        /// A non-secret handle for the credential.
        passkey: String,
        /// The counter sqin had stored, if reported.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stored: Option<u64>,
        /// The counter the authenticator presented, if reported.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        presented: Option<u64>,
    },
    /// Someone entered the citizen's code with a wrong second factor.
    CodeRefused {
        /// The internal account id; never written to the log.
        #[serde(skip)]
        citizen_id: String,
        /// Whether the code was locked by this failure.
        locked: bool,
    },
    /// A staff member opened the citizen's file, or acted on it.
    StaffAccess {
        /// The internal account id; never written to the log.
        #[serde(skip)]
        citizen_id: String,
        /// The member of staff as the citizen may name them: their badge
        /// ("Agent 4F2K"; before the staff plane, a typed identifier).
        staff_id: String,
        /// The role they acted in.
        role: String,
        /// The purpose they stated before access was granted (a purpose of
        /// the PIA).
        purpose: String,
        /// What they were shown (field names, never values).
        seen: Vec<String>,
        /// What they did: `file.lookup`, `recovery.request`,
        /// `recovery.approve`, `closure.request`, `complaint.answer`, ...
        #[serde(default, skip_serializing_if = "Option::is_none")]
        action: Option<String>,
        /// The ticket, complaint or request number they gave.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    /// A step of a request the citizen made about their own information.
    RightsRequest {
        /// The internal account id; never written to the log.
        #[serde(skip)]
        citizen_id: String,
        /// Which right: `correction`.
        right: String,
        /// The request's reference, as the citizen and staff know it.
        reference: String,
        /// `asked` (by the citizen) or `answered` (by the staff role it was
        /// routed to).
        step: String,
        /// The element of the file concerned (its PIA id), never its value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        element: Option<String>,
        /// The staff role the request is routed to (a role of the PIA).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        routed_to: Option<String>,
        /// For `answered`: `corrected` or `refused`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        outcome: Option<String>,
    },
}

impl LedgerEvent {
    /// The entry kind this event is recorded as.
    pub fn kind(&self) -> EntryKind {
        match self {
            Self::ConsentGranted { .. } => EntryKind::ConsentGranted,
            Self::ConsentRevoked { .. } => EntryKind::ConsentRevoked,
            Self::ConsentExpired { .. } => EntryKind::ConsentExpired,
            Self::Disclosure { .. } => EntryKind::Disclosure,
            Self::SignIn { .. } => EntryKind::SignIn,
            Self::PasskeyAdded { .. } => EntryKind::PasskeyAdded,
            Self::PasskeyRemoved { .. } => EntryKind::PasskeyRemoved,
            Self::CodeReissued { .. } => EntryKind::CodeReissued,
            Self::Recovery { .. } => EntryKind::Recovery,
            Self::SignCountRegression { .. } => EntryKind::SignCountRegression,
            Self::CodeRefused { .. } => EntryKind::CodeRefused,
            Self::StaffAccess { .. } => EntryKind::StaffAccess,
            Self::RightsRequest { .. } => EntryKind::RightsRequest,
        }
    }

    /// The citizen the event is about (empty on events read back).
    pub fn citizen_id(&self) -> &str {
        match self {
            Self::ConsentGranted { citizen_id, .. }
            | Self::ConsentRevoked { citizen_id, .. }
            | Self::ConsentExpired { citizen_id, .. }
            | Self::Disclosure { citizen_id, .. }
            | Self::SignIn { citizen_id, .. }
            | Self::PasskeyAdded { citizen_id, .. }
            | Self::PasskeyRemoved { citizen_id, .. }
            | Self::CodeReissued { citizen_id, .. }
            | Self::Recovery { citizen_id, .. }
            | Self::SignCountRegression { citizen_id, .. }
            | Self::CodeRefused { citizen_id, .. }
            | Self::StaffAccess { citizen_id, .. }
            | Self::RightsRequest { citizen_id, .. } => citizen_id,
        }
    }

    /// The relying party the event concerns, if any.
    pub fn client_id(&self) -> Option<&str> {
        match self {
            Self::ConsentGranted { client_id, .. }
            | Self::ConsentRevoked { client_id, .. }
            | Self::ConsentExpired { client_id, .. }
            | Self::Disclosure { client_id, .. } => Some(client_id),
            Self::SignIn { client_id, .. } => client_id.as_deref(),
            _ => None,
        }
    }

    /// The consent the event concerns, if any.
    pub fn consent_id(&self) -> Option<&str> {
        match self {
            Self::ConsentGranted { consent_id, .. }
            | Self::ConsentRevoked { consent_id, .. }
            | Self::ConsentExpired { consent_id, .. } => Some(consent_id),
            Self::Disclosure { consent_id, .. } => consent_id.as_deref(),
            _ => None,
        }
    }

    /// Checks what the type system cannot: identifiers are present.
    pub fn validate(&self) -> Result<(), String> {
        if self.citizen_id().is_empty() {
            return Err("citizen_id is empty".into());
        }
        if self.client_id().is_some_and(str::is_empty) {
            return Err("client_id is empty".into());
        }
        if self.consent_id().is_some_and(str::is_empty) {
            return Err("consent_id is empty".into());
        }
        Ok(())
    }
}

/// Public details of the ledger's housekeeping entries. They hold no
/// personal data: key ids are random, and counts are counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Housekeeping {
    /// Data keys of `kind` whose period ended at or before `cutoff` were
    /// destroyed because their entries passed retention.
    RetentionPurge {
        /// The entry kind whose keys were destroyed.
        purged_kind: EntryKind,
        /// Retention in force, in days.
        retention_days: i64,
        /// Keys whose period ended at or before this time were due.
        cutoff: i64,
        /// The ids of the destroyed keys, so a reviewer can match them to the
        /// entries that referenced them.
        keys: Vec<String>,
    },
    /// Every data key of the entry's subject was destroyed because the
    /// account was deleted.
    AccountShredded {
        /// The ids of the destroyed keys.
        keys: Vec<String>,
    },
    /// Something a member of staff or the operator did to the service.
    Governance {
        /// Who: a staff badge, or `operator` (on the server host).
        actor: String,
        /// What: `staff.invited`, `role.requested`, `role.granted`,
        /// `role.revoked`, `request.approved`, `request.refused`, ...
        what: String,
        /// Non-secret details: role names, badges, reasons, field names.
        #[serde(default)]
        details: std::collections::BTreeMap<String, String>,
    },
    /// The checkpoint key changed from `previous_vkey` to `vkey` (C2SP
    /// verifier keys). Checkpoints up to this entry's size plus one may
    /// carry the previous key's signature, checkpoints from there on the
    /// new key's; the checkpoint of exactly that size carries both, which is
    /// how a reviewer who trusts either key comes to trust the other.
    CheckpointKeyRotated {
        /// The key replaced.
        previous_vkey: String,
        /// The key that signs from this entry's size plus one on.
        vkey: String,
    },
}

impl Housekeeping {
    /// The entry kind this housekeeping record is logged as.
    pub fn kind(&self) -> EntryKind {
        match self {
            Self::RetentionPurge { .. } => EntryKind::RetentionPurge,
            Self::AccountShredded { .. } => EntryKind::AccountShredded,
            Self::CheckpointKeyRotated { .. } => EntryKind::CheckpointKeyRotated,
            Self::Governance { .. } => EntryKind::Governance,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip_and_match_serde() {
        for kind in EntryKind::ALL {
            assert_eq!(EntryKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind.as_str())
            );
        }
        assert_eq!(EntryKind::parse("nope"), None);
        for kind in EntryKind::PERSONAL {
            assert!(kind.is_personal());
            assert_ne!(kind.category(), Category::Housekeeping);
        }
        assert!(!EntryKind::RetentionPurge.is_personal());
    }

    #[test]
    fn sealed_form_omits_the_citizen_id() {
        let event = LedgerEvent::Disclosure {
            citizen_id: "c-123".into(),
            client_id: "famille".into(),
            consent_id: Some("k1".into()),
            grant_id: None,
            endpoint: DisclosureEndpoint::Userinfo,
            claims: vec!["birthdate".into()],
        };
        let json = serde_json::to_string(&event).unwrap();
        assert!(!json.contains("c-123"), "{json}");
        assert_eq!(
            json,
            r#"{"kind":"disclosure","client_id":"famille","consent_id":"k1","endpoint":"userinfo","claims":["birthdate"]}"#
        );
        let back: LedgerEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(back.citizen_id(), "");
        assert_eq!(back.kind(), EntryKind::Disclosure);
        assert_eq!(back.client_id(), Some("famille"));
        assert_eq!(back.consent_id(), Some("k1"));
    }

    #[test]
    fn validation_refuses_empty_identifiers() {
        let ok = LedgerEvent::SignIn {
            citizen_id: "c".into(),
            client_id: None,
            acr: "urn:sqin:loa:substantial".into(),
            amr: vec![],
            passkey: None,
        };
        assert!(ok.validate().is_ok());
        let no_citizen = LedgerEvent::Recovery {
            citizen_id: String::new(),
            step: "code_accepted".into(),
            passkey: None,
            sessions_ended: None,
        };
        assert!(no_citizen.validate().is_err());
        let no_client = LedgerEvent::ConsentExpired {
            citizen_id: "c".into(),
            client_id: String::new(),
            consent_id: "k".into(),
        };
        assert!(no_client.validate().is_err());
    }
}
