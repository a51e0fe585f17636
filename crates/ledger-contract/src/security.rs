//! The passkey service's security events: the typed rows of the outbox that
//! carries them to the ledger.
//!
//! A row is stored as its kind (a column, which the account page filters
//! on) and its detail (a JSON object of the variant's fields). Serde's
//! adjacent tagging is exactly that split, so [`SecurityEvent::to_row`] and
//! [`SecurityEvent::from_row`] are two halves of one derived format and the
//! drain never interprets a field by name.

use serde::{Deserialize, Serialize};

use crate::event::LedgerEvent;

/// What happened to a citizen's account. Details never carry secrets,
/// codes, addresses or key material: a passkey is named by its non-secret
/// handle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum SecurityEvent {
    /// A successful passkey sign-in, at the level of assurance `acr`.
    SignIn {
        /// The passkey used.
        passkey: String,
        /// The level of assurance reached.
        acr: String,
    },
    /// The first passkey, registered with an enrolment code.
    Enrolled {
        /// The passkey registered.
        passkey: String,
    },
    /// A passkey registered with a recovery code: every session was ended.
    Recovered {
        /// The passkey registered.
        passkey: String,
        /// How many sessions were ended.
        #[serde(default)]
        sessions_ended: u64,
    },
    /// A further passkey added from the account page.
    PasskeyAdded {
        /// The passkey registered.
        passkey: String,
    },
    /// A passkey was given another name by the citizen.
    PasskeyRenamed {
        /// The old name.
        from: String,
        /// The new name.
        to: String,
    },
    /// A passkey was removed from the account.
    PasskeyRemoved {
        /// The passkey removed.
        passkey: String,
    },
    /// A right code with a wrong birthdate; `locked` when it was the last try.
    CodeRefused {
        /// Whether this failure locked the code.
        #[serde(default)]
        locked: bool,
    },
    /// A new enrolment or recovery code was issued.
    CodeReissued {
        /// `enrolment` or `recovery`.
        purpose: String,
    },
    /// A login was refused because the signature counter went backwards.
    SignCountRegression {
        /// The passkey presented.
        passkey: String,
    },
    /// The citizen signed out everywhere: every session ended and every
    /// token relying parties held was revoked.
    SignedOutEverywhere {
        /// How many sessions were still open.
        #[serde(default)]
        sessions_ended: u64,
    },
}

/// The stored kind names (the `kind` column), one per variant.
pub mod kind {
    /// [`super::SecurityEvent::SignIn`].
    pub const SIGN_IN: &str = "sign_in";
    /// [`super::SecurityEvent::Enrolled`].
    pub const ENROLLED: &str = "enrolled";
    /// [`super::SecurityEvent::Recovered`].
    pub const RECOVERED: &str = "recovered";
    /// [`super::SecurityEvent::PasskeyAdded`].
    pub const PASSKEY_ADDED: &str = "passkey_added";
    /// [`super::SecurityEvent::PasskeyRenamed`].
    pub const PASSKEY_RENAMED: &str = "passkey_renamed";
    /// [`super::SecurityEvent::PasskeyRemoved`].
    pub const PASSKEY_REMOVED: &str = "passkey_removed";
    /// [`super::SecurityEvent::CodeRefused`].
    pub const CODE_REFUSED: &str = "code_refused";
    /// [`super::SecurityEvent::CodeReissued`].
    pub const CODE_REISSUED: &str = "code_reissued";
    /// [`super::SecurityEvent::SignCountRegression`].
    pub const SIGN_COUNT_REGRESSION: &str = "sign_count_regression";
    /// [`super::SecurityEvent::SignedOutEverywhere`].
    pub const SIGNED_OUT_EVERYWHERE: &str = "signed_out_everywhere";
}

/// A row that is not a security event this code wrote.
#[derive(Debug, thiserror::Error)]
#[error("security event of kind {kind:?} is not readable: {reason}")]
pub struct UnreadableEvent {
    /// The stored kind.
    pub kind: String,
    /// Why it could not be read.
    pub reason: String,
}

impl SecurityEvent {
    /// The stored kind name.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::SignIn { .. } => kind::SIGN_IN,
            Self::Enrolled { .. } => kind::ENROLLED,
            Self::Recovered { .. } => kind::RECOVERED,
            Self::PasskeyAdded { .. } => kind::PASSKEY_ADDED,
            Self::PasskeyRenamed { .. } => kind::PASSKEY_RENAMED,
            Self::PasskeyRemoved { .. } => kind::PASSKEY_REMOVED,
            Self::CodeRefused { .. } => kind::CODE_REFUSED,
            Self::CodeReissued { .. } => kind::CODE_REISSUED,
            Self::SignCountRegression { .. } => kind::SIGN_COUNT_REGRESSION,
            Self::SignedOutEverywhere { .. } => kind::SIGNED_OUT_EVERYWHERE,
        }
    }

    /// The row: (kind, detail as a JSON object).
    pub fn to_row(&self) -> (&'static str, String) {
        let detail = match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut tagged)) => tagged
                .remove("detail")
                .unwrap_or(serde_json::Value::Object(Default::default())),
            _ => serde_json::Value::Object(Default::default()),
        };
        (self.kind(), detail.to_string())
    }

    /// Reads a row written by [`SecurityEvent::to_row`].
    pub fn from_row(kind: &str, detail: &str) -> Result<Self, UnreadableEvent> {
        let unreadable = |reason: String| UnreadableEvent {
            kind: kind.to_owned(),
            reason,
        };
        let detail: serde_json::Value =
            serde_json::from_str(detail).map_err(|e| unreadable(e.to_string()))?;
        serde_json::from_value(serde_json::json!({ "kind": kind, "detail": detail }))
            .map_err(|e| unreadable(e.to_string()))
    }

    /// The ledger entry for this event about `citizen_id`; `None` for what
    /// the ledger does not record (a renamed passkey, or signing out, changes
    /// no access and discloses nothing).
    pub fn ledger_event(self, citizen_id: String) -> Option<LedgerEvent> {
        Some(match self {
            Self::SignIn { passkey, acr } => LedgerEvent::SignIn {
                citizen_id,
                client_id: None,
                acr,
                amr: Vec::new(),
                passkey: Some(passkey),
            },
            Self::Enrolled { passkey } => LedgerEvent::PasskeyAdded {
                citizen_id,
                passkey,
                name: None,
                via: Some("enrolment".into()),
            },
            Self::PasskeyAdded { passkey } => LedgerEvent::PasskeyAdded {
                citizen_id,
                passkey,
                name: None,
                via: Some("account".into()),
            },
            Self::Recovered {
                passkey,
                sessions_ended,
            } => LedgerEvent::Recovery {
                citizen_id,
                step: "passkey_registered".into(),
                passkey: Some(passkey),
                sessions_ended: Some(sessions_ended),
            },
            Self::PasskeyRemoved { passkey } => LedgerEvent::PasskeyRemoved {
                citizen_id,
                passkey,
                name: None,
            },
            Self::CodeRefused { locked } => LedgerEvent::CodeRefused { citizen_id, locked },
            Self::CodeReissued { purpose } => LedgerEvent::CodeReissued {
                citizen_id,
                purpose,
            },
            Self::SignCountRegression { passkey } => LedgerEvent::SignCountRegression {
                citizen_id,
                passkey,
                stored: None,
                presented: None,
            },
            Self::PasskeyRenamed { .. } | Self::SignedOutEverywhere { .. } => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_keep_the_stored_shape_and_round_trip() {
        let event = SecurityEvent::SignIn {
            passkey: "pk1".into(),
            acr: "urn:sqin:loa:substantial".into(),
        };
        let (kind, detail) = event.to_row();
        assert_eq!(kind, "sign_in");
        assert_eq!(
            detail,
            r#"{"acr":"urn:sqin:loa:substantial","passkey":"pk1"}"#
        );
        assert_eq!(SecurityEvent::from_row(kind, &detail).unwrap(), event);
        // Rows written before the outbox was typed had the same shape.
        let old = SecurityEvent::from_row("recovered", r#"{"passkey":"p","sessions_ended":2}"#);
        assert_eq!(
            old.unwrap(),
            SecurityEvent::Recovered {
                passkey: "p".into(),
                sessions_ended: 2
            }
        );
        assert!(SecurityEvent::from_row("sign_in", r#"{"acr":"x"}"#).is_err());
        assert!(SecurityEvent::from_row("teleported", "{}").is_err());
        assert!(SecurityEvent::from_row("sign_in", "not json").is_err());
    }

    #[test]
    fn every_kind_maps_to_its_ledger_entry() {
        let all = [
            SecurityEvent::SignIn {
                passkey: "p".into(),
                acr: "a".into(),
            },
            SecurityEvent::Enrolled {
                passkey: "p".into(),
            },
            SecurityEvent::Recovered {
                passkey: "p".into(),
                sessions_ended: 1,
            },
            SecurityEvent::PasskeyAdded {
                passkey: "p".into(),
            },
            SecurityEvent::PasskeyRenamed {
                from: "a".into(),
                to: "b".into(),
            },
            SecurityEvent::PasskeyRemoved {
                passkey: "p".into(),
            },
            SecurityEvent::CodeRefused { locked: true },
            SecurityEvent::CodeReissued {
                purpose: "recovery".into(),
            },
            SecurityEvent::SignCountRegression {
                passkey: "p".into(),
            },
            SecurityEvent::SignedOutEverywhere { sessions_ended: 2 },
        ];
        for event in all {
            let (kind, detail) = event.to_row();
            assert_eq!(SecurityEvent::from_row(kind, &detail).unwrap(), event);
            let renamed = matches!(
                event,
                SecurityEvent::PasskeyRenamed { .. } | SecurityEvent::SignedOutEverywhere { .. }
            );
            match event.ledger_event("c1".into()) {
                Some(entry) => {
                    assert!(!renamed);
                    assert_eq!(entry.citizen_id(), "c1");
                    assert!(entry.validate().is_ok());
                }
                None => assert!(renamed),
            }
        }
    }
}
