//! Forbidden subjects, by every way in: an element's id, description,
//! claim or legal basis, a purpose, a scope, a role, a relying party; under
//! every category, planned or not, stored or in memory; in French or
//! English, with or without accents. None passes the check the server runs
//! at start-up ([`Pia::check`] without a source tree).
use super::*;
use crate::forbidden::{subjects_in, SUBJECTS};

/// A plausible word for a term: its stem, or its words joined.
fn sample(term: &str) -> String {
    term.replace('*', "")
}

/// The repository's PIA, read once.
fn base() -> &'static Pia {
    static BASE: std::sync::OnceLock<Pia> = std::sync::OnceLock::new();
    BASE.get_or_init(real)
}

/// `citizen.locale` made into another element: only what is planted
/// differs. `variant` says how it escapes the code check, as the review's
/// entries did: planned, held in memory, or derived on demand.
fn planted(id: &str, description: &str, category: Category, variant: usize) -> Element {
    let mut e = base().element("citizen.locale").unwrap().clone();
    e.id = id.to_owned();
    e.description = description.to_owned();
    e.category = category;
    e.disclosed_as_claim = None;
    e.roles.retain(|a| a.role != "relying-party");
    match variant % 3 {
        0 => {
            e.planned = true;
            e.issue = Some("#99".into());
        }
        1 => {
            e.storage = "memory".into();
            e.retention = "P0D".into();
        }
        _ => {
            e.storage = "none".into();
            e.retention = "P0D".into();
            e.derived_from = vec!["citizen.id".into()];
        }
    }
    e
}

/// The repository's PIA with these elements added.
fn with_elements(elements: Vec<Element>) -> Pia {
    let mut pia = base().clone();
    pia.inventory.elements.extend(elements);
    pia
}

/// The repository's PIA with one more element.
fn with_element(id: &str, description: &str, category: Category, variant: usize) -> Pia {
    with_elements(vec![planted(id, description, category, variant)])
}

/// The problems of the whole check the server runs at start-up.
fn at_start_up(pia: &Pia) -> Vec<String> {
    pia.check(&code(), None).lines()
}

fn refused(pia: &Pia, at: &str, subject: &str) {
    let found = at_start_up(pia);
    let needle = format!("forbidden subject `{subject}`");
    assert!(
        found
            .iter()
            .any(|p| p.starts_with(at) && p.contains(&needle)),
        "{at} touching {subject} passed the check; found: {found:#?}"
    );
}

#[test]
fn every_forbidden_subject_is_refused_whatever_category_it_claims() {
    let mut n = 0;
    for subject in SUBJECTS {
        // Each term once in an id (split on `.`, `_` or `-`, like the
        // review's `citizen.political_support`) and once in a description
        // under a harmless id, each under another category and way out of
        // the code check; then the first term under every category.
        let mut in_ids = Vec::new();
        let mut in_descriptions = Vec::new();
        for (i, term) in subject.terms.iter().enumerate() {
            let word = sample(term);
            let category = Category::ALL[(n + i) % Category::ALL.len()];
            let id = format!("citizen.{}_flag", word.replace(' ', "_"));
            in_ids.push(planted(&id, "A value about the citizen.", category, n + i));
            in_descriptions.push(planted(
                &format!("citizen.extra_{i}"),
                &format!("The citizen's {word}, as declared."),
                category,
                n + i + 1,
            ));
            n += 1;
        }
        for (k, category) in Category::ALL.into_iter().enumerate() {
            let word = sample(subject.terms[0]);
            in_ids.push(planted(&format!("citizen.{word}_{k}"), "x", category, k));
        }
        for elements in [in_ids, in_descriptions] {
            let ids: Vec<String> = elements.iter().map(|e| e.id.clone()).collect();
            let found = at_start_up(&with_elements(elements));
            let needle = format!("forbidden subject `{}`", subject.id);
            for id in ids {
                let at = format!("element `{id}`");
                assert!(
                    found
                        .iter()
                        .any(|p| p.starts_with(&at) && p.contains(&needle)),
                    "{at} touching {} passed the check",
                    subject.id
                );
            }
        }
    }
    assert!(n > 100, "only {n} terms");
}

#[test]
fn the_review_s_partisan_entries_are_refused() {
    // citizen.political_support with category identity and planned = true,
    // stored or held in memory only.
    for storage in ["citizens.sealed_record", "memory"] {
        refused(
            &edited_with(|text| plant::partisan(text, storage)),
            "element `citizen.political_support`",
            "political-opinion",
        );
    }
    // A new purpose `political-outreach`, served by an existing element.
    let pia = edited_with(plant::outreach);
    refused(&pia, "purpose `political-outreach`", "political-opinion");
    refused(&pia, "element `citizen.email`", "political-opinion");
    // Only the closed list stopped `category = "political"`; it still does.
    let text = real_text().replacen("category = \"contact\"", "category = \"political\"", 1);
    assert!(Pia::from_toml_str(&text, &repo_root()).is_err());
}

#[test]
fn french_and_accents_are_matched() {
    let inv = real().inventory;
    for (text, subject) in [
        ("Intention de VOTE aux élections", "voting-intention"),
        ("Appartenance syndicale", "union-membership"),
        ("Croyances religieuses", "religious-belief"),
        ("Soutien partisan déclaré", "political-opinion"),
        ("Membre d'un parti", "party-support"),
        ("Dossier médical", "health"),
        ("État de santé", "health"),
        ("Orientation sexuelle", "sexual-orientation"),
        ("Origine ethnique", "ethnic-origin"),
        ("Pointage des électeurs", "party-support"),
        ("Convictions philosophiques", "religious-belief"),
        ("Profilage et segmentation", "profiling"),
        ("Casier judiciaire", "criminal-record"),
    ] {
        let found = subjects_in(&inv, text);
        assert!(
            found.iter().any(|(s, _)| s == subject),
            "{text:?}: {found:?}"
        );
    }
    // Ordinary words of an identity provider are not caught.
    for text in [
        "relying party",
        "partie utilisatrice",
        "Renouveler sa carte d'assurance maladie",
        "Renew one's health insurance card",
        "votre dossier",
        "supported browsers",
        "federation demo",
        "policy",
    ] {
        assert_eq!(subjects_in(&inv, text), vec![], "{text:?}");
    }
}

#[test]
fn every_way_in_is_matched() {
    // A purpose, a relying party's purpose, a scope's claim, a role and a
    // legal basis: each entry is named.
    let mut pia = real();
    pia.inventory.purposes[0].description = "Score citizens by their use of services".into();
    refused(&pia, "purpose `identity-register`", "profiling");
    let mut pia = real();
    pia.inventory.relying_parties[0].purpose_fr = "Cibler les électeurs indécis".into();
    refused(
        &pia,
        "relying_party `demo-family-portal`",
        "voting-intention",
    );
    let mut pia = real();
    pia.inventory.relying_parties[1].purpose = "Marketing of tax services".into();
    refused(&pia, "relying_party `demo-revenue-office`", "profiling");
    let mut pia = real();
    pia.inventory.scopes[1].claims.push("religion".into());
    refused(&pia, "scope `profile`", "religious-belief");
    let mut pia = real();
    pia.inventory.roles[1].name = "Election officer".into();
    refused(&pia, "role `registrar`", "voting-intention");
    let mut pia = real();
    element(&mut pia, "citizen.email").legal_basis = "Consent to political outreach".into();
    refused(&pia, "element `citizen.email`", "political-opinion");
    // Profiling words in a risk or a note describe what is refused: not
    // matched there.
    let pia = real();
    assert!(pia
        .inventory
        .risks
        .iter()
        .any(|r| r.title.contains("Profiling")));
    assert_eq!(at_start_up(&pia), Vec::<String>::new());
}

#[test]
fn the_pia_adds_to_the_compiled_in_subjects_and_cannot_remove_one() {
    // Redefining a compiled-in subject with no terms of its own keeps its
    // compiled-in terms.
    let text = format!(
        "{}\n[[forbidden_subject]]\nid = \"voting-intention\"\ntitle = \"nothing\"\nterms = [\"zzz*\"]\n",
        real_text()
    );
    let mut pia = Pia::from_toml_str(&text, &repo_root()).unwrap();
    element(&mut pia, "citizen.status").description = "Whether the citizen voted".into();
    refused(&pia, "element `citizen.status`", "voting-intention");
    // An added subject is enforced like the others (the repository's PIA
    // adds criminal records).
    let pia = with_element("citizen.criminal_record", "x", Category::Identity, 1);
    refused(&pia, "element `citizen.criminal_record`", "criminal-record");
    // An added subject with no term is refused.
    let mut pia = real();
    pia.inventory.forbidden_subjects[0].terms = vec!["*".into()];
    assert_problem(
        &pia,
        &["forbidden_subject `criminal-record`", "no word to match"],
    );
}

#[test]
fn the_closed_lists_have_no_forbidden_entry() {
    let inv = real().inventory;
    for c in Category::ALL {
        assert_eq!(subjects_in(&inv, c.as_str()), vec![], "{c:?}");
    }
    for s in [Sensitivity::Low, Sensitivity::Medium, Sensitivity::High] {
        assert_eq!(subjects_in(&inv, s.as_str()), vec![]);
    }
    for p in &inv.purposes {
        assert_eq!(subjects_in(&inv, &p.id), vec![], "{}", p.id);
    }
}

/// The repository's PIA with an exception for a planted union element,
/// citing consultation C1 held.
fn with_exception(held: bool) -> Pia {
    let mut pia = with_element(
        "staff.union_dues",
        "Union dues withheld",
        Category::Audit,
        1,
    );
    if held {
        let c = &mut pia.inventory.consultations[0];
        c.status = ConsultationStatus::Held;
    }
    pia.inventory.forbidden_exceptions = vec![ForbiddenException {
        subject: "union-membership".into(),
        table: "element".into(),
        id: "staff.union_dues".into(),
        consultation: "C1".into(),
        reason: "Payroll deductions the body must make".into(),
    }];
    pia
}

#[test]
fn an_exception_needs_a_held_consultation() {
    let pia = with_exception(false);
    let found = at_start_up(&pia);
    assert!(
        found
            .iter()
            .any(|p| p.contains("staff.union_dues") && p.contains("not a held [[consultation]]")),
        "{found:#?}"
    );
    // An exception for nothing is refused too.
    let mut pia = real();
    pia.inventory.forbidden_exceptions = with_exception(true).inventory.forbidden_exceptions;
    assert_problem(
        &pia,
        &["forbidden_exception `union-membership`", "matches nothing"],
    );
}

#[cfg(not(feature = "forbidden-exceptions"))]
#[test]
fn a_consulted_exception_still_fails_in_the_default_build() {
    let found = at_start_up(&with_exception(true));
    assert!(
        found
            .iter()
            .any(|p| p.contains("element `staff.union_dues`")
                && p.contains("forbidden subject `union-membership`")
                && p.contains("`forbidden-exceptions` feature")),
        "{found:#?}"
    );
}

#[cfg(feature = "forbidden-exceptions")]
#[test]
fn a_consulted_exception_passes_only_with_the_feature() {
    let found = at_start_up(&with_exception(true));
    assert!(
        !found.iter().any(|p| p.contains("forbidden subject")),
        "{found:#?}"
    );
}
