//! The code and the privacy impact assessment agree: every claim the code can
//! release, every scope, and every stored element of personal information is
//! declared in `pia/inventory.toml`, and the PIA declares nothing the code does
//! not do. A change to either without the other fails here.
use std::path::Path;

use sqin_pia::{CodeDeclarations, Pia};

fn repo_pia() -> Pia {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../pia");
    let pia = Pia::load(&dir).unwrap();
    pia.validate()
        .unwrap_or_else(|e| panic!("pia/ is invalid: {e}"));
    pia
}

fn declarations() -> CodeDeclarations {
    CodeDeclarations {
        claims: sqin_oidc::claims::all_claims()
            .into_iter()
            .map(str::to_owned)
            .collect(),
        scopes: sqin_oidc::claims::SCOPES
            .iter()
            .map(|s| {
                (
                    s.name.to_owned(),
                    s.claims.iter().map(|c| (*c).to_owned()).collect(),
                )
            })
            .collect(),
        stored_elements: sqin_store::PERSONAL_DATA
            .iter()
            .map(|(id, _)| (*id).to_owned())
            .collect(),
    }
}

#[test]
fn code_and_pia_agree() {
    let mismatches = repo_pia().check_against(&declarations());
    assert!(
        mismatches.is_empty(),
        "the code and pia/inventory.toml disagree:\n{}",
        mismatches
            .iter()
            .map(|m| format!("- {m}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn a_claim_added_to_the_code_alone_is_caught() {
    let mut declared = declarations();
    declared.claims.push("phone_number".into());
    assert!(!repo_pia().check_against(&declared).is_empty());
}
