//! The checks that need the source tree (or the documents of an adopted
//! copy): every file the inventory names exists, and every test it names is
//! a test of that file. `sqin pia check --source-tree DIR` and CI run them;
//! a server, which carries its PIA but not the repository, does not.
//!
//! The form of each path and test (relative, `file.rs::name`) is checked
//! without the tree, by [`crate::validate`]; here, only what is on disk.
use std::path::Path;

use crate::model::Inventory;
use crate::validate::{path_form, test_form};
use crate::Problem;

struct Tree<'a> {
    root: &'a Path,
    problems: Vec<Problem>,
}

impl Tree<'_> {
    fn add(&mut self, at: &str, message: String) {
        self.problems.push(Problem {
            at: at.to_owned(),
            message,
        });
    }

    /// The file exists (a `#fragment` is ignored). A path of the wrong form
    /// is reported by the content checks, not again here.
    fn file(&mut self, at: &str, field: &str, path: &str) {
        let file = path.split_once('#').map_or(path, |(f, _)| f);
        if path_form(field, file).is_some() {
            return;
        }
        if !self.root.join(file).exists() {
            self.add(
                at,
                format!("{field} {path:?} does not exist (relative to the repository root)"),
            );
        }
    }

    /// `path/to/file.rs::name`: the file exists and `name` is a test in it.
    fn test(&mut self, at: &str, test: &str) {
        if test == "planned" || test_form(test).is_some() {
            return;
        }
        let Some((file, name)) = test.rsplit_once("::") else {
            return;
        };
        let path = self.root.join(file);
        if !path.exists() {
            self.add(
                at,
                format!("test file {file:?} does not exist (relative to the repository root)"),
            );
            return;
        }
        match std::fs::read_to_string(&path) {
            Ok(text) => match test_fn(&text, name) {
                TestFn::Test => {}
                TestFn::Missing => {
                    self.add(at, format!("test `{name}` is not defined in {file}"));
                }
                TestFn::NotATest => self.add(
                    at,
                    format!(
                        "`{name}` in {file} is not a test: it has no #[test] attribute and is not in a test macro ({})",
                        TEST_MACROS.join("!, ") + "!"
                    ),
                ),
            },
            Err(e) => self.add(at, format!("test file {file}: {e}")),
        }
    }
}

/// Every problem with the files the inventory names, resolved against
/// `root` (the repository, or the directory an adopted copy's documents
/// are in).
pub(crate) fn problems(inv: &Inventory, root: &Path) -> Vec<Problem> {
    let mut t = Tree {
        root,
        problems: Vec::new(),
    };
    for o in &inv.obligations {
        let at = format!("obligation row {}", o.row);
        t.file(&at, "artifact", &o.artifact);
        for p in &o.see_also {
            t.file(&at, "see_also", p);
        }
        t.test(&at, &o.test);
    }
    for p in &inv.processors {
        if let Some(path) = &p.assessment {
            t.file(&format!("processor `{}`", p.id), "assessment", path);
        }
    }
    for r in &inv.risks {
        let at = format!("risk {}", r.id);
        t.file(&at, "control", &r.control);
        t.test(&at, &r.test);
    }
    for c in &inv.consultations {
        t.file(&format!("consultation {}", c.id), "record", &c.record);
    }
    t.problems
}

/// The macros of this repository that define a test from a `fn`
/// (`crates/store/src/testing/harness.rs`).
pub const TEST_MACROS: [&str; 4] = ["both_backends", "sync_test", "async_test", "needs_test"];

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TestFn {
    Missing,
    NotATest,
    Test,
}

/// Whether `text` defines `fn name` (not `fn name_2`, not `fn xname`), and
/// whether that function is a test: it carries `#[test]` (or another
/// `...::test` attribute such as `#[tokio::test]`), or it is the function a
/// test macro of [`TEST_MACROS`] is given.
pub(crate) fn test_fn(text: &str, name: &str) -> TestFn {
    let needle = format!("fn {name}");
    let mut found = false;
    for (i, _) in text.match_indices(&needle) {
        let after = text.get(i + needle.len()..).and_then(|t| t.chars().next());
        let before = text.get(..i).unwrap_or_default();
        let boundary = before
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        if !(matches!(after, Some('(' | '<' | ' ')) && boundary) {
            continue;
        }
        found = true;
        if is_test_before(before) {
            return TestFn::Test;
        }
    }
    if found {
        TestFn::NotATest
    } else {
        TestFn::Missing
    }
}

/// Whether the text before a `fn` makes it a test.
fn is_test_before(before: &str) -> bool {
    let mut rest = before.trim_end();
    for keyword in ["async", "pub(crate)", "pub"] {
        rest = rest.strip_suffix(keyword).unwrap_or(rest).trim_end();
    }
    // Inside a test macro: `sync_test!(`, `both_backends!(workers = 2,`,
    // `sqin_store::needs_test!(needs = x::y,`.
    if let Some(open) = rest.rfind("!(") {
        let args = rest.get(open + 2..).unwrap_or_default();
        let plain_args = args
            .chars()
            .all(|c| c.is_alphanumeric() || " \t\n_=:,".contains(c));
        let head = rest.get(..open).unwrap_or_default();
        let macro_name = head
            .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
            .next()
            .unwrap_or_default();
        if plain_args && TEST_MACROS.contains(&macro_name) {
            return true;
        }
    }
    // Attributes (and comments) on the lines just above.
    for line in rest.lines().rev() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        if !line.starts_with("#[") {
            return false;
        }
        let attribute = line.trim_start_matches("#[");
        let path = attribute.split([']', '(']).next().unwrap_or_default();
        if path == "test" || path.ends_with("::test") {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tests_are_recognised_by_attribute_or_macro() {
        let text = "#[test]\nfn plain() {}\n\
            #[tokio::test]\n#[ignore = \"slow\"]\nasync fn tokio_one() {}\n\
            sqin_store::sync_test!(\n    fn in_macro() {}\n);\n\
            both_backends!(\n    async fn on_both(db: TestDb) {}\n);\n\
            both_backends!(workers = 4, async fn with_workers(db: TestDb) {});\n\
            fn helper() {}\n\
            #[cfg(test)]\nfn cfg_only() {}\n\
            /// Doc.\n#[test]\n// note\nfn documented() {}\n";
        for name in [
            "plain",
            "tokio_one",
            "in_macro",
            "on_both",
            "with_workers",
            "documented",
        ] {
            assert_eq!(test_fn(text, name), TestFn::Test, "{name}");
        }
        assert_eq!(test_fn(text, "helper"), TestFn::NotATest);
        assert_eq!(test_fn(text, "cfg_only"), TestFn::NotATest);
        assert_eq!(test_fn(text, "plai"), TestFn::Missing);
        assert_eq!(test_fn(text, "lain"), TestFn::Missing);
        assert_eq!(test_fn("fn my_test_2() {}", "my_test"), TestFn::Missing);
    }
}
