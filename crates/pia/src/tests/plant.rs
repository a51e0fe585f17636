//! Edits that plant a blind spot in a copy of the repository's inventory
//! text (never in `pia/` itself). sqin-pia's tests plant them and call the
//! check; the `sqin pia` command tests (crates/server/tests/commands,
//! which include this file by path) plant the very same ones in a file and
//! run the binary: one edit, refused both ways. Only `std`, so it compiles
//! in either crate.

/// `text` with its first `from` replaced by `to`. `from` must be there: an
/// edit that finds nothing would plant nothing and pass for the wrong
/// reason.
pub(crate) fn replaced(text: &str, from: &str, to: &str) -> String {
    assert!(
        text.contains(from),
        "the inventory no longer contains {from:?}"
    );
    text.replacen(from, to, 1)
}

/// `text` with the first `from` after `at` (in the entry that starts
/// there) replaced by `to`.
pub(crate) fn within(text: &str, at: &str, from: &str, to: &str) -> String {
    let start = text
        .find(at)
        .unwrap_or_else(|| panic!("no {at:?} in the inventory"));
    let (head, tail) = text.split_at(start);
    format!("{head}{}", replaced(tail, from, to))
}

/// The review's partisan element, `citizen.political_support`: category
/// identity and planned, so exempt from the code check; kept in `storage`.
pub(crate) fn partisan(text: &str, storage: &str) -> String {
    replaced(
        text,
        "[[element]]\nid = \"citizen.locale\"",
        &format!(
            "[[element]]\nid = \"citizen.political_support\"\n\
             description = \"Which party the citizen supports.\"\n\
             category = \"identity\"\nsensitivity = \"high\"\nsensitivity_reason = \"x\"\n\
             source = \"x\"\nnecessity = \"x\"\npurposes = [\"account-service\"]\n\
             legal_basis = \"x\"\nretention = \"P0D\"\nretention_trigger = \"x\"\n\
             destruction = \"delete\"\nstorage = \"{storage}\"\nprotection = \"x\"\n\
             quantity = \"x\"\nroles = [{{ role = \"service\", access = [\"read\"] }}]\n\
             outside_quebec = false\nplanned = true\nissue = \"#99\"\n\n\
             [[element]]\nid = \"citizen.locale\""
        ),
    )
}

/// A new purpose, `political-outreach`, served by `citizen.email`.
pub(crate) fn outreach(text: &str) -> String {
    let text = replaced(
        text,
        "[[purpose]]\nid = \"enrolment\"",
        "[[purpose]]\nid = \"political-outreach\"\ntitle = \"Reach citizens\"\n\
         description = \"Write to citizens.\"\n\n[[purpose]]\nid = \"enrolment\"",
    );
    replaced(
        &text,
        "purposes = [\"disclosure\", \"account-service\", \"security\"]",
        "purposes = [\"disclosure\", \"account-service\", \"security\", \"political-outreach\"]",
    )
}

/// The revenue office given the date of birth (scope and claim), and
/// support given read access to it: three widenings.
pub(crate) fn birthdate_widened(text: &str) -> String {
    let text = within(
        text,
        "id = \"demo-revenue-office\"",
        "scopes = [\"openid\", \"profile\"]",
        "scopes = [\"openid\", \"profile\", \"birthdate\"]",
    );
    let text = within(
        &text,
        "id = \"demo-revenue-office\"",
        "claims = [\"name\", \"given_name\", \"family_name\"]",
        "claims = [\"name\", \"given_name\", \"family_name\", \"birthdate\"]",
    );
    within(
        &text,
        "id = \"citizen.birthdate\"",
        "{ role = \"support\", access = [\"verify\"]",
        "{ role = \"support\", access = [\"verify\", \"read\"]",
    )
}

/// The test obligation row 18 names.
const ROW_18_TEST: &str = "test = \"crates/pia/src/tests.rs::outside_quebec_needs_an_assessment\"";

/// Obligation row 18's test renamed to one its file does not define.
pub(crate) fn undefined_test(text: &str) -> String {
    replaced(
        text,
        ROW_18_TEST,
        "test = \"crates/pia/src/tests.rs::outside_quebec_is_refused\"",
    )
}

/// Obligation row 18's test renamed to a function of its file that is not
/// a test.
pub(crate) fn not_a_test(text: &str) -> String {
    replaced(
        text,
        ROW_18_TEST,
        "test = \"crates/pia/src/tests.rs::real_text\"",
    )
}

/// Obligation row 3's artifact moved to a file that does not exist.
pub(crate) fn missing_artifact(text: &str) -> String {
    replaced(
        text,
        "artifact = \"pia/consultations.md\"",
        "artifact = \"pia/committee.md\"",
    )
}
