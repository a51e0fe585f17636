//! The inventory as a Markdown document for a reviewer: the same facts as
//! `inventory.toml`, arranged as the tables a privacy commission expects.
//! What it shares with the HTML assessment (counts, orders, the access
//! matrix, the English words of a retention) comes from [`crate::facts`]
//! and [`crate::html::kept`], so the two documents agree.
use std::fmt::Write;

use crate::facts::{self, Markup, Summary};
use crate::html::{self, Lang};
use crate::model::{Element, Inventory};
use crate::retention::Retention;

/// Escapes text for a Markdown table cell: one line, pipes escaped. The
/// generated blocks of governance.md and assessment.md are cells too.
pub(crate) fn cell(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// Inline code.
fn code(s: &str) -> String {
    format!("`{s}`")
}

/// A list of inline code; `—` when empty (governance.md's too).
pub(crate) fn code_list(items: &[String]) -> String {
    facts::listed(items, code)
}

/// Markdown, for the rows [`facts`] builds.
struct InMarkdown;

impl Markup for InMarkdown {
    fn text(&self, s: &str) -> String {
        cell(s)
    }

    fn code(&self, s: &str) -> String {
        code(s)
    }

    fn named(&self, title: &str, id: &str) -> String {
        format!("**{}** ({})", cell(title), code(id))
    }
}

/// A table's heading row and its rule.
fn head(out: &mut String, headings: &[&str]) {
    let _ = writeln!(
        out,
        "| {} |\n|{}",
        headings.join(" | "),
        " --- |".repeat(headings.len())
    );
}

/// One table row; the cells are Markdown already.
fn row(out: &mut String, cells: &[String]) {
    let _ = writeln!(out, "| {} |", cells.join(" | "));
}

fn state(planned: bool, issue: Option<&str>) -> String {
    match (planned, issue) {
        (true, Some(i)) => format!("planned: {}", cell(i)),
        (true, None) => "planned".to_owned(),
        (false, _) => "in code".to_owned(),
    }
}

/// How long `e` is kept, in the HTML document's English words, and its
/// retention as parsed (empty when it does not parse).
fn retention_words(e: &Element) -> (String, String) {
    let parsed = e
        .retention
        .parse::<Retention>()
        .map_or_else(|_| String::new(), |r| r.to_string());
    (html::kept(e, Lang::En), parsed)
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_owned()
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
    for (k, v) in [
        ("Public body", cell(&m.body)),
        ("Responsible", cell(&m.contact)),
        ("Revision", cell(&m.revision)),
        ("Last reviewed", m.updated.clone()),
        ("Status", m.status.as_str().to_owned()),
        ("Obligations from", cell(&m.obligations_source)),
    ] {
        row(&mut out, &[k.to_owned(), v]);
    }
    out.push('\n');

    summary(inv, &mut out);
    purposes(inv, &mut out);
    elements(inv, &mut out);
    access(inv, &mut out);
    calendar(inv, &mut out);
    scopes(inv, &mut out);
    relying_parties(inv, &mut out);
    processors(inv, &mut out);
    obligations(inv, &mut out);
    risks(inv, &mut out);
    retention_bounds(inv, &mut out);
    forbidden(inv, &mut out);
    consultations(inv, &mut out);
    out
}

fn summary(inv: &Inventory, out: &mut String) {
    let s = Summary::of(inv);
    let _ = writeln!(out, "## Summary\n");
    let _ = writeln!(
        out,
        "- {} personal-information elements: {} in the code today, {} planned.",
        s.total,
        s.total - s.planned,
        s.planned
    );
    let _ = writeln!(
        out,
        "- Sensitivity: {} high, {} medium, {} low.",
        s.high, s.medium, s.low
    );
    let _ = writeln!(
        out,
        "- Claims that can be disclosed to a relying party, only with the citizen's approval: {}.",
        code_list(&s.claims)
    );
    let _ = writeln!(
        out,
        "- Elements kept or released outside Québec: {}.",
        s.outside
    );
    let _ = writeln!(
        out,
        "- Legal obligations: {} implemented, {} partial, {} planned (of {}).\n",
        s.implemented, s.partial, s.to_do, s.obligations
    );
}

fn purposes(inv: &Inventory, out: &mut String) {
    let _ = writeln!(out, "## 1. Purposes\n");
    let _ = writeln!(
        out,
        "Every element serves at least one of these purposes. A use not listed here is a secondary use (A-2.1 s. 65.1) and needs consent or a registered exception.\n"
    );
    head(out, &["purpose", "description", "elements"]);
    for p in &inv.purposes {
        row(out, &facts::purpose_row(&InMarkdown, inv, p));
    }
    out.push('\n');
}

fn elements(inv: &Inventory, out: &mut String) {
    let _ = writeln!(
        out,
        "## 2. Inventory of personal information (A-2.1 s. 76)\n"
    );
    head(
        out,
        &[
            "element",
            "category",
            "sensitivity",
            "source",
            "purposes",
            "storage",
            "claim",
            "state",
        ],
    );
    for e in &inv.elements {
        row(
            out,
            &[
                code(&e.id),
                e.category.as_str().to_owned(),
                e.sensitivity.as_str().to_owned(),
                cell(&e.source),
                code_list(&e.purposes),
                code(&e.storage),
                e.disclosed_as_claim.as_deref().map_or("—".to_owned(), code),
                state(e.planned, e.issue.as_deref()),
            ],
        );
    }
    out.push('\n');
    for e in &inv.elements {
        element(e, out);
    }
}

/// One element's section: its description, then a field a line.
fn element(e: &Element, out: &mut String) {
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
        ("Storage", code(&e.storage)),
        ("Protection", e.protection.trim().to_owned()),
        ("Optional", yes_no(e.optional)),
        ("Outside Québec", yes_no(e.outside_quebec)),
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

fn access(inv: &Inventory, out: &mut String) {
    let _ = writeln!(out, "## 3. Roles and access through the life cycle\n");
    head(out, &["role", "kind", "description", "training"]);
    for r in &inv.roles {
        row(
            out,
            &facts::role_row(&InMarkdown, r, r.kind.as_str().to_owned()),
        );
    }
    out.push('\n');
    let staff = facts::staff(inv);
    if !staff.is_empty() {
        let _ = writeln!(
            out,
            "What each staff role may do in the staff console, enforced by the server on every request (a look-up is made only for one of the role's purposes, with a reference; a grant it requests takes effect when a second person whose role may grant it approves):\n"
        );
        head(out, &["role", "actions", "look-up purposes", "may grant"]);
        for r in staff {
            row(out, &facts::staff_row(&InMarkdown, r));
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "Access matrix ({}). Conditions are listed with each element above.\n",
        facts::legend(|k| k.as_str())
    );
    // The roles' columns are centred: written by hand, not by `head`.
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
        let mut cells = vec![code(&e.id)];
        cells.extend(inv.roles.iter().map(|r| facts::access_letters(e, &r.id)));
        row(out, &cells);
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
    head(
        out,
        &[
            "element",
            "kept",
            "retention",
            "clock",
            "destruction",
            "storage",
        ],
    );
    for e in facts::calendar(inv) {
        let (kept, text) = retention_words(e);
        row(
            out,
            &[
                code(&e.id),
                cell(&kept),
                code(&text),
                cell(&e.retention_trigger),
                e.destruction.as_str().to_owned(),
                code(&e.storage),
            ],
        );
    }
    out.push('\n');
}

fn scopes(inv: &Inventory, out: &mut String) {
    let _ = writeln!(out, "## 5. Scopes and the claims they carry\n");
    head(out, &["scope", "claims", "description"]);
    for s in &inv.scopes {
        row(out, &facts::scope_row(&InMarkdown, s));
    }
    out.push('\n');
}

fn relying_parties(inv: &Inventory, out: &mut String) {
    let _ = writeln!(out, "## 6. Relying parties (who receives what, and why)\n");
    let _ = writeln!(
        out,
        "Each entry bounds what a service may be registered for: sqin refuses a registration or an edit beyond it (scopes, claims, sector, hosts, a public `sub`) and suspends at start-up a client that has come to be beyond it. A new service, or one whose registration widens, takes effect only once a privacy officer approves it.\n"
    );
    head(
        out,
        &[
            "entry",
            "service",
            "body",
            "purpose (en / fr)",
            "scopes",
            "claims its purpose needs",
            "sector and hosts",
            "subject",
            "state",
        ],
    );
    for rp in &inv.relying_parties {
        let name = if rp.name_fr.is_empty() || rp.name_fr == rp.name {
            rp.name.clone()
        } else {
            format!("{} / {}", rp.name, rp.name_fr)
        };
        let name = if rp.demo {
            format!("{name} (demo, synthetic data)")
        } else {
            name
        };
        let subject = match &rp.public_subject_reason {
            Some(why) if rp.subject_type == "public" => format!("public: {}", cell(why)),
            _ => rp.subject_type.clone(),
        };
        row(
            out,
            &[
                code(&rp.id),
                cell(&name),
                cell(&rp.body),
                format!("{} / {}", cell(&rp.purpose), cell(&rp.purpose_fr)),
                code_list(&rp.scopes),
                code_list(&rp.claims),
                format!("{}; {}", code(&rp.sector), code_list(&rp.hosts)),
                subject,
                state(rp.planned, rp.issue.as_deref()),
            ],
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
    head(
        out,
        &[
            "processor",
            "service",
            "location",
            "outside Québec",
            "elements",
            "agreement",
        ],
    );
    for p in &inv.processors {
        let outside = yes_no(p.outside_quebec);
        row(out, &facts::processor_row(&InMarkdown, p, outside));
    }
    out.push('\n');
}

fn obligations(inv: &Inventory, out: &mut String) {
    let _ = writeln!(out, "## 8. Legal obligations: artifact, control, test\n");
    let s = Summary::of(inv);
    let _ = writeln!(
        out,
        "{} implemented, {} partial, {} planned.\n",
        s.implemented, s.partial, s.to_do
    );
    head(
        out,
        &[
            "#",
            "obligation",
            "article",
            "status",
            "artifact",
            "control in code",
            "test",
            "to finish",
        ],
    );
    for o in facts::obligations_by_row(inv) {
        let status = o.status.as_str().to_owned();
        row(out, &facts::obligation_row(&InMarkdown, o, status));
    }
    for o in &inv.obligations {
        if let Some(n) = &o.notes {
            let _ = writeln!(out, "\n- Row {}: {}", o.row, cell(n));
        }
    }
}

fn risks(inv: &Inventory, out: &mut String) {
    let _ = writeln!(out, "\n## 9. Risks: control and test\n");
    let _ = writeln!(
        out,
        "Likelihood × severity, 1 to 4 each, before and after the measures (pia/assessment.md, step 3, explains each).\n"
    );
    head(
        out,
        &[
            "#", "risk", "before", "measures", "after", "status", "control", "test",
        ],
    );
    for r in &inv.risks {
        row(
            out,
            &[
                r.id.clone(),
                cell(&r.title),
                r.level().to_string(),
                cell(&r.measures),
                r.residual_level().to_string(),
                match r.issue.as_deref() {
                    Some(i) => format!("{}: {}", r.status.as_str(), cell(i)),
                    None => r.status.as_str().to_owned(),
                },
                code(&r.control),
                code(&r.test),
            ],
        );
    }
}

fn retention_bounds(inv: &Inventory, out: &mut String) {
    let _ = writeln!(out, "\n## 10. Bounds on retention\n");
    let _ = writeln!(
        out,
        "No element is kept longer than {} once its trigger occurs. The law's floors: {}. The assessment's own rules, per kind of element:\n",
        crate::rules::RETENTION_CEILING,
        crate::rules::LAW_FLOORS
            .iter()
            .map(|(e, d, why)| format!("`{e}` at least {d} ({why})"))
            .collect::<Vec<_>>()
            .join("; ")
    );
    head(out, &["rule", "applies to", "at least", "at most", "why"]);
    for r in &inv.retention_rules {
        let mut applies: Vec<String> = r
            .category
            .iter()
            .map(|c| format!("category `{}`", c.as_str()))
            .collect();
        applies.extend(r.elements.iter().map(|e| code(e)));
        row(
            out,
            &[
                code(&r.id),
                applies.join(", "),
                r.floor.as_deref().unwrap_or("—").to_owned(),
                r.ceiling.clone(),
                cell(&r.reason),
            ],
        );
    }
}

fn forbidden(inv: &Inventory, out: &mut String) {
    let _ = writeln!(out, "\n## 11. Forbidden subjects\n");
    let _ = writeln!(
        out,
        "sqin holds, discloses and serves nothing about these subjects, whatever an entry claims to be: every element id, description, claim and legal basis, every purpose, scope, role and relying party is matched against them (case and accents ignored; `*` ends a stem). Profiling terms are matched against what says why something is done. The assessment may add subjects, never remove one.\n"
    );
    head(out, &["subject", "terms", "from"]);
    let compiled = crate::forbidden::SUBJECTS.iter().map(|s| {
        let mut terms: Vec<String> = s.terms.iter().map(|t| code(t)).collect();
        for added in inv.forbidden_subjects.iter().filter(|a| a.id == s.id) {
            terms.extend(added.terms.iter().map(|t| format!("`{t}` (added)")));
        }
        (s.title.to_owned(), s.id, s.profiling, terms, "sqin")
    });
    let added = inv
        .forbidden_subjects
        .iter()
        .filter(|a| !crate::forbidden::SUBJECTS.iter().any(|s| s.id == a.id))
        .map(|a| {
            let terms: Vec<String> = a.terms.iter().map(|t| code(t)).collect();
            (
                cell(&a.title),
                a.id.as_str(),
                a.profiling,
                terms,
                "this assessment",
            )
        });
    for (title, id, profiling, terms, from) in compiled.chain(added) {
        let purposes = if profiling { ", purposes" } else { "" };
        row(
            out,
            &[
                format!("{title} (`{id}`){purposes}"),
                terms.join(", "),
                from.to_owned(),
            ],
        );
    }
    if inv.forbidden_exceptions.is_empty() {
        let _ = writeln!(out, "\nNo exception is recorded.");
    }
    for x in &inv.forbidden_exceptions {
        let _ = writeln!(
            out,
            "\n- Exception: `{}` for {} `{}`, consultation {}: {}",
            x.subject,
            x.table,
            x.id,
            x.consultation,
            cell(&x.reason)
        );
    }
}

fn consultations(inv: &Inventory, out: &mut String) {
    let _ = writeln!(out, "\n## 12. Consultations of the committee\n");
    head(
        out,
        &[
            "#", "date", "revision", "stage", "status", "decision", "record",
        ],
    );
    for c in &inv.consultations {
        row(
            out,
            &[
                c.id.clone(),
                c.date.clone(),
                cell(&c.revision),
                cell(&c.stage),
                match c.status {
                    crate::model::ConsultationStatus::Planned => "planned",
                    crate::model::ConsultationStatus::Held => "held",
                }
                .to_owned(),
                match c.decision {
                    None => "—",
                    Some(crate::model::ConsultationDecision::Approved) => "approved",
                    Some(crate::model::ConsultationDecision::Noted) => "noted",
                    Some(crate::model::ConsultationDecision::Refused) => "refused",
                }
                .to_owned(),
                code(&c.record),
            ],
        );
    }
}
