//! Who has access to what a consent releases, and why: what the consent
//! page tells the citizen besides the service's name and purpose.
//!
//! Both parts come from the privacy impact assessment the server runs
//! under, so the page says what the code enforces:
//!
//! - the relying party's legal basis, from its entry of the register of
//!   relying parties (in English and French);
//! - the staff roles of sqin that can see, in the citizen's file, some of
//!   the information being released (each element's `roles` table, as the
//!   staff policy reads it), with the purposes a member of staff in that
//!   role may state to open a file. Every such opening is recorded in the
//!   ledger and shown to the citizen ("Who looked at my file").
use sqin_staff::StaffAction;

use crate::Services;

/// What the consent page says about who has access and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessNotice {
    /// The relying party's legal basis (English), when its PIA entry is known.
    pub legal_basis: Option<String>,
    /// The same in French (empty in the entry: `None`).
    pub legal_basis_fr: Option<String>,
    /// The staff roles that can see some of the released information.
    pub staff: Vec<StaffSight>,
}

/// One staff role and what of the released information it can see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSight {
    /// The PIA's role id (`support`, `registrar`, ...).
    pub role: String,
    /// Claims whose value it sees in clear, in the order given.
    pub sees: Vec<String>,
    /// Claims it can only check against what a caller says, never see.
    pub checks: Vec<String>,
    /// The PIA purposes it may state to open a file.
    pub purposes: Vec<String>,
}

/// The notice for a consent to `claims` asked by the relying party of PIA
/// entry `pia_entry`.
pub fn access_notice(
    services: &Services,
    pia_entry: Option<&str>,
    claims: &[String],
) -> AccessNotice {
    let inventory = services.pia.pia.inventory();
    let entry = pia_entry.and_then(|id| inventory.relying_parties.iter().find(|rp| rp.id == id));
    let non_empty = |s: &str| (!s.trim().is_empty()).then(|| s.to_owned());
    // The elements each claim discloses, with what a derived one is made of.
    let elements_of = |claim: &str| -> Vec<(String, Vec<String>)> {
        inventory
            .elements
            .iter()
            .filter(|e| !e.planned && e.disclosed_as_claim.as_deref() == Some(claim))
            .map(|e| (e.id.clone(), e.derived_from.clone()))
            .collect()
    };
    let mut staff = Vec::new();
    for role in services.staff_policy.roles() {
        // A role that cannot open a file sees none of it.
        if !role.may(StaffAction::FileLookup) {
            continue;
        }
        let within = |list: &[String], (id, parts): &(String, Vec<String>)| {
            list.contains(id) || (!parts.is_empty() && parts.iter().all(|p| list.contains(p)))
        };
        let mut sight = StaffSight {
            role: role.id.clone(),
            sees: Vec::new(),
            checks: Vec::new(),
            purposes: role.lookup_purposes.clone(),
        };
        for claim in claims {
            let elements = elements_of(claim);
            if elements.iter().any(|e| within(&role.readable, e)) {
                sight.sees.push(claim.clone());
            } else if elements.iter().any(|e| within(&role.verifiable, e)) {
                sight.checks.push(claim.clone());
            }
        }
        if !sight.sees.is_empty() || !sight.checks.is_empty() {
            staff.push(sight);
        }
    }
    AccessNotice {
        legal_basis: entry.and_then(|rp| non_empty(&rp.legal_basis)),
        legal_basis_fr: entry.and_then(|rp| non_empty(&rp.legal_basis_fr)),
        staff,
    }
}
