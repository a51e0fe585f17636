//! The inventory as a Markdown document for a reviewer: the same facts as
//! `inventory.toml`, arranged as the tables a privacy commission expects.
use std::collections::BTreeMap;
use std::fmt::Write;

use crate::model::{AccessKind, Element, Inventory, ObligationStatus, Sensitivity};
use crate::retention::Retention;

/// Escapes text for a Markdown table cell.
fn cell(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

fn code_list(items: &[String]) -> String {
    if items.is_empty() {
        "—".to_owned()
    } else {
        items
            .iter()
            .map(|i| format!("`{i}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn state(planned: bool, issue: Option<&str>) -> String {
    match (planned, issue) {
        (true, Some(i)) => format!("planned: {}", cell(i)),
        (true, None) => "planned".to_owned(),
        (false, _) => "in code".to_owned(),
    }
}

fn retention_words(e: &Element) -> (String, String) {
    match e.retention.parse::<Retention>() {
        Ok(r) => {
            let kept = match r.condition {
                Some(c) if r.after.is_zero() => format!("until {}", c.ends_when()),
                Some(c) => format!("until {}, then {}", c.ends_when(), r.after.to_words()),
                None if r.after.is_zero() => "not kept".to_owned(),
                None => r.after.to_words(),
            };
            (kept, r.to_string())
        }
        Err(e) => (format!("INVALID: {e}"), String::new()),
    }
}

// `write!` into a `String` cannot fail; the results are ignored on purpose.
pub(crate) fn render(inv: &Inventory) -> String {
    let mut out = String::new();
    let m = &inv.meta;
    let _ = writeln!(out, "# {}\n", m.title);
    let _ = writeln!(
        out,
        "<!-- Generated from pia/inventory.toml by the sqin-pia crate. Do not edit by hand: edit inventory.toml, then regenerate (see pia/README.md). -->\n"
    );
    let _ = writeln!(out, "| | |\n| --- | --- |");
    let _ = writeln!(out, "| Public body | {} |", cell(&m.body));
    let _ = writeln!(out, "| Responsible | {} |", cell(&m.contact));
    let _ = writeln!(out, "| Revision | {} |", cell(&m.revision));
    let _ = writeln!(out, "| Last reviewed | {} |", m.updated);
    let _ = writeln!(out, "| Status | {} |", m.status.as_str());
    let _ = writeln!(
        out,
        "| Obligations from | {} |\n",
        cell(&m.obligations_source)
    );

    summary(inv, &mut out);
    purposes(inv, &mut out);
    elements(inv, &mut out);
    access(inv, &mut out);
    calendar(inv, &mut out);
    scopes(inv, &mut out);
    relying_parties(inv, &mut out);
    processors(inv, &mut out);
    obligations(inv, &mut out);
    out
}

fn summary(inv: &Inventory, out: &mut String) {
    let total = inv.elements.len();
    let planned = inv.elements.iter().filter(|e| e.planned).count();
    let by = |s: Sensitivity| inv.elements.iter().filter(|e| e.sensitivity == s).count();
    let claims: Vec<String> = inv
        .elements
        .iter()
        .filter_map(|e| e.disclosed_as_claim.clone())
        .collect();
    let outside = inv.elements.iter().filter(|e| e.outside_quebec).count();
    let count = |s: ObligationStatus| inv.obligations.iter().filter(|o| o.status == s).count();
    let _ = writeln!(out, "## Summary\n");
    let _ = writeln!(
        out,
        "- {total} personal-information elements: {} in the code today, {planned} planned.",
        total - planned
    );
    let _ = writeln!(
        out,
        "- Sensitivity: {} high, {} medium, {} low.",
        by(Sensitivity::High),
        by(Sensitivity::Medium),
        by(Sensitivity::Low)
    );
    let _ = writeln!(
        out,
        "- Claims that can be disclosed to a relying party, only with the citizen's approval: {}.",
        code_list(&claims)
    );
    let _ = writeln!(
        out,
        "- Elements kept or released outside Québec: {outside}."
    );
    let _ = writeln!(
        out,
        "- Legal obligations: {} implemented, {} partial, {} planned (of {}).\n",
        count(ObligationStatus::Implemented),
        count(ObligationStatus::Partial),
        count(ObligationStatus::Planned),
        inv.obligations.len()
    );
}

fn purposes(inv: &Inventory, out: &mut String) {
    let _ = writeln!(out, "## 1. Purposes\n");
    let _ = writeln!(
        out,
        "Every element serves at least one of these purposes. A use not listed here is a secondary use (A-2.1 s. 65.1) and needs consent or a registered exception.\n"
    );
    let _ = writeln!(
        out,
        "| purpose | description | elements |\n| --- | --- | --- |"
    );
    for p in &inv.purposes {
        let used: Vec<String> = inv
            .elements
            .iter()
            .filter(|e| e.purposes.contains(&p.id))
            .map(|e| e.id.clone())
            .collect();
        let _ = writeln!(
            out,
            "| **{}** (`{}`) | {} | {} |",
            cell(&p.title),
            p.id,
            cell(&p.description),
            code_list(&used)
        );
    }
    out.push('\n');
}

fn elements(inv: &Inventory, out: &mut String) {
    let _ = writeln!(
        out,
        "## 2. Inventory of personal information (A-2.1 s. 76)\n"
    );
    let _ = writeln!(
        out,
        "| element | category | sensitivity | source | purposes | storage | claim | state |\n| --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    for e in &inv.elements {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | `{}` | {} | {} |",
            e.id,
            e.category.as_str(),
            e.sensitivity.as_str(),
            cell(&e.source),
            code_list(&e.purposes),
            e.storage,
            e.disclosed_as_claim
                .as_deref()
                .map_or("—".to_owned(), |c| format!("`{c}`")),
            state(e.planned, e.issue.as_deref())
        );
    }
    out.push('\n');
    for e in &inv.elements {
        let _ = writeln!(out, "### `{}`\n", e.id);
        let _ = writeln!(out, "{}\n", e.description.trim());
        let (kept, text) = retention_words(e);
        let mut rows: Vec<(&str, String)> = vec![
            (
                "Sensitivity",
                format!(
                    "{}: {}",
                    e.sensitivity.as_str(),
                    e.sensitivity_reason.trim()
                ),
            ),
            ("Necessity (s. 64)", e.necessity.trim().to_owned()),
            ("Legal basis", e.legal_basis.trim().to_owned()),
            ("Source", e.source.trim().to_owned()),
            ("Quantity", e.quantity.trim().to_owned()),
            (
                "Retention",
                format!("{kept} (`{text}`); clock: {}", e.retention_trigger.trim()),
            ),
            ("Destruction", e.destruction.as_str().to_owned()),
            ("Storage", format!("`{}`", e.storage)),
            ("Protection", e.protection.trim().to_owned()),
            ("Optional", if e.optional { "yes" } else { "no" }.to_owned()),
            (
                "Outside Québec",
                if e.outside_quebec { "yes" } else { "no" }.to_owned(),
            ),
        ];
        if !e.derived_from.is_empty() {
            rows.push(("Derived from", code_list(&e.derived_from)));
        }
        let access: Vec<String> = e
            .roles
            .iter()
            .map(|a| {
                let kinds: Vec<&str> = a.access.iter().map(|k| k.as_str()).collect();
                match &a.condition {
                    Some(c) => format!("{}: {} ({})", a.role, kinds.join(", "), c.trim()),
                    None => format!("{}: {}", a.role, kinds.join(", ")),
                }
            })
            .collect();
        rows.push(("Access", access.join("; ")));
        if let Some(n) = &e.notes {
            rows.push(("Notes", n.trim().to_owned()));
        }
        for (k, v) in rows {
            let _ = writeln!(
                out,
                "- **{k}:** {}",
                v.split_whitespace().collect::<Vec<_>>().join(" ")
            );
        }
        out.push('\n');
    }
}

fn access(inv: &Inventory, out: &mut String) {
    let _ = writeln!(out, "## 3. Roles and access through the life cycle\n");
    let _ = writeln!(
        out,
        "| role | kind | description | training |\n| --- | --- | --- | --- |"
    );
    for r in &inv.roles {
        let kind = r.kind.as_str();
        let _ = writeln!(
            out,
            "| **{}** (`{}`) | {} | {} | {} |",
            cell(&r.name),
            r.id,
            kind,
            cell(&r.description),
            r.training.as_deref().map_or("—".to_owned(), cell)
        );
    }
    out.push('\n');
    let staff: Vec<_> = inv.roles.iter().filter(|r| !r.actions.is_empty()).collect();
    if !staff.is_empty() {
        let _ = writeln!(
            out,
            "What each staff role may do in the staff console, enforced by the server on every request (a look-up is made only for one of the role's purposes, with a reference; a grant it requests takes effect when a second person whose role may grant it approves):\n"
        );
        let _ = writeln!(
            out,
            "| role | actions | look-up purposes | may grant |\n| --- | --- | --- | --- |"
        );
        let list = |items: &[String]| {
            if items.is_empty() {
                "—".to_owned()
            } else {
                items
                    .iter()
                    .map(|i| format!("`{i}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        for r in staff {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                r.id,
                list(&r.actions),
                list(&r.lookup_purposes),
                list(&r.may_grant)
            );
        }
        out.push('\n');
    }
    let legend: Vec<String> = [
        AccessKind::Create,
        AccessKind::Read,
        AccessKind::Update,
        AccessKind::Delete,
        AccessKind::Verify,
        AccessKind::Receive,
        AccessKind::Audit,
    ]
    .iter()
    .map(|k| format!("{} {}", k.letter(), k.as_str()))
    .collect();
    let _ = writeln!(
        out,
        "Access matrix ({}). Conditions are listed with each element above.\n",
        legend.join(", ")
    );
    let _ = write!(out, "| element |");
    for r in &inv.roles {
        let _ = write!(out, " {} |", r.id);
    }
    let _ = write!(out, "\n| --- |");
    for _ in &inv.roles {
        let _ = write!(out, " :---: |");
    }
    out.push('\n');
    for e in &inv.elements {
        let _ = write!(out, "| `{}` |", e.id);
        for r in &inv.roles {
            let mut kinds: Vec<AccessKind> = e
                .roles
                .iter()
                .filter(|a| a.role == r.id)
                .flat_map(|a| a.access.iter().copied())
                .collect();
            kinds.sort();
            kinds.dedup();
            let letters: String = kinds.iter().map(|k| k.letter()).collect();
            let _ = write!(
                out,
                " {} |",
                if letters.is_empty() {
                    "·".into()
                } else {
                    letters
                }
            );
        }
        out.push('\n');
    }
    out.push('\n');
}

fn calendar(inv: &Inventory, out: &mut String) {
    let _ = writeln!(
        out,
        "## 4. Retention and destruction calendar (A-2.1 s. 73)\n"
    );
    let _ = writeln!(
        out,
        "Periods are proposals to be entered in the body's retention schedule (Archives Act, chapter A-21.1). Purge jobs read them from the inventory.\n"
    );
    let _ = writeln!(
        out,
        "| element | kept | retention | clock | destruction | storage |\n| --- | --- | --- | --- | --- | --- |"
    );
    let mut rows: Vec<(&Element, Option<Retention>)> = inv
        .elements
        .iter()
        .map(|e| (e, e.retention.parse::<Retention>().ok()))
        .collect();
    rows.sort_by_key(|(e, r)| {
        (
            r.and_then(|r| r.condition),
            r.map_or(u64::MAX, |r| r.after.approx_seconds()),
            e.id.clone(),
        )
    });
    for (e, _) in rows {
        let (kept, text) = retention_words(e);
        let _ = writeln!(
            out,
            "| `{}` | {} | `{}` | {} | {} | `{}` |",
            e.id,
            cell(&kept),
            text,
            cell(&e.retention_trigger),
            e.destruction.as_str(),
            e.storage
        );
    }
    out.push('\n');
}

fn scopes(inv: &Inventory, out: &mut String) {
    let _ = writeln!(out, "## 5. Scopes and the claims they carry\n");
    let _ = writeln!(out, "| scope | claims | description |\n| --- | --- | --- |");
    for s in &inv.scopes {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} |",
            s.name,
            code_list(&s.claims),
            cell(&s.description)
        );
    }
    out.push('\n');
}

fn relying_parties(inv: &Inventory, out: &mut String) {
    let _ = writeln!(out, "## 6. Relying parties (who receives what, and why)\n");
    let _ = writeln!(
        out,
        "Each entry bounds what a service may be registered for: sqin refuses a registration or an edit beyond it (scopes, claims, sector, hosts, a public `sub`) and suspends at start-up a client that has come to be beyond it. A new service, or one whose registration widens, takes effect only once a privacy officer approves it.\n"
    );
    let _ = writeln!(
        out,
        "| entry | service | body | purpose (en / fr) | scopes | claims its purpose needs | sector and hosts | subject | state |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    for rp in &inv.relying_parties {
        let name = if rp.demo {
            format!("{} (demo, synthetic data)", rp.name)
        } else {
            rp.name.clone()
        };
        let subject = match &rp.public_subject_reason {
            Some(why) if rp.subject_type == "public" => format!("public: {}", cell(why)),
            _ => rp.subject_type.clone(),
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} / {} | {} | {} | `{}`; {} | {} | {} |",
            rp.id,
            cell(&name),
            cell(&rp.body),
            cell(&rp.purpose),
            cell(&rp.purpose_fr),
            code_list(&rp.scopes),
            code_list(&rp.claims),
            rp.sector,
            code_list(&rp.hosts),
            subject,
            state(rp.planned, rp.issue.as_deref())
        );
    }
    out.push('\n');
    for rp in &inv.relying_parties {
        if let Some(n) = &rp.notes {
            let _ = writeln!(out, "- `{}`: {}", rp.id, cell(n));
        }
    }
    out.push('\n');
}

fn processors(inv: &Inventory, out: &mut String) {
    let _ = writeln!(
        out,
        "## 7. Hosting and processors (A-2.1 s. 67.2, s. 70.1)\n"
    );
    let _ = writeln!(
        out,
        "| processor | service | location | outside Québec | elements | agreement |\n| --- | --- | --- | --- | --- | --- |"
    );
    for p in &inv.processors {
        let _ = writeln!(
            out,
            "| **{}** (`{}`) | {} | {} | {} | {} | {} |",
            cell(&p.name),
            p.id,
            cell(&p.service),
            cell(&p.location),
            if p.outside_quebec { "yes" } else { "no" },
            code_list(&p.elements),
            cell(&p.agreement)
        );
    }
    out.push('\n');
}

fn obligations(inv: &Inventory, out: &mut String) {
    let _ = writeln!(out, "## 8. Legal obligations: artifact, control, test\n");
    let mut counts: BTreeMap<ObligationStatus, usize> = BTreeMap::new();
    for o in &inv.obligations {
        *counts.entry(o.status).or_default() += 1;
    }
    let _ = writeln!(
        out,
        "{} implemented, {} partial, {} planned.\n",
        counts.get(&ObligationStatus::Implemented).unwrap_or(&0),
        counts.get(&ObligationStatus::Partial).unwrap_or(&0),
        counts.get(&ObligationStatus::Planned).unwrap_or(&0)
    );
    let _ = writeln!(
        out,
        "| # | obligation | article | status | artifact | control in code | test | to finish |\n| --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    let mut rows: Vec<_> = inv.obligations.iter().collect();
    rows.sort_by_key(|o| o.row);
    for o in rows {
        let mut artifacts = vec![format!("`{}`", o.artifact)];
        artifacts.extend(o.see_also.iter().map(|p| format!("`{p}`")));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | `{}` | {} |",
            o.row,
            cell(&o.title),
            cell(&o.article),
            o.status.as_str(),
            artifacts.join(", "),
            cell(&o.control),
            o.test,
            o.issue.as_deref().map_or("—".to_owned(), cell)
        );
    }
    for o in &inv.obligations {
        if let Some(n) = &o.notes {
            let _ = writeln!(out, "\n- Row {}: {}", o.row, cell(n));
        }
    }
}
