//! The data-flow diagram of the assessment, as inline SVG generated from the
//! inventory: where personal information comes from (each element's
//! `source`), where sqin keeps it (each element's `storage`, by table), and
//! who receives or sees it (the relying parties, with the claims on each
//! arrow, and the staff and oversight roles, with their access).
//!
//! The layout is deterministic: four columns in a fixed order, nodes in the
//! inventory's order, every arrow in its own lane where it arrives so no two
//! labels sit on each other. Every text is escaped. Styling uses SVG
//! presentation attributes only (no `style` attribute or element), so the
//! diagram renders the same under a Content-Security-Policy that forbids
//! inline styles.
use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::html::{esc, Lang};
use crate::model::{AccessKind, Element, Inventory, RoleKind};

const FONT: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const LINE: i64 = 14;
const PAD: i64 = 8;
const NODE_W: i64 = 210;
/// Gap after each column: arrows and their labels live there.
const GAPS: [i64; 3] = [110, 270, 150];
const TOP: i64 = 48;
const LANE: i64 = 13;
/// Characters per line in a node (about 6 px each at 11 px).
const WRAP: usize = 30;

/// One box of the diagram.
struct Node {
    /// Bold first line.
    title: String,
    /// Further lines (already wrapped).
    lines: Vec<String>,
    /// Lanes where arrows arrive, each with its label's line count.
    lanes: Vec<usize>,
    y: i64,
}

impl Node {
    fn new(title: &str, lines: Vec<String>) -> Node {
        Node {
            title: title.to_owned(),
            lines,
            lanes: Vec::new(),
            y: 0,
        }
    }

    fn text_height(&self) -> i64 {
        PAD * 2 + LINE * (1 + self.lines.len() as i64)
    }

    fn lanes_height(&self) -> i64 {
        PAD * 2 + self.lanes.iter().map(|n| lane_height(*n)).sum::<i64>()
    }

    fn height(&self) -> i64 {
        self.text_height().max(self.lanes_height())
    }

    /// The y of lane `i` (arrows arrive on the box's left side).
    fn lane_y(&self, i: usize) -> i64 {
        let free = self.height() - self.lanes_height();
        let before: i64 = self.lanes.iter().take(i).map(|n| lane_height(*n)).sum();
        let this = self.lanes.get(i).map_or(1, |n| lane_height(*n));
        self.y + PAD + free / 2 + before + this - 4
    }
}

fn lane_height(label_lines: usize) -> i64 {
    LANE * (label_lines.max(1) as i64) + 4
}

/// Text split into lines of at most `width` characters, at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// A source in short: its text up to the first `(`, `:`, `;` or `,`.
pub(crate) fn source_label(source: &str) -> String {
    let cut = source.find(['(', ':', ';', ',']).unwrap_or(source.len());
    let short = source
        .get(..cut)
        .unwrap_or(source)
        .trim()
        .trim_end_matches('.');
    if short.is_empty() {
        source.trim().to_owned()
    } else {
        short.to_owned()
    }
}

/// The store an element is kept in: its table (or `ledger`, `log`,
/// `memory`, `none`).
pub(crate) fn store_of(e: &Element) -> String {
    e.storage.split('.').next().unwrap_or(&e.storage).to_owned()
}

fn store_title(store: &str, lang: Lang) -> String {
    match (store, lang) {
        ("ledger", Lang::Fr) => "registre (ledger)".into(),
        ("ledger", Lang::En) => "ledger".into(),
        ("log", Lang::Fr) => "journal".into(),
        ("log", Lang::En) => "log".into(),
        ("memory", Lang::Fr) => "mémoire (jamais conservé)".into(),
        ("memory", Lang::En) => "memory (never persisted)".into(),
        ("none", Lang::Fr) => "calculé, non conservé".into(),
        ("none", Lang::En) => "derived, not stored".into(),
        (table, _) => table.to_owned(),
    }
}

/// Items in first-seen order, without repeats.
fn unique<I: IntoIterator<Item = String>>(items: I) -> Vec<String> {
    let mut seen = BTreeSet::new();
    items
        .into_iter()
        .filter(|i| seen.insert(i.clone()))
        .collect()
}

struct Flow {
    from: usize,
    to: usize,
    lane: usize,
    label: Vec<String>,
    class: &'static str,
    /// `data-*` attributes naming what it carries.
    data: Vec<(&'static str, String)>,
    title: String,
}

/// Stacks a column's nodes from `top`; returns the bottom.
fn stack(nodes: &mut [Node], top: i64) -> i64 {
    let mut y = top;
    for n in nodes.iter_mut() {
        n.y = y;
        y += n.height() + 12;
    }
    y
}

fn column_x(i: usize) -> i64 {
    let gaps: i64 = GAPS.iter().take(i).sum();
    20 + NODE_W * i as i64 + gaps
}

/// The diagram for `inv`, headings and fixed text in `lang`.
pub(crate) fn svg(inv: &Inventory, lang: Lang) -> String {
    let l = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    // Column 0: sources; 1: stores; 2: relying parties; 3: roles.
    let source_ids = unique(inv.elements.iter().map(|e| source_label(&e.source)));
    let store_ids = unique(inv.elements.iter().map(store_of));
    let mut sources: Vec<Node> = source_ids
        .iter()
        .map(|s| Node::new("", wrap(s, WRAP)))
        .collect();
    for n in &mut sources {
        // A source's text is its title's place: first line bold looks odd.
        if !n.lines.is_empty() {
            n.title = n.lines.remove(0);
        }
    }
    let mut stores: Vec<Node> = store_ids
        .iter()
        .map(|s| {
            let elements: Vec<String> = inv
                .elements
                .iter()
                .filter(|e| store_of(e) == *s)
                .map(|e| e.id.clone())
                .collect();
            Node::new(&store_title(s, lang), elements)
        })
        .collect();
    let mut rps: Vec<Node> = inv
        .relying_parties
        .iter()
        .map(|rp| {
            let mut lines = vec![format!("({})", rp.id)];
            lines.extend(wrap(&rp.body, WRAP));
            if rp.planned {
                lines.push(l("(en préparation)", "(planned)").into());
            }
            Node::new(&rp.name, lines)
        })
        .collect();
    let roles: Vec<&crate::model::Role> = inv
        .roles
        .iter()
        .filter(|r| matches!(r.kind, RoleKind::Staff | RoleKind::Oversight))
        .filter(|r| {
            inv.elements.iter().any(|e| {
                e.roles
                    .iter()
                    .any(|a| a.role == r.id && !a.access.is_empty())
            })
        })
        .collect();
    let mut role_nodes: Vec<Node> = roles
        .iter()
        .map(|r| Node::new(&r.name, vec![format!("({})", r.id)]))
        .collect();

    let mut flows: Vec<Flow> = Vec::new();
    // Sources to stores: one arrow per pair, the elements in its tooltip.
    for (si, source) in source_ids.iter().enumerate() {
        for (ti, store) in store_ids.iter().enumerate() {
            let carried: Vec<&str> = inv
                .elements
                .iter()
                .filter(|e| source_label(&e.source) == *source && store_of(e) == *store)
                .map(|e| e.id.as_str())
                .collect();
            if carried.is_empty() {
                continue;
            }
            let Some(node) = stores.get_mut(ti) else {
                continue;
            };
            node.lanes.push(1);
            flows.push(Flow {
                from: si,
                to: ti,
                lane: node.lanes.len() - 1,
                label: Vec::new(),
                class: "flow collection",
                data: vec![("data-elements", carried.join(" "))],
                title: format!("{source} → {store}: {}", carried.join(", ")),
            });
        }
    }
    let mut disclosures: Vec<Flow> = Vec::new();
    // Stores to relying parties: one arrow per store the claims come from.
    for (ri, rp) in inv.relying_parties.iter().enumerate() {
        for (ti, store) in store_ids.iter().enumerate() {
            let claims: Vec<String> = rp
                .claims
                .iter()
                .filter(|c| {
                    inv.elements.iter().any(|e| {
                        e.disclosed_as_claim.as_deref() == Some(c.as_str()) && store_of(e) == *store
                    })
                })
                .cloned()
                .collect();
            if claims.is_empty() {
                continue;
            }
            let label = wrap(&claims.join(", "), 40);
            let Some(node) = rps.get_mut(ri) else {
                continue;
            };
            node.lanes.push(label.len());
            disclosures.push(Flow {
                from: ti,
                to: ri,
                lane: node.lanes.len() - 1,
                label,
                class: "flow disclosure",
                data: vec![
                    ("data-rp", rp.id.clone()),
                    ("data-claims", claims.join(" ")),
                ],
                title: format!("{store} → {} ({}): {}", rp.name, rp.id, claims.join(", ")),
            });
        }
        // A claim no element discloses (the inventory is then invalid)
        // still gets its arrow, from nowhere in particular.
        let orphans: Vec<String> = rp
            .claims
            .iter()
            .filter(|c| {
                !inv.elements
                    .iter()
                    .any(|e| e.disclosed_as_claim.as_deref() == Some(c.as_str()))
            })
            .cloned()
            .collect();
        if !orphans.is_empty() {
            let label = wrap(&format!("? {}", orphans.join(", ")), 40);
            if let Some(node) = rps.get_mut(ri) {
                node.lanes.push(label.len());
                disclosures.push(Flow {
                    from: usize::MAX,
                    to: ri,
                    lane: node.lanes.len() - 1,
                    label,
                    class: "flow disclosure undeclared",
                    data: vec![
                        ("data-rp", rp.id.clone()),
                        ("data-claims", orphans.join(" ")),
                    ],
                    title: format!("? → {}: {}", rp.id, orphans.join(", ")),
                });
            }
        }
    }
    let mut accesses: Vec<Flow> = Vec::new();
    // Stores to roles: the access letters of the role on the store's elements.
    for (oi, role) in roles.iter().enumerate() {
        for (ti, store) in store_ids.iter().enumerate() {
            let mut kinds: BTreeSet<AccessKind> = BTreeSet::new();
            let mut seen: Vec<&str> = Vec::new();
            for e in inv.elements.iter().filter(|e| store_of(e) == *store) {
                for a in e.roles.iter().filter(|a| a.role == role.id) {
                    kinds.extend(a.access.iter().copied());
                    if !a.access.is_empty() && !seen.contains(&e.id.as_str()) {
                        seen.push(&e.id);
                    }
                }
            }
            if kinds.is_empty() {
                continue;
            }
            let letters: String = kinds.iter().map(|k| k.letter()).collect();
            let words: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            let Some(node) = role_nodes.get_mut(oi) else {
                continue;
            };
            node.lanes.push(1);
            accesses.push(Flow {
                from: ti,
                to: oi,
                lane: node.lanes.len() - 1,
                label: vec![letters],
                class: "flow access",
                data: vec![
                    ("data-role", role.id.clone()),
                    ("data-access", words.join(" ")),
                ],
                title: format!(
                    "{} ({}) → {store}: {} ({})",
                    role.name,
                    role.id,
                    words.join(", "),
                    seen.join(", ")
                ),
            });
        }
    }

    let bottom_sources = stack(&mut sources, TOP);
    let bottom_stores = stack(&mut stores, TOP);
    let bottom_rps = stack(&mut rps, TOP);
    // Roles start below the relying parties: their arrows cross that
    // column in lanes of their own.
    let roles_top = if rps.is_empty() { TOP } else { bottom_rps + 24 };
    let bottom_roles = stack(&mut role_nodes, roles_top);
    let height = [bottom_sources, bottom_stores, bottom_rps, bottom_roles]
        .into_iter()
        .max()
        .unwrap_or(TOP)
        + 8;
    let width = column_x(3) + NODE_W + 40;

    let mut out = String::new();
    let title = l(
        "Flux de renseignements personnels",
        "Flows of personal information",
    );
    let desc = l(
        "De gauche à droite : d'où viennent les renseignements, où sqin les conserve, et qui les reçoit (les services, avec les attributs sur chaque flèche) ou y accède (les rôles du personnel et de surveillance, avec leurs accès).",
        "Left to right: where the information comes from, where sqin keeps it, and who receives it (the relying parties, with the claims on each arrow) or has access to it (the staff and oversight roles, with their access).",
    );
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"dataflow\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-labelledby=\"df-title df-desc\" font-family=\"{FONT}\" font-size=\"11\">"
    );
    let _ = writeln!(out, "<title id=\"df-title\">{}</title>", esc(title));
    let _ = writeln!(out, "<desc id=\"df-desc\">{}</desc>", esc(desc));
    let _ = writeln!(
        out,
        "<defs><marker id=\"df-arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#444\"/></marker></defs>"
    );
    let headings = [
        l("Sources", "Sources"),
        l("Conservés par sqin", "Kept by sqin"),
        l("Services (parties utilisatrices)", "Relying parties"),
        l("Personnel et surveillance", "Staff and oversight"),
    ];
    for (i, h) in headings.iter().enumerate() {
        let y = if i == 3 { roles_top - 14 } else { TOP - 14 };
        let _ = writeln!(
            out,
            "<text class=\"heading\" x=\"{}\" y=\"{y}\" font-size=\"13\" font-weight=\"bold\" fill=\"#111\">{}</text>",
            column_x(i),
            esc(h)
        );
    }
    for f in &flows {
        let (Some(s), Some(t)) = (sources.get(f.from), stores.get(f.to)) else {
            continue;
        };
        let (x1, y1) = (column_x(0) + NODE_W, s.y + s.height() / 2);
        let (x2, y2) = (column_x(1), t.lane_y(f.lane));
        flow(&mut out, f, (x1, y1), (x2, y2), x2, "#8a8a8a");
    }
    for f in &disclosures {
        let Some(t) = rps.get(f.to) else { continue };
        let (x1, y1) = match stores.get(f.from) {
            Some(s) => (column_x(1) + NODE_W, s.y + s.height() / 2),
            None => (column_x(1) + NODE_W, TOP),
        };
        let (x2, y2) = (column_x(2), t.lane_y(f.lane));
        flow(&mut out, f, (x1, y1), (x2, y2), x2 - GAPS[1] / 2, "#0b5394");
    }
    for f in &accesses {
        let (Some(s), Some(t)) = (stores.get(f.from), role_nodes.get(f.to)) else {
            continue;
        };
        let (x1, y1) = (column_x(1) + NODE_W, s.y + s.height() / 2);
        let (x2, y2) = (column_x(3), t.lane_y(f.lane));
        // Curve to the relying parties' column, then straight across it
        // below their boxes.
        flow(&mut out, f, (x1, y1), (x2, y2), column_x(2) - 20, "#9c4a00");
    }
    for (i, nodes) in [&sources, &stores, &rps, &role_nodes].iter().enumerate() {
        let class = ["source", "store", "relying-party", "role"]
            .get(i)
            .copied()
            .unwrap_or("");
        for n in nodes.iter() {
            node(&mut out, n, column_x(i), class);
        }
    }
    out.push_str("</svg>");
    out
}

/// An arrow from `a` to `b`: a curve to `(bend, b.1)`, then straight to
/// `b`, its label above the straight part, right-aligned at the arrowhead.
fn flow(out: &mut String, f: &Flow, a: (i64, i64), b: (i64, i64), bend: i64, colour: &str) {
    let data: String = f
        .data
        .iter()
        .map(|(k, v)| format!(" {k}=\"{}\"", esc(v)))
        .collect();
    let _ = write!(
        out,
        "<g class=\"{}\"{data}><title>{}</title>",
        f.class,
        esc(&f.title)
    );
    let mid = (a.0 + bend) / 2;
    let _ = write!(
        out,
        "<path d=\"M{},{} C{mid},{} {mid},{} {bend},{} L{},{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.2\" marker-end=\"url(#df-arrow)\"/>",
        a.0, a.1, a.1, b.1, b.1, b.0 - 1, b.1
    );
    let lines = f.label.len() as i64;
    for (i, line) in f.label.iter().enumerate() {
        let y = b.1 - 3 - LANE * (lines - 1 - i as i64);
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{y}\" text-anchor=\"end\" font-size=\"10\" fill=\"{colour}\">{}</text>",
            b.0 - 8,
            esc(line)
        );
    }
    out.push_str("</g>\n");
}

fn node(out: &mut String, n: &Node, x: i64, class: &str) {
    let h = n.height();
    let _ = write!(
        out,
        "<g class=\"node {class}\"><rect x=\"{x}\" y=\"{}\" width=\"{NODE_W}\" height=\"{h}\" rx=\"4\" fill=\"#f7f7f4\" stroke=\"#666\"/>",
        n.y
    );
    let mut y = n.y + PAD + 11;
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"{y}\" font-weight=\"bold\" fill=\"#111\">{}</text>",
        x + PAD,
        esc(&n.title)
    );
    for line in &n.lines {
        y += LINE;
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{y}\" fill=\"#333\">{}</text>",
            x + PAD,
            esc(line)
        );
    }
    out.push_str("</g>\n");
}
