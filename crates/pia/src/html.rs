//! The assessment as one self-contained HTML document a commissioner reads
//! offline: inline CSS, no script, the data-flow diagram as inline SVG
//! ([`crate::dataflow`]). French or English: headings, fixed text and the
//! closed vocabularies (categories, sensitivity, access, retention) are in
//! both; the inventory's own texts are as written in `inventory.toml`
//! (English), except where it has a French field (a relying party's
//! `purpose_fr`). Every inventory text is escaped.
use std::fmt::Write as _;

use crate::dataflow;
use crate::facts::{self, Summary};
use crate::model::{
    AccessKind, Category, ConsultationStatus, Destruction, DocumentStatus, Element, Inventory,
    ObligationStatus, RoleKind, Sensitivity,
};
use crate::retention::{Condition, IsoDuration, Retention};

mod sections;
#[cfg(test)]
mod tests;

use sections::{
    calendar, consultations, element_details, inventory_table, obligations, processors, purposes,
    relying_parties, risks, roles, scopes,
};

/// The language of the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

impl Lang {
    /// `fr` or `en`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// `fr`/`en` (or a tag that starts with one, `fr-CA`).
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub(crate) fn pick(self, fr: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Fr => fr,
            Lang::En => en,
        }
    }
}

/// How the stylesheet reaches the reader.
#[derive(Debug, Clone, Copy)]
pub enum Style<'a> {
    /// In a `<style>` element: one file, read offline.
    Inline,
    /// Served under a Content-Security-Policy that forbids inline styles:
    /// [`CSS`] linked at `stylesheet`, and a link to the same document in
    /// the other language at `other_language`.
    Served {
        stylesheet: &'a str,
        other_language: &'a str,
    },
}

/// The document's stylesheet (screen and print).
pub const CSS: &str = r#"
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; line-height: 1.45; color: #1b1b1b; background: #fff; margin: 0 auto; max-width: 78rem; padding: 1.5rem; }
h1 { font-size: 1.7rem; margin: 0 0 .5rem; }
h2 { font-size: 1.3rem; margin-top: 2.2rem; border-bottom: 2px solid #0b5394; padding-bottom: .2rem; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: .88em; background: #f2f2ee; padding: 0 .2em; border-radius: 3px; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #bbb; padding: .3rem .45rem; text-align: left; vertical-align: top; }
th { background: #eef2f7; }
td.c { text-align: center; font-family: ui-monospace, monospace; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
dl.meta dt { font-weight: bold; }
dl.meta dd { margin: 0; }
dl.fields { display: grid; grid-template-columns: 13rem 1fr; gap: .15rem .8rem; font-size: .92rem; }
dl.fields dt { font-weight: bold; color: #333; }
dl.fields dd { margin: 0; }
header.version { border: 1px solid #0b5394; background: #f4f8fc; padding: 1rem 1.2rem; border-radius: 6px; }
.status-approved { color: #1d6b2a; font-weight: bold; }
.status-draft, .status-submitted { color: #8a4b00; font-weight: bold; }
nav.toc ol { columns: 2; }
figure { margin: 1rem 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: .9rem; color: #333; margin-top: .4rem; }
section.element { border-top: 1px solid #ddd; }
.note { font-size: .9rem; color: #444; }
.lang { float: right; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav.toc, .lang { display: none; }
  h2 { break-after: avoid; }
  table, figure, section.element { break-inside: avoid; }
}
"#;

/// Escapes text for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Free text of the inventory, escaped, its spacing normalised.
fn text(s: &str) -> String {
    esc(&s.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn code(s: &str) -> String {
    format!("<code>{}</code>", esc(s))
}

/// A list of inline code; `—` when empty.
fn codes(items: &[String]) -> String {
    facts::listed(items, code)
}

/// HTML, for the rows [`facts`] builds.
struct InHtml;

impl facts::Markup for InHtml {
    fn text(&self, s: &str) -> String {
        text(s)
    }

    fn code(&self, s: &str) -> String {
        code(s)
    }

    fn named(&self, title: &str, id: &str) -> String {
        format!("<strong>{}</strong> ({})", text(title), code(id))
    }
}

/// An element id as a fragment: `e-citizen.email`.
fn anchor(id: &str) -> String {
    let safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("e-{safe}")
}

fn category(c: Category, lang: Lang) -> &'static str {
    match c {
        Category::Identity => lang.pick("identité", "identity"),
        Category::Contact => lang.pick("coordonnées", "contact"),
        Category::Authentication => lang.pick("authentification", "authentication"),
        Category::Consent => lang.pick("consentement", "consent"),
        Category::Audit => lang.pick("journalisation", "audit"),
        Category::Technical => lang.pick("technique", "technical"),
    }
}

fn sensitivity(s: Sensitivity, lang: Lang) -> &'static str {
    match s {
        Sensitivity::Low => lang.pick("faible", "low"),
        Sensitivity::Medium => lang.pick("moyenne", "medium"),
        Sensitivity::High => lang.pick("élevée", "high"),
    }
}

fn status(s: DocumentStatus, lang: Lang) -> &'static str {
    match s {
        DocumentStatus::Draft => lang.pick("ébauche (non soumise)", "draft (not submitted)"),
        DocumentStatus::Submitted => lang.pick("soumise au comité", "submitted to the committee"),
        DocumentStatus::Approved => lang.pick("approuvée", "approved"),
    }
}

fn obligation_status(s: ObligationStatus, lang: Lang) -> &'static str {
    match s {
        ObligationStatus::Implemented => lang.pick("réalisée", "implemented"),
        ObligationStatus::Partial => lang.pick("partielle", "partial"),
        ObligationStatus::Planned => lang.pick("prévue", "planned"),
    }
}

fn access_word(k: AccessKind, lang: Lang) -> &'static str {
    match k {
        AccessKind::Create => lang.pick("créer", "create"),
        AccessKind::Read => lang.pick("lire", "read"),
        AccessKind::Update => lang.pick("modifier", "update"),
        AccessKind::Delete => lang.pick("supprimer", "delete"),
        AccessKind::Verify => lang.pick("vérifier", "verify"),
        AccessKind::Receive => lang.pick("recevoir", "receive"),
        AccessKind::Audit => lang.pick("auditer", "audit"),
    }
}

fn destruction(d: Destruction, lang: Lang) -> &'static str {
    match d {
        Destruction::Delete => lang.pick("suppression", "deletion"),
        Destruction::CryptoShred => lang.pick("destruction de la clé", "crypto-shredding"),
        Destruction::Anonymise => lang.pick("anonymisation", "anonymisation"),
    }
}

fn role_kind(k: RoleKind, lang: Lang) -> &'static str {
    match k {
        RoleKind::Person => lang.pick("personne concernée", "person"),
        RoleKind::Staff => lang.pick("personnel", "staff"),
        RoleKind::Oversight => lang.pick("surveillance", "oversight"),
        RoleKind::System => lang.pick("système", "system"),
    }
}

/// " : " in French, ": " in English.
fn colon(lang: Lang) -> &'static str {
    lang.pick(" : ", ": ")
}

fn yes_no(b: bool, lang: Lang) -> &'static str {
    if b {
        lang.pick("oui", "yes")
    } else {
        lang.pick("non", "no")
    }
}

fn duration_words(d: &IsoDuration, lang: Lang) -> String {
    if lang == Lang::En {
        return d.to_words();
    }
    if d.is_zero() {
        return "aucun délai".to_owned();
    }
    let parts: Vec<String> = [
        (d.years, "an", "ans"),
        (d.months, "mois", "mois"),
        (d.weeks, "semaine", "semaines"),
        (d.days, "jour", "jours"),
        (d.hours, "heure", "heures"),
        (d.minutes, "minute", "minutes"),
        (d.seconds, "seconde", "secondes"),
    ]
    .iter()
    .filter(|(n, _, _)| *n > 0)
    .map(|(n, one, many)| format!("{n} {}", if *n == 1 { one } else { many }))
    .collect();
    parts.join(" ")
}

fn condition_ends(c: Condition, lang: Lang) -> &'static str {
    if lang == Lang::En {
        return c.ends_when();
    }
    match c {
        Condition::AccountActive => {
            "la fermeture du compte (ou l'expiration du dernier code d'inscription inutilisé)"
        }
        Condition::CodeValid => "l'utilisation, la révocation ou l'expiration du code",
        Condition::CredentialRegistered => "le retrait de la clé d'accès ou la fermeture du compte",
        Condition::SessionActive => "la fin de la session (déconnexion, révocation ou expiration)",
        Condition::ConsentValid => "le retrait ou l'expiration du consentement",
        Condition::GrantValid => "la révocation ou l'expiration de l'autorisation",
        Condition::RequestOpen => "la fermeture du dossier",
        Condition::StaffActive => "le départ du membre du personnel (compte désactivé)",
    }
}

/// How long an element is kept, in words.
pub(crate) fn kept(e: &Element, lang: Lang) -> String {
    match e.retention.parse::<Retention>() {
        Ok(r) => match r.condition {
            Some(c) if r.after.is_zero() => {
                format!(
                    "{} {}",
                    lang.pick("jusqu'à", "until"),
                    condition_ends(c, lang)
                )
            }
            Some(c) => format!(
                "{} {}, {} {}",
                lang.pick("jusqu'à", "until"),
                condition_ends(c, lang),
                lang.pick("puis", "then"),
                duration_words(&r.after, lang)
            ),
            None if r.after.is_zero() => lang.pick("non conservé", "not kept").to_owned(),
            None => duration_words(&r.after, lang),
        },
        Err(err) => format!("{}: {err}", lang.pick("INVALIDE", "INVALID")),
    }
}

fn state(planned: bool, issue: Option<&str>, lang: Lang) -> String {
    match (planned, issue) {
        (true, Some(i)) => format!("{} ({})", lang.pick("prévu", "planned"), text(i)),
        (true, None) => lang.pick("prévu", "planned").to_owned(),
        (false, _) => lang.pick("dans le code", "in the code").to_owned(),
    }
}

/// The whole document for `inv` in `lang`. `write!` into a `String`
/// cannot fail; results are ignored on purpose.
pub fn render(inv: &Inventory, lang: Lang, style: &Style<'_>) -> String {
    let l = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    let mut out = String::new();
    let m = &inv.meta;
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>",
        lang.tag()
    );
    let _ = writeln!(out, "<meta charset=\"utf-8\">");
    let _ = writeln!(
        out,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    );
    let _ = writeln!(
        out,
        "<title>{} · {}</title>",
        l(
            "Évaluation des facteurs relatifs à la vie privée",
            "Privacy impact assessment"
        ),
        text(&m.title)
    );
    match style {
        Style::Inline => {
            let _ = writeln!(out, "<style>{CSS}</style>");
        }
        Style::Served { stylesheet, .. } => {
            let _ = writeln!(
                out,
                "<link rel=\"stylesheet\" href=\"{}\">",
                esc(stylesheet)
            );
        }
    }
    let _ = writeln!(out, "</head>\n<body>");
    if let Style::Served { other_language, .. } = style {
        let (label, other) = match lang {
            Lang::Fr => ("English", "en"),
            Lang::En => ("Français", "fr"),
        };
        let _ = writeln!(
            out,
            "<p class=\"lang\"><a href=\"{}\" hreflang=\"{other}\" lang=\"{other}\">{label}</a></p>",
            esc(other_language)
        );
    }
    header(inv, lang, &mut out);
    let sections: [(&str, &str); 13] = [
        ("summary", l("Sommaire", "Summary")),
        ("dataflow", l("Diagramme des flux", "Data-flow diagram")),
        ("purposes", l("Fins", "Purposes")),
        (
            "inventory",
            l(
                "Inventaire des renseignements personnels",
                "Inventory of personal information",
            ),
        ),
        (
            "elements",
            l("Détail de chaque renseignement", "Each element in detail"),
        ),
        ("roles", l("Rôles et accès", "Roles and access")),
        (
            "retention",
            l(
                "Calendrier de conservation et de destruction",
                "Retention and destruction calendar",
            ),
        ),
        ("scopes", l("Portées et attributs", "Scopes and claims")),
        (
            "relying-parties",
            l(
                "Services et attributs reçus",
                "Relying parties and their claims",
            ),
        ),
        (
            "processors",
            l("Hébergement et sous-traitants", "Hosting and processors"),
        ),
        (
            "risks",
            l("Risques, mesures et tests", "Risks, controls and tests"),
        ),
        (
            "controls",
            l(
                "Obligations de la loi, mesures et tests",
                "The law's obligations, controls and tests",
            ),
        ),
        ("consultations", l("Consultations", "Consultations")),
    ];
    let _ = writeln!(
        out,
        "<nav class=\"toc\" aria-label=\"{}\"><ol>",
        l("Table des matières", "Contents")
    );
    for (id, title) in &sections {
        let _ = writeln!(out, "<li><a href=\"#{id}\">{}</a></li>", esc(title));
    }
    let _ = writeln!(out, "</ol></nav>\n<main>");
    let heading = |out: &mut String, i: usize| {
        if let Some((id, title)) = sections.get(i) {
            let _ = writeln!(out, "<h2 id=\"{id}\">{}. {}</h2>", i + 1, esc(title));
        }
    };
    heading(&mut out, 0);
    summary(inv, lang, &mut out);
    heading(&mut out, 1);
    let _ = writeln!(out, "<figure>\n{}", dataflow::svg(inv, lang));
    let _ = writeln!(
        out,
        "<figcaption>{} {}: {}.</figcaption>\n</figure>",
        esc(l(
            "Généré à partir de l'inventaire : chaque renseignement va de sa source au lieu où sqin le conserve; les flèches bleues portent les attributs que reçoit chaque service, avec l'approbation du citoyen; les flèches brunes, les accès de chaque rôle.",
            "Generated from the inventory: each element goes from its source to where sqin keeps it; the blue arrows carry the claims each relying party receives, with the citizen's approval; the brown arrows, each role's access."
        )),
        esc(l("Accès", "Access")),
        esc(&legend(lang))
    );
    heading(&mut out, 2);
    purposes(inv, lang, &mut out);
    heading(&mut out, 3);
    inventory_table(inv, lang, &mut out);
    heading(&mut out, 4);
    element_details(inv, lang, &mut out);
    heading(&mut out, 5);
    roles(inv, lang, &mut out);
    heading(&mut out, 6);
    calendar(inv, lang, &mut out);
    heading(&mut out, 7);
    scopes(inv, lang, &mut out);
    heading(&mut out, 8);
    relying_parties(inv, lang, &mut out);
    heading(&mut out, 9);
    processors(inv, lang, &mut out);
    heading(&mut out, 10);
    risks(inv, lang, &mut out);
    heading(&mut out, 11);
    obligations(inv, lang, &mut out);
    heading(&mut out, 12);
    consultations(inv, lang, &mut out);
    let _ = writeln!(out, "</main>\n</body>\n</html>");
    out
}

/// The access matrix's legend in `lang`, for the diagram and the matrix.
fn legend(lang: Lang) -> String {
    facts::legend(|k| access_word(k, lang))
}

fn header(inv: &Inventory, lang: Lang, out: &mut String) {
    let l = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    let m = &inv.meta;
    let _ = writeln!(out, "<header class=\"version\">");
    let _ = writeln!(
        out,
        "<p class=\"note\">{}</p>\n<h1>{}</h1>",
        esc(l(
            "Évaluation des facteurs relatifs à la vie privée (Loi sur l'accès, art. 63.5)",
            "Privacy impact assessment (A-2.1 s. 63.5)"
        )),
        text(&m.title)
    );
    let approval = match inv
        .consultations
        .iter()
        .rev()
        .find(|c| c.status == ConsultationStatus::Held && c.revision == m.revision)
    {
        Some(c) => format!(
            " — {} {} ({})",
            esc(l("consultation", "consultation")),
            esc(&c.id),
            esc(&c.date),
        ),
        None => String::new(),
    };
    let rows = [
        (l("Organisme public", "Public body"), text(&m.body)),
        (l("Responsable", "Responsible"), text(&m.contact)),
        (l("Révision", "Revision"), text(&m.revision)),
        (l("Dernière revue", "Last reviewed"), esc(&m.updated)),
        (
            l("Approbation", "Approval"),
            format!(
                "<span class=\"status-{}\">{}</span>{approval}",
                m.status.as_str(),
                esc(status(m.status, lang))
            ),
        ),
        (
            l("Obligations tirées de", "Obligations from"),
            text(&m.obligations_source),
        ),
    ];
    let _ = writeln!(out, "<dl class=\"meta\">");
    for (k, v) in rows {
        let _ = writeln!(out, "<dt>{}</dt><dd>{v}</dd>", esc(k));
    }
    let _ = writeln!(out, "</dl>");
    let _ = writeln!(
        out,
        "<p class=\"note\">{}</p>\n</header>",
        esc(l(
            "Produit à partir de pia/inventory.toml par sqin (sqin pia render --html). Les intitulés, les catégories, les niveaux de sensibilité, les accès et les durées sont en français; les descriptions sont reproduites telles que l'inventaire les rédige (en anglais), sauf les fins des services, qu'il donne en français.",
            "Generated from pia/inventory.toml by sqin (sqin pia render --html). The descriptions are as the inventory words them."
        ))
    );
}

fn summary(inv: &Inventory, lang: Lang, out: &mut String) {
    let l = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    let s = Summary::of(inv);
    let items = [
        format!(
            "{} {} {} {}, {} {}.",
            s.total,
            l(
                "renseignements personnels :",
                "personal-information elements:"
            ),
            s.total - s.planned,
            l("dans le code", "in the code today"),
            s.planned,
            l("prévus", "planned")
        ),
        format!(
            "{} {} {}, {} {}, {} {}.",
            l("Sensibilité :", "Sensitivity:"),
            s.high,
            l("élevée", "high"),
            s.medium,
            l("moyenne", "medium"),
            s.low,
            l("faible", "low")
        ),
        format!(
            "{} {}.",
            l(
                "Attributs communicables à un service, seulement avec l'approbation du citoyen :",
                "Claims that can be disclosed to a relying party, only with the citizen's approval:"
            ),
            codes(&s.claims)
        ),
        format!(
            "{} {}; {} {}.",
            l(
                "Services inscrits au registre :",
                "Relying parties in the register:"
            ),
            inv.relying_parties.len(),
            l(
                "renseignements conservés ou communiqués hors du Québec :",
                "elements kept or released outside Québec:"
            ),
            s.outside
        ),
        format!(
            "{} {} {}, {} {}, {} {} ({} {}).",
            l("Obligations légales :", "Legal obligations:"),
            s.implemented,
            l("réalisées", "implemented"),
            s.partial,
            l("partielles", "partial"),
            s.to_do,
            l("prévues", "planned"),
            l("sur", "of"),
            s.obligations
        ),
    ];
    let _ = writeln!(out, "<ul>");
    for i in items {
        let _ = writeln!(out, "<li>{i}</li>");
    }
    let _ = writeln!(out, "</ul>");
}

fn table_head(out: &mut String, headings: &[&str]) {
    let _ = write!(out, "<table>\n<thead><tr>");
    for h in headings {
        let _ = write!(out, "<th scope=\"col\">{}</th>", esc(h));
    }
    let _ = writeln!(out, "</tr></thead>\n<tbody>");
}

fn row(out: &mut String, cells: &[String]) {
    let _ = write!(out, "<tr>");
    for c in cells {
        let _ = write!(out, "<td>{c}</td>");
    }
    let _ = writeln!(out, "</tr>");
}

fn table_end(out: &mut String) {
    let _ = writeln!(out, "</tbody>\n</table>");
}
