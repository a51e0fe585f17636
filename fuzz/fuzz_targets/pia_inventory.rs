//! The PIA loader the server runs at start-up and `sqin pia check` runs:
//! `sqin_pia::Pia::from_toml_str`, then the whole check (`Pia::check`: the
//! content problems, the source-tree problems against an empty root, the
//! check against the code's declarations), the retention look-ups, the
//! reviewer's renderings (Markdown, HTML in both languages), the
//! generated sections of `governance.md` and `assessment.md`, and the diff
//! between two versions, on arbitrary TOML. Invariants: what is valid in
//! full is valid in content, `check` finds what the parts find, syncing a
//! generated section keeps the text around it and is idempotent, and a
//! version valid in content compared with itself has no change.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sqin_pia::{CodeDeclarations, Lang, Pia};

/// A root with nothing in it: artifact and test paths resolve to nothing.
const ROOT: &str = "/nonexistent-sqin-fuzz";

/// The generated sections' markers, as `governance.md` and `assessment.md`
/// carry them.
const GOVERNANCE: &str = "# Governance\n\n<!-- BEGIN generated from inventory.toml: staff roles (do not edit; see pia/README.md) -->\nold\n<!-- END generated: staff roles -->\n\nAfter.\n";
const ASSESSMENT: &str = "# Assessment\n\n<!-- BEGIN generated from inventory.toml: risks (do not edit; see pia/README.md) -->\nold\n<!-- END generated: risks -->\n\nAfter.\n";

/// The committed inventory (the seed), as the older version of a diff.
fn committed() -> Option<&'static Pia> {
    static P: OnceLock<Option<Pia>> = OnceLock::new();
    P.get_or_init(|| {
        Pia::from_toml_str(
            include_str!("../corpus/pia_inventory/inventory.toml"),
            Path::new(ROOT),
        )
        .ok()
    })
    .as_ref()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(pia) = Pia::from_toml_str(text, Path::new(ROOT)) else {
        return;
    };
    let content = pia.validate_content();
    let full = pia.validate();
    if full.is_ok() {
        assert!(content.is_ok(), "valid in full but not in content");
    }
    let declared = CodeDeclarations::default();
    let findings = pia.check(&declared, None);
    assert_eq!(findings.problems, pia.content_problems());
    assert_eq!(findings.mismatches, pia.check_against(&declared));
    assert_eq!(findings.is_empty(), findings.lines().is_empty());
    let with_source = pia.check(&declared, Some(Path::new(ROOT)));
    assert_eq!(with_source.problems, pia.problems());
    for e in &pia.inventory().elements {
        let _ = pia.retention_for(&e.id);
    }
    let _ = pia.render_markdown();
    let _ = pia.render_html(Lang::Fr);
    let _ = pia.render_html(Lang::En);
    for (doc, sync) in [
        (
            GOVERNANCE,
            Pia::sync_governance as fn(&Pia, &str) -> Option<String>,
        ),
        (ASSESSMENT, Pia::sync_assessment),
    ] {
        let once = sync(&pia, doc).expect("the markers are there");
        assert!(
            once.starts_with("# ") && once.ends_with("\nAfter.\n"),
            "text around the section lost"
        );
        assert_eq!(
            sync(&pia, &once).as_deref(),
            Some(once.as_str()),
            "sync is not idempotent"
        );
    }
    // With an id declared twice (a content problem) the diff pairs entries
    // by id and may report changes between the two: only a version valid in
    // content must equal itself.
    let changes = pia.diff_from(&pia);
    if content.is_ok() {
        assert!(
            changes.is_empty(),
            "a version differs from itself: {changes:?}"
        );
    }
    if let Some(old) = committed() {
        let _ = pia.diff_from(old);
        let _ = old.diff_from(&pia);
    }
});
