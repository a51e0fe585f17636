//! The assessment's sections after its summary: tables of the inventory,
//! roles, retention, relying parties, processors, risks, obligations and
//! consultations.
use std::fmt::Write as _;

use super::{
    access_word, anchor, category, code, codes, colon, destruction, esc, kept, legend,
    obligation_status, role_kind, row, sensitivity, state, table_end, table_head, text, yes_no,
    InHtml, Lang,
};
use crate::facts;
use crate::model::{ConsultationDecision, ConsultationStatus, Inventory, RiskStatus};

pub(super) fn purposes(inv: &Inventory, lang: Lang, out: &mut String) {
    let l = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    let _ = writeln!(
        out,
        "<p>{}</p>",
        esc(l(
            "Chaque renseignement sert au moins l'une de ces fins. Une utilisation qui n'y figure pas est une utilisation secondaire (art. 65.1).",
            "Every element serves at least one of these purposes. A use not listed here is a secondary use (A-2.1 s. 65.1)."
        ))
    );
    table_head(
        out,
        &[
            l("Fin", "Purpose"),
            l("Description", "Description"),
            l("Renseignements", "Elements"),
        ],
    );
    for p in &inv.purposes {
        row(out, &facts::purpose_row(&InHtml, inv, p));
    }
    table_end(out);
}

pub(super) fn inventory_table(inv: &Inventory, lang: Lang, out: &mut String) {
    let l = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    table_head(
        out,
        &[
            l("Renseignement", "Element"),
            l("Description", "Description"),
            l("Catégorie", "Category"),
            l("Sensibilité", "Sensitivity"),
            l("Fins", "Purposes"),
            l("Conservé dans", "Storage"),
            l("Conservation", "Retention"),
            l("Attribut", "Claim"),
            l("Hors Québec", "Outside Québec"),
            l("État", "State"),
        ],
    );
    for e in &inv.elements {
        row(
            out,
            &[
                format!("<a href=\"#{}\">{}</a>", anchor(&e.id), code(&e.id)),
                text(&e.description),
                esc(category(e.category, lang)),
                esc(sensitivity(e.sensitivity, lang)),
                codes(&e.purposes),
                code(&e.storage),
                esc(&kept(e, lang)),
                e.disclosed_as_claim.as_deref().map_or("—".to_owned(), code),
                esc(yes_no(e.outside_quebec, lang)),
                state(e.planned, e.issue.as_deref(), lang),
            ],
        );
    }
    table_end(out);
}

pub(super) fn element_details(inv: &Inventory, lang: Lang, out: &mut String) {
    let l = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    for e in &inv.elements {
        let _ = writeln!(
            out,
            "<section class=\"element\" id=\"{}\">\n<h3>{}</h3>\n<p>{}</p>",
            anchor(&e.id),
            code(&e.id),
            text(&e.description)
        );
        let access: Vec<String> = e
            .roles
            .iter()
            .map(|a| {
                let kinds: Vec<&str> = a.access.iter().map(|k| access_word(*k, lang)).collect();
                match &a.condition {
                    Some(c) => format!(
                        "{}{}{} ({})",
                        code(&a.role),
                        colon(lang),
                        esc(&kinds.join(", ")),
                        text(c)
                    ),
                    None => format!("{}{}{}", code(&a.role), colon(lang), esc(&kinds.join(", "))),
                }
            })
            .collect();
        let mut fields: Vec<(&str, String)> = vec![
            (
                l("Sensibilité", "Sensitivity"),
                format!(
                    "{}{}{}",
                    esc(sensitivity(e.sensitivity, lang)),
                    colon(lang),
                    text(&e.sensitivity_reason)
                ),
            ),
            (
                l("Nécessité (art. 64)", "Necessity (s. 64)"),
                text(&e.necessity),
            ),
            (
                l("Fondement juridique", "Legal basis"),
                text(&e.legal_basis),
            ),
            (l("Source", "Source"), text(&e.source)),
            (l("Quantité", "Quantity"), text(&e.quantity)),
            (
                l("Conservation", "Retention"),
                format!(
                    "{} ({}); {} {}",
                    esc(&kept(e, lang)),
                    code(&e.retention),
                    esc(l("départ :", "clock:")),
                    text(&e.retention_trigger)
                ),
            ),
            (
                l("Destruction", "Destruction"),
                esc(destruction(e.destruction, lang)),
            ),
            (l("Conservé dans", "Storage"), code(&e.storage)),
            (l("Protection", "Protection"), text(&e.protection)),
            (l("Facultatif", "Optional"), esc(yes_no(e.optional, lang))),
            (
                l("Hors Québec", "Outside Québec"),
                esc(yes_no(e.outside_quebec, lang)),
            ),
            (l("Accès", "Access"), access.join("; ")),
        ];
        if let Some(c) = &e.disclosed_as_claim {
            fields.push((
                l("Communiqué comme attribut", "Disclosed as claim"),
                code(c),
            ));
        }
        if !e.derived_from.is_empty() {
            fields.push((
                l("Calculé à partir de", "Derived from"),
                codes(&e.derived_from),
            ));
        }
        if let Some(n) = &e.notes {
            fields.push((l("Notes", "Notes"), text(n)));
        }
        let _ = writeln!(out, "<dl class=\"fields\">");
        for (k, v) in fields {
            let _ = writeln!(out, "<dt>{}</dt><dd>{v}</dd>", esc(k));
        }
        let _ = writeln!(out, "</dl>\n</section>");
    }
}

pub(super) fn roles(inv: &Inventory, lang: Lang, out: &mut String) {
    let l = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    table_head(
        out,
        &[
            l("Rôle", "Role"),
            l("Type", "Kind"),
            l("Description", "Description"),
            l("Formation", "Training"),
        ],
    );
    for r in &inv.roles {
        let kind = esc(role_kind(r.kind, lang));
        row(out, &facts::role_row(&InHtml, r, kind));
    }
    table_end(out);
    let staff = facts::staff(inv);
    if !staff.is_empty() {
        let _ = writeln!(
            out,
            "<p>{}</p>",
            esc(l(
                "Ce que chaque rôle du personnel peut faire dans la console, vérifié par le serveur à chaque requête :",
                "What each staff role may do in the staff console, enforced by the server on every request:"
            ))
        );
        table_head(
            out,
            &[
                l("Rôle", "Role"),
                l("Actions", "Actions"),
                l("Fins de consultation", "Look-up purposes"),
                l("Peut attribuer", "May grant"),
            ],
        );
        for r in staff {
            row(out, &facts::staff_row(&InHtml, r));
        }
        table_end(out);
    }
    let _ = writeln!(
        out,
        "<p>{} ({}).</p>",
        esc(l("Matrice des accès", "Access matrix")),
        esc(&legend(lang))
    );
    let mut headings = vec![l("Renseignement", "Element")];
    headings.extend(inv.roles.iter().map(|r| r.id.as_str()));
    table_head(out, &headings);
    for e in &inv.elements {
        let _ = write!(out, "<tr><th scope=\"row\">{}</th>", code(&e.id));
        for r in &inv.roles {
            let _ = write!(
                out,
                "<td class=\"c\">{}</td>",
                facts::access_letters(e, &r.id)
            );
        }
        let _ = writeln!(out, "</tr>");
    }
    table_end(out);
}

pub(super) fn calendar(inv: &Inventory, lang: Lang, out: &mut String) {
    let l = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    let _ = writeln!(
        out,
        "<p>{}</p>",
        esc(l(
            "Les durées sont celles que les tâches de purge lisent dans l'inventaire; elles sont proposées pour le calendrier de conservation de l'organisme (Loi sur les archives).",
            "The periods are those the purge jobs read from the inventory; they are proposed for the body's retention schedule (Archives Act)."
        ))
    );
    table_head(
        out,
        &[
            l("Renseignement", "Element"),
            l("Conservé", "Kept"),
            l("Valeur", "Value"),
            l("Départ", "Clock"),
            l("Destruction", "Destruction"),
        ],
    );
    for e in facts::calendar(inv) {
        row(
            out,
            &[
                code(&e.id),
                esc(&kept(e, lang)),
                code(&e.retention),
                text(&e.retention_trigger),
                esc(destruction(e.destruction, lang)),
            ],
        );
    }
    table_end(out);
}

pub(super) fn scopes(inv: &Inventory, lang: Lang, out: &mut String) {
    let l = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    table_head(
        out,
        &[
            l("Portée", "Scope"),
            l("Attributs", "Claims"),
            l("Description", "Description"),
        ],
    );
    for s in &inv.scopes {
        row(out, &facts::scope_row(&InHtml, s));
    }
    table_end(out);
}

pub(super) fn relying_parties(inv: &Inventory, lang: Lang, out: &mut String) {
    let l = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    let _ = writeln!(
        out,
        "<p>{}</p>",
        esc(l(
            "Chaque entrée borne ce pour quoi un service peut être inscrit : sqin refuse une inscription ou une modification qui la dépasse, et un service ne reçoit que les attributs que sa fin exige, avec l'approbation du citoyen.",
            "Each entry bounds what a service may be registered for: sqin refuses a registration or an edit beyond it, and a service receives only the claims its purpose needs, with the citizen's approval."
        ))
    );
    table_head(
        out,
        &[
            l("Service", "Service"),
            l("Organisme", "Body"),
            l("Fin", "Purpose"),
            l("Fondement", "Legal basis"),
            l("Portées", "Scopes"),
            l("Attributs reçus", "Claims it receives"),
            l("Secteur et hôtes", "Sector and hosts"),
            l("Identifiant (sub)", "Subject (sub)"),
            l("État", "State"),
        ],
    );
    for rp in &inv.relying_parties {
        let purpose = match lang {
            Lang::Fr if !rp.purpose_fr.trim().is_empty() => &rp.purpose_fr,
            _ => &rp.purpose,
        };
        let (rp_name, legal_basis) = match lang {
            Lang::Fr => (
                Some(&rp.name_fr)
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or(&rp.name),
                Some(&rp.legal_basis_fr)
                    .filter(|b| !b.trim().is_empty())
                    .unwrap_or(&rp.legal_basis),
            ),
            Lang::En => (&rp.name, &rp.legal_basis),
        };
        let mut name = format!("<strong>{}</strong> ({})", text(rp_name), code(&rp.id));
        if rp.demo {
            let _ = write!(
                name,
                " — {}",
                esc(l("démonstration, données fictives", "demo, synthetic data"))
            );
        }
        let subject = match &rp.public_subject_reason {
            Some(why) if rp.subject_type == "public" => {
                format!("{}{}{}", esc(l("public", "public")), colon(lang), text(why))
            }
            _ if rp.subject_type == "public" => esc(l("public", "public")),
            _ => esc(l("par secteur (pairwise)", "pairwise")),
        };
        row(
            out,
            &[
                name,
                text(&rp.body),
                text(purpose),
                text(legal_basis),
                codes(&rp.scopes),
                codes(&rp.claims),
                format!("{}; {}", code(&rp.sector), codes(&rp.hosts)),
                subject,
                state(rp.planned, rp.issue.as_deref(), lang),
            ],
        );
    }
    table_end(out);
}

pub(super) fn processors(inv: &Inventory, lang: Lang, out: &mut String) {
    let l = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    table_head(
        out,
        &[
            l("Sous-traitant", "Processor"),
            l("Service", "Service"),
            l("Lieu", "Location"),
            l("Hors Québec", "Outside Québec"),
            l("Renseignements", "Elements"),
            l("Entente", "Agreement"),
        ],
    );
    for p in &inv.processors {
        let outside = match (&p.assessment, p.outside_quebec) {
            (Some(a), true) => format!("{} ({})", esc(yes_no(true, lang)), code(a)),
            (_, o) => esc(yes_no(o, lang)),
        };
        row(out, &facts::processor_row(&InHtml, p, outside));
    }
    table_end(out);
}

fn risk_status(s: RiskStatus, lang: Lang) -> &'static str {
    match s {
        RiskStatus::Open => lang.pick("ouvert", "open"),
        RiskStatus::Partial => lang.pick("partiellement traité", "partial"),
        RiskStatus::Mitigated => lang.pick("atténué", "mitigated"),
        RiskStatus::Closed => lang.pick("fermé", "closed"),
    }
}

pub(super) fn risks(inv: &Inventory, lang: Lang, out: &mut String) {
    let l = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    if inv.risks.is_empty() {
        let _ = writeln!(
            out,
            "<p>{}</p>",
            esc(l(
                "Cette version de l'inventaire n'énumère aucun risque (voir pia/assessment.md, étape 3).",
                "This version of the inventory lists no risk (see pia/assessment.md, step 3)."
            ))
        );
        return;
    }
    let _ = writeln!(
        out,
        "<p>{}</p>",
        esc(l(
            "Chaque risque, coté en probabilité × gravité (de 1 à 4 chacune) avant et après ses mesures, avec le code qui le maîtrise et le test qui montre que la mesure fonctionne.",
            "Each risk, rated likelihood × impact (1 to 4 each) before and after its measures, with the code that controls it and the test that shows the control works."
        ))
    );
    table_head(
        out,
        &[
            l("Risque", "Risk"),
            l("Avant", "Before"),
            l("Mesures", "Measures"),
            l("Résiduel", "Residual"),
            l("Mesure dans le code", "Control"),
            l("Test", "Test"),
            l("État", "Status"),
        ],
    );
    for r in &inv.risks {
        let mut status = esc(risk_status(r.status, lang));
        if let Some(i) = &r.issue {
            let _ = write!(status, " ({})", text(i));
        }
        row(
            out,
            &[
                format!("<strong>{}</strong> {}", esc(&r.id), text(&r.title)),
                format!("{} × {} = {}", r.likelihood, r.impact, r.level()),
                text(&r.measures),
                format!(
                    "{} × {} = {}",
                    r.residual_likelihood,
                    r.residual_impact,
                    r.residual_level()
                ),
                code(&r.control),
                code(&r.test),
                status,
            ],
        );
    }
    table_end(out);
}

pub(super) fn obligations(inv: &Inventory, lang: Lang, out: &mut String) {
    let l = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    let _ = writeln!(
        out,
        "<p>{}</p>",
        esc(l(
            "Chaque obligation de la loi, avec le document qui y répond, la mesure qui l'applique dans le code et le test qui le vérifie.",
            "Each of the law's obligations, with the document that answers it, the control that enforces it in the code and the test that checks it."
        ))
    );
    table_head(
        out,
        &[
            "#",
            l("Obligation", "Obligation"),
            l("Article", "Article"),
            l("État", "Status"),
            l("Document", "Artifact"),
            l("Mesure", "Control"),
            l("Test", "Test"),
            l("À terminer", "To finish"),
        ],
    );
    for o in facts::obligations_by_row(inv) {
        let status = esc(obligation_status(o.status, lang));
        row(out, &facts::obligation_row(&InHtml, o, status));
    }
    table_end(out);
}

pub(super) fn consultations(inv: &Inventory, lang: Lang, out: &mut String) {
    let l = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    if inv.consultations.is_empty() {
        let _ = writeln!(
            out,
            "<p>{}</p>",
            esc(l(
                "Aucune consultation n'est inscrite dans cette version de l'inventaire (le journal des consultations est pia/consultations.md).",
                "No consultation is recorded in this version of the inventory (the log of consultations is pia/consultations.md)."
            ))
        );
        return;
    }
    table_head(
        out,
        &[
            l("Consultation", "Consultation"),
            l("Date", "Date"),
            l("Étape", "Stage"),
            l("Révision", "Revision"),
            l("État", "Status"),
            l("Décision", "Decision"),
            l("Ce qu'elle couvre", "What it covers"),
            l("Compte rendu", "Record"),
        ],
    );
    for c in &inv.consultations {
        let status = match c.status {
            ConsultationStatus::Planned => l("prévue", "planned"),
            ConsultationStatus::Held => l("tenue", "held"),
        };
        let decision = match c.decision {
            Some(ConsultationDecision::Approved) => l("approuvée", "approved"),
            Some(ConsultationDecision::Noted) => l("prise en note", "noted"),
            Some(ConsultationDecision::Refused) => l("refusée", "refused"),
            None => "—",
        };
        row(
            out,
            &[
                esc(&c.id),
                esc(&c.date),
                text(&c.stage),
                text(&c.revision),
                esc(status),
                esc(decision),
                codes(&c.covers),
                code(&c.record),
            ],
        );
    }
    table_end(out);
}
