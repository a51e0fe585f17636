//! The report as one HTML file a commissioner reads offline: inline CSS, no
//! script, small bar charts as inline SVG, in French or English. Built from
//! the [`CommissionReport`] alone, so it can say nothing the JSON does not.
use std::fmt::Write as _;

use sqin_pia::html::esc;

use super::{CommissionReport, Count};

/// Width of a chart's bar area, in SVG user units.
const BAR_AREA: f64 = 420.0;
const BAR_HEIGHT: u32 = 18;
const LABEL_WIDTH: u32 = 220;

const STYLE: &str = r#"
body { font-family: system-ui, sans-serif; max-width: 58rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; color: #111; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid #bbb; padding: .25rem .5rem; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
svg text { font: 12px system-ui, sans-serif; fill: #111; }
svg rect.bar { fill: #2a5d9f; }
.note { font-size: .9rem; color: #444; }
@media print { body { max-width: none; margin: 0; } h2 { break-after: avoid; } table, figure { break-inside: avoid; } }
"#;

/// Words of the report, in its two languages.
struct Words {
    lang: &'static str,
    title: &'static str,
    period: &'static str,
    generated: &'static str,
    no_personal: &'static str,
    sign_ins: &'static str,
    by_acr: &'static str,
    disclosures: &'static str,
    consents: &'static str,
    granted: &'static str,
    ended: &'static str,
    staff: &'static str,
    role: &'static str,
    action: &'static str,
    purpose: &'static str,
    count: &'static str,
    service: &'static str,
    complaints: &'static str,
    incidents: &'static str,
    purges: &'static str,
    witnesses: &'static str,
    ledger: &'static str,
    governance: &'static str,
    none: &'static str,
}

const FR: Words = Words {
    lang: "fr",
    title: "Rapport à la Commission d'accès à l'information",
    period: "Période",
    generated: "Produit le",
    no_personal: "Ce rapport ne contient que des nombres : aucun nom, date de naissance, numéro de dossier ni pseudonyme.",
    sign_ins: "Connexions par service",
    by_acr: "Connexions par niveau d'assurance",
    disclosures: "Communications de renseignements, par service et par renseignement",
    consents: "Consentements",
    granted: "donnés",
    ended: "retirés ou échus",
    staff: "Accès du personnel, par rôle et par fin",
    role: "Rôle",
    action: "Acte",
    purpose: "Fin",
    count: "Nombre",
    service: "Service",
    complaints: "Plaintes",
    incidents: "Incidents de confidentialité",
    purges: "Conservation et destruction",
    witnesses: "Témoins du registre",
    ledger: "Registre des consentements",
    governance: "Actes de gouvernance",
    none: "Aucun pendant la période.",
};

const EN: Words = Words {
    lang: "en",
    title: "Report to the Commission d'accès à l'information",
    period: "Period",
    generated: "Generated",
    no_personal:
        "This report holds numbers only: no name, birthdate, register number or pseudonym.",
    sign_ins: "Sign-ins per service",
    by_acr: "Sign-ins per level of assurance",
    disclosures: "Disclosures, per service and per claim",
    consents: "Consents",
    granted: "given",
    ended: "withdrawn or lapsed",
    staff: "Staff accesses, per role and purpose",
    role: "Role",
    action: "Act",
    purpose: "Purpose",
    count: "Count",
    service: "Service",
    complaints: "Complaints",
    incidents: "Confidentiality incidents",
    purges: "Retention and destruction",
    witnesses: "Ledger witnesses",
    ledger: "Consent ledger",
    governance: "Governance acts",
    none: "None in the period.",
};

/// The report in `lang` (`fr`, or anything else for English).
pub fn render_html(report: &CommissionReport, lang: &str) -> String {
    let w = if lang == "fr" { &FR } else { &EN };
    let service_name = |id: &str| -> String {
        report
            .services
            .iter()
            .find(|s| s.client_id == id)
            .map(|s| match (w.lang, &s.name_fr) {
                ("fr", Some(fr)) => fr.clone(),
                _ => s.name.clone(),
            })
            .unwrap_or_else(|| {
                if id == "sqin" {
                    "sqin".into()
                } else {
                    id.to_owned()
                }
            })
    };
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>\n",
        w.lang,
        esc(w.title)
    );
    let _ = write!(
        h,
        "<h1>{}</h1>\n<p>{} : {} – {} · {} : {} · {}</p>\n<p class=\"note\">{}</p>\n",
        esc(w.title),
        esc(w.period),
        esc(&report.from),
        esc(&report.to),
        esc(w.generated),
        esc(&report.generated_at),
        esc(&report.issuer),
        esc(w.no_personal)
    );

    section(&mut h, w.sign_ins);
    let named: Vec<Count> = report
        .sign_ins
        .iter()
        .map(|c| Count {
            key: service_name(&c.key),
            count: c.count,
        })
        .collect();
    chart(&mut h, w, &named);
    section(&mut h, w.by_acr);
    chart(&mut h, w, &report.sign_ins_by_acr);

    section(&mut h, w.disclosures);
    if report.disclosures.is_empty() {
        let _ = writeln!(h, "<p>{}</p>", esc(w.none));
    }
    for d in &report.disclosures {
        let _ = writeln!(
            h,
            "<h3>{} ({})</h3>",
            esc(&service_name(&d.client_id)),
            d.disclosures
        );
        chart(&mut h, w, &d.claims);
    }

    section(&mut h, w.consents);
    let _ = writeln!(
        h,
        "<table><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
        esc(w.service),
        esc(w.granted),
        esc(w.ended)
    );
    let mut ids: Vec<&str> = report
        .consents_granted
        .iter()
        .chain(&report.consents_ended)
        .map(|c| c.key.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let find = |list: &[Count], id: &str| list.iter().find(|c| c.key == id).map_or(0, |c| c.count);
    for id in ids {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&service_name(id)),
            find(&report.consents_granted, id),
            find(&report.consents_ended, id)
        );
    }
    h.push_str("</table>\n");

    section(&mut h, w.staff);
    if report.staff_accesses.is_empty() {
        let _ = writeln!(h, "<p>{}</p>", esc(w.none));
    } else {
        let _ = writeln!(
            h,
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            esc(w.role),
            esc(w.action),
            esc(w.purpose),
            esc(w.count)
        );
        for a in &report.staff_accesses {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
                esc(&a.role),
                esc(&a.action),
                esc(&a.purpose),
                a.count
            );
        }
        h.push_str("</table>\n");
    }

    section(&mut h, w.complaints);
    let c = &report.complaints;
    let rows: [(&str, &str, String); 8] = [
        ("reçues", "received", c.received.to_string()),
        ("répondues", "answered", c.answered.to_string()),
        (
            "répondues dans le délai",
            "answered within the deadline",
            c.answered_within_deadline.to_string(),
        ),
        (
            "répondues en retard",
            "answered late",
            c.answered_late.to_string(),
        ),
        (
            "ouvertes, délai dépassé",
            "open, deadline passed",
            c.open_overdue.to_string(),
        ),
        (
            "ouvertes, dans le délai",
            "open, within the deadline",
            c.open_within_deadline.to_string(),
        ),
        (
            "jours pour répondre (médiane)",
            "days to answer (median)",
            c.median_days_to_answer
                .map_or("–".into(), |d| d.to_string()),
        ),
        (
            "jours pour répondre (au plus)",
            "days to answer (longest)",
            c.longest_days_to_answer
                .map_or("–".into(), |d| d.to_string()),
        ),
    ];
    let _ = writeln!(
        h,
        "<p class=\"note\">{} {} {}</p>",
        if w.lang == "fr" {
            "Délai légal :"
        } else {
            "Legal deadline:"
        },
        c.deadline_days,
        if w.lang == "fr" { "jours." } else { "days." }
    );
    facts(&mut h, w, &rows);

    section(&mut h, w.incidents);
    let i = &report.incidents;
    facts(
        &mut h,
        w,
        &[
            ("inscrits au registre", "recorded", i.recorded.to_string()),
            (
                "risque de préjudice sérieux",
                "risk of serious injury",
                i.serious.to_string(),
            ),
            (
                "avis à la Commission",
                "notices to the Commission",
                i.commission_notified.to_string(),
            ),
            (
                "avis aux personnes",
                "notices to the persons",
                i.persons_notified.to_string(),
            ),
            ("fermés", "closed", i.closed.to_string()),
        ],
    );

    section(&mut h, w.purges);
    let p = &report.purges;
    facts(
        &mut h,
        w,
        &[
            (
                "passes de conservation",
                "retention passes",
                p.retention_runs.to_string(),
            ),
            (
                "clés détruites avec un compte fermé",
                "keys destroyed with a closed account",
                p.ledger_keys_shredded_with_accounts.to_string(),
            ),
        ],
    );
    chart(&mut h, w, &p.ledger_keys_purged);

    section(&mut h, w.witnesses);
    if report.witnesses.is_empty() {
        let _ = writeln!(h, "<p>{}</p>", esc(w.none));
    }
    for t in &report.witnesses {
        let _ = writeln!(
            h,
            "<p>{} : {} {}</p>",
            esc(&t.witness),
            t.cosigned_size.map_or("–".into(), |s| s.to_string()),
            if t.up_to_date { "✓" } else { "✗" }
        );
    }

    section(&mut h, w.ledger);
    let l = &report.ledger;
    facts(
        &mut h,
        w,
        &[
            ("taille de l'arbre", "tree size", l.tree_size.to_string()),
            (
                "entrées de la période",
                "entries in the period",
                l.entries_in_period.to_string(),
            ),
            (
                "dernier point de contrôle",
                "latest checkpoint",
                l.latest_checkpoint_at.clone().unwrap_or_else(|| "–".into()),
            ),
        ],
    );
    chart(&mut h, w, &l.entries_by_kind);
    section(&mut h, w.governance);
    chart(&mut h, w, &report.governance);
    h.push_str("</body></html>\n");
    h
}

fn section(h: &mut String, title: &str) {
    let _ = writeln!(h, "<h2>{}</h2>", esc(title));
}

/// A two-column table of labelled figures, labels in the report's language.
fn facts(h: &mut String, w: &Words, rows: &[(&str, &str, String)]) {
    h.push_str("<table>\n");
    for (fr, en, value) in rows {
        let label = if w.lang == "fr" { fr } else { en };
        let _ = writeln!(
            h,
            "<tr><th>{}</th><td class=\"n\">{}</td></tr>",
            esc(label),
            esc(value)
        );
    }
    h.push_str("</table>\n");
}

/// A horizontal bar chart, as inline SVG, with the figures in a table too
/// (a chart is not read by everyone: the table is the accessible version).
fn chart(h: &mut String, w: &Words, data: &[Count]) {
    if data.is_empty() {
        let _ = writeln!(h, "<p>{}</p>", esc(w.none));
        return;
    }
    let max = data.iter().map(|c| c.count).max().unwrap_or(1).max(1) as f64;
    let height = BAR_HEIGHT * u32::try_from(data.len()).unwrap_or(u32::MAX / BAR_HEIGHT);
    let width = LABEL_WIDTH + BAR_AREA as u32 + 60;
    let _ = writeln!(
        h,
        "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-hidden=\"true\">"
    );
    for (i, c) in data.iter().enumerate() {
        let y = BAR_HEIGHT * u32::try_from(i).unwrap_or(0);
        let len = (c.count as f64 / max * BAR_AREA).max(1.0);
        let _ = writeln!(
            h,
            "<text x=\"0\" y=\"{}\">{}</text><rect class=\"bar\" x=\"{LABEL_WIDTH}\" y=\"{}\" width=\"{len:.1}\" height=\"{}\"/><text x=\"{:.1}\" y=\"{}\">{}</text>",
            y + 13,
            esc(&c.key),
            y + 3,
            BAR_HEIGHT - 6,
            f64::from(LABEL_WIDTH) + len + 4.0,
            y + 13,
            c.count
        );
    }
    h.push_str("</svg></figure>\n<table>\n");
    for c in data {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td></tr>",
            esc(&c.key),
            c.count
        );
    }
    h.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::*;

    fn count(key: &str, count: u64) -> Count {
        Count {
            key: key.into(),
            count,
        }
    }

    fn report() -> CommissionReport {
        CommissionReport {
            format: REPORT_FORMAT,
            issuer: "https://id.example".into(),
            generated_at: "2026-12-02T00:00:00Z".into(),
            from: "2026-11-01T00:00:00Z".into(),
            to: "2026-12-01T00:00:00Z".into(),
            services: vec![Service {
                client_id: "family".into(),
                name: "Family <portal>".into(),
                name_fr: Some("Portail Famille".into()),
            }],
            sign_ins: vec![count("family", 12), count("sqin", 3)],
            sign_ins_by_acr: vec![count("loa2", 15)],
            disclosures: vec![Disclosures {
                client_id: "family".into(),
                disclosures: 16,
                claims: vec![count("given_name", 12), count("birthdate", 4)],
            }],
            consents_granted: vec![count("family", 5)],
            consents_ended: vec![],
            staff_accesses: vec![StaffActs {
                role: "support".into(),
                action: "file.lookup".into(),
                purpose: "account-service".into(),
                count: 2,
            }],
            governance: vec![count("retention.run", 1)],
            complaints: ComplaintStats {
                deadline_days: COMPLAINT_DEADLINE_DAYS,
                received: 2,
                answered: 1,
                answered_within_deadline: 1,
                median_days_to_answer: Some(3),
                longest_days_to_answer: Some(3),
                open_within_deadline: 1,
                ..Default::default()
            },
            incidents: IncidentStats::default(),
            purges: PurgeStats::default(),
            witnesses: vec![WitnessStatus {
                witness: "commission".into(),
                cosigned_size: Some(40),
                up_to_date: true,
            }],
            ledger: LedgerStatus {
                tree_size: 40,
                entries_in_period: 31,
                entries_by_kind: vec![count("sign_in", 15), count("disclosure", 16)],
                ..Default::default()
            },
        }
    }

    #[test]
    fn the_html_report_is_valid_self_contained_and_charts_every_figure() {
        for lang in ["fr", "en"] {
            let html = render_html(&report(), lang);
            let doc = scraper::Html::parse_document(&html);
            assert!(doc.errors.is_empty(), "{:#?}", doc.errors);
            let select = |s: &str| scraper::Selector::parse(s).unwrap();
            assert_eq!(
                doc.select(&select("html"))
                    .next()
                    .unwrap()
                    .value()
                    .attr("lang"),
                Some(lang)
            );
            assert_eq!(doc.select(&select("script")).count(), 0);
            assert_eq!(
                doc.select(&select("link")).count(),
                0,
                "no outside stylesheet"
            );
            // One bar per figure of every chart: sign-ins (2), acr (1),
            // claims (2), ledger kinds (2), governance (1).
            assert_eq!(doc.select(&select("svg rect.bar")).count(), 8);
            assert!(!html.contains("Family <portal>"), "names are escaped");
        }
        let fr = render_html(&report(), "fr");
        assert!(fr.contains("Portail Famille"));
        assert!(render_html(&report(), "en").contains("Family &lt;portal&gt;"));
    }
}
