//! What the review found that only `cargo test` caught, or nothing did,
//! each planted in a copy of the repository's inventory (never in `pia/`)
//! and refused by the one check: [`Pia::check`] with no source tree, as the
//! server runs it at start-up, and with the repository as source tree, as
//! CI and `sqin pia check --source-tree .` run it.
use super::*;

fn lines(findings: &Findings) -> Vec<String> {
    findings.lines()
}

/// The finding lines of the start-up check (no source tree).
fn at_start_up(pia: &Pia) -> Vec<String> {
    lines(&pia.check(&code(), None))
}

/// The finding lines of the full check, source tree included.
fn with_source(pia: &Pia) -> Vec<String> {
    lines(&pia.check(&code(), Some(&repo_root())))
}

fn has(found: &[String], needles: &[&str]) -> bool {
    found.iter().any(|p| needles.iter().all(|n| p.contains(n)))
}

#[track_caller]
fn refused_everywhere(pia: &Pia, needles: &[&str]) {
    for (when, found) in [
        ("at start-up", at_start_up(pia)),
        ("by CI", with_source(pia)),
    ] {
        assert!(
            has(&found, needles),
            "{when}: no finding contains {needles:?}; found: {found:#?}"
        );
    }
}

#[track_caller]
fn refused_with_the_source_tree(pia: &Pia, needles: &[&str]) {
    let found = with_source(pia);
    assert!(
        has(&found, needles),
        "no finding contains {needles:?}; found: {found:#?}"
    );
    // The server has no source tree: it cannot see this, and does not
    // pretend to.
    assert!(!has(&at_start_up(pia), needles));
}

#[test]
fn the_repository_pia_passes_the_whole_check() {
    let pia = real();
    assert_eq!(with_source(&pia), Vec::<String>::new());
    assert!(pia.check(&code(), Some(&repo_root())).is_empty());
}

#[test]
fn a_named_test_must_exist_and_be_a_test() {
    // An obligation's test that does not exist.
    refused_with_the_source_tree(
        &edited_with(plant::undefined_test),
        &[
            "obligation row 18",
            "test `outside_quebec_is_refused` is not defined",
        ],
    );
    // A function that exists but is not a test.
    refused_with_the_source_tree(
        &edited_with(plant::not_a_test),
        &["obligation row 18", "`real_text`", "is not a test"],
    );
    // A risk's test in a file that does not exist.
    let mut pia = real();
    pia.inventory.risks[0].test = "crates/oidc/src/nowhere.rs::pairwise".into();
    refused_with_the_source_tree(
        &pia,
        &[
            "risk R1",
            "test file \"crates/oidc/src/nowhere.rs\" does not exist",
        ],
    );
    // Not even of the form file.rs::name: refused at start-up too.
    let mut pia = real();
    pia.inventory.risks[0].test = "sector_defaults_to_the_single_host".into();
    refused_everywhere(&pia, &["risk R1", "must be `path/to/file.rs::test_name`"]);
}

#[test]
fn a_missing_artifact_or_assessment_file_is_refused() {
    refused_with_the_source_tree(
        &edited_with(plant::missing_artifact),
        &[
            "obligation row 3",
            "artifact \"pia/committee.md\" does not exist",
        ],
    );
    // Hosting moved outside Québec, naming an assessment that is not there.
    let mut pia = real();
    element(&mut pia, "citizen.email").outside_quebec = true;
    let hosting = processor(&mut pia, "hosting");
    hosting.outside_quebec = true;
    hosting.assessment = Some("pia/s70-1-hosting.md".into());
    refused_with_the_source_tree(
        &pia,
        &[
            "processor `hosting`",
            "assessment \"pia/s70-1-hosting.md\" does not exist",
        ],
    );
    // Without one at all, even the server refuses it.
    processor(&mut pia, "hosting").assessment = None;
    refused_everywhere(&pia, &["processor `hosting`", "A-2.1 s. 70.1"]);
    // A consultation's record and a risk's control are files too.
    let mut pia = real();
    pia.inventory.consultations[0].record = "pia/minutes.md#c1".into();
    pia.inventory.risks[1].control = "crates/pia/src/profiling_guard.rs".into();
    refused_with_the_source_tree(
        &pia,
        &["consultation C1", "\"pia/minutes.md#c1\" does not exist"],
    );
    refused_with_the_source_tree(
        &pia,
        &["risk R2", "control \"crates/pia/src/profiling_guard.rs\""],
    );
}

#[test]
fn a_stored_element_is_never_planned() {
    let mut pia = real();
    let e = element(&mut pia, "citizen.email");
    e.planned = true;
    e.issue = Some("#99".into());
    refused_everywhere(
        &pia,
        &["the code stores `citizen.email`", "marks it planned"],
    );
    refused_everywhere(
        &pia,
        &[
            "releases claim `email`",
            "marks its element `citizen.email` planned",
        ],
    );
    assert!(pia
        .check_against(&code())
        .contains(&Mismatch::PlannedButStored {
            element: "citizen.email".into()
        }));
    // A planned element the code does not store yet is fine.
    let mut pia = real();
    let mut e = pia.element("citizen.locale").unwrap().clone();
    e.id = "citizen.phone".into();
    e.disclosed_as_claim = None;
    e.planned = true;
    e.issue = Some("#99".into());
    pia.inventory.elements.push(e);
    assert_eq!(at_start_up(&pia), Vec::<String>::new());
}

#[test]
fn a_wrong_storage_location_is_refused() {
    for (id, storage, needles) in [
        // Said to be in a column of its own: the code keeps it sealed.
        (
            "citizen.email",
            "citizens.email",
            &[
                "`citizen.email` is kept in storage = \"citizens.email\"",
                "citizens.sealed_record",
            ][..],
        ),
        // In another table altogether.
        (
            "session.auth_time",
            "staff_sessions.*",
            &["`session.auth_time`", "sessions.auth_time"],
        ),
        // Ledger records are in the ledger.
        (
            "ledger.sign_in_record",
            "security_events.*",
            &["`ledger.sign_in_record`", "ledger_entries.entry"],
        ),
    ] {
        let mut pia = real();
        element(&mut pia, id).storage = storage.into();
        refused_everywhere(&pia, needles);
    }
    // A whole-row declaration covers its columns, both ways.
    let mut pia = real();
    element(&mut pia, "consent.record").storage = "consents.claims".into();
    element(&mut pia, "session.auth_time").storage = "sessions.*".into();
    assert_eq!(at_start_up(&pia), Vec::<String>::new());
}

#[test]
fn widened_role_access_is_refused() {
    use AccessKind::{Read, Receive, Update};
    for (grants, needles) in [
        // The auditor, who may not open a file, given a citizen's date of
        // birth.
        (
            &[("citizen.birthdate", "auditor", Read, "logged")][..],
            &[&[
                "element `citizen.birthdate`",
                "role `auditor`",
                "no `file.lookup`",
            ][..]][..],
        ),
        // The administrator correcting an address.
        (
            &[("citizen.address", "administrator", Update, "logged")],
            &[&["role `administrator`", "update on a citizen's file"]],
        ),
        // Support reading the register id in clear, unlogged.
        (
            &[("citizen.register_id", "support", Read, "to help")],
            &[&[
                "element `citizen.register_id`",
                "role `support`",
                "without its condition saying the access is logged",
            ]],
        ),
        // Staff receiving a disclosure; an oversight body changing a record.
        (
            &[
                ("citizen.email", "support", Receive, "logged"),
                ("staff.grant", "commission-reviewer", Update, "on request"),
            ],
            &[
                &["role `support`", "only a system (a relying party) receives"],
                &["role `commission-reviewer`", "only reads or audits"],
            ],
        ),
        // An access with no condition.
        (
            &[("citizen.status", "registrar", Read, "")],
            &[&[
                "element `citizen.status`",
                "role `registrar`",
                "no `condition`",
            ]],
        ),
    ] {
        let mut pia = real();
        for &(id, role, kind, condition) in grants {
            element(&mut pia, id).roles.push(Access {
                role: role.into(),
                access: vec![kind],
                condition: (!condition.is_empty()).then(|| condition.to_owned()),
            });
        }
        for needles in needles {
            refused_everywhere(&pia, needles);
        }
    }
}

#[test]
fn retention_beyond_the_bounds_is_refused() {
    for (id, retention, needles) in [
        (
            "citizen.email",
            "P100Y",
            &[
                &[
                    "element `citizen.email`",
                    "P100Y",
                    "longest retention sqin allows (P10Y",
                ][..],
                &["element `citizen.email`", "ceiling of P1Y", "citizen-file"],
            ][..],
        ),
        // Under the PIA's own ceiling for the kind, though under P10Y.
        (
            "citizen.address",
            "while-account-active+P2Y",
            &[&["element `citizen.address`", "retention_rule `citizen-file`"]],
        ),
        (
            "session.id",
            "while-session-active+P30D",
            &[&["element `session.id`", "retention_rule `sign-in-traces`"]],
        ),
        // Below a floor: the PIA's own (proof of disclosures) and the law's.
        (
            "ledger.disclosure_record",
            "P1D",
            &[&[
                "element `ledger.disclosure_record`",
                "shorter than the floor of P1Y",
                "ledger-records",
            ]],
        ),
        (
            "incident.record",
            "P1D",
            &[&["element `incident.record`", "law's floor of P5Y", "r. 3.1"]],
        ),
    ] {
        let mut pia = real();
        element(&mut pia, id).retention = retention.into();
        for needles in needles {
            refused_everywhere(&pia, needles);
        }
    }
    // The PIA cannot raise its ceilings beyond sqin's, nor lose one.
    let mut pia = real();
    pia.inventory.retention_rules[0].ceiling = "P20Y".into();
    pia.inventory.retention_rules[1].floor = Some("P2Y".into());
    refused_everywhere(
        &pia,
        &["retention_rule `identity`", "beyond the longest retention"],
    );
    refused_everywhere(
        &pia,
        &["retention_rule `contact`", "floor is above its ceiling"],
    );
    let mut pia = real();
    pia.inventory
        .retention_rules
        .retain(|r| r.id != "technical");
    refused_everywhere(
        &pia,
        &[
            "element `logout_notice.record`",
            "no [[retention_rule]] applies",
        ],
    );
}

#[test]
fn approved_needs_a_recorded_consultation() {
    let mut pia = real();
    pia.inventory.meta.status = DocumentStatus::Approved;
    refused_everywhere(
        &pia,
        &[
            "meta",
            "status = \"approved\"",
            "no [[consultation]] held for revision",
        ],
    );
    // Held, but for another revision; then approved for this one.
    let c = &mut pia.inventory.consultations[0];
    c.status = ConsultationStatus::Held;
    c.decision = Some(ConsultationDecision::Approved);
    c.revision = "0.0".into();
    refused_everywhere(&pia, &["meta", "status = \"approved\""]);
    pia.inventory.consultations[0].revision = pia.inventory.meta.revision.clone();
    assert_eq!(with_source(&pia), Vec::<String>::new());
    // A planned consultation cannot have decided anything.
    let mut pia = real();
    pia.inventory.consultations[0].decision = Some(ConsultationDecision::Approved);
    refused_everywhere(&pia, &["consultation C1", "planned but records a decision"]);
}

#[test]
fn risks_are_machine_readable_and_name_their_control_and_test() {
    let pia = real();
    let ids: Vec<&str> = pia.inventory.risks.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 15);
    assert_eq!(ids.first(), Some(&"R1"));
    let mut pia = real();
    let r = &mut pia.inventory.risks[3];
    r.test = "planned".into();
    r.issue = None;
    r.residual_impact = 4;
    r.residual_likelihood = 4;
    r.control = "/usr/src/codes.rs".into();
    pia.inventory.risks[5].id = "R1".into();
    pia.inventory.risks[6].likelihood = 7;
    for needles in [
        &["risk R4", "names no test"][..],
        &["risk R4", "is partial but names no `issue`"],
        &["risk R4", "residual level 16 is above"],
        &[
            "risk R4",
            "control \"/usr/src/codes.rs\" must be a relative path",
        ],
        &["risk R1", "is declared more than once"],
        &["risk R7", "`likelihood` is 7"],
    ] {
        refused_everywhere(&pia, needles);
    }
    let mut pia = real();
    pia.inventory.risks.clear();
    refused_everywhere(&pia, &["risk", "none declared"]);
}
