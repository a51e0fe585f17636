//! The code and the privacy impact assessment agree: every claim the code can
//! release, every scope, and every stored element of personal information is
//! declared in `pia/inventory.toml`, and the PIA declares nothing the code does
//! not do. A change to either without the other fails here (and the server
//! refuses to start under such a PIA: see the last tests).
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
    // What the server itself checks at start-up.
    sqin_app::pia::declarations()
}

sqin_store::sync_test!(
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
);

sqin_store::sync_test!(
    fn a_claim_added_to_the_code_alone_is_caught() {
        let mut declared = declarations();
        declared.claims.push("phone_number".into());
        assert!(!repo_pia().check_against(&declared).is_empty());
    }
);

sqin_store::sync_test!(
    fn a_ledger_kind_added_to_the_code_alone_is_caught() {
        let mut declared = declarations();
        declared
            .ledger_kinds
            .push(("witness_cosigned".into(), "ledger.witness_record".into()));
        let found = repo_pia().check_against(&declared);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].to_string().contains("witness_cosigned"),
            "{}",
            found[0]
        );
    }
);

sqin_store::sync_test!(
    fn every_ledger_kind_takes_its_retention_from_the_pia() {
        let adopted = sqin_app::pia::load(None).unwrap();
        let pia = repo_pia();
        for kind in sqin_ledger_service::EntryKind::PERSONAL {
            let element = kind.pia_element().unwrap();
            let days = pia.retention_for(element).unwrap().fixed_days().unwrap();
            assert_eq!(
                adopted.ledger_retention.days(kind),
                Some(i64::from(days)),
                "{kind}"
            );
        }
    }
);

/// Writes a copy of the repository's inventory with `edit` applied.
fn edited_inventory(dir: &std::path::Path, edit: impl Fn(String) -> String) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("inventory.toml");
    std::fs::write(&path, edit(sqin_app::pia::BUILT_IN.to_owned())).unwrap();
    path
}

sqin_store::sync_test!(
    fn an_adopted_pia_sets_the_ledger_retention() {
        let dir = std::env::temp_dir().join(format!("sqin-pia-adopted-{}", std::process::id()));
        // The deploying body's committee keeps sign-ins for 18 months.
        let path = edited_inventory(&dir, |text| {
            let at = text.find("id = \"ledger.sign_in_record\"").unwrap();
            let (head, tail) = text.split_at(at);
            format!(
                "{head}{}",
                tail.replacen("retention = \"P1Y\"", "retention = \"P18M\"", 1)
            )
        });
        let adopted = sqin_app::pia::load(Some(&path)).unwrap();
        assert_eq!(
            adopted
                .ledger_retention
                .days(sqin_ledger_service::EntryKind::SignIn),
            Some(540)
        );
        assert_eq!(adopted.source, path.display().to_string());
        let _ = std::fs::remove_dir_all(&dir);
    }
);

sqin_store::sync_test!(
    fn the_server_refuses_a_pia_that_does_not_describe_it() {
        let dir = std::env::temp_dir().join(format!("sqin-pia-refused-{}", std::process::id()));
        // Disclosures kept "while the account is active": the purge could not
        // enforce that, so the server will not run under it.
        let path = edited_inventory(&dir, |text| {
            let at = text.find("id = \"ledger.disclosure_record\"").unwrap();
            let (head, tail) = text.split_at(at);
            format!(
                "{head}{}",
                tail.replacen(
                    "retention = \"P5Y\"",
                    "retention = \"while-account-active\"",
                    1
                )
            )
        });
        let err = sqin_app::pia::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("disagree"), "{err}");
        assert!(err.contains("ledger.disclosure_record"), "{err}");
        assert!(err.contains("plain duration"), "{err}");
        // A claim the code releases, missing from the PIA.
        let path = edited_inventory(&dir, |text| {
            text.replacen("disclosed_as_claim = \"email\"", "", 1)
        });
        let err = sqin_app::pia::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("claim `email`"), "{err}");
        // Not TOML at all.
        let path = edited_inventory(&dir, |_| "not = [toml".to_owned());
        let err = sqin_app::pia::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("invalid"), "{err}");
        let err = sqin_app::pia::load(Some(&dir.join("missing.toml")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing.toml"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
);

sqin_store::sync_test!(
    fn the_demo_services_are_registered_as_the_pia_declares_them() {
        use sqin_family_portal::Profile;
        let pia = repo_pia();
        for (id, profile) in [
            ("demo-family-portal", Profile::Family),
            ("demo-revenue-office", Profile::Revenue),
        ] {
            let rp = pia.relying_party(id).unwrap_or_else(|| panic!("{id}"));
            let scopes: Vec<&str> = profile.default_scopes().split(' ').collect();
            assert_eq!(rp.scopes, scopes, "{id} scopes");
            let claims: Vec<&str> = profile.registered_claims().split(' ').collect();
            let mut declared: Vec<&str> = rp.claims.iter().map(String::as_str).collect();
            let mut registered = claims.clone();
            declared.sort_unstable();
            registered.sort_unstable();
            assert_eq!(declared, registered, "{id} claims");
        }
    }
);
