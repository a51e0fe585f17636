//! The PIA loader the server runs at start-up and `sqin pia check` runs:
//! `sqin_pia::Pia::from_toml_str`, then every validation, the check against
//! the code's declarations, the retention look-ups and the reviewer's
//! rendering, on arbitrary TOML.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use sqin_pia::{CodeDeclarations, Pia};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A root with nothing in it: artifact and test paths resolve to nothing.
    let Ok(pia) = Pia::from_toml_str(text, Path::new("/nonexistent-sqin-fuzz")) else {
        return;
    };
    let content = pia.validate_content();
    let full = pia.validate();
    if full.is_ok() {
        assert!(content.is_ok(), "valid in full but not in content");
    }
    let _ = pia.check_against(&CodeDeclarations::default());
    for e in &pia.inventory().elements {
        let _ = pia.retention_for(&e.id);
    }
    let _ = pia.render_markdown();
    let _ = pia.sync_governance("<!-- begin -->\n<!-- end -->\n");
});
