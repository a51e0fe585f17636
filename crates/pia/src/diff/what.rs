//! The kinds of change, their stable keys, whether each widens the
//! assessment, and the entry each is about.
use serde::Serialize;

/// What changed, with the entries concerned. The JSON form is tagged by
/// `kind`, the first part of the change's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum What {
    MetaStatusChanged {
        from: String,
        to: String,
    },
    PurposeAdded {
        purpose: String,
        title: String,
    },
    PurposeRemoved {
        purpose: String,
    },
    ElementAdded {
        element: String,
        description: String,
        sensitivity: String,
        planned: bool,
    },
    ElementRemoved {
        element: String,
    },
    CategoryChanged {
        element: String,
        from: String,
        to: String,
    },
    SensitivityLowered {
        element: String,
        from: String,
        to: String,
    },
    SensitivityRaised {
        element: String,
        from: String,
        to: String,
    },
    RetentionLengthened {
        element: String,
        from: String,
        to: String,
    },
    RetentionShortened {
        element: String,
        from: String,
        to: String,
    },
    /// The same length on every date, written differently (`P12M`, `P1Y`).
    RetentionRestated {
        element: String,
        from: String,
        to: String,
    },
    /// Longer on some dates or under some conditions, shorter on others
    /// (`P1M` and `P30D`, or another condition): to be reviewed as a widening.
    RetentionChanged {
        element: String,
        from: String,
        to: String,
    },
    DestructionChanged {
        element: String,
        from: String,
        to: String,
    },
    StorageChanged {
        element: String,
        from: String,
        to: String,
        now_persisted: bool,
    },
    MovedOutsideQuebec {
        element: String,
    },
    BackInQuebec {
        element: String,
    },
    ElementPurposeAdded {
        element: String,
        purpose: String,
    },
    ElementPurposeRemoved {
        element: String,
        purpose: String,
    },
    ClaimDisclosed {
        element: String,
        claim: String,
    },
    ClaimWithdrawn {
        element: String,
        claim: String,
    },
    AccessWidened {
        element: String,
        role: String,
        access: String,
    },
    AccessNarrowed {
        element: String,
        role: String,
        access: String,
    },
    /// The condition on a role's access was lifted or rewritten.
    AccessConditionChanged {
        element: String,
        role: String,
        from: Option<String>,
        to: Option<String>,
    },
    RoleAdded {
        role: String,
        name: String,
        role_kind: String,
        actions: Vec<String>,
    },
    RoleRemoved {
        role: String,
    },
    RoleActionAdded {
        role: String,
        action: String,
    },
    RoleActionRemoved {
        role: String,
        action: String,
    },
    LookupPurposeAdded {
        role: String,
        purpose: String,
    },
    LookupPurposeRemoved {
        role: String,
        purpose: String,
    },
    MayGrantAdded {
        role: String,
        grants: String,
    },
    MayGrantRemoved {
        role: String,
        grants: String,
    },
    RpAdded {
        relying_party: String,
        name: String,
        claims: Vec<String>,
    },
    RpRemoved {
        relying_party: String,
    },
    RpClaimAdded {
        relying_party: String,
        claim: String,
    },
    RpClaimRemoved {
        relying_party: String,
        claim: String,
    },
    RpScopeAdded {
        relying_party: String,
        scope: String,
    },
    RpScopeRemoved {
        relying_party: String,
        scope: String,
    },
    RpSectorChanged {
        relying_party: String,
        from: String,
        to: String,
    },
    RpSubjectPublic {
        relying_party: String,
    },
    RpSubjectPairwise {
        relying_party: String,
    },
    RpPurposeChanged {
        relying_party: String,
        from: String,
        to: String,
    },
    ProcessorAdded {
        processor: String,
        name: String,
        location: String,
        outside_quebec: bool,
    },
    ProcessorRemoved {
        processor: String,
    },
    ProcessorElementAdded {
        processor: String,
        element: String,
    },
    ProcessorElementRemoved {
        processor: String,
        element: String,
    },
    ProcessorMovedOutsideQuebec {
        processor: String,
        location: String,
    },
    ProcessorBackInQuebec {
        processor: String,
        location: String,
    },
    ObligationStatusChanged {
        row: u32,
        title: String,
        from: String,
        to: String,
    },
    RiskAdded {
        risk: String,
        title: String,
        status: String,
    },
    /// Taken out of the assessment without being closed first.
    RiskRemoved {
        risk: String,
        was_closed: bool,
    },
    RiskClosed {
        risk: String,
        title: String,
        from: String,
    },
    /// Back to open or partial from mitigated or closed.
    RiskReopened {
        risk: String,
        title: String,
        from: String,
        to: String,
    },
    RiskStatusChanged {
        risk: String,
        from: String,
        to: String,
    },
    /// Likelihood × impact once the measures are in place, higher.
    RiskResidualRaised {
        risk: String,
        from: u32,
        to: u32,
    },
    RiskResidualLowered {
        risk: String,
        from: u32,
        to: u32,
    },
    ConsultationAdded {
        consultation: String,
        date: String,
        status: String,
        covers: usize,
    },
}

/// A short, stable fingerprint of free text (FNV-1a, 32 bits), so a key
/// names a new purpose or condition without quoting it whole.
fn fingerprint(text: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in text.trim().bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{h:08x}")
}

fn kind_name(what: &What) -> String {
    // The serde tag is the kebab-case variant name; derive it from Debug.
    let debug = format!("{what:?}");
    let name = debug.split([' ', '{', '(']).next().unwrap_or_default();
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

pub(super) fn key(what: &What) -> String {
    use What::*;
    let subject = match what {
        MetaStatusChanged { to, .. } => format!("meta={to}"),
        PurposeAdded { purpose, .. } | PurposeRemoved { purpose } => purpose.clone(),
        ElementAdded { element, .. }
        | ElementRemoved { element }
        | MovedOutsideQuebec { element }
        | BackInQuebec { element } => element.clone(),
        CategoryChanged { element, to, .. }
        | SensitivityLowered { element, to, .. }
        | SensitivityRaised { element, to, .. }
        | RetentionLengthened { element, to, .. }
        | RetentionShortened { element, to, .. }
        | RetentionRestated { element, to, .. }
        | RetentionChanged { element, to, .. }
        | DestructionChanged { element, to, .. }
        | StorageChanged { element, to, .. } => format!("{element}={to}"),
        ElementPurposeAdded { element, purpose } | ElementPurposeRemoved { element, purpose } => {
            format!("{element}:{purpose}")
        }
        ClaimDisclosed { element, claim } | ClaimWithdrawn { element, claim } => {
            format!("{element}:{claim}")
        }
        AccessWidened {
            element,
            role,
            access,
        }
        | AccessNarrowed {
            element,
            role,
            access,
        } => {
            format!("{element}:{role}:{access}")
        }
        AccessConditionChanged {
            element, role, to, ..
        } => match to {
            Some(c) => format!("{element}:{role}={}", fingerprint(c)),
            None => format!("{element}:{role}=none"),
        },
        RoleAdded { role, .. } | RoleRemoved { role } => role.clone(),
        RoleActionAdded { role, action } | RoleActionRemoved { role, action } => {
            format!("{role}:{action}")
        }
        LookupPurposeAdded { role, purpose } | LookupPurposeRemoved { role, purpose } => {
            format!("{role}:{purpose}")
        }
        MayGrantAdded { role, grants } | MayGrantRemoved { role, grants } => {
            format!("{role}:{grants}")
        }
        RpAdded { relying_party, .. }
        | RpRemoved { relying_party }
        | RpSubjectPublic { relying_party }
        | RpSubjectPairwise { relying_party } => relying_party.clone(),
        RpClaimAdded {
            relying_party,
            claim,
        }
        | RpClaimRemoved {
            relying_party,
            claim,
        } => {
            format!("{relying_party}:{claim}")
        }
        RpScopeAdded {
            relying_party,
            scope,
        }
        | RpScopeRemoved {
            relying_party,
            scope,
        } => {
            format!("{relying_party}:{scope}")
        }
        RpSectorChanged {
            relying_party, to, ..
        } => format!("{relying_party}={to}"),
        RpPurposeChanged {
            relying_party, to, ..
        } => {
            format!("{relying_party}={}", fingerprint(to))
        }
        ProcessorAdded { processor, .. } | ProcessorRemoved { processor } => processor.clone(),
        ProcessorElementAdded { processor, element }
        | ProcessorElementRemoved { processor, element } => format!("{processor}:{element}"),
        ProcessorMovedOutsideQuebec {
            processor,
            location,
        }
        | ProcessorBackInQuebec {
            processor,
            location,
        } => {
            format!("{processor}={}", fingerprint(location))
        }
        ObligationStatusChanged { row, to, .. } => format!("{row}={to}"),
        RiskAdded { risk, .. } | RiskRemoved { risk, .. } | RiskClosed { risk, .. } => risk.clone(),
        RiskReopened { risk, to, .. } | RiskStatusChanged { risk, to, .. } => {
            format!("{risk}={to}")
        }
        RiskResidualRaised { risk, to, .. } | RiskResidualLowered { risk, to, .. } => {
            format!("{risk}={to}")
        }
        ConsultationAdded { consultation, .. } => consultation.clone(),
    };
    format!("{}:{subject}", kind_name(what))
}

/// Whether a change widens the assessment: more collected, kept longer,
/// disclosed or seen, processed outside Québec, or a safeguard weakened.
pub(super) fn widens(what: &What) -> bool {
    use What::*;
    match what {
        PurposeAdded { .. }
        | ElementAdded { .. }
        | SensitivityLowered { .. }
        | RetentionLengthened { .. }
        | RetentionChanged { .. }
        | MovedOutsideQuebec { .. }
        | ElementPurposeAdded { .. }
        | ClaimDisclosed { .. }
        | AccessWidened { .. }
        | RoleActionAdded { .. }
        | LookupPurposeAdded { .. }
        | MayGrantAdded { .. }
        | RpAdded { .. }
        | RpClaimAdded { .. }
        | RpScopeAdded { .. }
        | RpSectorChanged { .. }
        | RpSubjectPublic { .. }
        | RpPurposeChanged { .. }
        | ProcessorAdded { .. }
        | ProcessorElementAdded { .. }
        | ProcessorMovedOutsideQuebec { .. }
        | RiskReopened { .. }
        | RiskResidualRaised { .. } => true,
        RiskRemoved { was_closed, .. } => !*was_closed,
        StorageChanged { now_persisted, .. } => *now_persisted,
        // Lifting or rewriting a condition widens; adding one narrows.
        AccessConditionChanged { to, from, .. } => !(from.is_none() && to.is_some()),
        RoleAdded { actions, .. } => !actions.is_empty(),
        _ => false,
    }
}

/// The entry a change is about, as a consultation's `covers` may name it
/// (`element citizen.email`, `relying_party health-card`).
pub fn entry(what: &What) -> Option<String> {
    use What::*;
    let (table, id) = match what {
        MetaStatusChanged { .. } => return Some("meta".into()),
        PurposeAdded { purpose, .. } | PurposeRemoved { purpose } => ("purpose", purpose),
        ElementAdded { element, .. }
        | ElementRemoved { element }
        | CategoryChanged { element, .. }
        | SensitivityLowered { element, .. }
        | SensitivityRaised { element, .. }
        | RetentionLengthened { element, .. }
        | RetentionShortened { element, .. }
        | RetentionRestated { element, .. }
        | RetentionChanged { element, .. }
        | DestructionChanged { element, .. }
        | StorageChanged { element, .. }
        | MovedOutsideQuebec { element }
        | BackInQuebec { element }
        | ElementPurposeAdded { element, .. }
        | ElementPurposeRemoved { element, .. }
        | ClaimDisclosed { element, .. }
        | ClaimWithdrawn { element, .. }
        | AccessWidened { element, .. }
        | AccessNarrowed { element, .. }
        | AccessConditionChanged { element, .. } => ("element", element),
        RoleAdded { role, .. }
        | RoleRemoved { role }
        | RoleActionAdded { role, .. }
        | RoleActionRemoved { role, .. }
        | LookupPurposeAdded { role, .. }
        | LookupPurposeRemoved { role, .. }
        | MayGrantAdded { role, .. }
        | MayGrantRemoved { role, .. } => ("role", role),
        RpAdded { relying_party, .. }
        | RpRemoved { relying_party }
        | RpClaimAdded { relying_party, .. }
        | RpClaimRemoved { relying_party, .. }
        | RpScopeAdded { relying_party, .. }
        | RpScopeRemoved { relying_party, .. }
        | RpSectorChanged { relying_party, .. }
        | RpSubjectPublic { relying_party }
        | RpSubjectPairwise { relying_party }
        | RpPurposeChanged { relying_party, .. } => ("relying_party", relying_party),
        ProcessorAdded { processor, .. }
        | ProcessorRemoved { processor }
        | ProcessorElementAdded { processor, .. }
        | ProcessorElementRemoved { processor, .. }
        | ProcessorMovedOutsideQuebec { processor, .. }
        | ProcessorBackInQuebec { processor, .. } => ("processor", processor),
        ObligationStatusChanged { row, .. } => return Some(format!("obligation {row}")),
        RiskAdded { risk, .. }
        | RiskRemoved { risk, .. }
        | RiskClosed { risk, .. }
        | RiskReopened { risk, .. }
        | RiskStatusChanged { risk, .. }
        | RiskResidualRaised { risk, .. }
        | RiskResidualLowered { risk, .. } => ("risk", risk),
        ConsultationAdded { .. } => return None,
    };
    Some(format!("{table} {id}"))
}
