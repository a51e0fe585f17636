//! What changed between two versions of the inventory, in words a reviewer
//! reads: a new element, a retention lengthened, a relying party given a new
//! claim, a role given access, processing moved outside Québec...
//!
//! Each [`Change`] says whether it *widens* the assessment (more is
//! collected, kept longer, disclosed, seen, or processed outside Québec, or
//! a protection is weakened) and carries a stable key
//! (`element-added:citizen.phone`, `rp-claim-added:health-card:birthdate`)
//! that a `[[consultation]]` of the newer version lists in `covers` to record
//! that the committee was consulted on it. A value-bearing key ends with the
//! new value (`retention-lengthened:citizen.email=P2Y`), so a consultation
//! on one lengthening does not cover the next one.
//! [`widenings_without_consultation`] is what `sqin pia check --against OLD`
//! refuses.
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};

use serde::Serialize;

use crate::model::{
    AccessKind, Consultation, ConsultationStatus, Element, Inventory, RelyingParty, Role,
};
use crate::retention::{IsoDuration, Retention};

#[cfg(test)]
mod tests;

mod what;
mod words;

pub use what::{entry, What};

/// One change between two inventories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Stable: the same change between any two versions has the same key;
    /// what a consultation's `covers` lists.
    pub key: String,
    /// Whether it widens the assessment (and so needs a consultation).
    pub widening: bool,
    /// The change in one English sentence.
    pub sentence: String,
    #[serde(flatten)]
    pub what: What,
}

impl Change {
    fn new(what: What) -> Change {
        Change {
            key: what::key(&what),
            widening: what::widens(&what),
            sentence: words::sentence(&what),
            what,
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.sentence, self.key)
    }
}

/// How two durations compare on the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// Longer from some start dates and never shorter.
    Longer,
    Shorter,
    /// The same deadline from every start date.
    Same,
    /// Longer from some start dates, shorter from others (`P1M`, `P30D`).
    Neither,
}

/// Compares `new` with `old` from every start date of five ordinary and
/// leap years and the years around 2100 (not a leap year): years and months
/// are added on the calendar, so `P1M` is longer than `P30D` in July and
/// shorter in February, and `P12M` is `P1Y`.
pub fn compare_durations(old: &IsoDuration, new: &IsoDuration) -> Comparison {
    let day = 86_400i64;
    let start_of = |years: u32| {
        IsoDuration {
            years,
            ..IsoDuration::default()
        }
        .add_to_unix(0)
        .unwrap_or(0)
            / day
    };
    let ranges = [(start_of(29), 6 * 366), (start_of(129), 3 * 366)];
    let (mut longer, mut shorter) = (false, false);
    for (first, count) in ranges {
        for d in first..first + count {
            let start = d * day;
            let (Some(a), Some(b)) = (old.add_to_unix(start), new.add_to_unix(start)) else {
                continue;
            };
            longer |= b > a;
            shorter |= b < a;
        }
    }
    match (longer, shorter) {
        (true, false) => Comparison::Longer,
        (false, true) => Comparison::Shorter,
        (false, false) => Comparison::Same,
        (true, true) => Comparison::Neither,
    }
}

/// Compares two retention values: only the same condition (or none) with
/// its duration can be ordered; anything else is [`Comparison::Neither`].
pub fn compare_retention(old: &str, new: &str) -> Comparison {
    match (old.parse::<Retention>(), new.parse::<Retention>()) {
        (Ok(o), Ok(n)) if o.condition == n.condition => compare_durations(&o.after, &n.after),
        _ => Comparison::Neither,
    }
}

/// Every change from `old` to `new`, in the inventory's order: meta,
/// purposes, elements, roles, relying parties, processors, obligations,
/// risks, consultations.
pub fn diff(old: &Inventory, new: &Inventory) -> Vec<Change> {
    let mut out: Vec<What> = Vec::new();
    if old.meta.status != new.meta.status {
        out.push(What::MetaStatusChanged {
            from: old.meta.status.as_str().into(),
            to: new.meta.status.as_str().into(),
        });
    }
    let (old_p, new_p) = (ids(&old.purposes, |p| &p.id), ids(&new.purposes, |p| &p.id));
    for p in new
        .purposes
        .iter()
        .filter(|p| !old_p.contains(p.id.as_str()))
    {
        out.push(What::PurposeAdded {
            purpose: p.id.clone(),
            title: p.title.clone(),
        });
    }
    for p in old
        .purposes
        .iter()
        .filter(|p| !new_p.contains(p.id.as_str()))
    {
        out.push(What::PurposeRemoved {
            purpose: p.id.clone(),
        });
    }
    elements(old, new, &mut out);
    roles(old, new, &mut out);
    relying_parties(old, new, &mut out);
    processors(old, new, &mut out);
    for o in &new.obligations {
        if let Some(was) = old.obligations.iter().find(|w| w.row == o.row) {
            if was.status != o.status {
                out.push(What::ObligationStatusChanged {
                    row: o.row,
                    title: o.title.clone(),
                    from: was.status.as_str().into(),
                    to: o.status.as_str().into(),
                });
            }
        }
    }
    risks(old, new, &mut out);
    for c in new
        .consultations
        .iter()
        .filter(|c| !old.consultations.iter().any(|o| o.id == c.id))
    {
        out.push(What::ConsultationAdded {
            consultation: c.id.clone(),
            date: c.date.clone(),
            status: consultation_status(c).into(),
            covers: c.covers.len(),
        });
    }
    out.into_iter().map(Change::new).collect()
}

fn consultation_status(c: &Consultation) -> &'static str {
    match c.status {
        ConsultationStatus::Planned => "planned",
        ConsultationStatus::Held => "held",
    }
}

fn ids<'a, T>(items: &'a [T], id: impl Fn(&'a T) -> &'a String) -> BTreeSet<&'a str> {
    items.iter().map(|i| id(i).as_str()).collect()
}

/// Items of `new` not in `old` and of `old` not in `new`, each in its list's order.
fn added_removed<'a>(old: &'a [String], new: &'a [String]) -> (Vec<&'a String>, Vec<&'a String>) {
    (
        new.iter().filter(|n| !old.contains(n)).collect(),
        old.iter().filter(|o| !new.contains(o)).collect(),
    )
}

fn elements(old: &Inventory, new: &Inventory, out: &mut Vec<What>) {
    let after = ids(&new.elements, |e| &e.id);
    for e in &new.elements {
        match old.elements.iter().find(|o| o.id == e.id) {
            None => out.push(What::ElementAdded {
                element: e.id.clone(),
                description: e.description.clone(),
                sensitivity: e.sensitivity.as_str().into(),
                planned: e.planned,
            }),
            Some(o) => element(o, e, out),
        }
    }
    for e in old
        .elements
        .iter()
        .filter(|e| !after.contains(e.id.as_str()))
    {
        out.push(What::ElementRemoved {
            element: e.id.clone(),
        });
    }
}

fn element(o: &Element, e: &Element, out: &mut Vec<What>) {
    let id = || e.id.clone();
    if o.category != e.category {
        out.push(What::CategoryChanged {
            element: id(),
            from: o.category.as_str().into(),
            to: e.category.as_str().into(),
        });
    }
    if o.sensitivity != e.sensitivity {
        let (from, to) = (o.sensitivity.as_str().into(), e.sensitivity.as_str().into());
        out.push(if e.sensitivity < o.sensitivity {
            What::SensitivityLowered {
                element: id(),
                from,
                to,
            }
        } else {
            What::SensitivityRaised {
                element: id(),
                from,
                to,
            }
        });
    }
    if o.retention != e.retention {
        let (from, to) = (o.retention.clone(), e.retention.clone());
        out.push(match compare_retention(&o.retention, &e.retention) {
            Comparison::Longer => What::RetentionLengthened {
                element: id(),
                from,
                to,
            },
            Comparison::Shorter => What::RetentionShortened {
                element: id(),
                from,
                to,
            },
            Comparison::Same => What::RetentionRestated {
                element: id(),
                from,
                to,
            },
            Comparison::Neither => What::RetentionChanged {
                element: id(),
                from,
                to,
            },
        });
    }
    if o.destruction != e.destruction {
        out.push(What::DestructionChanged {
            element: id(),
            from: o.destruction.as_str().into(),
            to: e.destruction.as_str().into(),
        });
    }
    if o.storage != e.storage {
        out.push(What::StorageChanged {
            element: id(),
            from: o.storage.clone(),
            to: e.storage.clone(),
            now_persisted: e.is_stored() && !o.is_stored(),
        });
    }
    match (o.outside_quebec, e.outside_quebec) {
        (false, true) => out.push(What::MovedOutsideQuebec { element: id() }),
        (true, false) => out.push(What::BackInQuebec { element: id() }),
        _ => {}
    }
    let (added, removed) = added_removed(&o.purposes, &e.purposes);
    for p in added {
        out.push(What::ElementPurposeAdded {
            element: id(),
            purpose: p.clone(),
        });
    }
    for p in removed {
        out.push(What::ElementPurposeRemoved {
            element: id(),
            purpose: p.clone(),
        });
    }
    if o.disclosed_as_claim != e.disclosed_as_claim {
        if let Some(claim) = &o.disclosed_as_claim {
            out.push(What::ClaimWithdrawn {
                element: id(),
                claim: claim.clone(),
            });
        }
        if let Some(claim) = &e.disclosed_as_claim {
            out.push(What::ClaimDisclosed {
                element: id(),
                claim: claim.clone(),
            });
        }
    }
    access(o, e, out);
}

/// Each role's access kinds and conditions on an element.
fn access_of(e: &Element) -> BTreeMap<&str, (BTreeSet<AccessKind>, Option<String>)> {
    let mut map: BTreeMap<&str, (BTreeSet<AccessKind>, Option<String>)> = BTreeMap::new();
    for a in &e.roles {
        let entry = map.entry(a.role.as_str()).or_default();
        entry.0.extend(a.access.iter().copied());
        if let Some(c) = &a.condition {
            let c = c.trim();
            entry.1 = Some(match entry.1.take() {
                Some(prev) => format!("{prev}; {c}"),
                None => c.to_owned(),
            });
        }
    }
    map
}

fn access(o: &Element, e: &Element, out: &mut Vec<What>) {
    let (before, after) = (access_of(o), access_of(e));
    let empty = (BTreeSet::new(), None);
    let roles: BTreeSet<&str> = before.keys().chain(after.keys()).copied().collect();
    for role in roles {
        let (was, was_condition) = before.get(role).unwrap_or(&empty);
        let (now, now_condition) = after.get(role).unwrap_or(&empty);
        let what =
            |access: &AccessKind| (e.id.clone(), role.to_owned(), access.as_str().to_owned());
        for k in now.difference(was) {
            let (element, role, access) = what(k);
            out.push(What::AccessWidened {
                element,
                role,
                access,
            });
        }
        for k in was.difference(now) {
            let (element, role, access) = what(k);
            out.push(What::AccessNarrowed {
                element,
                role,
                access,
            });
        }
        // A condition matters only where the role keeps some access.
        if !was.is_empty() && !now.is_empty() && was_condition != now_condition {
            out.push(What::AccessConditionChanged {
                element: e.id.clone(),
                role: role.to_owned(),
                from: was_condition.clone(),
                to: now_condition.clone(),
            });
        }
    }
}

fn roles(old: &Inventory, new: &Inventory, out: &mut Vec<What>) {
    for r in &new.roles {
        let Some(o) = old.roles.iter().find(|o| o.id == r.id) else {
            out.push(What::RoleAdded {
                role: r.id.clone(),
                name: r.name.clone(),
                role_kind: r.kind.as_str().into(),
                actions: r.actions.clone(),
            });
            continue;
        };
        role(o, r, out);
    }
    for r in old
        .roles
        .iter()
        .filter(|o| !new.roles.iter().any(|r| r.id == o.id))
    {
        out.push(What::RoleRemoved { role: r.id.clone() });
    }
}

fn role(o: &Role, r: &Role, out: &mut Vec<What>) {
    let role = || r.id.clone();
    let (added, removed) = added_removed(&o.actions, &r.actions);
    out.extend(added.into_iter().map(|a| What::RoleActionAdded {
        role: role(),
        action: a.clone(),
    }));
    out.extend(removed.into_iter().map(|a| What::RoleActionRemoved {
        role: role(),
        action: a.clone(),
    }));
    let (added, removed) = added_removed(&o.lookup_purposes, &r.lookup_purposes);
    out.extend(added.into_iter().map(|p| What::LookupPurposeAdded {
        role: role(),
        purpose: p.clone(),
    }));
    out.extend(removed.into_iter().map(|p| What::LookupPurposeRemoved {
        role: role(),
        purpose: p.clone(),
    }));
    let (added, removed) = added_removed(&o.may_grant, &r.may_grant);
    out.extend(added.into_iter().map(|g| What::MayGrantAdded {
        role: role(),
        grants: g.clone(),
    }));
    out.extend(removed.into_iter().map(|g| What::MayGrantRemoved {
        role: role(),
        grants: g.clone(),
    }));
}

fn relying_parties(old: &Inventory, new: &Inventory, out: &mut Vec<What>) {
    for rp in &new.relying_parties {
        match old.relying_parties.iter().find(|o| o.id == rp.id) {
            None => out.push(What::RpAdded {
                relying_party: rp.id.clone(),
                name: rp.name.clone(),
                claims: rp.claims.clone(),
            }),
            Some(o) => relying_party(o, rp, out),
        }
    }
    for o in &old.relying_parties {
        if !new.relying_parties.iter().any(|rp| rp.id == o.id) {
            out.push(What::RpRemoved {
                relying_party: o.id.clone(),
            });
        }
    }
}

fn relying_party(o: &RelyingParty, rp: &RelyingParty, out: &mut Vec<What>) {
    let id = || rp.id.clone();
    let (added, removed) = added_removed(&o.claims, &rp.claims);
    out.extend(added.into_iter().map(|c| What::RpClaimAdded {
        relying_party: id(),
        claim: c.clone(),
    }));
    out.extend(removed.into_iter().map(|c| What::RpClaimRemoved {
        relying_party: id(),
        claim: c.clone(),
    }));
    let (added, removed) = added_removed(&o.scopes, &rp.scopes);
    out.extend(added.into_iter().map(|s| What::RpScopeAdded {
        relying_party: id(),
        scope: s.clone(),
    }));
    out.extend(removed.into_iter().map(|s| What::RpScopeRemoved {
        relying_party: id(),
        scope: s.clone(),
    }));
    if o.sector != rp.sector {
        out.push(What::RpSectorChanged {
            relying_party: id(),
            from: o.sector.clone(),
            to: rp.sector.clone(),
        });
    }
    let public = |r: &RelyingParty| r.subject_type == "public";
    match (public(o), public(rp)) {
        (false, true) => out.push(What::RpSubjectPublic {
            relying_party: id(),
        }),
        (true, false) => out.push(What::RpSubjectPairwise {
            relying_party: id(),
        }),
        _ => {}
    }
    if o.purpose.trim() != rp.purpose.trim() {
        out.push(What::RpPurposeChanged {
            relying_party: id(),
            from: o.purpose.trim().into(),
            to: rp.purpose.trim().into(),
        });
    }
}

fn processors(old: &Inventory, new: &Inventory, out: &mut Vec<What>) {
    for p in &new.processors {
        let Some(o) = old.processors.iter().find(|o| o.id == p.id) else {
            out.push(What::ProcessorAdded {
                processor: p.id.clone(),
                name: p.name.clone(),
                location: p.location.clone(),
                outside_quebec: p.outside_quebec,
            });
            continue;
        };
        let id = || p.id.clone();
        let (added, removed) = added_removed(&o.elements, &p.elements);
        out.extend(added.into_iter().map(|e| What::ProcessorElementAdded {
            processor: id(),
            element: e.clone(),
        }));
        out.extend(removed.into_iter().map(|e| What::ProcessorElementRemoved {
            processor: id(),
            element: e.clone(),
        }));
        match (o.outside_quebec, p.outside_quebec) {
            (false, true) => out.push(What::ProcessorMovedOutsideQuebec {
                processor: id(),
                location: p.location.clone(),
            }),
            (true, false) => out.push(What::ProcessorBackInQuebec {
                processor: id(),
                location: p.location.clone(),
            }),
            _ => {}
        }
    }
    for o in &old.processors {
        if !new.processors.iter().any(|p| p.id == o.id) {
            out.push(What::ProcessorRemoved {
                processor: o.id.clone(),
            });
        }
    }
}

fn risks(old: &Inventory, new: &Inventory, out: &mut Vec<What>) {
    use crate::model::RiskStatus;
    for r in &new.risks {
        let Some(o) = old.risks.iter().find(|o| o.id == r.id) else {
            out.push(What::RiskAdded {
                risk: r.id.clone(),
                title: r.title.clone(),
                status: r.status.as_str().into(),
            });
            continue;
        };
        if o.status != r.status {
            let (from, to) = (o.status.as_str().to_owned(), r.status.as_str().to_owned());
            let settled = |s: RiskStatus| matches!(s, RiskStatus::Mitigated | RiskStatus::Closed);
            out.push(if r.status == RiskStatus::Closed {
                What::RiskClosed {
                    risk: r.id.clone(),
                    title: r.title.clone(),
                    from,
                }
            } else if settled(o.status) && !settled(r.status) {
                What::RiskReopened {
                    risk: r.id.clone(),
                    title: r.title.clone(),
                    from,
                    to,
                }
            } else {
                What::RiskStatusChanged {
                    risk: r.id.clone(),
                    from,
                    to,
                }
            });
        }
        let (from, to) = (o.residual_level(), r.residual_level());
        if to > from {
            out.push(What::RiskResidualRaised {
                risk: r.id.clone(),
                from,
                to,
            });
        } else if to < from {
            out.push(What::RiskResidualLowered {
                risk: r.id.clone(),
                from,
                to,
            });
        }
    }
    for o in &old.risks {
        if !new.risks.iter().any(|r| r.id == o.id) {
            out.push(What::RiskRemoved {
                risk: o.id.clone(),
                was_closed: o.status == RiskStatus::Closed,
            });
        }
    }
}

/// The consultations of `new` that cover `change`: their `covers` lists
/// the change's key, or the entry it is about (`element citizen.phone`
/// covers every change to that element).
pub fn covering<'a>(new: &'a Inventory, change: &Change) -> Vec<&'a Consultation> {
    let entry = entry(&change.what);
    new.consultations
        .iter()
        .filter(|c| {
            c.covers.iter().any(|k| {
                let k = k.split_whitespace().collect::<Vec<_>>().join(" ");
                k == change.key || entry.as_deref() == Some(k.as_str())
            })
        })
        .collect()
}

/// The widenings from `old` to `new` that no consultation of `new` covers:
/// what `sqin pia check --against OLD` refuses.
pub fn widenings_without_consultation(old: &Inventory, new: &Inventory) -> Vec<Change> {
    diff(old, new)
        .into_iter()
        .filter(|c| c.widening && covering(new, c).is_empty())
        .collect()
}

fn version(inv: &Inventory) -> String {
    format!(
        "revision {}, last reviewed {}, {}",
        inv.meta.revision,
        inv.meta.updated,
        inv.meta.status.as_str()
    )
}

/// The changes as a reviewer reads them: a heading line, the widenings
/// (each with the consultation that covers it, or saying none does), then
/// the other changes; each line ends with its key.
pub fn render_text(old: &Inventory, new: &Inventory, changes: &[Change]) -> String {
    let mut out = String::new();
    let widenings: Vec<&Change> = changes.iter().filter(|c| c.widening).collect();
    let uncovered = widenings
        .iter()
        .filter(|c| covering(new, c).is_empty())
        .count();
    let _ = writeln!(out, "Old: {}\nNew: {}", version(old), version(new));
    if changes.is_empty() {
        let _ = writeln!(out, "No change.");
        return out;
    }
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let _ = writeln!(
        out,
        "{}, {} ({} not covered by a consultation).",
        plural(changes.len(), "change"),
        plural(widenings.len(), "widening"),
        uncovered
    );
    if !widenings.is_empty() {
        let _ = writeln!(out, "\nWidenings:");
        for c in &widenings {
            let by = covering(new, c);
            let note = match by.first() {
                Some(k) => format!(
                    "consultation {} ({}, {})",
                    k.id,
                    consultation_status(k),
                    k.date
                ),
                None => "NOT COVERED by a consultation".to_owned(),
            };
            let _ = writeln!(out, "  - {}\n    [{}] {note}", c.sentence, c.key);
        }
    }
    let others: Vec<&Change> = changes.iter().filter(|c| !c.widening).collect();
    if !others.is_empty() {
        let _ = writeln!(out, "\nOther changes:");
        for c in others {
            let _ = writeln!(out, "  - {}\n    [{}]", c.sentence, c.key);
        }
    }
    out
}
