//! The rules an inventory must follow beyond its own references: who may
//! have what access (need to know), how long each kind of element may be
//! kept (the law's floors, the PIA's floors and ceilings), when the
//! assessment may say it is approved, and the form of its risks. They need
//! no source tree, so the server applies them at start-up like CI.
use std::collections::BTreeSet;

use crate::model::{
    AccessKind, ConsultationDecision, ConsultationStatus, DocumentStatus, Element, Inventory,
    RiskStatus, RoleKind, Sensitivity,
};
use crate::retention::{IsoDuration, Retention};
use crate::validate::{path_form, test_form};
use crate::Problem;

/// No element of an identity provider is kept longer than this once its
/// trigger occurs, whatever the PIA's own rules say.
pub const RETENTION_CEILING: &str = "P10Y";

/// Floors the law sets: `(element, shortest retention, why)`.
pub const LAW_FLOORS: &[(&str, &str, &str)] = &[(
    "incident.record",
    "P5Y",
    "the register of confidentiality incidents is kept at least five years (A-2.1 s. 63.11; A-2.1, r. 3.1, s. 7)",
)];

struct Out<'a>(&'a mut Vec<Problem>);

impl Out<'_> {
    fn add(&mut self, at: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            at: at.into(),
            message: message.into(),
        });
    }
}

pub(crate) fn problems(inv: &Inventory, problems: &mut Vec<Problem>) {
    let mut out = Out(problems);
    access(inv, &mut out);
    retention(inv, &mut out);
    consultations(inv, &mut out);
    risks(inv, &mut out);
}

fn element_at(e: &Element) -> String {
    format!("element `{}`", e.id)
}

/// Need to know: each role's access within what its kind and the element
/// allow.
///
/// - every access of a person, member of staff or oversight body says when
///   it is allowed (`condition`);
/// - only a system (a relying party, sqin itself) receives a disclosure;
/// - an oversight body reads or audits, nothing else;
/// - a staff role sees or changes a citizen's file (`citizen.*`) only if it
///   may open one (`file.lookup`): the console shows a file only through a
///   look-up for a stated purpose;
/// - a member of staff reads a highly sensitive element of a citizen's file
///   in clear only when the access is logged (its condition says so).
fn access(inv: &Inventory, out: &mut Out<'_>) {
    for e in &inv.elements {
        for a in &e.roles {
            let Some(role) = inv.roles.iter().find(|r| r.id == a.role) else {
                continue; // reported by the reference checks
            };
            let at = element_at(e);
            let who = format!("role `{}` ({})", role.id, role.kind.as_str());
            let condition = a.condition.as_deref().unwrap_or_default().trim();
            if role.kind != RoleKind::System && condition.is_empty() {
                out.add(
                    &at,
                    format!("{who} has access with no `condition`: say when it is allowed (own record, logged, a request...)"),
                );
            }
            if role.kind != RoleKind::System && a.access.contains(&AccessKind::Receive) {
                out.add(
                    &at,
                    format!("{who} is given `receive`: only a system (a relying party) receives a disclosure"),
                );
            }
            if role.kind == RoleKind::Oversight {
                for kind in &a.access {
                    if !matches!(kind, AccessKind::Read | AccessKind::Audit) {
                        out.add(
                            &at,
                            format!(
                                "{who} is given `{}`: an oversight body only reads or audits",
                                kind.as_str()
                            ),
                        );
                    }
                }
            }
            if role.kind != RoleKind::Staff {
                continue;
            }
            let clear: Vec<&str> = a
                .access
                .iter()
                .filter(|k| {
                    matches!(
                        k,
                        AccessKind::Create
                            | AccessKind::Read
                            | AccessKind::Update
                            | AccessKind::Delete
                    )
                })
                .map(|k| k.as_str())
                .collect();
            let looks_up = role.actions.iter().any(|x| x == "file.lookup");
            if e.id.starts_with("citizen.") && !clear.is_empty() && !looks_up {
                out.add(
                    &at,
                    format!(
                        "{who} is given {} on a citizen's file but may not open one (no `file.lookup` among its actions): staff see a file only through a look-up for a stated purpose",
                        clear.join(", ")
                    ),
                );
            }
            if e.sensitivity == Sensitivity::High
                && e.id.starts_with("citizen.")
                && a.access.contains(&AccessKind::Read)
                && !condition.to_lowercase().contains("logged")
            {
                out.add(
                    &at,
                    format!("{who} reads this highly sensitive element of a citizen's file in clear without its condition saying the access is logged"),
                );
            }
        }
    }
}

fn duration(text: &str) -> Option<IsoDuration> {
    text.parse().ok()
}

/// Whether `pattern` (an id, or a prefix ending in `*`) matches `id`.
fn id_matches(pattern: &str, id: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => id.starts_with(prefix),
        None => id == pattern,
    }
}

/// Retention within bounds: under the compiled-in ceiling, above the law's
/// floors, and within every `[[retention_rule]]` that applies; every
/// element is of at least one rule's kind, so every element has a ceiling.
fn retention(inv: &Inventory, out: &mut Out<'_>) {
    let ceiling = duration(RETENTION_CEILING).unwrap_or_default();
    let mut ids = BTreeSet::new();
    for rule in &inv.retention_rules {
        let at = format!("retention_rule `{}`", rule.id);
        if rule.id.trim().is_empty() {
            out.add("retention_rule", "an entry has an empty id");
        } else if !ids.insert(rule.id.as_str()) {
            out.add(&at, "is declared more than once");
        }
        if rule.reason.trim().is_empty() {
            out.add(&at, "`reason` must not be empty");
        }
        if rule.category.is_none() && rule.elements.is_empty() {
            out.add(&at, "applies to nothing: give a `category` or `elements`");
        }
        for p in &rule.elements {
            let prefix = p.strip_suffix('*').unwrap_or(p);
            if prefix.is_empty() || prefix.contains('*') {
                out.add(
                    &at,
                    format!("element pattern {p:?} must be an id, or a prefix ending in `*`"),
                );
            } else if !inv.elements.iter().any(|e| id_matches(p, &e.id)) {
                out.add(&at, format!("element pattern {p:?} matches no element"));
            }
        }
        let floor = match rule.floor.as_deref().map(str::parse::<IsoDuration>) {
            Some(Ok(d)) => Some(d),
            Some(Err(e)) => {
                out.add(&at, format!("floor: {e}"));
                None
            }
            None => None,
        };
        match rule.ceiling.parse::<IsoDuration>() {
            Ok(c) => {
                if c.approx_seconds() > ceiling.approx_seconds() {
                    out.add(
                        &at,
                        format!(
                            "ceiling {} is beyond the longest retention sqin allows ({RETENTION_CEILING})",
                            rule.ceiling
                        ),
                    );
                }
                if floor.is_some_and(|f| f.approx_seconds() > c.approx_seconds()) {
                    out.add(&at, "its floor is above its ceiling");
                }
            }
            Err(e) => out.add(&at, format!("ceiling: {e}")),
        }
    }

    for e in &inv.elements {
        let Ok(kept) = e.retention.parse::<Retention>() else {
            continue; // reported by the element checks
        };
        let at = element_at(e);
        let after = kept.after.approx_seconds();
        if after > ceiling.approx_seconds() {
            out.add(
                &at,
                format!(
                    "retention {} is beyond the longest retention sqin allows ({RETENTION_CEILING} once its trigger occurs)",
                    e.retention
                ),
            );
        }
        for (id, floor, why) in LAW_FLOORS {
            if *id == e.id && duration(floor).is_some_and(|f| after < f.approx_seconds()) {
                out.add(
                    &at,
                    format!(
                        "retention {} is shorter than the law's floor of {floor}: {why}",
                        e.retention
                    ),
                );
            }
        }
        let rules: Vec<_> = inv
            .retention_rules
            .iter()
            .filter(|r| {
                r.category == Some(e.category) || r.elements.iter().any(|p| id_matches(p, &e.id))
            })
            .collect();
        if rules.is_empty() && !inv.retention_rules.is_empty() {
            out.add(
                &at,
                format!(
                    "no [[retention_rule]] applies to it (category `{}`): every kind of element needs a ceiling",
                    e.category.as_str()
                ),
            );
        }
        for rule in rules {
            if let Some(c) = duration(&rule.ceiling) {
                if after > c.approx_seconds() {
                    out.add(
                        &at,
                        format!(
                            "retention {} is longer than the ceiling of {} that retention_rule `{}` sets ({})",
                            e.retention, rule.ceiling, rule.id, rule.reason
                        ),
                    );
                }
            }
            let floor = rule.floor.as_deref().and_then(duration);
            if let Some(f) = floor {
                if e.is_stored() && after < f.approx_seconds() {
                    out.add(
                        &at,
                        format!(
                            "retention {} is shorter than the floor of {} that retention_rule `{}` sets ({})",
                            e.retention,
                            rule.floor.as_deref().unwrap_or_default(),
                            rule.id,
                            rule.reason
                        ),
                    );
                }
            }
        }
    }
    if inv.retention_rules.is_empty() {
        out.add(
            "retention_rule",
            "none declared: the PIA sets the floors and ceilings of retention per kind of element ([[retention_rule]])",
        );
    }
}

fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// Consultations are recorded; `approved` only with the committee's
/// approval of this very revision on record.
fn consultations(inv: &Inventory, out: &mut Out<'_>) {
    let mut ids = BTreeSet::new();
    for c in &inv.consultations {
        let at = format!("consultation {}", c.id);
        if c.id.trim().is_empty() {
            out.add("consultation", "an entry has an empty id");
        } else if !ids.insert(c.id.as_str()) {
            out.add(&at, "is declared more than once");
        }
        if !is_iso_date(&c.date) {
            out.add(&at, format!("`date` {:?} is not a date YYYY-MM-DD", c.date));
        }
        for (field, value) in [("revision", &c.revision), ("stage", &c.stage)] {
            if value.trim().is_empty() {
                out.add(&at, format!("`{field}` must not be empty"));
            }
        }
        let file = c
            .record
            .split_once('#')
            .map_or(c.record.as_str(), |(f, _)| f);
        if let Some(message) = path_form("record", file) {
            out.add(&at, message);
        }
        if c.status == ConsultationStatus::Planned && c.decision.is_some() {
            out.add(
                &at,
                "is planned but records a decision: only a held consultation decides",
            );
        }
    }
    if inv.meta.status == DocumentStatus::Approved {
        let approved = inv.consultations.iter().any(|c| {
            c.status == ConsultationStatus::Held
                && c.decision == Some(ConsultationDecision::Approved)
                && c.revision == inv.meta.revision
        });
        if !approved {
            out.add(
                "meta",
                format!(
                    "status = \"approved\", but no [[consultation]] held for revision {:?} records the committee's approval (decision = \"approved\")",
                    inv.meta.revision
                ),
            );
        }
    }
}

/// The risks: each rated, controlled by code and shown by a test.
fn risks(inv: &Inventory, out: &mut Out<'_>) {
    if inv.risks.is_empty() {
        out.add(
            "risk",
            "none declared: the assessment's risks are listed as [[risk]] entries, each naming its control and test",
        );
    }
    let mut ids = BTreeSet::new();
    for r in &inv.risks {
        let at = format!("risk {}", r.id);
        let well_formed =
            r.id.strip_prefix('R')
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if !well_formed {
            out.add(&at, "id must be R followed by a number (R1, R2...)");
        }
        if !ids.insert(r.id.as_str()) {
            out.add(&at, "is declared more than once");
        }
        for (field, value) in [
            ("title", &r.title),
            ("measures", &r.measures),
            ("control", &r.control),
        ] {
            if value.trim().is_empty() {
                out.add(&at, format!("`{field}` must not be empty"));
            }
        }
        for (field, value) in [
            ("likelihood", r.likelihood),
            ("impact", r.impact),
            ("residual_likelihood", r.residual_likelihood),
            ("residual_impact", r.residual_impact),
        ] {
            if !(1..=4).contains(&value) {
                out.add(&at, format!("`{field}` is {value}; rate it from 1 to 4"));
            }
        }
        if r.residual_level() > r.level() {
            out.add(
                &at,
                format!(
                    "its residual level {} is above its level before the measures ({})",
                    r.residual_level(),
                    r.level()
                ),
            );
        }
        if !r.control.trim().is_empty() {
            if let Some(message) = path_form("control", &r.control) {
                out.add(&at, message);
            }
        }
        if r.test == "planned" {
            out.add(
                &at,
                "names no test: every risk names the test that shows its control works",
            );
        } else if let Some(message) = test_form(&r.test) {
            out.add(&at, message);
        }
        let open = matches!(r.status, RiskStatus::Open | RiskStatus::Partial);
        if open && r.issue.as_deref().is_none_or(|i| i.trim().is_empty()) {
            out.add(
                &at,
                format!("is {} but names no `issue` to finish it", r.status.as_str()),
            );
        }
    }
}
