//! `sqin pia diff OLD NEW` on two copies of the inventory and on a git
//! revision, `sqin pia check --against OLD` refusing a widening no
//! consultation covers, and `sqin pia render --html`. None needs a database.
use std::process::Command;

use crate::pia_cli::plant::birthdate_widened;
use crate::pia_cli::Dir;

impl Dir {
    fn git(&self, args: &[&str]) {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=sqin test",
                "-c",
                "user.email=test@sqin.example",
            ])
            .args([
                "-c",
                "commit.gpgsign=false",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .current_dir(&self.0)
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The built-in inventory, with the revenue office given the date of birth
/// (scope and claim) and support given read access to it: three widenings.
fn widened() -> String {
    birthdate_widened(sqin_app::pia::BUILT_IN)
}

const KEYS: [&str; 3] = [
    "access-widened:citizen.birthdate:support:read",
    "rp-claim-added:demo-revenue-office:birthdate",
    "rp-scope-added:demo-revenue-office:birthdate",
];

sqin_store::sync_test!(
    fn pia_diff_of_two_copies_names_each_widening() {
        let dir = Dir::new("pia-diff");
        dir.write("old.toml", sqin_app::pia::BUILT_IN);
        dir.write("new/inventory.toml", &widened());
        // A file against a directory holding inventory.toml.
        let text = dir.ok(&["pia", "diff", "old.toml", "new"]);
        assert!(
            text.contains("3 changes, 3 widenings (3 not covered by a consultation)"),
            "{text}"
        );
        assert!(
            text.contains("Relying party `demo-revenue-office` is given a new claim, `birthdate`.")
        );
        assert!(text.contains("Role `support` is given read access to `citizen.birthdate`."));
        for key in KEYS {
            assert!(
                text.contains(&format!("[{key}] NOT COVERED")),
                "{key}: {text}"
            );
        }
        // The other way round, nothing widens.
        let text = dir.ok(&["pia", "diff", "new/inventory.toml", "old.toml"]);
        assert!(text.contains("3 changes, 0 widenings"), "{text}");
        assert!(text.contains("no longer receives `birthdate`"), "{text}");
        assert!(dir
            .ok(&["pia", "diff", "old.toml", "old.toml"])
            .contains("No change."));

        // JSON: each change with its key, kind, sentence and consultations.
        let json: serde_json::Value =
            serde_json::from_str(&dir.ok(&["pia", "diff", "--json", "old.toml", "new"])).unwrap();
        assert_eq!(json["widenings"], 3);
        let changes = json["changes"].as_array().unwrap();
        let mut keys: Vec<&str> = changes.iter().map(|c| c["key"].as_str().unwrap()).collect();
        keys.sort_unstable();
        assert_eq!(keys, KEYS);
        let claim = changes
            .iter()
            .find(|c| c["kind"] == "rp-claim-added")
            .unwrap();
        assert_eq!(claim["relying_party"], "demo-revenue-office");
        assert_eq!(claim["claim"], "birthdate");
        assert_eq!(claim["widening"], true);
        assert_eq!(claim["consultations"], serde_json::json!([]));

        // Exit 1 only on request, or on an error that names what is wrong.
        let err = dir.fails(&["pia", "diff", "--fail-on-widening", "old.toml", "new"]);
        assert!(err.contains("3 change(s) widen the assessment"), "{err}");
        dir.ok(&["pia", "diff", "--fail-on-widening", "new", "old.toml"]);
        let err = dir.fails(&["pia", "diff", "old.toml", "missing.toml"]);
        assert!(err.contains("missing.toml: no such file"), "{err}");
        dir.write("broken.toml", "schema_version = 1\n[meta]\n");
        let err = dir.fails(&["pia", "diff", "old.toml", "broken.toml"]);
        assert!(err.contains("broken.toml"), "{err}");
    }
);

sqin_store::sync_test!(
    fn pia_diff_reads_git_revisions() {
        let dir = Dir::new("pia-diff-git");
        dir.git(&["init", "-q"]);
        dir.write("pia/inventory.toml", sqin_app::pia::BUILT_IN);
        dir.git(&["add", "pia/inventory.toml"]);
        dir.git(&["commit", "-q", "-m", "the release"]);
        dir.git(&["tag", "v1.0"]);
        dir.write("pia/inventory.toml", &widened());
        dir.git(&["commit", "-q", "-a", "-m", "a widening"]);
        // A tag with the default path, against the work tree's file.
        let text = dir.ok(&["pia", "diff", "v1.0:", "pia/inventory.toml"]);
        assert!(text.contains("3 widenings"), "{text}");
        assert!(text.contains("is given a new claim, `birthdate`"), "{text}");
        // Two revisions.
        let text = dir.ok(&[
            "pia",
            "diff",
            "HEAD~1:pia/inventory.toml",
            "HEAD:pia/inventory.toml",
        ]);
        assert!(text.contains("3 widenings"), "{text}");
        let text = dir.ok(&[
            "pia",
            "diff",
            "HEAD:pia/inventory.toml",
            "v1.0:pia/inventory.toml",
        ]);
        assert!(text.contains("0 widenings"), "{text}");
        // A revision or a path git does not have: a clear error.
        let err = dir.fails(&["pia", "diff", "v9.9:", "pia/inventory.toml"]);
        assert!(
            err.contains("v9.9:") && err.contains("git cannot show v9.9:pia/inventory.toml"),
            "{err}"
        );
        let err = dir.fails(&["pia", "diff", "v1.0:pia/missing.toml", "pia/inventory.toml"]);
        assert!(
            err.contains("git cannot show v1.0:pia/missing.toml"),
            "{err}"
        );
        // Outside a repository.
        let elsewhere = Dir::new("pia-diff-nogit");
        elsewhere.write("inventory.toml", sqin_app::pia::BUILT_IN);
        let err = elsewhere.fails(&["pia", "diff", "HEAD:", "inventory.toml"]);
        assert!(
            err.contains("git cannot show HEAD:pia/inventory.toml"),
            "{err}"
        );
    }
);

sqin_store::sync_test!(
    fn pia_check_against_refuses_a_widening_without_consultation() {
        let dir = Dir::new("pia-check-against");
        dir.write("old.toml", sqin_app::pia::BUILT_IN);
        dir.write("new.toml", &widened());
        // The widened copy is valid and describes this code...
        dir.ok(&["pia", "check", "new.toml"]);
        // ...but not since the old one without a consultation.
        let err = dir.fails(&["pia", "check", "new.toml", "--against", "old.toml"]);
        assert!(
            err.contains("3 widening(s) since old.toml without a [[consultation]] covering them"),
            "{err}"
        );
        for key in KEYS {
            assert!(err.contains(key), "{key}: {err}");
        }
        // A consultation covering two changes by key and the element by its
        // entry lets it pass.
        let consulted = format!(
            "{}\n[[consultation]]\nid = \"C9\"\ndate = \"2026-12-01\"\nrevision = \"0.2\"\nstage = \"the revenue office's date of birth\"\nstatus = \"held\"\ndecision = \"noted\"\nrecord = \"pia/consultations.md\"\ncovers = [\"{}\", \"{}\", \"element citizen.birthdate\"]\n",
            widened(),
            KEYS[1],
            KEYS[2]
        );
        dir.write("consulted.toml", &consulted);
        let summary: serde_json::Value = serde_json::from_str(&dir.ok(&[
            "pia",
            "check",
            "consulted.toml",
            "--against",
            "old.toml",
        ]))
        .unwrap();
        assert_eq!(summary["source"], "consulted.toml");
        // The diff says which consultation covers each.
        let text = dir.ok(&["pia", "diff", "old.toml", "consulted.toml"]);
        assert!(text.contains("(0 not covered by a consultation)"), "{text}");
        assert!(
            text.contains("consultation C9 (held, 2026-12-01)"),
            "{text}"
        );
    }
);

sqin_store::sync_test!(
    fn pia_render_html_writes_one_self_contained_document() {
        let dir = Dir::new("pia-render-html");
        for (lang, words) in [("fr", "Diagramme des flux"), ("en", "Data-flow diagram")] {
            let html = dir.ok(&["pia", "render", "--html", "--lang", lang]);
            assert!(html.starts_with("<!DOCTYPE html>"));
            assert!(html.contains(&format!("<html lang=\"{lang}\">")));
            assert!(html.contains(words) && html.contains("<svg") && html.contains("<style>"));
            assert!(!html.contains("<script"));
        }
        // French by default; Markdown without --html.
        assert!(dir
            .ok(&["pia", "render", "--html"])
            .contains("<html lang=\"fr\">"));
        assert!(dir.ok(&["pia", "render"]).starts_with("# "));
        let err = dir.fails(&["pia", "render", "--html", "--lang", "de"]);
        assert!(err.contains("de"), "{err}");
    }
);
