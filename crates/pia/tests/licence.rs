//! LICENSE and the manifests cannot drift apart: the workspace's `license`
//! (`[workspace.package]`) is a licence whose exact text LICENSE holds, and
//! every crate in the repository (workspace members, and the crates outside
//! the workspace such as fuzz/) either inherits it or names the same one.
//! cargo-deny (`.ci/run`, "supply chain") checks the dependencies' licences;
//! this checks sqin's own.
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn manifest(path: &Path) -> toml::Table {
    read(path)
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The licences LICENSE may hold: SPDX identifier, the text's opening words
/// and the FNV-1a (64-bit) fingerprint of the whole text with its whitespace
/// collapsed. Apache-2.0's is the text at apache.org/licenses/LICENSE-2.0.txt
/// (md5 3b83ef96387f14655fc854ddc3c6bd57 byte for byte), appendix included.
/// Changing the project's licence means putting its text in LICENSE and its
/// fingerprint here (the failure message prints it).
const KNOWN: &[(&str, &str, u64)] = &[(
    "Apache-2.0",
    "Apache License Version 2.0, January 2004",
    0x8142_3957_74db_d300,
)];

fn normalised(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn workspace_licence() -> String {
    let root = manifest(&repo_root().join("Cargo.toml"));
    root.get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("license"))
        .and_then(|l| l.as_str())
        .expect("Cargo.toml: [workspace.package] has no license string")
        .to_owned()
}

/// Every Cargo.toml under `dir`, outside build output, dependencies and
/// hidden directories.
fn manifests(dir: &Path, found: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.expect("directory entry");
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if entry.file_type().expect("file type").is_dir() {
            if !(name.starts_with('.') || name == "target" || name == "node_modules") {
                manifests(&path, found);
            }
        } else if name == "Cargo.toml" {
            found.push(path);
        }
    }
}

#[test]
fn license_holds_the_text_of_the_workspace_licence() {
    let licence = workspace_licence();
    let Some((_, opening, fingerprint)) = KNOWN.iter().find(|(id, ..)| *id == licence) else {
        panic!("Cargo.toml says license = {licence:?}: add its text's fingerprint to KNOWN")
    };
    let text = normalised(&read(&repo_root().join("LICENSE")));
    assert!(
        text.starts_with(opening),
        "LICENSE does not open as {licence} does ({opening:?}): {:?}",
        &text[..text.len().min(80)]
    );
    assert_eq!(
        fnv1a(&text),
        *fingerprint,
        "LICENSE is not the unmodified text of {licence} (fingerprint {:#018x})",
        fnv1a(&text)
    );
}

#[test]
fn every_crate_is_under_the_workspace_licence() {
    let root = repo_root();
    let licence = workspace_licence();
    let top = manifest(&root.join("Cargo.toml"));
    let members: Vec<PathBuf> = top["workspace"]["members"]
        .as_array()
        .expect("workspace.members")
        .iter()
        .map(|m| {
            root.join(m.as_str().expect("member path"))
                .join("Cargo.toml")
        })
        .collect();

    let mut found = Vec::new();
    manifests(&root, &mut found);
    let mut packages = 0;
    let mut problems = Vec::new();
    for path in &found {
        let shown = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        let Some(package) = manifest(path).get("package").cloned() else {
            continue; // the virtual workspace manifest
        };
        packages += 1;
        if package.get("license-file").is_some() {
            problems.push(format!("{shown}: license-file instead of the SPDX license"));
        }
        let member = members.iter().any(|m| same_file(m, path));
        match package.get("license") {
            Some(toml::Value::String(s)) if *s == licence => {}
            Some(toml::Value::Table(t))
                if member && t.get("workspace") == Some(&toml::Value::Boolean(true)) => {}
            Some(toml::Value::Table(_)) if !member => problems.push(format!(
                "{shown}: license.workspace outside the workspace; write license = {licence:?}"
            )),
            other => problems.push(format!(
                "{shown}: license is {other:?}, not {licence:?} (LICENSE)"
            )),
        }
    }
    assert!(
        problems.is_empty(),
        "crates whose licence is not LICENSE's:\n{}",
        problems.join("\n")
    );
    assert!(
        packages >= members.len(),
        "found {packages} crates, fewer than the workspace's {} members",
        members.len()
    );
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
