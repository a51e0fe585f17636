//! The inventory's internal rules. Each check adds a [`Problem`] naming the
//! entry and what is wrong, so one run lists everything to fix. Nothing here
//! reads a file: what needs the source tree is in [`crate::source`].
use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;
use std::path::{Component, Path};

use crate::model::{Element, Inventory, ObligationStatus, RoleKind};
use crate::retention::Retention;
use crate::Problem;

/// The rows of the law's obligations table (`../shared/privacy-law.md`) that
/// must each be mapped exactly once. When the table grows, change this and
/// the inventory together.
pub const OBLIGATION_ROWS: RangeInclusive<u32> = 1..=21;

/// The schema version this crate reads.
const SCHEMA_VERSION: u32 = 1;

struct Report {
    problems: Vec<Problem>,
}

impl Report {
    fn add(&mut self, at: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            at: at.into(),
            message: message.into(),
        });
    }

    fn required(&mut self, at: &str, field: &str, value: &str) {
        if value.trim().is_empty() {
            self.add(at, format!("`{field}` must not be empty"));
        }
    }
}

fn element_at(id: &str) -> String {
    format!("element `{id}`")
}

/// Everything about the inventory that needs no source tree: references,
/// required fields, the form of every path and test it names, and the rules
/// of [`crate::rules`] and [`crate::forbidden`]. The files themselves are
/// looked for by [`crate::source`].
pub(crate) fn content_problems(inv: &Inventory) -> Vec<Problem> {
    let mut problems = problems_in(inv);
    crate::rules::problems(inv, &mut problems);
    crate::forbidden::problems(inv, &mut problems);
    problems
}

fn problems_in(inv: &Inventory) -> Vec<Problem> {
    let mut r = Report {
        problems: Vec::new(),
    };
    if inv.schema_version != SCHEMA_VERSION {
        r.add(
            "schema_version",
            format!(
                "is {}, this tool reads version {SCHEMA_VERSION}",
                inv.schema_version
            ),
        );
    }
    meta(inv, &mut r);
    let purposes = unique_ids(
        &mut r,
        "purpose",
        inv.purposes.iter().map(|p| p.id.as_str()),
    );
    let roles = unique_ids(&mut r, "role", inv.roles.iter().map(|x| x.id.as_str()));
    let elements = unique_ids(
        &mut r,
        "element",
        inv.elements.iter().map(|e| e.id.as_str()),
    );
    unique_ids(&mut r, "scope", inv.scopes.iter().map(|s| s.name.as_str()));
    unique_ids(
        &mut r,
        "relying_party",
        inv.relying_parties.iter().map(|x| x.id.as_str()),
    );
    unique_ids(
        &mut r,
        "processor",
        inv.processors.iter().map(|p| p.id.as_str()),
    );

    for p in &inv.purposes {
        let at = format!("purpose `{}`", p.id);
        r.required(&at, "title", &p.title);
        r.required(&at, "description", &p.description);
        if !inv.elements.iter().any(|e| e.purposes.contains(&p.id)) {
            r.add(
                &at,
                "no element serves this purpose; remove it or map elements to it",
            );
        }
    }
    for role in &inv.roles {
        let at = format!("role `{}`", role.id);
        r.required(&at, "name", &role.name);
        r.required(&at, "description", &role.description);
        let staff_only = role.kind != RoleKind::Staff
            && (!role.actions.is_empty()
                || !role.lookup_purposes.is_empty()
                || !role.may_grant.is_empty());
        if staff_only {
            r.add(
                &at,
                "only staff roles have actions, lookup_purposes or may_grant",
            );
        }
        for p in &role.lookup_purposes {
            if !purposes.contains(p.as_str()) {
                r.add(
                    &at,
                    format!("lookup purpose `{p}` is not declared in [[purpose]]"),
                );
            }
        }
        if role.actions.iter().any(|a| a == "file.lookup") && role.lookup_purposes.is_empty() {
            r.add(
                &at,
                "a role with file.lookup needs lookup_purposes: a file is opened only for a stated purpose",
            );
        }
        for g in &role.may_grant {
            match inv.roles.iter().find(|x| &x.id == g) {
                Some(x) if x.kind == RoleKind::Staff => {}
                Some(_) => r.add(&at, format!("may_grant `{g}`, which is not a staff role")),
                None => r.add(
                    &at,
                    format!("may_grant `{g}`, which is not declared in [[role]]"),
                ),
            }
        }
    }

    let mut claims: BTreeMap<&str, &str> = BTreeMap::new();
    for e in &inv.elements {
        element(e, &purposes, &roles, &elements, inv, &mut r);
        if let Some(claim) = &e.disclosed_as_claim {
            if let Some(other) = claims.insert(claim.as_str(), e.id.as_str()) {
                r.add(
                    element_at(&e.id),
                    format!("claim `{claim}` is already disclosed by element `{other}`"),
                );
            }
        }
    }

    scopes(inv, &claims, &mut r);
    relying_parties(inv, &mut r);
    processors(inv, &elements, &mut r);
    obligations(inv, &mut r);
    r.problems
}

fn meta(inv: &Inventory, r: &mut Report) {
    let m = &inv.meta;
    for (field, value) in [
        ("title", &m.title),
        ("body", &m.body),
        ("contact", &m.contact),
        ("revision", &m.revision),
        ("obligations_source", &m.obligations_source),
    ] {
        r.required("meta", field, value);
    }
    if !is_iso_date(&m.updated) {
        r.add(
            "meta",
            format!("`updated` {:?} is not a date YYYY-MM-DD", m.updated),
        );
    }
}

fn is_iso_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return false;
    };
    let num = |t: &str, len: usize| t.len() == len && t.chars().all(|c| c.is_ascii_digit());
    if !(num(y, 4) && num(m, 2) && num(d, 2)) {
        return false;
    }
    matches!(m.parse::<u32>(), Ok(1..=12)) && matches!(d.parse::<u32>(), Ok(1..=31))
}

fn unique_ids<'a>(
    r: &mut Report,
    kind: &str,
    ids: impl Iterator<Item = &'a str>,
) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::new();
    for id in ids {
        if id.is_empty() {
            r.add(kind, "an entry has an empty id");
        } else if !seen.insert(id) {
            r.add(format!("{kind} `{id}`"), "is declared more than once");
        }
    }
    seen
}

fn is_element_id(id: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    match id.split_once('.') {
        Some((a, b)) => part(a) && part(b),
        None => part(id),
    }
}

/// `ledger`, `log`, `memory`, `none`, `table.column` or `table.*` (a whole row).
fn is_storage(s: &str) -> bool {
    if matches!(s, "ledger" | "log" | "memory" | "none") {
        return true;
    }
    match s.split_once('.') {
        Some((table, "*")) => is_element_id(table),
        Some(_) => is_element_id(s),
        None => false,
    }
}

fn element(
    e: &Element,
    purposes: &BTreeSet<&str>,
    roles: &BTreeSet<&str>,
    elements: &BTreeSet<&str>,
    inv: &Inventory,
    r: &mut Report,
) {
    let at = element_at(&e.id);
    if !is_element_id(&e.id) {
        r.add(
            &at,
            "id must be `aggregate.field` or `name` in lower case, digits and `_`",
        );
    }
    for (field, value) in [
        ("description", &e.description),
        ("sensitivity_reason", &e.sensitivity_reason),
        ("source", &e.source),
        ("necessity", &e.necessity),
        ("legal_basis", &e.legal_basis),
        ("retention_trigger", &e.retention_trigger),
        ("protection", &e.protection),
        ("quantity", &e.quantity),
    ] {
        r.required(&at, field, value);
    }
    if e.purposes.is_empty() {
        r.add(
            &at,
            "has no purpose: every element must serve at least one `[[purpose]]`",
        );
    }
    for p in &e.purposes {
        if !purposes.contains(p.as_str()) {
            r.add(&at, format!("purpose `{p}` is not declared in [[purpose]]"));
        }
    }
    match e.retention.parse::<Retention>() {
        Ok(retention) => {
            if e.storage == "none" && !retention.after.is_zero() {
                r.add(
                    &at,
                    format!(
                        "is not stored (storage = \"none\") but has retention {}; use P0D",
                        e.retention
                    ),
                );
            }
        }
        Err(err) => r.add(&at, err.to_string()),
    }
    if !is_storage(&e.storage) {
        r.add(
            &at,
            format!(
                "storage {:?} is not `table.column`, `table.*`, \"ledger\", \"log\", \"memory\" or \"none\"",
                e.storage
            ),
        );
    }
    if e.roles.is_empty() {
        r.add(&at, "no role has access; say who may see or use it");
    }
    for a in &e.roles {
        if !roles.contains(a.role.as_str()) {
            r.add(
                &at,
                format!("role `{}` is not declared in [[role]]", a.role),
            );
        }
        if a.access.is_empty() {
            r.add(
                &at,
                format!("role `{}` is listed with no access kind", a.role),
            );
        }
    }
    for d in &e.derived_from {
        if !elements.contains(d.as_str()) {
            r.add(&at, format!("derived_from `{d}` is not an element"));
        }
    }
    if !e.derived_from.is_empty() && e.is_stored() {
        r.add(
            &at,
            "a derived element must not be stored (storage \"none\" or \"memory\")",
        );
    }
    if e.planned && e.issue.as_deref().is_none_or(|i| i.trim().is_empty()) {
        r.add(&at, "is planned but names no `issue` that will add it");
    }
    if e.outside_quebec
        && !inv
            .processors
            .iter()
            .any(|p| p.outside_quebec && p.assessment.is_some() && p.elements.contains(&e.id))
    {
        r.add(
            &at,
            "outside_quebec = true needs a [[processor]] outside Québec that lists this element and names its s. 70.1 assessment",
        );
    }
}

fn scopes(inv: &Inventory, disclosed: &BTreeMap<&str, &str>, r: &mut Report) {
    let mut carried = BTreeSet::new();
    for s in &inv.scopes {
        let at = format!("scope `{}`", s.name);
        r.required(&at, "description", &s.description);
        for c in &s.claims {
            carried.insert(c.as_str());
            if !disclosed.contains_key(c.as_str()) {
                r.add(
                    &at,
                    format!("claim `{c}` is not disclosed by any element (disclosed_as_claim)"),
                );
            }
        }
    }
    for (claim, element) in disclosed {
        if !carried.contains(claim) {
            r.add(
                element_at(element),
                format!("claim `{claim}` is carried by no [[scope]]"),
            );
        }
    }
}

fn relying_parties(inv: &Inventory, r: &mut Report) {
    for rp in &inv.relying_parties {
        let at = format!("relying_party `{}`", rp.id);
        for (field, value) in [
            ("name", &rp.name),
            ("body", &rp.body),
            ("purpose", &rp.purpose),
            ("purpose_fr", &rp.purpose_fr),
            ("legal_basis", &rp.legal_basis),
            ("sector", &rp.sector),
        ] {
            r.required(&at, field, value);
        }
        if rp.sector.contains(['/', ':', ' ', '*']) {
            r.add(&at, format!("sector {:?} is not a host name", rp.sector));
        }
        if rp.hosts.is_empty() {
            r.add(
                &at,
                "hosts is empty: list the hosts its redirect, logout and key URIs may use",
            );
        }
        for h in &rp.hosts {
            let name = h.strip_prefix("*.").unwrap_or(h);
            if name.is_empty()
                || name.contains(['/', ':', ' ', '*'])
                || !name.contains(|c: char| c.is_ascii_alphanumeric())
            {
                r.add(&at, format!("host {h:?} is not a host name or `*.domain`"));
            }
        }
        if rp.subject_type == "public"
            && rp
                .public_subject_reason
                .as_deref()
                .is_none_or(|x| x.trim().is_empty())
        {
            r.add(
                &at,
                "subject_type is public but public_subject_reason does not say why the service needs the same `sub` as every other",
            );
        }
        if !matches!(rp.subject_type.as_str(), "pairwise" | "public") {
            r.add(
                &at,
                format!(
                    "subject_type {:?} is not \"pairwise\" or \"public\"",
                    rp.subject_type
                ),
            );
        }
        if !rp.scopes.iter().any(|s| s == "openid") {
            r.add(&at, "scopes must include `openid`");
        }
        let mut reachable = BTreeSet::new();
        for s in &rp.scopes {
            match inv.scopes.iter().find(|x| &x.name == s) {
                Some(scope) => reachable.extend(scope.claims.iter().map(String::as_str)),
                None => r.add(&at, format!("scope `{s}` is not declared in [[scope]]")),
            }
        }
        for c in &rp.claims {
            if !reachable.contains(c.as_str()) {
                r.add(
                    &at,
                    format!(
                        "claim `{c}` is not carried by any of its scopes ({})",
                        rp.scopes.join(", ")
                    ),
                );
            }
        }
        if rp.planned && rp.issue.as_deref().is_none_or(|i| i.trim().is_empty()) {
            r.add(&at, "is planned but names no `issue`");
        }
    }
}

fn processors(inv: &Inventory, elements: &BTreeSet<&str>, r: &mut Report) {
    for p in &inv.processors {
        let at = format!("processor `{}`", p.id);
        for (field, value) in [
            ("name", &p.name),
            ("service", &p.service),
            ("location", &p.location),
            ("agreement", &p.agreement),
        ] {
            r.required(&at, field, value);
        }
        for e in &p.elements {
            if !elements.contains(e.as_str()) {
                r.add(&at, format!("element `{e}` is not declared in [[element]]"));
            }
        }
        match (&p.assessment, p.outside_quebec) {
            (Some(path), _) => check_path(&at, "assessment", path, r),
            (None, true) => r.add(
                &at,
                "is outside Québec: name its privacy impact assessment (A-2.1 s. 70.1) in `assessment`",
            ),
            (None, false) => {}
        }
    }
}

fn obligations(inv: &Inventory, r: &mut Report) {
    let mut seen: BTreeMap<u32, usize> = BTreeMap::new();
    for o in &inv.obligations {
        let at = format!("obligation row {}", o.row);
        *seen.entry(o.row).or_default() += 1;
        if !OBLIGATION_ROWS.contains(&o.row) {
            r.add(
                &at,
                format!(
                    "row {} is outside the law table's rows {}..={}",
                    o.row,
                    OBLIGATION_ROWS.start(),
                    OBLIGATION_ROWS.end()
                ),
            );
        }
        for (field, value) in [
            ("title", &o.title),
            ("article", &o.article),
            ("control", &o.control),
        ] {
            r.required(&at, field, value);
        }
        check_path(&at, "artifact", &o.artifact, r);
        for p in &o.see_also {
            check_path(&at, "see_also", p, r);
        }
        let has_issue = o.issue.as_deref().is_some_and(|i| !i.trim().is_empty());
        if o.test == "planned" {
            if !has_issue {
                r.add(&at, "test is planned but no `issue` says which will add it");
            }
            if o.status == ObligationStatus::Implemented {
                r.add(&at, "is marked implemented but its test is only planned");
            }
        } else {
            check_test(&at, &o.test, r);
        }
        if o.status != ObligationStatus::Implemented && !has_issue {
            r.add(
                &at,
                format!("is {} but names no `issue` to finish it", o.status.as_str()),
            );
        }
    }
    for row in OBLIGATION_ROWS {
        match seen.get(&row) {
            None => r.add(
                format!("obligation row {row}"),
                format!(
                    "is missing: every row {}..={} of the law table must be mapped exactly once",
                    OBLIGATION_ROWS.start(),
                    OBLIGATION_ROWS.end()
                ),
            ),
            Some(n) if *n > 1 => r.add(
                format!("obligation row {row}"),
                format!("is mapped {n} times; map it exactly once"),
            ),
            Some(_) => {}
        }
    }
}

/// A path inside the repository: relative, without `..` (whether it exists
/// is for [`crate::source`]).
fn check_path(at: &str, field: &str, path: &str, r: &mut Report) {
    if let Some(message) = path_form(field, path) {
        r.add(at, message);
    }
}

/// Why `path` is not a relative path inside the repository, if it is not.
pub(crate) fn path_form(field: &str, path: &str) -> Option<String> {
    let p = Path::new(path);
    let outside = path.is_empty()
        || p.is_absolute()
        || p.components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir));
    outside.then(|| format!("{field} {path:?} must be a relative path inside the repository"))
}

/// `path/to/file.rs::test_name`, with a path inside the repository.
fn check_test(at: &str, test: &str, r: &mut Report) {
    if let Some(message) = test_form(test) {
        r.add(at, message);
    }
}

/// Why `test` is not `path/to/file.rs::test_name`, if it is not.
pub(crate) fn test_form(test: &str) -> Option<String> {
    let Some((file, name)) = test.rsplit_once("::") else {
        return Some(format!(
            "test {test:?} must be `path/to/file.rs::test_name` or \"planned\""
        ));
    };
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Some(format!("test {test:?}: `{name}` is not a function name"));
    }
    path_form("test file", file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert!(is_iso_date("2026-11-23"));
        assert!(!is_iso_date("2026-13-01"));
        assert!(!is_iso_date("23/11/2026"));
        assert!(is_element_id("citizen.given_name"));
        assert!(is_element_id("pairwise_subject"));
        assert!(!is_element_id("Citizen.name"));
        assert!(!is_element_id("citizen."));
        assert!(is_storage("citizens.email"));
        assert!(is_storage("ledger"));
        assert!(is_storage("consents.*"));
        assert!(!is_storage("citizens"));
        assert!(!is_storage("*.x"));
        assert!(test_form("a/b.rs::c_d").is_none());
        assert!(test_form("a/b.rs::").is_some());
        assert!(test_form("../b.rs::c").is_some());
        assert!(path_form("x", "/etc/passwd").is_some());
    }
}
