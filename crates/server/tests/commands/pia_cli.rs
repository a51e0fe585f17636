//! `sqin pia check` and the server's start-up run the one check of the PIA
//! (`sqin_pia::Pia::check`): each blind spot the review found, planted in a
//! copy of the built-in inventory (never in pia/ itself), is refused with a
//! message that names it; what needs the source tree is refused by
//! `sqin pia check --source-tree DIR`.
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The edits sqin-pia's own tests plant (crates/pia/src/tests/plant.rs):
/// the command refuses the very entries the library does.
#[path = "../../../pia/src/tests/plant.rs"]
pub(crate) mod plant;

use plant::within;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A scratch directory the `sqin` binary runs in, removed when dropped;
/// the PIA command tests share it (pia_diff.rs too).
pub(crate) struct Dir(pub(crate) PathBuf);

impl Dir {
    pub(crate) fn new(name: &str) -> Dir {
        let dir = std::env::temp_dir().join(format!(
            "sqin-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }

    /// Writes `text` at `name`, creating its directory.
    pub(crate) fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Writes a copy of the built-in inventory with `edit` applied.
    fn plant(&self, name: &str, edit: impl Fn(&str) -> String) -> PathBuf {
        self.write(name, &edit(sqin_app::pia::BUILT_IN))
    }

    /// Runs `sqin` here, with no configuration and a database that cannot
    /// be reached: none of the PIA commands needs one.
    pub(crate) fn sqin(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_sqin"))
            .args(args)
            .current_dir(&self.0)
            .env_remove("SQIN_CONFIG")
            .env_remove("SQIN_PIA_FILE")
            .env("SQIN_DATABASE_URL", "postgres://nobody@127.0.0.1:1/nowhere")
            .env("SQIN_LOG_LEVEL", "warn")
            .output()
            .unwrap()
    }

    /// Runs `sqin`, which must succeed; its standard output.
    #[track_caller]
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let out = self.sqin(args);
        assert!(
            out.status.success(),
            "sqin {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs `sqin`, which must fail; its standard error.
    #[track_caller]
    pub(crate) fn fails(&self, args: &[&str]) -> String {
        let out = self.sqin(args);
        assert!(!out.status.success(), "sqin {args:?} should have failed");
        String::from_utf8(out.stderr).unwrap()
    }

    /// Runs `sqin`, which must fail with an error naming every needle.
    #[track_caller]
    fn refused(&self, args: &[&str], needles: &[&str]) {
        let err = self.fails(args);
        for n in needles {
            assert!(err.contains(n), "{n:?} not in: {err}");
        }
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A planted copy: its file name, the edit, and what the refusal names.
type Plant = (&'static str, Box<dyn Fn(&str) -> String>, Vec<&'static str>);

/// The review's partisan element, held in memory.
fn partisan(text: &str) -> String {
    plant::partisan(text, "memory")
}

sqin_store::sync_test!(
    fn pia_check_refuses_each_blind_spot_and_names_it() {
        let dir = Dir::new("pia-blind");
        let root = repo_root();
        let tree = path(&root);
        // The built-in inventory passes, with and without the source tree.
        dir.ok(&["pia", "check"]);
        let out = dir.ok(&["pia", "check", "--source-tree", tree]);
        let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(summary["source_tree"], tree);

        // Refused by `pia check` alone, as at start-up.
        #[allow(clippy::type_complexity)]
        let content: Vec<Plant> = vec![
            (
                "partisan.toml",
                Box::new(partisan),
                vec![
                    "citizen.political_support",
                    "forbidden subject `political-opinion`",
                ],
            ),
            (
                "outreach.toml",
                Box::new(plant::outreach),
                vec!["purpose `political-outreach`", "forbidden subject"],
            ),
            (
                "storage.toml",
                Box::new(|t: &str| {
                    within(
                        t,
                        "id = \"citizen.email\"",
                        "storage = \"citizens.sealed_record\"",
                        "storage = \"citizens.email\"",
                    )
                }),
                vec!["`citizen.email` is kept in storage = \"citizens.email\""],
            ),
            (
                "planned.toml",
                Box::new(|t: &str| {
                    within(
                        t,
                        "id = \"citizen.email\"",
                        "outside_quebec = false",
                        "outside_quebec = false\nplanned = true\nissue = \"#99\"",
                    )
                }),
                vec!["the code stores `citizen.email`", "marks it planned"],
            ),
            (
                "access.toml",
                Box::new(|t: &str| {
                    within(
                        t,
                        "id = \"citizen.birthdate\"",
                        "roles = [\n",
                        "roles = [\n  { role = \"auditor\", access = [\"read\"], condition = \"logged\" },\n",
                    )
                }),
                vec!["citizen.birthdate", "role `auditor`", "file.lookup"],
            ),
            (
                "long.toml",
                Box::new(|t: &str| {
                    within(
                        t,
                        "id = \"citizen.email\"",
                        "retention = \"while-account-active+P30D\"",
                        "retention = \"P100Y\"",
                    )
                }),
                vec!["citizen.email", "P100Y", "P10Y"],
            ),
            (
                "short.toml",
                Box::new(|t: &str| {
                    within(
                        t,
                        "id = \"ledger.disclosure_record\"",
                        "retention = \"P5Y\"",
                        "retention = \"P1D\"",
                    )
                }),
                vec!["ledger.disclosure_record", "shorter than the floor of P1Y"],
            ),
            (
                "approved.toml",
                Box::new(|t: &str| {
                    plant::replaced(t, "status = \"draft\"", "status = \"approved\"")
                }),
                vec!["status = \"approved\"", "no [[consultation]]"],
            ),
            (
                "risk.toml",
                Box::new(|t: &str| {
                    within(
                        t,
                        "id = \"R1\"",
                        "test = \"crates/oidc/src/client/tests.rs::sector_defaults_to_the_single_host\"",
                        "test = \"planned\"",
                    )
                }),
                vec!["risk R1", "names no test"],
            ),
        ];
        for (name, edit, needles) in &content {
            let file = dir.plant(name, edit);
            dir.refused(&["pia", "check", path(&file)], needles);
            dir.refused(
                &["pia", "check", "--source-tree", tree, path(&file)],
                needles,
            );
        }

        // Refused only with the source tree: the server cannot see them.
        #[allow(clippy::type_complexity)]
        let source: Vec<Plant> = vec![
            (
                "test.toml",
                Box::new(plant::undefined_test),
                vec![
                    "obligation row 18",
                    "outside_quebec_is_refused",
                    "is not defined",
                ],
            ),
            (
                "not_a_test.toml",
                Box::new(plant::not_a_test),
                vec!["obligation row 18", "`real_text`", "is not a test"],
            ),
            (
                "artifact.toml",
                Box::new(plant::missing_artifact),
                vec!["obligation row 3", "pia/committee.md", "does not exist"],
            ),
            (
                "abroad.toml",
                Box::new(|t: &str| {
                    within(
                        t,
                        "id = \"letter-mail\"",
                        "outside_quebec = false",
                        "outside_quebec = true\nassessment = \"pia/s70-1-print-shop.md\"",
                    )
                }),
                vec![
                    "processor `letter-mail`",
                    "pia/s70-1-print-shop.md",
                    "does not exist",
                ],
            ),
        ];
        for (name, edit, needles) in &source {
            let file = dir.plant(name, edit);
            dir.ok(&["pia", "check", path(&file)]);
            dir.refused(
                &["pia", "check", "--source-tree", tree, path(&file)],
                needles,
            );
        }
    }
);

sqin_store::sync_test!(
    fn serve_refuses_to_start_under_a_planted_pia() {
        let dir = Dir::new("pia-serve");
        // A complete deployment, so that the PIA is what is refused.
        crate::deployment::write_config(&dir.0);
        let file = dir.plant("partisan.toml", partisan);
        let mut child = Command::new(env!("CARGO_BIN_EXE_sqin"))
            .arg("serve")
            .current_dir(&dir.0)
            .env_remove("SQIN_CONFIG")
            .env("SQIN_PIA_FILE", &file)
            .env("SQIN_LISTEN", "127.0.0.1:0")
            .env("SQIN_STAFF_LISTEN", "127.0.0.1:0")
            .env(
                "SQIN_DATABASE_URL",
                format!("sqlite://{}/s.db?mode=rwc", dir.0.display()),
            )
            .env("SQIN_DATA_DIR", dir.0.join("var"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("sqin serve started under a PIA with a partisan element");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert!(!status.success(), "{err}");
        assert!(
            err.contains("citizen.political_support") && err.contains("forbidden subject"),
            "{err}"
        );
        // Nothing was touched: the database was never created.
        assert!(!dir.0.join("s.db").exists());
    }
);
