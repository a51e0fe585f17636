//! Tests against the repository's own `pia/`, and against edited copies of it
//! that must be refused with a precise message.
use std::path::{Path, PathBuf};

use crate::*;

mod blind_spots;
mod documents;
mod forbidden;
pub(crate) mod plant;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn pia_dir() -> PathBuf {
    repo_root().join("pia")
}

fn real() -> Pia {
    Pia::load(&pia_dir()).unwrap()
}

pub(crate) fn real_text() -> String {
    std::fs::read_to_string(pia_dir().join(INVENTORY_FILE)).unwrap()
}

/// The real inventory with the first occurrence of `from` replaced.
fn edited(from: &str, to: &str) -> Pia {
    edited_with(|text| plant::replaced(text, from, to))
}

/// The real inventory with `edit` applied to its text (one of [`plant`]'s).
fn edited_with(edit: impl Fn(&str) -> String) -> Pia {
    Pia::from_toml_str(&edit(&real_text()), &repo_root()).unwrap()
}

fn element<'a>(pia: &'a mut Pia, id: &str) -> &'a mut Element {
    pia.inventory
        .elements
        .iter_mut()
        .find(|e| e.id == id)
        .unwrap_or_else(|| panic!("no element {id}"))
}

fn processor<'a>(pia: &'a mut Pia, id: &str) -> &'a mut Processor {
    pia.inventory
        .processors
        .iter_mut()
        .find(|p| p.id == id)
        .unwrap_or_else(|| panic!("no processor {id}"))
}

fn problems(pia: &Pia) -> Vec<String> {
    pia.problems().iter().map(ToString::to_string).collect()
}

/// Asserts one problem contains every needle.
fn assert_problem(pia: &Pia, needles: &[&str]) {
    let all = problems(pia);
    assert!(
        all.iter().any(|p| needles.iter().all(|n| p.contains(n))),
        "no problem contains {needles:?}; problems: {all:#?}"
    );
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Where the code keeps each element (one place each; the store crate's
/// `PERSONAL_DATA` lists them all).
const STORAGE: &[(&str, &str)] = &[
    ("citizen.id", "citizens.id"),
    ("citizen.register_id", "citizens.sealed_record"),
    ("citizen.given_name", "citizens.sealed_record"),
    ("citizen.family_name", "citizens.sealed_record"),
    ("citizen.birthdate", "citizens.sealed_record"),
    ("citizen.email", "citizens.sealed_record"),
    ("citizen.address", "citizens.sealed_record"),
    ("citizen.locale", "citizens.sealed_record"),
    ("citizen.status", "citizens.status"),
    ("enrolment_code.code_hash", "enrolment_codes.*"),
    (
        "enrolment_code.failed_attempts",
        "enrolment_codes.failed_attempts",
    ),
    ("session.id", "sessions.*"),
    ("session.auth_time", "sessions.auth_time"),
    ("consent.record", "consents.*"),
    ("grant.record", "grants.*"),
    ("ledger.entry", "ledger_entries.*"),
    ("ledger.consent_record", "ledger_entries.entry"),
    ("ledger.disclosure_record", "ledger_entries.entry"),
    ("ledger.sign_in_record", "ledger_entries.entry"),
    ("ledger.security_record", "ledger_entries.entry"),
    ("ledger.staff_access_record", "ledger_entries.entry"),
    ("ledger.request_record", "ledger_entries.entry"),
    ("passkey.credential_id", "passkeys.*"),
    ("passkey.public_key", "passkeys.credential"),
    ("passkey.sign_count", "passkeys.sign_count"),
    ("passkey.name", "passkeys.name"),
    ("passkey.user_handle", "passkey_users.*"),
    ("security_event.record", "security_events.*"),
    ("session.ip_address", "rate_limits.*"),
    ("webauthn_ceremony.record", "webauthn_ceremonies.*"),
    ("logout_notice.record", "backchannel_deliveries.*"),
    ("complaint.record", "complaints.*"),
    ("correction.record", "correction_requests.*"),
    ("incident.record", "incidents.*"),
    ("staff.member", "staff_members.*"),
    ("staff.invitation", "staff_invitations.*"),
    ("staff.passkey", "staff_passkeys.*"),
    ("staff.session", "staff_sessions.*"),
    ("staff.grant", "staff_grants.*"),
    ("staff.request", "staff_requests.*"),
    ("staff.alert", "staff_alerts.*"),
    ("staff.access_record", "staff_access_log.*"),
    ("letter.record", "mail_letters.*"),
];

/// Exactly what the code declares today: the claim catalog of
/// crates/oidc/src/claims.rs and the personal columns of the store.
fn code() -> CodeDeclarations {
    CodeDeclarations {
        claims: strings(&[
            "name",
            "given_name",
            "family_name",
            "locale",
            "birthdate",
            "email",
            "address",
        ]),
        scopes: vec![
            ("openid".into(), vec![]),
            (
                "profile".into(),
                strings(&["name", "given_name", "family_name", "locale"]),
            ),
            ("birthdate".into(), strings(&["birthdate"])),
            ("email".into(), strings(&["email"])),
            ("address".into(), strings(&["address"])),
            ("offline_access".into(), vec![]),
        ],
        stored_elements: STORAGE.iter().map(|(e, _)| (*e).to_owned()).collect(),
        storage: STORAGE
            .iter()
            .map(|(e, at)| ((*e).to_owned(), (*at).to_owned()))
            .collect(),
        ledger_kinds: vec![
            ("consent_granted".into(), "ledger.consent_record".into()),
            ("disclosure".into(), "ledger.disclosure_record".into()),
            ("sign_in".into(), "ledger.sign_in_record".into()),
            ("recovery".into(), "ledger.security_record".into()),
            ("staff_access".into(), "ledger.staff_access_record".into()),
            ("rights_request".into(), "ledger.request_record".into()),
        ],
        staff_actions: strings(&[
            "file.lookup",
            "recovery.request",
            "recovery.approve",
            "closure.request",
            "closure.approve",
            "staff.invite",
            "grant.approve",
            "letters.print",
            "complaints.handle",
            "corrections.handle",
            "access.review",
            "clients.manage",
            "clients.approve",
            "keys.rotate",
            "ledger.verify",
        ]),
    }
}

#[test]
fn the_repository_pia_is_valid() {
    let pia = real();
    if let Err(e) = pia.validate() {
        panic!("{e}");
    }
    let inv = pia.inventory();
    for id in code().stored_elements {
        let e = pia
            .element(&id)
            .unwrap_or_else(|| panic!("{id} is missing"));
        assert!(!e.planned, "{id} is in the code, not planned");
        assert!(e.is_stored(), "{id}");
    }
    for id in [
        "passkey.credential_id",
        "passkey.public_key",
        "passkey.sign_count",
        "passkey.name",
        "session.id",
        "session.auth_time",
        "session.ip_address",
        "consent.record",
        "ledger.entry",
        "pairwise_subject",
        "staff.access_record",
        "complaint.record",
        "incident.record",
    ] {
        // Declared from the start, planned or implemented.
        assert!(pia.element(id).is_some(), "{id} is missing");
    }
    // Client registrations are not personal information.
    assert!(inv.elements.iter().all(|e| !e.id.starts_with("client.")));
    // Decisions recorded in the inventory.
    let ip = pia.element("session.ip_address").unwrap();
    assert_eq!(ip.storage, "rate_limits.bucket");
    assert!(ip.protection.starts_with("HMAC"));
    assert_eq!(
        pia.retention_for("session.ip_address").unwrap().to_string(),
        "PT30M"
    );
    assert_eq!(pia.element("pairwise_subject").unwrap().storage, "none");
    assert!(inv.elements.iter().all(|e| !e.outside_quebec));
    assert!(inv.processors.iter().all(|p| !p.outside_quebec));
    let family = pia.relying_party("demo-family-portal").unwrap();
    assert_eq!(
        family.claims,
        strings(&["name", "given_name", "family_name", "birthdate", "address"])
    );
    let revenue = pia.relying_party("demo-revenue-office").unwrap();
    assert_eq!(
        revenue.claims,
        strings(&["name", "given_name", "family_name"])
    );
    let rows: Vec<u32> = {
        let mut r: Vec<u32> = inv.obligations.iter().map(|o| o.row).collect();
        r.sort_unstable();
        r
    };
    assert_eq!(rows, OBLIGATION_ROWS.collect::<Vec<_>>());
}

#[test]
fn the_code_declarations_match_the_pia() {
    let pia = real();
    assert_eq!(pia.check_against(&code()), vec![]);
    // Protocol scopes carry no claims; leaving them out changes nothing.
    let mut without = code();
    without.scopes.retain(|(_, c)| !c.is_empty());
    assert_eq!(pia.check_against(&without), vec![]);
    // Every claim the code can release maps to exactly one element.
    for claim in code().claims {
        let n = pia
            .inventory()
            .elements
            .iter()
            .filter(|e| e.disclosed_as_claim.as_deref() == Some(claim.as_str()))
            .count();
        assert_eq!(n, 1, "{claim}");
    }
    // `name` is derived from the two names, not stored.
    let name = pia.element("citizen.name").unwrap();
    assert_eq!(
        name.derived_from,
        strings(&["citizen.given_name", "citizen.family_name"])
    );
    assert!(!name.is_stored());
}

#[test]
fn a_claim_missing_from_the_pia_is_reported() {
    let pia = real();
    let mut declared = code();
    declared.claims.push("phone_number".into());
    declared
        .scopes
        .push(("phone".into(), strings(&["phone_number"])));
    let found = pia.check_against(&declared);
    assert_eq!(
        found,
        vec![
            Mismatch::ClaimNotInPia {
                claim: "phone_number".into()
            },
            Mismatch::ScopeNotInPia {
                scope: "phone".into(),
                claims: strings(&["phone_number"])
            },
        ]
    );
    let text = found[0].to_string();
    assert!(text.contains("can release claim `phone_number`"), "{text}");
    assert!(text.contains("disclosed_as_claim"), "{text}");
}

#[test]
fn an_extra_claim_in_the_pia_is_reported() {
    let pia = real();
    let mut declared = code();
    declared.claims.retain(|c| c != "email");
    declared.scopes.retain(|(s, _)| s != "email");
    let found = pia.check_against(&declared);
    assert_eq!(
        found,
        vec![
            Mismatch::ClaimNotInCode {
                claim: "email".into(),
                element: "citizen.email".into()
            },
            Mismatch::ScopeNotInCode {
                scope: "email".into()
            },
        ]
    );
    let text = found[0].to_string();
    assert!(
        text.contains("element `citizen.email` as claim `email`, which the code cannot release"),
        "{text}"
    );
}

#[test]
fn scope_changes_are_reported() {
    let pia = real();
    let mut declared = code();
    // Someone folds birthdate back into profile, as OIDC Core does.
    for (scope, claims) in &mut declared.scopes {
        if scope == "profile" {
            claims.push("birthdate".into());
        }
    }
    let found = pia.check_against(&declared);
    assert_eq!(
        found,
        vec![Mismatch::ScopeClaimsDiffer {
            scope: "profile".into(),
            code: strings(&["birthdate", "family_name", "given_name", "locale", "name"]),
            pia: strings(&["family_name", "given_name", "locale", "name"]),
        }]
    );
    assert!(found[0].to_string().contains("scope `profile` releases"));
}

#[test]
fn stored_elements_are_checked_both_ways() {
    let pia = real();
    let mut declared = code();
    declared.stored_elements.retain(|e| e != "citizen.locale");
    declared.stored_elements.push("citizen.nas".into());
    // A derived value must not start being stored unnoticed.
    declared.stored_elements.push("citizen.name".into());
    let found = pia.check_against(&declared);
    assert_eq!(
        found,
        vec![
            Mismatch::ElementStoredContraryToPia {
                element: "citizen.name".into(),
                storage: "none".into()
            },
            Mismatch::ElementNotInPia {
                element: "citizen.nas".into()
            },
            Mismatch::ElementNotInCode {
                element: "citizen.locale".into(),
                storage: "citizens.sealed_record".into()
            },
        ]
    );
    let text: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert!(
        text[1].contains("the code stores `citizen.nas`"),
        "{}",
        text[1]
    );
    assert!(text[2].contains("mark it planned"), "{}", text[2]);
}

#[test]
fn ledger_kinds_need_a_ledger_element_with_a_fixed_retention() {
    let pia = real();
    let mut declared = code();
    declared
        .ledger_kinds
        .push(("new_kind".into(), "ledger.nowhere".into()));
    declared
        .ledger_kinds
        .push(("oops".into(), "citizen.email".into()));
    declared
        .ledger_kinds
        .push(("skeleton".into(), "ledger.entry".into()));
    let found = pia.check_against(&declared);
    assert_eq!(
        found,
        vec![
            Mismatch::LedgerKindNotInPia {
                kind: "new_kind".into(),
                element: "ledger.nowhere".into()
            },
            Mismatch::LedgerKindNotInPia {
                kind: "oops".into(),
                element: "citizen.email".into()
            },
            Mismatch::LedgerRetentionNotFixed {
                kind: "skeleton".into(),
                element: "ledger.entry".into(),
                retention: "while-account-active".into()
            },
        ]
    );
    assert!(
        found[2].to_string().contains("plain duration"),
        "{}",
        found[2]
    );
}

#[test]
fn content_validation_needs_no_repository() {
    let pia = Pia::from_toml_str(&real_text(), Path::new("/nonexistent")).unwrap();
    assert!(pia.validate().is_err(), "the files are not there");
    assert_eq!(pia.content_problems(), vec![]);
    pia.validate_content().unwrap();
}

#[test]
fn a_bad_reference_is_named() {
    let pia = edited(
        r#"purposes = ["enrolment", "disclosure"]"#,
        r#"purposes = ["enrolment", "disclosures"]"#,
    );
    assert_problem(
        &pia,
        &[
            "element `citizen.address`",
            "purpose `disclosures` is not declared in [[purpose]]",
        ],
    );
    let pia = edited(
        r#"{ role = "support", access = ["verify"]"#,
        r#"{ role = "helpdesk", access = ["verify"]"#,
    );
    assert_problem(
        &pia,
        &[
            "element `citizen.register_id`",
            "role `helpdesk` is not declared in [[role]]",
        ],
    );
    let pia = edited(
        r#"claims = ["name", "given_name", "family_name"]"#,
        r#"claims = ["name", "given_name", "family_name", "birthdate"]"#,
    );
    assert_problem(
        &pia,
        &[
            "relying_party `demo-revenue-office`",
            "claim `birthdate` is not carried by any of its scopes (openid, profile)",
        ],
    );
    let pia = edited(
        r#"derived_from = ["citizen.id"]"#,
        r#"derived_from = ["citizen.uuid"]"#,
    );
    assert_problem(
        &pia,
        &[
            "element `pairwise_subject`",
            "derived_from `citizen.uuid` is not an element",
        ],
    );
    let pia = edited(
        r#""enrolment_code.code_hash", "enrolment_code.failed_attempts","#,
        r#""enrolment_code.code_hash", "enrolment_code.attempts","#,
    );
    assert_problem(
        &pia,
        &[
            "processor `hosting`",
            "element `enrolment_code.attempts` is not declared in [[element]]",
        ],
    );
}

#[test]
fn a_bad_duration_is_named() {
    let pia = edited(
        r#"retention = "while-code-valid+P90D""#,
        r#"retention = "while-code-valid+P90X""#,
    );
    assert_problem(
        &pia,
        &[
            "element `enrolment_code.code_hash`",
            r#"retention "while-code-valid+P90X""#,
            "unexpected 'X'",
        ],
    );
    let pia = edited(r#"retention = "P5Y""#, r#"retention = "5 years""#);
    assert_problem(
        &pia,
        &["element `ledger.consent_record`", "starts with 'P'"],
    );
    let pia = edited(
        r#"retention = "while-account-active+P30D""#,
        r#"retention = "while-open+P30D""#,
    );
    assert_problem(
        &pia,
        &[
            "element `citizen.email`",
            "unknown condition",
            "while-account-active",
        ],
    );
    // A value derived on demand cannot be "kept" for a while.
    let pia = edited(
        "retention = \"P0D\"\nretention_trigger = \"Computed for a response",
        "retention = \"P1D\"\nretention_trigger = \"Computed for a response",
    );
    assert_problem(&pia, &["element `citizen.name`", "use P0D"]);
}

#[test]
fn a_missing_obligation_row_is_named() {
    let pia = edited("row = 7\n", "row = 22\n");
    assert_problem(
        &pia,
        &[
            "obligation row 7",
            "is missing: every row 1..=21 of the law table must be mapped exactly once",
        ],
    );
    assert_problem(
        &pia,
        &["obligation row 22", "outside the law table's rows 1..=21"],
    );
    let pia = edited("row = 8\n", "row = 9\n");
    assert_problem(&pia, &["obligation row 9", "mapped 2 times"]);
    assert_problem(&pia, &["obligation row 8", "is missing"]);
}

#[test]
fn artifacts_and_tests_must_exist() {
    let pia = edited_with(plant::missing_artifact);
    assert_problem(
        &pia,
        &[
            "obligation row 3",
            r#"artifact "pia/committee.md" does not exist"#,
        ],
    );
    let pia = edited(
        r#"artifact = "pia/consultations.md""#,
        r#"artifact = "../shared/privacy-law.md""#,
    );
    assert_problem(
        &pia,
        &["obligation row 3", "relative path inside the repository"],
    );
    let pia = edited_with(plant::undefined_test);
    assert_problem(
        &pia,
        &[
            "obligation row 18",
            "test `outside_quebec_is_refused` is not defined in crates/pia/src/tests.rs",
        ],
    );
    let pia = edited(
        "test = \"crates/pia/src/tests.rs::outside_quebec_needs_an_assessment\"",
        "test = \"outside_quebec_needs_an_assessment\"",
    );
    assert_problem(
        &pia,
        &["obligation row 18", "must be `path/to/file.rs::test_name`"],
    );
    // A planned test needs the issue that will add it, and cannot back an
    // "implemented" status.
    let mut pia = real();
    let planned = pia.inventory.obligations.first_mut().unwrap();
    planned.test = "planned".into();
    planned.issue = None;
    planned.status = ObligationStatus::Implemented;
    let at = format!("obligation row {}", planned.row);
    assert_problem(&pia, &[at.as_str(), "no `issue` says which will add it"]);
    assert_problem(
        &pia,
        &[at.as_str(), "implemented but its test is only planned"],
    );
}

#[test]
fn outside_quebec_needs_an_assessment() {
    let mut pia = real();
    element(&mut pia, "citizen.email").outside_quebec = true;
    processor(&mut pia, "hosting").outside_quebec = true;
    assert_problem(
        &pia,
        &[
            "element `citizen.email`",
            "needs a [[processor]] outside Québec",
        ],
    );
    assert_problem(
        &pia,
        &[
            "processor `hosting`",
            "name its privacy impact assessment (A-2.1 s. 70.1)",
        ],
    );
    // With an assessment on file, the declaration is accepted.
    let hosting = processor(&mut pia, "hosting");
    hosting.assessment = Some("pia/assessment.md".into());
    hosting.elements.push("citizen.email".into());
    assert_eq!(problems(&pia), Vec::<String>::new());
}

#[test]
fn an_element_without_purpose_legal_basis_or_retention_is_refused() {
    let mut pia = real();
    let e = element(&mut pia, "citizen.locale");
    e.purposes.clear();
    e.legal_basis = " ".into();
    e.retention = String::new();
    e.necessity = String::new();
    e.quantity = String::new();
    e.sensitivity_reason = String::new();
    e.roles.clear();
    for needles in [
        &["element `citizen.locale`", "has no purpose"][..],
        &[
            "element `citizen.locale`",
            "`legal_basis` must not be empty",
        ],
        &["element `citizen.locale`", "retention \"\""],
        &["element `citizen.locale`", "`necessity` must not be empty"],
        &["element `citizen.locale`", "`quantity` must not be empty"],
        &[
            "element `citizen.locale`",
            "`sensitivity_reason` must not be empty",
        ],
        &["element `citizen.locale`", "no role has access"],
    ] {
        assert_problem(&pia, needles);
    }
    // The error lists everything at once, one problem per line.
    let err = pia.validate().unwrap_err().to_string();
    assert!(
        err.starts_with("7 problem(s) in the PIA inventory:"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 8, "{err}");
}

#[test]
fn unknown_keys_and_bad_values_are_refused_when_loading() {
    let text = real_text().replacen(
        "id = \"citizen.id\"\n",
        "id = \"citizen.id\"\ncolour = \"blue\"\n",
        1,
    );
    let err = Pia::from_toml_str(&text, &repo_root())
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown field `colour`"), "{err}");
    let text = real_text().replacen(r#"sensitivity = "high""#, r#"sensitivity = "secret""#, 1);
    let err = Pia::from_toml_str(&text, &repo_root())
        .unwrap_err()
        .to_string();
    assert!(err.contains("secret"), "{err}");
    let err = Pia::load(Path::new("/nonexistent/pia"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot read /nonexistent/pia/inventory.toml"),
        "{err}"
    );
}

#[test]
fn retention_is_read_from_the_pia() {
    let pia = real();
    let skeleton = pia.retention_for("ledger.entry").unwrap();
    assert_eq!(skeleton.condition, Some(Condition::AccountActive));
    assert_eq!(
        pia.element("ledger.entry").unwrap().destruction,
        Destruction::Anonymise
    );
    let disclosures = pia.retention_for("ledger.disclosure_record").unwrap();
    assert_eq!(disclosures.fixed_days(), Some(1825));
    assert_eq!(
        pia.element("ledger.disclosure_record").unwrap().destruction,
        Destruction::CryptoShred
    );
    assert_eq!(
        pia.retention_for("ledger.sign_in_record")
            .unwrap()
            .fixed_days(),
        Some(365)
    );
    assert_eq!(skeleton.fixed_days(), None, "a condition is not fixed");
    assert_eq!("PT36H".parse::<Retention>().unwrap().fixed_days(), Some(2));
    assert_eq!("P0D".parse::<Retention>().unwrap().fixed_days(), None);
    let incidents = pia.retention_for("incident.record").unwrap();
    assert_eq!(incidents.to_string(), "P5Y");
    assert_eq!(incidents.destroy_at(0), Some(1_826 * 86_400));
    let code = pia.retention_for("enrolment_code.code_hash").unwrap();
    assert_eq!(code.condition, Some(Condition::CodeValid));
    assert_eq!(code.destroy_at(1_000), Some(1_000 + 90 * 86_400));
    assert!(pia.retention_for("session.id").unwrap().is_immediate());
    assert!(pia
        .retention_for("pairwise_subject")
        .unwrap()
        .is_immediate());
    assert_eq!(pia.retention_for("citizen.nas"), None);
}
