//! docs/threat-model.md cannot rot: every test it names as a mitigation's
//! evidence (`path/to/file.rs::test_name`) exists and is defined in that
//! file, every code path it names exists, and every risk it ties a threat
//! to (R1, R2, ...) is a risk of pia/assessment.md.
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The spans between backticks.
fn code_spans(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// Whether `text` defines `fn name` (not `fn name_2`, not `fn xname`).
fn defines_fn(text: &str, name: &str) -> bool {
    let needle = format!("fn {name}");
    text.match_indices(&needle).any(|(i, _)| {
        let after = text[i + needle.len()..].chars().next();
        let before = text[..i].chars().next_back();
        matches!(after, Some('(' | '<' | ' '))
            && before.is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
    })
}

#[test]
fn every_test_named_in_the_threat_model_exists() {
    let doc = read("docs/threat-model.md");
    let mut tests = 0;
    let mut problems = Vec::new();
    for span in code_spans(&doc) {
        let Some((file, name)) = span.split_once(".rs::") else {
            continue;
        };
        let file = format!("{file}.rs");
        tests += 1;
        match std::fs::read_to_string(repo_root().join(&file)) {
            Ok(text) if defines_fn(&text, name) => {}
            Ok(_) => problems.push(format!("{span}: no fn {name} in {file}")),
            Err(e) => problems.push(format!("{span}: {file}: {e}")),
        }
    }
    assert!(
        problems.is_empty(),
        "docs/threat-model.md names tests that do not exist:\n{}",
        problems.join("\n")
    );
    assert!(
        tests >= 40,
        "docs/threat-model.md names only {tests} tests: each mitigation needs its test"
    );
}

#[test]
fn every_path_named_in_the_threat_model_exists() {
    let doc = read("docs/threat-model.md");
    let mut problems = Vec::new();
    for span in code_spans(&doc) {
        let path = span.split("::").next().unwrap_or(span);
        let looks_like_path = (path.starts_with("crates/")
            || path.starts_with("tests/")
            || path.starts_with("pia/")
            || path.starts_with("docs/")
            || path.starts_with("fuzz/"))
            && !path.contains(' ')
            && !path.contains('*');
        if looks_like_path && !repo_root().join(path).exists() {
            problems.push(path.to_owned());
        }
    }
    assert!(
        problems.is_empty(),
        "docs/threat-model.md names paths that do not exist: {problems:?}"
    );
}

#[test]
fn every_risk_the_threat_model_cites_is_in_the_assessment() {
    let doc = read("docs/threat-model.md");
    let assessment = read("pia/assessment.md");
    let mut cited = Vec::new();
    for word in doc.split(|c: char| !c.is_ascii_alphanumeric()) {
        if let Some(n) = word.strip_prefix('R') {
            if !n.is_empty()
                && n.len() <= 2
                && n.bytes().all(|b| b.is_ascii_digit())
                && !cited.contains(&word)
            {
                cited.push(word);
            }
        }
    }
    assert!(
        !cited.is_empty(),
        "the threat model cites no risk of the PIA"
    );
    for r in cited {
        assert!(
            assessment.contains(&format!("| {r} |")),
            "docs/threat-model.md cites {r}, which pia/assessment.md does not list"
        );
    }
}

#[test]
fn the_checker_recognises_definitions_only() {
    assert!(defines_fn("async fn my_test(db: TestDb)", "my_test"));
    assert!(defines_fn("    fn my_test() {}", "my_test"));
    assert!(!defines_fn("fn my_test_2() {}", "my_test"));
    assert!(!defines_fn("fn xmy_test() {}", "my_test"));
    assert_eq!(code_spans("a `b` c `d::e` f"), ["b", "d::e"]);
}
