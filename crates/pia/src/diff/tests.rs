//! `sqin_pia::diff` on edited copies of the repository's inventory.
use super::*;
use crate::tests::plant::{birthdate_widened, within};
use crate::tests::real_text;

fn parse(text: &str) -> Inventory {
    toml::from_str(text).unwrap()
}

const NEW_ELEMENT: &str = r##"
[[element]]
id = "citizen.phone"
description = "A telephone number the citizen gives, to be called back by support."
category = "contact"
sensitivity = "medium"
sensitivity_reason = "Reaches the person directly."
source = "The citizen, on the account page."
necessity = "Lets support call back a citizen who asked to be called."
purposes = ["account-service"]
legal_basis = "A-2.1 s. 64."
retention = "while-account-active+P30D"
retention_trigger = "Account closure."
destruction = "delete"
storage = "citizens.sealed_record"
protection = "Sealed with the register fields."
quantity = "At most one per citizen."
optional = true
roles = [{ role = "support", access = ["read"], condition = "logged" }]
outside_quebec = false
planned = true
issue = "#99"
"##;

/// The repository's inventory with an element added, `citizen.email` kept
/// longer, and the revenue office's date of birth (a new scope and claim,
/// and read access for support).
fn widened() -> String {
    let mut text = within(
        &birthdate_widened(&real_text()),
        "id = \"citizen.email\"",
        "retention = \"",
        "retention = \"while-account-active+P2Y\"\n# was: retention = \"",
    );
    text.push_str(NEW_ELEMENT);
    text
}

fn find<'a>(changes: &'a [Change], key: &str) -> &'a Change {
    changes.iter().find(|c| c.key == key).unwrap_or_else(|| {
        panic!(
            "no change {key}; changes:\n{}",
            changes
                .iter()
                .map(|c| format!("  {c}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

#[test]
fn pia_diff_names_an_added_element_a_lengthened_retention_a_new_claim_and_a_widened_role() {
    let old = parse(&real_text());
    let email_before = old
        .elements
        .iter()
        .find(|e| e.id == "citizen.email")
        .unwrap()
        .retention
        .clone();
    assert_ne!(email_before, "while-account-active+P2Y");
    let new = parse(&widened());
    let changes = diff(&old, &new);

    let added = find(&changes, "element-added:citizen.phone");
    assert!(added.widening);
    assert!(
        added.sentence.contains("New element `citizen.phone`"),
        "{}",
        added.sentence
    );
    assert!(added.sentence.contains("planned"), "{}", added.sentence);

    let longer = find(
        &changes,
        "retention-lengthened:citizen.email=while-account-active+P2Y",
    );
    assert!(longer.widening);
    assert!(
        longer.sentence.contains("kept longer"),
        "{}",
        longer.sentence
    );
    assert!(
        longer.sentence.contains(&email_before),
        "{}",
        longer.sentence
    );

    let claim = find(&changes, "rp-claim-added:demo-revenue-office:birthdate");
    assert!(claim.widening);
    assert_eq!(
        claim.sentence,
        "Relying party `demo-revenue-office` is given a new claim, `birthdate`."
    );
    assert!(find(&changes, "rp-scope-added:demo-revenue-office:birthdate").widening);

    let role = find(&changes, "access-widened:citizen.birthdate:support:read");
    assert!(role.widening);
    assert_eq!(
        role.sentence,
        "Role `support` is given read access to `citizen.birthdate`."
    );

    // Nothing else changed, and the text a reviewer reads names each one.
    assert_eq!(changes.len(), 5, "{changes:#?}");
    let text = render_text(&old, &new, &changes);
    assert!(
        text.contains("5 changes, 5 widenings (5 not covered by a consultation)"),
        "{text}"
    );
    for c in &changes {
        assert!(
            text.contains(&c.sentence) && text.contains(&c.key),
            "{text}"
        );
    }
    assert!(text.contains("NOT COVERED"), "{text}");
}

#[test]
fn a_widening_without_consultation_fails_the_check() {
    let old = parse(&real_text());
    let widened = widened();
    let uncovered = widenings_without_consultation(&old, &parse(&widened));
    assert_eq!(uncovered.len(), 5, "{uncovered:#?}");

    // A consultation that covers four of them by key and the element by its
    // entry leaves nothing uncovered.
    let covers: Vec<String> = uncovered
        .iter()
        .filter(|c| c.key != "element-added:citizen.phone")
        .map(|c| format!("{:?}", c.key))
        .collect();
    let consulted = format!(
        "{widened}\n[[consultation]]\nid = \"C2\"\ndate = \"2026-12-01\"\nrevision = \"0.2\"\nstage = \"before the pilot\"\nstatus = \"held\"\ndecision = \"noted\"\nrecord = \"pia/consultations.md\"\ncovers = [{}, \"element citizen.phone\"]\n",
        covers.join(", ")
    );
    let new = parse(&consulted);
    assert!(widenings_without_consultation(&old, &new).is_empty());
    let changes = diff(&old, &new);
    let recorded = find(&changes, "consultation-added:C2");
    assert!(!recorded.widening);
    let text = render_text(&old, &new, &changes);
    assert!(
        text.contains("consultation C2 (held, 2026-12-01)"),
        "{text}"
    );
    assert!(!text.contains("NOT COVERED"), "{text}");

    // One left out fails again, by its key; a key for another value does
    // not cover it (a consultation on P2Y is not one on P3Y).
    let partial = consulted.replace("\"rp-claim-added:demo-revenue-office:birthdate\", ", "");
    let left = widenings_without_consultation(&old, &parse(&partial));
    assert_eq!(
        left.iter().map(|c| c.key.as_str()).collect::<Vec<_>>(),
        ["rp-claim-added:demo-revenue-office:birthdate"]
    );
    let further = consulted.replacen(
        "while-account-active+P2Y\"",
        "while-account-active+P3Y\"",
        1,
    );
    let left = widenings_without_consultation(&old, &parse(&further));
    assert_eq!(
        left.iter().map(|c| c.key.as_str()).collect::<Vec<_>>(),
        ["retention-lengthened:citizen.email=while-account-active+P3Y"]
    );
}

#[test]
fn narrowings_are_named_and_not_widenings() {
    let old = parse(&widened());
    let new = parse(&real_text());
    let changes = diff(&old, &new);
    assert_eq!(changes.len(), 5, "{changes:#?}");
    assert!(changes.iter().all(|c| !c.widening), "{changes:#?}");
    assert!(find(&changes, "element-removed:citizen.phone")
        .sentence
        .contains("removed"));
    let shorter = changes
        .iter()
        .find(|c| c.key.starts_with("retention-shortened:citizen.email="))
        .unwrap();
    assert!(
        shorter.sentence.contains("shortened"),
        "{}",
        shorter.sentence
    );
    find(&changes, "rp-claim-removed:demo-revenue-office:birthdate");
    find(&changes, "access-narrowed:citizen.birthdate:support:read");
    assert!(widenings_without_consultation(&old, &new).is_empty());
    // The same inventory: nothing.
    assert!(diff(&new, &new).is_empty());
    assert!(render_text(&new, &new, &[]).contains("No change."));
}

#[test]
fn retention_is_compared_on_the_calendar() {
    use Comparison::*;
    let cases = [
        ("P1Y", "P2Y", Longer),
        ("P5Y", "P1Y", Shorter),
        ("P12M", "P1Y", Same),
        ("PT24H", "P1D", Same),
        ("P1W", "P7D", Same),
        // A month is 28 to 31 days: neither is always longer.
        ("P30D", "P1M", Neither),
        ("P31D", "P1M", Shorter),
        ("P28D", "P1M", Longer),
        // A year is 365 or 366 days.
        ("P365D", "P1Y", Longer),
        ("P366D", "P1Y", Shorter),
        ("P1Y", "P1YT1S", Longer),
        (
            "while-account-active+P1Y",
            "while-account-active+P30D",
            Shorter,
        ),
        ("while-account-active", "while-account-active+P1D", Longer),
        ("while-account-active+P0D", "while-account-active", Same),
        // Another condition, or none: not comparable.
        ("while-session-active", "while-account-active", Neither),
        ("P30D", "while-session-active", Neither),
        ("P30D", "not a retention", Neither),
    ];
    for (old, new, expected) in cases {
        assert_eq!(compare_retention(old, new), expected, "{old} → {new}");
    }
    let mut old = parse(&real_text());
    let new = {
        let text = within(
            &real_text(),
            "id = \"citizen.email\"",
            "retention = \"",
            "retention = \"P1M\"\n# was \"",
        );
        parse(&text)
    };
    old.elements
        .iter_mut()
        .find(|e| e.id == "citizen.email")
        .unwrap()
        .retention = "P30D".into();
    let changes = diff(&old, &new);
    let changed = find(&changes, "retention-changed:citizen.email=P1M");
    assert!(changed.widening, "longer in some months: {changed:?}");
    assert!(
        changed.sentence.contains("review it"),
        "{}",
        changed.sentence
    );
}

#[test]
fn outside_quebec_sectors_subjects_processors_and_roles_are_named() {
    let text = real_text();
    let mut new = within(
        &text,
        "id = \"citizen.email\"",
        "outside_quebec = false",
        "outside_quebec = true",
    );
    new = within(
        &new,
        "id = \"demo-revenue-office\"",
        "sector = \"127.0.0.1\"",
        "sector = \"localhost\"",
    );
    new = within(
        &new,
        "id = \"demo-revenue-office\"",
        "subject_type = \"pairwise\"",
        "subject_type = \"public\"\npublic_subject_reason = \"test\"",
    );
    new = within(
        &new,
        "id = \"letter-mail\"",
        "outside_quebec = false",
        "outside_quebec = true",
    );
    new = within(
        &new,
        "id = \"citizen.email\"",
        "storage = \"citizens.sealed_record\"",
        "storage = \"log\"",
    );
    new = within(
        &new,
        "id = \"citizen.birthdate\"",
        "sensitivity = \"high\"",
        "sensitivity = \"low\"",
    );
    let old = parse(&text);
    let new = parse(&new);
    let changes = diff(&old, &new);
    for key in [
        "moved-outside-quebec:citizen.email",
        "rp-sector-changed:demo-revenue-office=localhost",
        "rp-subject-public:demo-revenue-office",
        "sensitivity-lowered:citizen.birthdate=low",
    ] {
        assert!(find(&changes, key).widening, "{key}");
    }
    assert!(find(&changes, "moved-outside-quebec:citizen.email")
        .sentence
        .contains("outside Québec"));
    let moved = changes
        .iter()
        .find(|c| {
            c.key
                .starts_with("processor-moved-outside-quebec:letter-mail=")
        })
        .unwrap();
    assert!(moved.widening);
    // Moving a stored element to another store is named, not a widening.
    let storage = find(&changes, "storage-changed:citizen.email=log");
    assert!(!storage.widening);
    // From memory to a table is.
    let mut was_memory = old.clone();
    was_memory
        .elements
        .iter_mut()
        .find(|e| e.id == "citizen.email")
        .unwrap()
        .storage = "memory".into();
    assert!(
        find(
            &diff(&was_memory, &new),
            "storage-changed:citizen.email=log"
        )
        .widening
    );

    // A staff role given an action, a look-up purpose, and its condition lifted.
    let mut more = old.clone();
    let support = more.roles.iter_mut().find(|r| r.id == "support").unwrap();
    support.actions.push("keys.rotate".into());
    let reg = more
        .elements
        .iter_mut()
        .find(|e| e.id == "citizen.register_id")
        .unwrap();
    reg.roles
        .iter_mut()
        .find(|a| a.role == "support")
        .unwrap()
        .condition = None;
    let changes = diff(&old, &more);
    assert!(find(&changes, "role-action-added:support:keys.rotate").widening);
    let lifted = find(
        &changes,
        "access-condition-changed:citizen.register_id:support=none",
    );
    assert!(
        lifted.widening && lifted.sentence.contains("no longer has a condition"),
        "{lifted:?}"
    );
}

#[test]
fn every_change_serialises_with_its_kind_as_the_key_prefix() {
    let old = parse(&real_text());
    let mut all = diff(&old, &parse(&widened()));
    all.extend(diff(&parse(&widened()), &old));
    for c in &all {
        let json = serde_json::to_value(c).unwrap();
        let kind = json["kind"].as_str().unwrap();
        assert!(
            c.key.starts_with(&format!("{kind}:")),
            "{kind} vs {}",
            c.key
        );
        assert_eq!(json["widening"], c.widening);
        assert_eq!(json["sentence"], c.sentence.as_str());
        assert_eq!(json["key"], c.key.as_str());
    }
    let json =
        serde_json::to_value(find(&all, "rp-claim-added:demo-revenue-office:birthdate")).unwrap();
    assert_eq!(json["relying_party"], "demo-revenue-office");
    assert_eq!(json["claim"], "birthdate");
}

fn risk(id: &str, status: &str, residual: (u8, u8)) -> String {
    format!(
        "\n[[risk]]\nid = \"{id}\"\ntitle = \"Risk {id}\"\nlikelihood = 3\nimpact = 3\nmeasures = \"Measures of {id}.\"\nresidual_likelihood = {}\nresidual_impact = {}\ncontrol = \"crates/pia/src/diff.rs\"\ntest = \"crates/pia/src/diff/tests.rs::risks_closed_reopened_and_removed_are_named\"\nstatus = \"{status}\"\n",
        residual.0, residual.1
    )
}

#[test]
fn risks_closed_reopened_and_removed_are_named() {
    let base = real_text();
    let old = parse(&format!(
        "{base}{}{}{}",
        risk("R90", "mitigated", (1, 2)),
        risk("R91", "mitigated", (1, 2)),
        risk("R92", "open", (2, 2))
    ));
    let new = parse(&format!(
        "{base}{}{}{}",
        risk("R90", "closed", (1, 2)),
        risk("R91", "partial", (2, 2)),
        risk("R93", "open", (2, 2))
    ));
    let changes = diff(&old, &new);
    let closed = find(&changes, "risk-closed:R90");
    assert!(!closed.widening);
    assert_eq!(
        closed.sentence,
        "Risk R90 (Risk R90) closed (was mitigated)."
    );
    assert!(find(&changes, "risk-reopened:R91=partial").widening);
    let raised = find(&changes, "risk-residual-raised:R91=4");
    assert!(
        raised.widening && raised.sentence.contains("from 2 to 4"),
        "{raised:?}"
    );
    assert!(
        find(&changes, "risk-removed:R92").widening,
        "removed without being closed"
    );
    assert!(!find(&changes, "risk-added:R93").widening);
    assert_eq!(changes.len(), 5, "{changes:#?}");
    // Covered by their entry, `risk R91`, and by key.
    let consulted = format!(
        "{base}{}{}{}\n[[consultation]]\nid = \"C3\"\ndate = \"2026-12-02\"\nrevision = \"0.3\"\nstage = \"risks\"\nstatus = \"planned\"\nrecord = \"pia/consultations.md\"\ncovers = [\"risk R91\", \"risk-removed:R92\"]\n",
        risk("R90", "closed", (1, 2)),
        risk("R91", "partial", (2, 2)),
        risk("R93", "open", (2, 2))
    );
    assert!(widenings_without_consultation(&old, &parse(&consulted)).is_empty());
}
