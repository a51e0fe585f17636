//! What the Markdown document ([`crate::render`]) and the HTML assessment
//! ([`crate::html`]) both derive from the inventory before each words it in
//! its own markup: the summary's counts, the access matrix, the calendar's
//! order, the elements serving a purpose, the staff roles, the obligations
//! by row, and the rows of the tables whose columns both documents share
//! ([`Markup`]). Derived once here, so the two documents a reviewer may
//! compare cannot count, sort, mark access or fill a column differently.
use crate::model::{
    AccessKind, Element, Inventory, Obligation, ObligationStatus, Processor, Purpose, Role, Scope,
    Sensitivity,
};
use crate::retention::Retention;

/// Every access kind, in the order the matrix legend lists them.
pub(crate) const ACCESS_KINDS: [AccessKind; 7] = [
    AccessKind::Create,
    AccessKind::Read,
    AccessKind::Update,
    AccessKind::Delete,
    AccessKind::Verify,
    AccessKind::Receive,
    AccessKind::Audit,
];

/// The counts the summary opens with.
pub(crate) struct Summary {
    /// Elements, all of them.
    pub total: usize,
    /// Elements still planned (not in the code yet).
    pub planned: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    /// The claims elements can be disclosed as, in inventory order.
    pub claims: Vec<String>,
    /// Elements kept or released outside Québec.
    pub outside: usize,
    pub implemented: usize,
    pub partial: usize,
    /// Obligations still planned.
    pub to_do: usize,
    /// Obligation rows, all of them.
    pub obligations: usize,
}

impl Summary {
    pub(crate) fn of(inv: &Inventory) -> Summary {
        let sensitive = |s: Sensitivity| inv.elements.iter().filter(|e| e.sensitivity == s).count();
        let status = |s: ObligationStatus| inv.obligations.iter().filter(|o| o.status == s).count();
        Summary {
            total: inv.elements.len(),
            planned: inv.elements.iter().filter(|e| e.planned).count(),
            high: sensitive(Sensitivity::High),
            medium: sensitive(Sensitivity::Medium),
            low: sensitive(Sensitivity::Low),
            claims: inv
                .elements
                .iter()
                .filter_map(|e| e.disclosed_as_claim.clone())
                .collect(),
            outside: inv.elements.iter().filter(|e| e.outside_quebec).count(),
            implemented: status(ObligationStatus::Implemented),
            partial: status(ObligationStatus::Partial),
            to_do: status(ObligationStatus::Planned),
            obligations: inv.obligations.len(),
        }
    }
}

/// `items` each marked up by `mark`, joined by commas; `—` when there is
/// none, so an empty cell still says so.
pub(crate) fn listed(items: &[String], mark: impl Fn(&str) -> String) -> String {
    if items.is_empty() {
        "—".to_owned()
    } else {
        items.iter().map(|i| mark(i)).collect::<Vec<_>>().join(", ")
    }
}

/// The ids of the elements that serve `purpose`.
pub(crate) fn serving(inv: &Inventory, purpose: &str) -> Vec<String> {
    inv.elements
        .iter()
        .filter(|e| e.purposes.iter().any(|p| p == purpose))
        .map(|e| e.id.clone())
        .collect()
}

/// The staff roles: those with actions in the staff console.
pub(crate) fn staff(inv: &Inventory) -> Vec<&Role> {
    inv.roles.iter().filter(|r| !r.actions.is_empty()).collect()
}

/// The matrix legend, `C create, R read, …`, each kind worded by `word`.
pub(crate) fn legend(word: impl Fn(AccessKind) -> &'static str) -> String {
    ACCESS_KINDS
        .iter()
        .map(|k| format!("{} {}", k.letter(), word(*k)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A cell of the access matrix: the letters of what `role` may do with
/// `e`, in the legend's order and each once; `·` when nothing.
pub(crate) fn access_letters(e: &Element, role: &str) -> String {
    let mut kinds: Vec<AccessKind> = e
        .roles
        .iter()
        .filter(|a| a.role == role)
        .flat_map(|a| a.access.iter().copied())
        .collect();
    kinds.sort();
    kinds.dedup();
    if kinds.is_empty() {
        "·".to_owned()
    } else {
        kinds.iter().map(|k| k.letter()).collect()
    }
}

/// The elements in the calendar's order: fixed periods first, then by the
/// condition their clock waits for; within each, by how long they are kept
/// (a retention that does not parse after the fixed periods), then by id.
pub(crate) fn calendar(inv: &Inventory) -> Vec<&Element> {
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
    rows.into_iter().map(|(e, _)| e).collect()
}

/// The obligations in the law table's order.
pub(crate) fn obligations_by_row(inv: &Inventory) -> Vec<&Obligation> {
    let mut rows: Vec<&Obligation> = inv.obligations.iter().collect();
    rows.sort_by_key(|o| o.row);
    rows
}

/// How a document writes the inventory's values: Markdown
/// ([`crate::render`]) or HTML ([`crate::html`]). The tables whose columns
/// both documents share build their rows once, below, in either markup;
/// each document writes its own headings, in its own words.
pub(crate) trait Markup {
    /// Free text of the inventory, its spacing normalised, escaped.
    fn text(&self, s: &str) -> String;
    /// An identifier, a path or a value, as code.
    fn code(&self, s: &str) -> String;
    /// An entry's title, emphasised, with its id as code.
    fn named(&self, title: &str, id: &str) -> String;
    /// A list of codes; `—` when empty.
    fn codes(&self, items: &[String]) -> String {
        listed(items, |i| self.code(i))
    }
    /// Free text that may be absent; `—` when it is.
    fn or_dash(&self, s: Option<&str>) -> String {
        s.map_or_else(|| "—".to_owned(), |s| self.text(s))
    }
}

/// A purpose: its title and id, description, the elements serving it.
pub(crate) fn purpose_row(m: &impl Markup, inv: &Inventory, p: &Purpose) -> Vec<String> {
    vec![
        m.named(&p.title, &p.id),
        m.text(&p.description),
        m.codes(&serving(inv, &p.id)),
    ]
}

/// A role: its name and id, `kind` (worded by the document), description,
/// training.
pub(crate) fn role_row(m: &impl Markup, r: &Role, kind: String) -> Vec<String> {
    vec![
        m.named(&r.name, &r.id),
        kind,
        m.text(&r.description),
        m.or_dash(r.training.as_deref()),
    ]
}

/// A staff role: its id, actions, look-up purposes, the roles it may grant.
pub(crate) fn staff_row(m: &impl Markup, r: &Role) -> Vec<String> {
    vec![
        m.code(&r.id),
        m.codes(&r.actions),
        m.codes(&r.lookup_purposes),
        m.codes(&r.may_grant),
    ]
}

/// A scope: its name, claims, description.
pub(crate) fn scope_row(m: &impl Markup, s: &Scope) -> Vec<String> {
    vec![m.code(&s.name), m.codes(&s.claims), m.text(&s.description)]
}

/// A processor: its name and id, service, location, `outside` (whether
/// outside Québec, worded by the document), elements, agreement.
pub(crate) fn processor_row(m: &impl Markup, p: &Processor, outside: String) -> Vec<String> {
    vec![
        m.named(&p.name, &p.id),
        m.text(&p.service),
        m.text(&p.location),
        outside,
        m.codes(&p.elements),
        m.text(&p.agreement),
    ]
}

/// An obligation: its row, title, article, `status` (worded by the
/// document), artifact and see-also files, control, test, what is left.
pub(crate) fn obligation_row(m: &impl Markup, o: &Obligation, status: String) -> Vec<String> {
    let mut artifacts = vec![o.artifact.clone()];
    artifacts.extend(o.see_also.iter().cloned());
    vec![
        o.row.to_string(),
        m.text(&o.title),
        m.text(&o.article),
        status,
        m.codes(&artifacts),
        m.text(&o.control),
        m.code(&o.test),
        m.or_dash(o.issue.as_deref()),
    ]
}
