//! The documents generated from the inventory: the rendered inventory,
//! the governance rules' staff roles and the assessment's risk table, each
//! identical to what is on disk.
use super::*;

#[test]
fn the_rendered_document_is_complete() {
    let pia = real();
    let doc = pia.render_markdown();
    for heading in [
        "## Summary",
        "## 1. Purposes",
        "## 2. Inventory of personal information (A-2.1 s. 76)",
        "## 3. Roles and access through the life cycle",
        "## 4. Retention and destruction calendar (A-2.1 s. 73)",
        "## 5. Scopes and the claims they carry",
        "## 6. Relying parties",
        "## 7. Hosting and processors",
        "## 8. Legal obligations",
        "## 9. Risks: control and test",
        "## 10. Bounds on retention",
        "## 11. Forbidden subjects",
        "## 12. Consultations of the committee",
    ] {
        assert!(doc.contains(heading), "missing {heading}");
    }
    let inv = pia.inventory();
    for e in &inv.elements {
        assert!(doc.contains(&format!("### `{}`", e.id)), "{}", e.id);
    }
    for r in &inv.roles {
        assert!(doc.contains(&format!("(`{}`)", r.id)), "{}", r.id);
    }
    for row in OBLIGATION_ROWS {
        assert!(doc.contains(&format!("\n| {row} | ")), "row {row}");
    }
    for r in &inv.risks {
        assert!(doc.contains(&format!("\n| {} | ", r.id)), "{}", r.id);
    }
    for subject in crate::forbidden::SUBJECTS {
        assert!(
            doc.contains(&format!("(`{}`)", subject.id)),
            "{}",
            subject.id
        );
    }
    // The access matrix: the registrar creates names; support only verifies a
    // date of birth; relying parties receive the address.
    let matrix_row = |id: &str| {
        doc.lines()
            .find(|l| l.starts_with(&format!("| `{id}` | ")) && l.contains('·'))
            .unwrap_or_else(|| panic!("no matrix row for {id}"))
            .to_owned()
    };
    let roles: Vec<&str> = inv.roles.iter().map(|r| r.id.as_str()).collect();
    let cells = |id: &str| -> Vec<String> {
        matrix_row(id)
            .split('|')
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .skip(1)
            .collect()
    };
    let birthdate = cells("citizen.birthdate");
    let at = |role: &str| roles.iter().position(|r| *r == role).unwrap();
    assert_eq!(birthdate[at("support")], "V");
    assert_eq!(birthdate[at("relying-party")], "X");
    assert_eq!(birthdate[at("registrar")], "CUV");
    assert_eq!(cells("citizen.address")[at("support")], "·");
    // Pipes in text are escaped so tables stay tables.
    assert!(!doc
        .lines()
        .any(|l| l.starts_with("| `") && l.matches(" | ").count() > 12));
}

/// pia/inventory.md is the rendered inventory, for readers who do not read
/// TOML. Regenerate it with `SQIN_PIA_BLESS=1 cargo test -p sqin-pia`.
#[test]
fn the_rendered_inventory_in_pia_is_current() {
    let pia = real();
    let rendered = pia.render_markdown();
    let path = pia_dir().join("inventory.md");
    if std::env::var_os("SQIN_PIA_BLESS").is_some() {
        std::fs::write(&path, &rendered).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == rendered,
        "pia/inventory.md is out of date with pia/inventory.toml; regenerate it with \
         `SQIN_PIA_BLESS=1 cargo test -p sqin-pia` and commit both"
    );
}

#[test]
fn the_governance_rules_agree_with_the_inventory() {
    let pia = real();
    let path = pia_dir().join("governance.md");
    let on_disk = std::fs::read_to_string(&path).unwrap();
    let synced = pia
        .sync_governance(&on_disk)
        .expect("pia/governance.md has the generated staff roles section and its markers");
    if std::env::var_os("SQIN_PIA_BLESS").is_some() {
        std::fs::write(&path, &synced).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap();
    assert!(
        on_disk == synced,
        "the staff roles in pia/governance.md disagree with pia/inventory.toml; regenerate with \
         `SQIN_PIA_BLESS=1 cargo test -p sqin-pia` and commit both"
    );
    // Every staff role is in it, with each of its actions.
    for role in pia.inventory.roles.iter().filter(|r| !r.actions.is_empty()) {
        assert!(on_disk.contains(&format!("(`{}`)", role.id)), "{}", role.id);
    }
}

#[test]
fn the_generated_governance_section_replaces_only_itself() {
    let pia = real();
    let text = format!(
        "before\n{}\nstale\n{}\nafter\n",
        crate::governance::BEGIN,
        crate::governance::END
    );
    let synced = pia.sync_governance(&text).unwrap();
    assert!(synced.starts_with("before\n") && synced.ends_with("after\n"));
    assert!(!synced.contains("stale") && synced.contains("`support`"));
    assert_eq!(pia.sync_governance(&synced).unwrap(), synced);
    assert!(pia.sync_governance("no markers").is_none());
}

/// The risk table of pia/assessment.md is generated from the `[[risk]]`
/// entries; its prose has a section for each risk and none for another.
#[test]
fn the_assessment_s_risks_agree_with_the_inventory() {
    let pia = real();
    let path = pia_dir().join("assessment.md");
    let on_disk = std::fs::read_to_string(&path).unwrap();
    let synced = pia
        .sync_assessment(&on_disk)
        .expect("pia/assessment.md has the generated risk table and its markers");
    if std::env::var_os("SQIN_PIA_BLESS").is_some() {
        std::fs::write(&path, &synced).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap();
    assert!(
        on_disk == synced,
        "the risks in pia/assessment.md disagree with pia/inventory.toml; regenerate with \
         `SQIN_PIA_BLESS=1 cargo test -p sqin-pia` and commit both"
    );
    let sections: Vec<&str> = on_disk
        .lines()
        .filter_map(|l| l.strip_prefix("### R"))
        .filter_map(|l| l.split_once('.'))
        .map(|(n, _)| n)
        .collect();
    let ids: Vec<String> = pia
        .inventory
        .risks
        .iter()
        .map(|r| r.id.trim_start_matches('R').to_owned())
        .collect();
    assert_eq!(
        sections, ids,
        "one `### Rn.` section per [[risk]], in order"
    );
    for r in &pia.inventory.risks {
        assert!(on_disk.contains(&format!("| {} | ", r.id)), "{}", r.id);
        assert!(on_disk.contains(&r.test), "{}: its test", r.id);
    }
}

#[test]
fn the_generated_risk_table_replaces_only_itself() {
    let pia = real();
    let text = format!(
        "before\n{}\nstale\n{}\nafter\n",
        crate::assessment::BEGIN,
        crate::assessment::END
    );
    let synced = pia.sync_assessment(&text).unwrap();
    assert!(synced.starts_with("before\n") && synced.ends_with("after\n"));
    assert!(!synced.contains("stale") && synced.contains("| R15 | "));
    assert_eq!(pia.sync_assessment(&synced).unwrap(), synced);
    assert!(pia.sync_assessment("no markers").is_none());
}
