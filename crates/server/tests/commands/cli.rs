//! The `sqin` binary's operator commands, run as a real process on both
//! backends.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sqin_store::testing::TestDb;
use sqin_store::{both_backends, citizens, enrolment};

struct Sqin {
    db_url: String,
    dir: PathBuf,
    /// An adopted PIA (`SQIN_PIA_FILE`), when the test needs entries other
    /// than the demo's.
    pia_file: Option<PathBuf>,
}

impl Sqin {
    fn new(db: &TestDb) -> Sqin {
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
    fn with_ministries(mut self) -> Sqin {
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

    fn run(&self, args: &[&str]) -> Output {
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

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "sqin {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "sqin {args:?} should have failed");
        String::from_utf8(out.stderr).unwrap()
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The server's own services on this database and data directory (same
    /// key-encryption key, so the same register vault and code key).
    async fn services(&self) -> sqin_app::Services {
        let config = sqin_server::Config {
            database_url: self.db_url.clone(),
            data_dir: self.dir.join("var"),
            pia_file: self.pia_file.clone(),
            ..Default::default()
        };
        sqin_server::open(&config).await.unwrap()
    }

    async fn count_citizens(&self, store: &sqin_store::Store) -> i64 {
        let mut conn = store.pool().acquire().await.unwrap();
        citizens::count(&mut conn).await.unwrap()
    }
}

impl Drop for Sqin {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

const GOOD: &str = "register_id,given_name,family_name,birthdate,email,locale\n\
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
    async fn clients_are_registered_validated_and_managed(db: TestDb) {
        let sqin = Sqin::new(&db).with_ministries();
        fn add<'a>(extra: &[&'a str]) -> Vec<&'a str> {
            let mut args = vec!["client", "add", "--name", "Revenu"];
            args.extend_from_slice(extra);
            args
        }
        // Outside the PIA: no entry, no registration.
        let err = sqin.fails(&add(&[
            "--pia-entry",
            "nope",
            "--redirect-uri",
            "https://revenu.example/cb",
        ]));
        assert!(
            err.contains("no relying party \"nope\" in the privacy impact assessment"),
            "{err}"
        );
        // The general rules still hold.
        let err = sqin.fails(&add(&[
            "--pia-entry",
            "revenue",
            "--redirect-uri",
            "http://revenu.example/cb",
        ]));
        assert!(
            err.contains("redirect_uris") && err.contains("https"),
            "{err}"
        );
        let err = sqin.fails(&add(&[
            "--pia-entry",
            "revenue",
            "--redirect-uri",
            "https://revenu.example/cb",
            "--scope",
            "openid telepathy",
        ]));
        assert!(err.contains("telepathy"), "{err}");
        let err = sqin.fails(&add(&[
            "--pia-entry",
            "revenue",
            "--redirect-uri",
            "https://revenu.example/cb",
            "--scope",
            "openid profile",
            "--claims",
            "name birthdate",
        ]));
        assert!(err.contains("\"birthdate\" is not carried"), "{err}");
        // Beyond the entry, field by field, each difference named.
        for (extra, field, what) in [
            (
                &["--scope", "openid profile birthdate"][..],
                "scope",
                "\"birthdate\"",
            ),
            (
                &["--scope", "openid profile", "--claims", "name given_name"][..],
                "claims",
                "\"given_name\"",
            ),
            (
                &["--sector", "sante.example"][..],
                "sector_identifier",
                "sante.example",
            ),
            (&["--public-subject"][..], "subject_type", "pairwise only"),
            (
                &["--post-logout-redirect-uri", "https://evil.example/out"][..],
                "post_logout_redirect_uris",
                "evil.example",
            ),
        ] {
            let mut args = vec![
                "--pia-entry",
                "revenue",
                "--redirect-uri",
                "https://revenu.example/cb",
            ];
            args.extend_from_slice(extra);
            let err = sqin.fails(&add(&args));
            assert!(err.contains("beyond PIA entry revenue"), "{field}: {err}");
            assert!(
                err.contains(&format!("{field}: ")) && err.contains(what),
                "{field}: {err}"
            );
        }
        let err = sqin.fails(&add(&[
            "--pia-entry",
            "revenue",
            "--redirect-uri",
            "https://evil.example/cb",
        ]));
        assert!(
            err.contains("redirect_uris: \"https://evil.example/cb\" is outside the hosts"),
            "{err}"
        );

        // Within the entry: registered, pending a privacy officer; the
        // claims default to those of its scopes the entry allows.
        let out = sqin.ok(&add(&[
            "--pia-entry",
            "revenue",
            "--redirect-uri",
            "https://revenu.example/cb",
            "--scope",
            "openid profile",
        ]));
        let created: serde_json::Value = serde_json::from_str(&out).unwrap();
        let id = created["client_id"].as_str().unwrap().to_owned();
        let secret = created["client_secret"].as_str().unwrap().to_owned();
        assert_eq!(secret.len(), 43);
        assert_eq!(created["status"], "pending");
        assert!(created["approval_request"].is_string());
        assert_eq!(
            created["claims"],
            serde_json::json!(["name", "family_name"])
        );
        assert_eq!(created["sector"], "revenu.example");
        assert_eq!(created["purpose"], "File one's income tax return");
        assert_eq!(created["pia_entry"], "revenue");
        assert_eq!(created["version"], 1);
        let shown: serde_json::Value =
            serde_json::from_str(&sqin.ok(&["client", "show", &id])).unwrap();
        assert!(
            shown.get("client_secret").is_none(),
            "secret is shown once only"
        );

        // An edit within what it receives takes effect; one that widens
        // waits for a privacy officer, and nothing changes until then.
        let out = sqin.ok(&[
            "client",
            "edit",
            &id,
            "--redirect-uri",
            "https://revenu.example/cb2",
        ]);
        let edited: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(edited["changed"], serde_json::json!(["redirect_uris"]));
        assert_eq!(edited["version"], 2);
        let out = sqin.ok(&["client", "edit", &id, "--claims", "name"]);
        let narrowed: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(narrowed["claims"], serde_json::json!(["name"]));
        let out = sqin.ok(&["client", "edit", &id, "--claims", "name family_name"]);
        let widened: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            widened["awaiting_approval"]["widens"],
            serde_json::json!(["claims"])
        );
        assert_eq!(
            widened["claims"],
            serde_json::json!(["name"]),
            "unchanged until approved"
        );
        // ... and an edit beyond the entry is refused outright.
        let err = sqin.fails(&["client", "edit", &id, "--sector", "sante.example"]);
        assert!(err.contains("sector_identifier"), "{err}");
        // Concurrent edits: a stale version is refused, nothing lost.
        let err = sqin.fails(&[
            "client",
            "edit",
            &id,
            "--if-version",
            "1",
            "--name",
            "Autre",
        ]);
        assert!(err.contains("changed since version 1"), "{err}");
        let shown: serde_json::Value =
            serde_json::from_str(&sqin.ok(&["client", "show", &id])).unwrap();
        assert_eq!(shown["name"], "Revenu");

        // Suspend, resume, rotate, an initial access token, remove.
        let err = sqin.fails(&["client", "resume", &id, "--reason", "x"]);
        assert!(err.contains("pending"), "{err}");
        let store = db.open().await;
        let hash_of = |s: &str| sqin_crypto::sha256(s.as_bytes()).to_vec();
        let rotated: serde_json::Value =
            serde_json::from_str(&sqin.ok(&["client", "rotate-secret", &id])).unwrap();
        let new_secret = rotated["client_secret"].as_str().unwrap().to_owned();
        assert_ne!(new_secret, secret);
        let stored = {
            let mut conn = store.pool().acquire().await.unwrap();
            sqin_store::clients::get(&mut conn, &id)
                .await
                .unwrap()
                .unwrap()
        };
        assert_eq!(stored.secret_hash, Some(hash_of(&new_secret)));
        let iat: serde_json::Value = serde_json::from_str(&sqin.ok(&[
            "client",
            "initial-access-token",
            "--pia-entry",
            "health-card",
            "--days",
            "2",
            "--uses",
            "3",
        ]))
        .unwrap();
        assert_eq!(iat["pia_entry"], "health-card");
        let iat_token = iat["initial_access_token"].as_str().unwrap().to_owned();
        let err = sqin.fails(&["client", "initial-access-token", "--pia-entry", "nope"]);
        assert!(err.contains("no relying party"), "{err}");
        // An id that starts with '-' is an id, not an option.
        let err = sqin.fails(&["client", "show", "-MX3Ye_DAfhLrK9596KT9g"]);
        assert!(err.contains("no relying party -MX3Ye"), "{err}");
        let public: serde_json::Value = serde_json::from_str(&sqin.ok(&[
            "client",
            "add",
            "--pia-entry",
            "health-card",
            "--name",
            "App",
            "--public",
            "--redirect-uri",
            "http://localhost:7000/cb",
        ]))
        .unwrap();
        assert!(public.get("client_secret").is_none());
        assert_eq!(public["token_endpoint_auth_method"], "none");
        let err = sqin.fails(&[
            "client",
            "rotate-secret",
            public["client_id"].as_str().unwrap(),
        ]);
        assert!(err.contains("no secret"), "{err}");
        sqin.ok(&["client", "remove", &id]);
        let err = sqin.fails(&["client", "show", &id]);
        assert!(err.contains("no relying party"), "{err}");

        // Every operator action is a public governance entry, with no
        // secret in any of them.
        let mut conn = store.pool().acquire().await.unwrap();
        let entries = sqin_store::ledger::entries_of_kind(&mut conn, "governance")
            .await
            .unwrap();
        let text: Vec<String> = entries
            .iter()
            .map(|e| String::from_utf8_lossy(&e.entry).into_owned())
            .collect();
        for what in [
            "client.registered",
            "client.edited",
            "client.edit_requested",
            "client.secret_rotated",
            "initial_access_token.issued",
            "client.removed",
        ] {
            assert!(
                text.iter()
                    .any(|t| t.contains(what) && t.contains("\"operator\"")),
                "{what} missing from {text:?}"
            );
        }
        for secret in [&secret, &new_secret, &iat_token] {
            assert!(
                !text.iter().any(|t| t.contains(secret.as_str())),
                "a secret in the ledger"
            );
        }
        assert!(
            text.iter()
                .any(|t| t.contains("https://revenu.example/cb2")),
            "URIs are named"
        );
    }
);

both_backends!(
    async fn keys_rotate_keeps_the_previous_key_published(db: TestDb) {
        let sqin = Sqin::new(&db);
        let before: serde_json::Value = serde_json::from_str(&sqin.ok(&["keys", "list"])).unwrap();
        let before = before.as_array().unwrap().clone();
        assert_eq!(before.len(), 2);
        let current = before.iter().find(|k| k["state"] == "current").unwrap()["kid"].clone();
        let next = before.iter().find(|k| k["state"] == "next").unwrap()["kid"].clone();
        let r: serde_json::Value = serde_json::from_str(&sqin.ok(&["keys", "rotate"])).unwrap();
        assert_eq!(r["current"], next);
        assert_eq!(r["previous"], current);
        let after: serde_json::Value = serde_json::from_str(&sqin.ok(&["keys", "list"])).unwrap();
        let after = after.as_array().unwrap();
        assert_eq!(after.len(), 3);
        let prev = after.iter().find(|k| k["kid"] == current).unwrap();
        assert_eq!(prev["state"], "previous");
        assert!(prev["published_until"].is_string());
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

both_backends!(
    async fn the_incident_register_applies_the_grid_and_exports_for_the_commission(db: TestDb) {
        let sqin = Sqin::new(&db);
        let record = |elements: &[&str], consequences: &str, likelihood: &str| {
            let mut args = vec![
                "incident",
                "record",
                "--by",
                "po-1",
                "--information",
                "Dates of birth and addresses of 10 citizens",
                "--circumstances",
                "Enrolment letters stolen from a mailroom",
                "--occurred",
                "2026-11-20",
                "--aware",
                "2026-11-21",
                "--persons",
                "10",
                "--consequences",
                consequences,
                "--likelihood",
                likelihood,
                "--reasoning",
                "Clear codes and addresses in a thief's hands",
                "--measures",
                "Codes revoked and reissued",
            ];
            for e in elements {
                args.push("--element");
                args.push(e);
            }
            sqin.run(&args)
        };
        // Sensitivity from the PIA (the date of birth is high): serious.
        let out = record(&["citizen.birthdate", "citizen.locale"], "2", "3");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let entry: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(entry["sensitivity"], 3);
        assert_eq!(entry["serious"], true);
        assert!(String::from_utf8_lossy(&out.stderr).contains("notify the Commission"));
        let number = entry["number"].as_str().unwrap().to_owned();
        // The language alone, little likely misuse: not serious.
        let out = record(&["citizen.locale"], "1", "1");
        let calm: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            (calm["sensitivity"].as_i64(), calm["serious"].as_bool()),
            (Some(1), Some(false))
        );
        assert_ne!(calm["number"], entry["number"]);
        // Refused: an element the PIA does not have, a score out of range.
        let out = record(&["citizen.shoe_size"], "1", "1");
        assert!(String::from_utf8_lossy(&out.stderr).contains("not an element of the PIA"));
        let out = record(&["citizen.locale"], "4", "1");
        assert!(String::from_utf8_lossy(&out.stderr).contains("1, 2 or 3"));

        sqin.ok(&[
            "incident",
            "add",
            &number,
            "--by",
            "po-1",
            "--kind",
            "notice_commission",
            "--text",
            "Notice sent to the Commission",
        ]);
        let err = sqin.fails(&[
            "incident", "add", &number, "--by", "po-1", "--kind", "rewrite", "--text", "x",
        ]);
        assert!(err.contains("notice_commission"), "{err}");
        let register: serde_json::Value =
            serde_json::from_str(&sqin.ok(&["incident", "export"])).unwrap();
        let first = register
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["number"] == number.as_str())
            .unwrap();
        assert_eq!(
            first["1_information_concerned"],
            "Dates of birth and addresses of 10 citizens"
        );
        assert_eq!(first["5_persons_concerned"], "10");
        assert_eq!(first["6_risk"]["serious"], true);
        assert_eq!(first["7_notices"][0]["kind"], "notice_commission");
        assert!(first["4_became_aware"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-21"));
    }
);

both_backends!(
    async fn the_operator_bootstraps_the_staff_plane_and_no_command_shows_a_file(db: TestDb) {
        let sqin = Sqin::new(&db);
        // The first privacy officer, then the first administrator (in
        // either order: one privacy officer alone cannot grant with four
        // eyes).
        let out = sqin.ok(&[
            "staff",
            "invite",
            "--name",
            "Paule Officer",
            "--role",
            "privacy-officer",
        ]);
        let officer: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(officer["badge"].as_str().unwrap().starts_with("Agent "));
        assert!(officer["invitation_code"].as_str().unwrap().len() >= 20);
        let out = sqin.ok(&[
            "staff",
            "invite",
            "--name",
            "Ada Admin",
            "--role",
            "administrator",
        ]);
        let admin: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_ne!(officer["badge"], admin["badge"]);
        // Only a privacy officer may grant that role, and nobody approves
        // their own request: the operator adds the second one.
        sqin.ok(&[
            "staff",
            "invite",
            "--name",
            "Second Officer",
            "--role",
            "privacy-officer",
        ]);
        // After that, the console with four eyes: the CLI refuses.
        for role in ["support", "privacy-officer", "administrator"] {
            let err = sqin.fails(&["staff", "invite", "--name", "Sam", "--role", role]);
            assert!(err.contains("staff console"), "{role}: {err}");
        }
        let err = sqin.fails(&["staff", "invite", "--name", "Sam", "--role", "overlord"]);
        assert!(err.contains("no staff role"), "{err}");
        // Both invitations are public governance entries of the operator.
        let store = db.open().await;
        let mut conn = store.pool().acquire().await.unwrap();
        let entries = sqin_store::ledger::entries_of_kind(&mut conn, "governance")
            .await
            .unwrap();
        let text: Vec<String> = entries
            .iter()
            .map(|e| String::from_utf8_lossy(&e.entry).into_owned())
            .collect();
        assert_eq!(
            text.iter()
                .filter(|t| t.contains("staff.invited") && t.contains("\"operator\""))
                .count(),
            3,
            "{text:?}"
        );

        // The commands that showed a citizen's file, reissued a code on the
        // operator's screen or closed an account are gone.
        for args in [
            &["staff", "lookup", "R-1"][..],
            &["citizen", "reissue-code", "R-1"],
            &["citizen", "delete", "R-1", "--yes"],
            &["complaint", "list"],
        ] {
            let err = sqin.fails(args);
            assert!(err.contains("unrecognized subcommand"), "{args:?}: {err}");
        }
        // What remains prints no citizen's name or birthdate: the import
        // prints register ids and codes for the mail merge, nothing else.
        let csv = sqin.write("register.csv", GOOD);
        let out = sqin.ok(&["citizen", "import", path(&csv)]);
        for value in ["Aline", "Tremblay", "1984-03-02"] {
            assert!(!out.contains(value), "{value} in {out}");
        }
    }
);
