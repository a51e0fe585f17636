//! The `sqin` binary's operator commands, run as a real process on both
//! backends.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sqin_store::testing::TestDb;
use sqin_store::{both_backends, citizens, enrolment};

pub(crate) struct Sqin {
    db_url: String,
    dir: PathBuf,
    /// An adopted PIA (`SQIN_PIA_FILE`), when the test needs entries other
    /// than the demo's.
    pia_file: Option<PathBuf>,
}

impl Sqin {
    pub(crate) fn new(db: &TestDb) -> Sqin {
        let dir = std::env::temp_dir().join(format!(
            "sqin-cli-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Sqin {
            db_url: db.url.clone(),
            dir,
            pia_file: None,
        }
    }

    /// The repository's PIA with the test ministries' entries
    /// (tests/fixtures/ministries.toml), adopted as a deployment would.
    pub(crate) fn with_ministries(mut self) -> Sqin {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut text = std::fs::read_to_string(root.join("pia/inventory.toml")).unwrap();
        text.push_str(
            &std::fs::read_to_string(root.join("tests/fixtures/ministries.toml")).unwrap(),
        );
        let path = self.dir.join("adopted-pia.toml");
        std::fs::write(&path, text).unwrap();
        self.pia_file = Some(path);
        self
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sqin"));
        cmd.args(args)
            .current_dir(&self.dir)
            .env("SQIN_DATABASE_URL", &self.db_url)
            .env("SQIN_DATA_DIR", self.dir.join("var"))
            .env("SQIN_LOG_LEVEL", "warn")
            .env_remove("SQIN_CONFIG")
            .env_remove("SQIN_PIA_FILE");
        if let Some(pia) = &self.pia_file {
            cmd.env("SQIN_PIA_FILE", pia);
        }
        cmd.output().unwrap()
    }

    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "sqin {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub(crate) fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "sqin {args:?} should have failed");
        String::from_utf8(out.stderr).unwrap()
    }

    pub(crate) fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The server's own services on this database and data directory (same
    /// key-encryption key, so the same register vault and code key).
    pub(crate) async fn services(&self) -> sqin_app::Services {
        let config = sqin_server::Config {
            database_url: self.db_url.clone(),
            data_dir: self.dir.join("var"),
            pia_file: self.pia_file.clone(),
            ..Default::default()
        };
        sqin_server::open(&config).await.unwrap()
    }

    pub(crate) async fn count_citizens(&self, store: &sqin_store::Store) -> i64 {
        let mut conn = store.pool().acquire().await.unwrap();
        citizens::count(&mut conn).await.unwrap()
    }
}

impl Drop for Sqin {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub(crate) fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

pub(crate) const GOOD: &str = "register_id,given_name,family_name,birthdate,email,locale\n\
R-001,Aline,Tremblay,1984-03-02,aline@example.org,fr\n\
R-002,Bruno,Gagnon,1990-12-31,,en\n";

both_backends!(
    async fn import_with_a_bad_row_changes_nothing_and_names_the_line(db: TestDb) {
        let sqin = Sqin::new(&db);
        let store = db.open().await;
        let bad = sqin.write(
            "bad.csv",
            "register_id,given_name,family_name,birthdate\n\
             R-001,Aline,Tremblay,1984-03-02\n\
             R-002,Bruno,Gagnon,1990-02-30\n\
             R-003,Chloé,Roy,1975-07-14\n",
        );
        let err = sqin.fails(&["citizen", "import", path(&bad)]);
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("birthdate"), "{err}");
        assert!(err.contains("nothing was imported"), "{err}");
        assert_eq!(sqin.count_citizens(&store).await, 0);

        let dup = sqin.write(
            "dup.csv",
            "register_id,given_name,family_name,birthdate\nR-1,A,B,1984-03-02\nR-1,C,D,1984-03-02\n",
        );
        let err = sqin.fails(&["citizen", "import", path(&dup)]);
        assert!(err.contains("line 3") && err.contains("line 2"), "{err}");

        let unknown = sqin.write(
            "cols.csv",
            "register_id,given_name,family_name,birthdate,nas\n",
        );
        let err = sqin.fails(&["citizen", "import", path(&unknown)]);
        assert!(err.contains("line 1") && err.contains("nas"), "{err}");

        let err = sqin.fails(&["citizen", "import", "/nonexistent/file.csv"]);
        assert!(err.contains("cannot open"), "{err}");
        assert_eq!(sqin.count_citizens(&store).await, 0);

        // A good file imports every row and prints one code per citizen.
        let good = sqin.write("good.csv", GOOD);
        let out = sqin.ok(&["citizen", "import", path(&good)]);
        let lines: Vec<_> = out.lines().collect();
        assert_eq!(lines[0], "register_id,enrolment_code,expires_at");
        assert!(lines[1].starts_with("R-001,"));
        assert!(lines[2].starts_with("R-002,"));
        assert_eq!(sqin.count_citizens(&store).await, 2);
        let services = sqin.services().await;
        let mut conn = store.pool().acquire().await.unwrap();
        let aline = citizens::by_register_id(&mut conn, &services.register, "R-001")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(aline.email.as_deref(), Some("aline@example.org"));
        let bruno = citizens::by_register_id(&mut conn, &services.register, "R-002")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(bruno.email, None);
        // The code is stored only as a keyed hash.
        let code = lines[1].split(',').nth(1).unwrap();
        assert_eq!(code.len(), 19);
        let stored = enrolment::for_citizen(&mut conn, &aline.id).await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_ne!(stored[0].code_hash, code.as_bytes());
        drop(conn);

        // Importing again: the existing identity is named, nothing changes.
        let again = sqin.write(
            "again.csv",
            "register_id,given_name,family_name,birthdate\nR-009,Z,Z,1984-03-02\nR-002,Bruno,Gagnon,1990-12-31\n",
        );
        let err = sqin.fails(&["citizen", "import", path(&again)]);
        assert!(
            err.contains("line 3") && err.contains("already in the register"),
            "{err}"
        );
        assert_eq!(sqin.count_citizens(&store).await, 2);
    }
);

both_backends!(
    async fn enrolment_codes_are_single_use_and_expire(db: TestDb) {
        let sqin = Sqin::new(&db);
        let out = sqin.ok(&[
            "citizen",
            "add",
            "--register-id",
            "R-7",
            "--given-name",
            "Aline",
            "--family-name",
            "Tremblay",
            "--birthdate",
            "1984-03-02",
        ]);
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        let code = json["enrolment_code"].as_str().unwrap().to_owned();
        // Same register identity twice: refused.
        let err = sqin.fails(&[
            "citizen",
            "add",
            "--register-id",
            "R-7",
            "--given-name",
            "X",
            "--family-name",
            "Y",
            "--birthdate",
            "1984-03-02",
        ]);
        assert!(err.contains("already exists"), "{err}");
        let err = sqin.fails(&[
            "citizen",
            "add",
            "--register-id",
            "R-8",
            "--given-name",
            "X",
            "--family-name",
            "Y",
            "--birthdate",
            "2999-01-01",
        ]);
        assert!(err.contains("future"), "{err}");

        // Use the server's own services (same key-encryption key, same code key).
        let config = sqin_server::Config {
            database_url: db.url.clone(),
            data_dir: sqin.dir.join("var"),
            ..Default::default()
        };
        let services = sqin_server::open(&config).await.unwrap();
        let mut conn = services.store.pool().acquire().await.unwrap();
        let now = sqin_app::Clock::now(&sqin_app::SystemClock);
        let typed = code.to_lowercase().replace('-', " ");
        assert!(matches!(
            services.codes.check(&mut conn, &typed, now).await.unwrap(),
            sqin_register::CodeCheck::Usable(_)
        ));
        assert!(services.codes.spend(&mut conn, &typed, now).await.unwrap());
        assert!(!services.codes.spend(&mut conn, &code, now).await.unwrap());

        // A reissued code (now a four-eyes request in the staff console,
        // issued here through the same issuer) revokes the earlier one; it
        // expires after its TTL.
        let citizen = citizens::by_register_id(&mut conn, &services.register, "R-7")
            .await
            .unwrap()
            .unwrap();
        let mut codes = Vec::new();
        for _ in 0..2 {
            let issued = services
                .codes
                .issue(
                    &mut conn,
                    &citizen.id,
                    enrolment::CodePurpose::Recovery,
                    now,
                )
                .await
                .unwrap();
            codes.push(issued.code.expose().to_owned());
        }
        let (second, third) = (codes[0].clone(), codes[1].clone());
        assert!(!services.codes.spend(&mut conn, &second, now).await.unwrap());
        let ttl = 30 * 86_400;
        assert!(!services
            .codes
            .spend(&mut conn, &third, now + ttl + 5)
            .await
            .unwrap());
        assert!(services
            .codes
            .spend(&mut conn, &third, now + 60)
            .await
            .unwrap());
    }
);

both_backends!(
    async fn keys_rotate_keeps_the_previous_key_published(db: TestDb) {
        let sqin = Sqin::new(&db);
        let before: serde_json::Value = serde_json::from_str(&sqin.ok(&["keys", "list"])).unwrap();
        let before = before.as_array().unwrap().clone();
        // A current and a next key for each ID token algorithm.
        assert_eq!(before.len(), 6);
        let of = |keys: &[serde_json::Value], alg: &str, state: &str| -> serde_json::Value {
            let found: Vec<_> = keys
                .iter()
                .filter(|k| k["alg"] == alg && k["state"] == state)
                .collect();
            assert_eq!(found.len(), 1, "one {state} {alg} key: {keys:?}");
            found[0]["kid"].clone()
        };
        let r: serde_json::Value = serde_json::from_str(&sqin.ok(&["keys", "rotate"])).unwrap();
        let after: serde_json::Value = serde_json::from_str(&sqin.ok(&["keys", "list"])).unwrap();
        let after = after.as_array().unwrap();
        assert_eq!(
            after.len(),
            9,
            "previous, current and next for each algorithm"
        );
        for alg in ["ES256", "PS256", "RS256"] {
            let current = of(&before, alg, "current");
            let next = of(&before, alg, "next");
            let rotated = r["algorithms"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["alg"] == alg)
                .unwrap();
            assert_eq!(rotated["current"], next, "{alg}");
            assert_eq!(rotated["previous"], current, "{alg}");
            assert_eq!(of(after, alg, "current"), next, "{alg}");
            assert_eq!(of(after, alg, "previous"), current, "{alg}");
            let prev = after.iter().find(|k| k["kid"] == current).unwrap();
            assert!(prev["published_until"].is_string());
        }
        assert_eq!(r["current"], of(after, "ES256", "current"));
    }
);

sqin_store::sync_test!(
    fn bad_configuration_refuses_to_start_and_names_the_key() {
        let dir = std::env::temp_dir().join(format!("sqin-badcfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let run = |envs: &[(&str, &str)], args: &[&str]| {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_sqin"));
            cmd.args(args).current_dir(&dir).env_remove("SQIN_CONFIG");
            for (k, v) in envs {
                cmd.env(k, v);
            }
            let out = cmd.output().unwrap();
            let err = String::from_utf8(out.stderr).unwrap();
            assert!(
                !out.status.success(),
                "{envs:?} {args:?} should fail: {err}"
            );
            err
        };
        let err = run(&[("SQIN_LISTEN", "not-an-address")], &["config"]);
        assert!(err.contains("listen"), "{err}");
        let err = run(&[("SQIN_ISSUER", "http://127.0.0.1:8080")], &["config"]);
        assert!(err.contains("`issuer`"), "{err}");
        let err = run(&[("SQIN_DATABASE_URL", "mysql://x")], &["config"]);
        assert!(err.contains("database_url"), "{err}");
        let err = run(
            &[(
                "SQIN_LEDGER_WITNESSES",
                r#"[{url="https://w.example/",vkey="w.example+00000000+AAAA"}]"#,
            )],
            &["config"],
        );
        assert!(err.contains("ledger_witnesses"), "{err}");
        std::fs::write(dir.join("bad.toml"), "isuer = \"https://id.example\"\n").unwrap();
        let err = run(&[], &["--config", "bad.toml", "config"]);
        assert!(err.contains("isuer"), "{err}");
        let err = run(&[], &["--config", "missing.toml", "config"]);
        assert!(err.contains("missing.toml"), "{err}");
        let err = run(&[("SQIN_LISTEN", "0.0.0.0:0")], &["config"]);
        assert!(
            err.contains("`listen`") && err.contains("plain HTTP"),
            "{err}"
        );
        let err = run(
            &[("SQIN_KEY_ENCRYPTION_KEY_FILE", "/nonexistent/kek")],
            &["keys", "list"],
        );
        assert!(err.contains("key_encryption_key_file"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
);

both_backends!(
    async fn retention_runs_once_and_reports_per_element(db: TestDb) {
        let sqin = Sqin::new(&db);
        let csv = sqin.write("register.csv", GOOD);
        sqin.ok(&["citizen", "import", path(&csv)]);
        let out = sqin.ok(&["retention"]);
        let report: serde_json::Value = serde_json::from_str(&out).unwrap();
        // Every scheduled element is reported, even when nothing was due.
        for element in [
            "session.id",
            "consent.record",
            "grant.record",
            "security_event.record",
            "enrolment_code.code_hash",
            "logout_notice.record",
            "webauthn_ceremony.record",
            "session.ip_address",
            "citizen.email",
        ] {
            assert_eq!(report["deleted"][element], 0, "{element}: {report}");
        }
        assert_eq!(report["registrations_closed"], serde_json::json!([]));
        // A PIA that does not describe the code stops the command.
        let bad = sqin.write("inventory.toml", "schema_version = 1\n");
        let out = sqin.run(&["retention"]);
        assert!(out.status.success(), "the default PIA is built in");
        let out = Command::new(env!("CARGO_BIN_EXE_sqin"))
            .args(["retention"])
            .current_dir(&sqin.dir)
            .env("SQIN_DATABASE_URL", &sqin.db_url)
            .env("SQIN_DATA_DIR", sqin.dir.join("var"))
            .env("SQIN_PIA_FILE", &bad)
            .env_remove("SQIN_CONFIG")
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("PIA inventory"), "{err}");
    }
);

sqin_store::sync_test!(
    fn pia_check_and_render_need_no_database() {
        let dir = std::env::temp_dir().join(format!("sqin-pia-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sqin = |args: &[&str]| {
            Command::new(env!("CARGO_BIN_EXE_sqin"))
                .args(args)
                .current_dir(&dir)
                .env_remove("SQIN_CONFIG")
                .env("SQIN_DATABASE_URL", "postgres://nobody@127.0.0.1:1/nowhere")
                .output()
                .unwrap()
        };
        // The built-in inventory describes this binary.
        let out = sqin(&["pia", "check"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(summary["source"], "built-in");
        assert_eq!(summary["ledger_retention_days"]["disclosure"], 1825);
        // Rendered, it is the document in the repository.
        let out = sqin(&["pia", "render"]);
        assert!(out.status.success());
        let repo_md = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pia/inventory.md"),
        )
        .unwrap();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), repo_md);
        // An adopted copy that disagrees with the code: exit 1, each difference named.
        let built_in = sqin_app::pia::BUILT_IN;
        let at = built_in.find("id = \"ledger.sign_in_record\"").unwrap();
        let edited = format!(
            "{}{}",
            &built_in[..at],
            built_in[at..].replacen(
                "retention = \"P1Y\"",
                "retention = \"while-account-active\"",
                1
            )
        );
        std::fs::write(dir.join("adopted.toml"), edited).unwrap();
        let out = sqin(&["pia", "check", "adopted.toml"]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("ledger.sign_in_record") && err.contains("sign_in"),
            "{err}"
        );
        let out = sqin(&["pia", "check", "missing.toml"]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("missing.toml"));
        let _ = std::fs::remove_dir_all(&dir);
    }
);

sqin_store::sync_test!(
    fn witness_init_and_serve_as_processes() {
        let dir = std::env::temp_dir().join(format!("sqin-witness-cli-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let sqin = |args: &[&str]| {
            Command::new(env!("CARGO_BIN_EXE_sqin"))
                .args(args)
                .current_dir(&dir)
                .env_remove("SQIN_CONFIG")
                .output()
                .unwrap()
        };
        let out = sqin(&[
            "witness",
            "init",
            "--name",
            "commission.test.example/w",
            "--dir",
            "w",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let vkey = String::from_utf8(out.stdout).unwrap();
        sqin_ledger_service::core::CosignatureVerifier::from_vkey(vkey.trim()).unwrap();
        // Never a second key in place.
        let out = sqin(&[
            "witness",
            "init",
            "--name",
            "commission.test.example/w",
            "--dir",
            "w",
        ]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
        // Serving needs a log to watch.
        let out = sqin(&["witness", "serve", "--dir", "w"]);
        assert!(!out.status.success());
        // Served: a request for a log it does not watch is refused by the protocol.
        let log = sqin_ledger_service::core::EcdsaNoteSigner::from_pkcs8(
            "log.test.example/ledger",
            &sqin_ledger_service::core::EcdsaNoteSigner::generate_pkcs8().unwrap(),
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_sqin"))
            .args([
                "witness",
                "serve",
                "--dir",
                "w",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--log",
                &log.vkey(),
            ])
            .current_dir(&dir)
            .env_remove("SQIN_CONFIG")
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let status = rt.block_on(async {
            let client = reqwest::Client::new();
            for _ in 0..100 {
                if let Ok(r) = client
                    .post(format!("http://127.0.0.1:{port}/add-checkpoint"))
                    .body("old 0\n\nother.test.example/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n")
                    .timeout(std::time::Duration::from_secs(5))
                    .send()
                    .await
                {
                    return r.status().as_u16();
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            0
        });
        let _ = child.kill();
        let _ = child.wait();
        // The note has no signature line: malformed (400), or unknown (404).
        assert!(status == 400 || status == 404, "{status}");
        let _ = std::fs::remove_dir_all(&dir);
    }
);
