//! Each change in one English sentence.
use super::What;
use crate::retention::Retention;

fn quoted(text: &str) -> String {
    format!(
        "\u{201c}{}\u{201d}",
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    )
}

pub(super) fn sentence(what: &What) -> String {
    use What::*;
    match what {
        MetaStatusChanged { from, to } => format!("The assessment's status went from {from} to {to}."),
        PurposeAdded { purpose, title } => format!("New purpose `{purpose}` ({title})."),
        PurposeRemoved { purpose } => format!("Purpose `{purpose}` removed."),
        ElementAdded { element, description, sensitivity, planned } => format!(
            "New element `{element}` ({}), sensitivity {sensitivity}{}.",
            description.trim().trim_end_matches('.'),
            if *planned { ", planned" } else { "" }
        ),
        ElementRemoved { element } => format!("Element `{element}` removed from the inventory."),
        CategoryChanged { element, from, to } => {
            format!("`{element}` is now in category {to} (was {from}).")
        }
        SensitivityLowered { element, from, to } => format!(
            "`{element}`'s sensitivity lowered from {from} to {to} (a lower rating asks for fewer safeguards)."
        ),
        SensitivityRaised { element, from, to } => {
            format!("`{element}`'s sensitivity raised from {from} to {to}.")
        }
        RetentionLengthened { element, from, to } => format!(
            "`{element}` is kept longer: retention lengthened from `{from}` to `{to}`{}.",
            words(from, to)
        ),
        RetentionShortened { element, from, to } => format!(
            "`{element}` is kept less long: retention shortened from `{from}` to `{to}`{}.",
            words(from, to)
        ),
        RetentionRestated { element, from, to } => {
            format!("`{element}`'s retention restated from `{from}` to `{to}` (the same length).")
        }
        RetentionChanged { element, from, to } => format!(
            "`{element}`'s retention changed from `{from}` to `{to}`, which is longer on some dates or in some cases: review it as a lengthening."
        ),
        DestructionChanged { element, from, to } => {
            format!("`{element}` is now destroyed by {to} (was {from}).")
        }
        StorageChanged { element, from, to, now_persisted } => format!(
            "`{element}` is now kept in `{to}` (was `{from}`){}.",
            if *now_persisted { ": it is now persisted" } else { "" }
        ),
        MovedOutsideQuebec { element } => {
            format!("`{element}` is now kept or released outside Québec (s. 70.1).")
        }
        BackInQuebec { element } => {
            format!("`{element}` is no longer kept or released outside Québec.")
        }
        ElementPurposeAdded { element, purpose } => {
            format!("`{element}` now serves purpose `{purpose}`.")
        }
        ElementPurposeRemoved { element, purpose } => {
            format!("`{element}` no longer serves purpose `{purpose}`.")
        }
        ClaimDisclosed { element, claim } => {
            format!("`{element}` can now be disclosed, as claim `{claim}`.")
        }
        ClaimWithdrawn { element, claim } => {
            format!("`{element}` is no longer disclosed as claim `{claim}`.")
        }
        AccessWidened { element, role, access } => {
            format!("Role `{role}` is given {access} access to `{element}`.")
        }
        AccessNarrowed { element, role, access } => {
            format!("Role `{role}` loses {access} access to `{element}`.")
        }
        AccessConditionChanged { element, role, from, to } => match (from, to) {
            (Some(f), None) => format!(
                "Role `{role}`'s access to `{element}` no longer has a condition (was {}).",
                quoted(f)
            ),
            (None, Some(t)) => {
                format!("Role `{role}`'s access to `{element}` is now conditional: {}.", quoted(t))
            }
            (f, t) => format!(
                "Role `{role}`'s condition on `{element}` changed from {} to {}.",
                f.as_deref().map_or("none".to_owned(), quoted),
                t.as_deref().map_or("none".to_owned(), quoted)
            ),
        },
        RoleAdded { role, name, role_kind, actions } => {
            if actions.is_empty() {
                format!("New role `{role}` ({name}, {role_kind}).")
            } else {
                format!(
                    "New role `{role}` ({name}, {role_kind}) that may do {}.",
                    ticks(actions)
                )
            }
        }
        RoleRemoved { role } => format!("Role `{role}` removed."),
        RoleActionAdded { role, action } => format!("Role `{role}` may now do `{action}`."),
        RoleActionRemoved { role, action } => {
            format!("Role `{role}` may no longer do `{action}`.")
        }
        LookupPurposeAdded { role, purpose } => {
            format!("Role `{role}` may now open a citizen's file for purpose `{purpose}`.")
        }
        LookupPurposeRemoved { role, purpose } => {
            format!("Role `{role}` may no longer open a file for purpose `{purpose}`.")
        }
        MayGrantAdded { role, grants } => format!("Role `{role}` may now grant role `{grants}`."),
        MayGrantRemoved { role, grants } => {
            format!("Role `{role}` may no longer grant role `{grants}`.")
        }
        RpAdded { relying_party, name, claims } => format!(
            "New relying party `{relying_party}` ({name}), receiving {}.",
            if claims.is_empty() { "no claim".to_owned() } else { ticks(claims) }
        ),
        RpRemoved { relying_party } => format!("Relying party `{relying_party}` removed."),
        RpClaimAdded { relying_party, claim } => {
            format!("Relying party `{relying_party}` is given a new claim, `{claim}`.")
        }
        RpClaimRemoved { relying_party, claim } => {
            format!("Relying party `{relying_party}` no longer receives `{claim}`.")
        }
        RpScopeAdded { relying_party, scope } => {
            format!("Relying party `{relying_party}` may now ask for scope `{scope}`.")
        }
        RpScopeRemoved { relying_party, scope } => {
            format!("Relying party `{relying_party}` may no longer ask for scope `{scope}`.")
        }
        RpSectorChanged { relying_party, from, to } => format!(
            "Relying party `{relying_party}` moved from sector `{from}` to `{to}` (its `sub` is now shared with that sector's services)."
        ),
        RpSubjectPublic { relying_party } => format!(
            "Relying party `{relying_party}` now receives a public `sub`, the same as every other such service."
        ),
        RpSubjectPairwise { relying_party } => {
            format!("Relying party `{relying_party}` now receives a pairwise `sub`.")
        }
        RpPurposeChanged { relying_party, from, to } => format!(
            "Relying party `{relying_party}`'s purpose changed to {} (was {}).",
            quoted(to),
            quoted(from)
        ),
        ProcessorAdded { processor, name, location, outside_quebec } => format!(
            "New processor `{processor}` ({name}, {location}){}.",
            if *outside_quebec { ", outside Québec" } else { "" }
        ),
        ProcessorRemoved { processor } => format!("Processor `{processor}` removed."),
        ProcessorElementAdded { processor, element } => {
            format!("Processor `{processor}` now handles `{element}`.")
        }
        ProcessorElementRemoved { processor, element } => {
            format!("Processor `{processor}` no longer handles `{element}`.")
        }
        ProcessorMovedOutsideQuebec { processor, location } => {
            format!("Processor `{processor}` moved outside Québec ({location}).")
        }
        ProcessorBackInQuebec { processor, location } => {
            format!("Processor `{processor}` is back in Québec ({location}).")
        }
        ObligationStatusChanged { row, title, from, to } => {
            format!("Obligation row {row} ({title}) went from {from} to {to}.")
        }
        RiskAdded { risk, title, status } => format!("New risk {risk} ({title}), {status}."),
        RiskRemoved { risk, was_closed } => {
            if *was_closed {
                format!("Risk {risk}, closed, removed from the assessment.")
            } else {
                format!("Risk {risk} removed from the assessment without being closed first.")
            }
        }
        RiskClosed { risk, title, from } => format!("Risk {risk} ({title}) closed (was {from})."),
        RiskReopened { risk, title, from, to } => {
            format!("Risk {risk} ({title}) reopened: {to} (was {from}).")
        }
        RiskStatusChanged { risk, from, to } => format!("Risk {risk} is now {to} (was {from})."),
        RiskResidualRaised { risk, from, to } => format!(
            "Risk {risk}'s residual level (likelihood × impact) raised from {from} to {to}."
        ),
        RiskResidualLowered { risk, from, to } => {
            format!("Risk {risk}'s residual level lowered from {from} to {to}.")
        }
        ConsultationAdded { consultation, date, status, covers } => format!(
            "Consultation {consultation} ({status}, {date}) recorded, covering {covers} change{} or entr{}.",
            if *covers == 1 { "" } else { "s" },
            if *covers == 1 { "y" } else { "ies" }
        ),
    }
}

fn ticks(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// " (2 years instead of 1 year)" when both are plain durations.
fn words(from: &str, to: &str) -> String {
    match (from.parse::<Retention>(), to.parse::<Retention>()) {
        (Ok(f), Ok(t)) if f.condition.is_none() && t.condition.is_none() => {
            format!(
                " ({} instead of {})",
                t.after.to_words(),
                f.after.to_words()
            )
        }
        _ => String::new(),
    }
}
