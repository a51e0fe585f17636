//! `sqin ledger checkpoint|export|verify|purge` as real processes, on both
//! backends: an export verifies offline with no database, the live ledger
//! verifies against a checkpoint saved earlier, the purge shreds what is due
//! and every proof still verifies, and tampering makes `verify` fail naming
//! the entry.
use std::path::PathBuf;
use std::process::{Command, Output};

use base64::Engine as _;
use sqin_crypto::KeyEncryptionKey;
use sqin_ledger_service::{append, Ledger, LedgerEvent};
use sqin_store::testing::TestDb;
use sqin_store::{both_backends, Backend};

struct Sqin {
    db_url: String,
    dir: PathBuf,
}

impl Sqin {
    fn new(db: &TestDb) -> Sqin {
        let dir = std::env::temp_dir().join(format!(
            "sqin-ledger-cli-{}-{}",
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
        }
    }

    fn run_with(&self, args: &[&str], db_url: &str) -> Output {
        Command::new(env!("CARGO_BIN_EXE_sqin"))
            .args(args)
            .current_dir(&self.dir)
            .env("SQIN_DATABASE_URL", db_url)
            .env("SQIN_DATA_DIR", self.dir.join("var"))
            .env("SQIN_LOG_LEVEL", "warn")
            .env_remove("SQIN_CONFIG")
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> (String, String) {
        let out = self.run_with(args, &self.db_url);
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(out.status.success(), "sqin {args:?} failed: {stderr}");
        (String::from_utf8(out.stdout).unwrap(), stderr)
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.run_with(args, &self.db_url);
        assert!(!out.status.success(), "sqin {args:?} should have failed");
        String::from_utf8(out.stderr).unwrap()
    }

    fn file(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_owned()
    }

    /// The ledger as the binary created it, opened in this process.
    async fn ledger(&self, store: &sqin_store::Store) -> Ledger {
        let kek = std::fs::read_to_string(self.dir.join("var/key-encryption.key")).unwrap();
        let kek = base64::engine::general_purpose::STANDARD
            .decode(kek.trim())
            .unwrap();
        let kek = KeyEncryptionKey::from_bytes(&kek).unwrap();
        let config = sqin_server::Config::default();
        Ledger::open(
            store,
            &kek,
            config
                .settings()
                .ledger_settings(sqin_app::pia::load(None).unwrap().ledger_retention),
            sqin_app::Clock::now(&sqin_app::SystemClock),
        )
        .await
        .unwrap()
    }
}

impl Drop for Sqin {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn sign_in(citizen: &str) -> LedgerEvent {
    LedgerEvent::SignIn {
        citizen_id: citizen.into(),
        client_id: Some("famille".into()),
        acr: "urn:sqin:loa:substantial".into(),
        amr: vec!["hwk".into()],
        passkey: None,
    }
}

both_backends!(
    async fn ledger_commands_checkpoint_export_verify_and_purge(db: TestDb) {
        let sqin = Sqin::new(&db);
        // The first command creates the ledger and its first checkpoint.
        let (note, _) = sqin.ok(&["ledger", "checkpoint"]);
        assert!(note.starts_with("localhost:8080/ledger\n0\n"), "{note}");

        let store = db.open().await;
        let ledger = sqin.ledger(&store).await;
        let now = sqin_app::Clock::now(&sqin_app::SystemClock);
        let mut conn = store.pool().acquire().await.unwrap();
        for i in 0..30 {
            // Ten sign-ins from two years ago, past their one-year retention.
            let at = if i < 10 { now - 730 * 86_400 } else { now };
            append(&mut conn, &ledger, sign_in(&format!("c{}", i % 4)), at)
                .await
                .unwrap();
        }
        let (note, stderr) = sqin.ok(&["ledger", "checkpoint"]);
        assert!(note.starts_with("localhost:8080/ledger\n30\n"), "{note}");
        assert!(stderr.contains("signed a new checkpoint of 30"), "{stderr}");
        let (again, stderr) = sqin.ok(&["ledger", "checkpoint"]);
        assert_eq!(again, note);
        assert!(stderr.contains("latest checkpoint"), "{stderr}");
        std::fs::write(sqin.file("cp30.txt"), &note).unwrap();
        std::fs::write(sqin.file("vkey.txt"), ledger.vkey()).unwrap();

        // Export, then verify offline: the database URL points nowhere.
        let (_, stderr) = sqin.ok(&["ledger", "export", "--output", &sqin.file("export.jsonl")]);
        assert!(
            stderr.contains("exported 30 entries and 2 checkpoints"),
            "{stderr}"
        );
        assert!(!sqin.dir.join("export.partial").exists());
        let export = std::fs::read_to_string(sqin.file("export.jsonl")).unwrap();
        assert_eq!(export.lines().count(), 1 + 2 + 30 + 1);
        assert!(!export.contains("famille") && !export.contains("urn:sqin"));
        let offline = sqin.run_with(
            &[
                "ledger",
                "verify",
                "--export",
                &sqin.file("export.jsonl"),
                "--vkey-file",
                &sqin.file("vkey.txt"),
                "--checkpoint",
                &sqin.file("cp30.txt"),
            ],
            "postgres://nobody@127.0.0.1:1/nowhere",
        );
        let stderr = String::from_utf8_lossy(&offline.stderr);
        assert!(offline.status.success(), "{stderr}");
        let report: serde_json::Value = serde_json::from_slice(&offline.stdout).unwrap();
        assert_eq!(report["entries"], 30);
        assert_eq!(report["key_pinned"], true);
        assert_eq!(report["checkpoints_verified"], 3);
        // Without --vkey it still verifies, and says the key was not pinned.
        let (_, stderr) = sqin.ok(&["ledger", "verify", "--export", &sqin.file("export.jsonl")]);
        assert!(stderr.contains("pin the published one"), "{stderr}");

        // The live ledger verifies against the checkpoint saved earlier.
        let (out, _) = sqin.ok(&[
            "ledger",
            "verify",
            "--checkpoint",
            &sqin.file("cp30.txt"),
            "--vkey",
            &ledger.vkey(),
        ]);
        let report: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(report["entries"], 30);
        assert_eq!(report["nodes_checked"], 2 * 30 - 4);

        // Purge: the old sign-ins' keys (four citizens) are due and go.
        let (out, _) = sqin.ok(&["ledger", "purge", "--dry-run"]);
        let due: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(due["due"]["sign_in"], 4);
        let (out, stderr) = sqin.ok(&["ledger", "purge", "--batch", "3"]);
        assert!(stderr.contains("destroyed 4 data keys"), "{stderr}");
        let report: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            report["entries"].as_array().unwrap().len(),
            2,
            "two batches, two log entries"
        );
        let (out, _) = sqin.ok(&["ledger", "purge", "--dry-run"]);
        assert!(out.contains("\"total\": 0"), "{out}");
        // Everything still verifies, against the old checkpoint too.
        sqin.ok(&["ledger", "checkpoint"]);
        let (out, _) = sqin.ok(&["ledger", "verify", "--checkpoint", &sqin.file("cp30.txt")]);
        let report: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(report["entries"], 32);

        // Tampering with an entry is named, on the database and in an export.
        let drop_trigger = match db.backend {
            Backend::Sqlite => "DROP TRIGGER ledger_entries_no_update",
            Backend::Postgres => "DROP TRIGGER ledger_entries_append_only ON ledger_entries",
        };
        sqin_store::testing::execute(store.pool(), drop_trigger).await;
        sqin_store::testing::execute(
            store.pool(),
            "UPDATE ledger_entries SET entry = entry || entry WHERE seq = 7",
        )
        .await;
        let err = sqin.fails(&["ledger", "verify"]);
        assert!(err.contains("entry 7 was edited"), "{err}");
        sqin.ok(&["ledger", "export", "-o", &sqin.file("bad.jsonl")]);
        let err = sqin.fails(&["ledger", "verify", "--export", &sqin.file("bad.jsonl")]);
        assert!(err.contains("entry 7 was edited"), "{err}");
        // A missing export file is a plain error.
        let err = sqin.fails(&["ledger", "verify", "--export", &sqin.file("nope.jsonl")]);
        assert!(err.contains("cannot open"), "{err}");
    }
);

both_backends!(
    async fn rotate_key_then_verify_with_the_old_pinned_key(db: TestDb) {
        let sqin = Sqin::new(&db);
        sqin.ok(&["ledger", "checkpoint"]);
        let store = db.open().await;
        let ledger = sqin.ledger(&store).await;
        let old = ledger.vkey();
        let mut conn = store.pool().acquire().await.unwrap();
        for i in 0..5 {
            append(
                &mut conn,
                &ledger,
                sign_in(&format!("c{i}")),
                sqin_app::Clock::now(&sqin_app::SystemClock),
            )
            .await
            .unwrap();
        }
        drop(conn);
        sqin.ok(&["ledger", "checkpoint"]);
        let (out, stderr) = sqin.ok(&["ledger", "rotate-key"]);
        let rotation: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(rotation["previous_vkey"], old.as_str());
        assert_eq!(rotation["entry"], 5);
        assert_eq!(rotation["checkpoint"]["tree_size"], 6);
        let new = rotation["vkey"].as_str().unwrap().to_owned();
        assert_ne!(new, old);
        assert!(stderr.contains(&new), "{stderr}");
        // The next checkpoint (another process) is signed with the new key.
        let (note, _) = sqin.ok(&["ledger", "checkpoint", "--force"]);
        let signed = sqin_ledger_service::core::SignedCheckpoint::parse(&note).unwrap();
        let verifier = sqin_ledger_service::core::EcdsaNoteVerifier::from_vkey(&new).unwrap();
        signed.verify("localhost:8080/ledger", &verifier).unwrap();
        // Reviewers pinning either key verify the database and an export.
        for pinned in [&old, &new] {
            let (out, _) = sqin.ok(&["ledger", "verify", "--vkey", pinned]);
            let report: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert_eq!(report["entries"], 6);
        }
        sqin.ok(&["ledger", "export", "-o", &sqin.file("rotated.jsonl")]);
        for pinned in [&old, &new] {
            let (out, _) = sqin.ok(&[
                "ledger",
                "verify",
                "--export",
                &sqin.file("rotated.jsonl"),
                "--vkey",
                pinned,
            ]);
            let report: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert_eq!(report["entries"], 6);
        }
    }
);

both_backends!(
    async fn governance_acts_of_a_period_are_exported_with_proofs_and_verify_offline(db: TestDb) {
        let sqin = Sqin::new(&db);
        sqin.ok(&["keys", "rotate"]);
        sqin.ok(&[
            "staff",
            "invite",
            "--name",
            "Paule Officer",
            "--role",
            "privacy-officer",
        ]);
        let report = sqin.file("governance.json");
        let (_, stderr) = sqin.ok(&["ledger", "export", "--kind", "governance", "-o", &report]);
        assert!(stderr.contains("governance entries"), "{stderr}");
        let store = db.open().await;
        let vkey = sqin.ledger(&store).await.vkey();
        // Offline: the file and the published key, nothing else.
        let out = Command::new(env!("CARGO_BIN_EXE_sqin"))
            .args(["ledger", "verify", "--governance", &report, "--vkey", &vkey])
            .env("SQIN_DATABASE_URL", "postgres://nowhere.invalid/none")
            .env_remove("SQIN_CONFIG")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let acts: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        let whats: Vec<&str> = acts
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["what"].as_str().unwrap())
            .collect();
        assert!(
            whats.contains(&"keys.rotated") && whats.contains(&"staff.invited"),
            "{whats:?}"
        );
        assert!(acts
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["actor"] == "operator"));
        // A period before anything happened lists nothing.
        let empty = sqin.file("empty.json");
        sqin.ok(&[
            "ledger",
            "export",
            "--kind",
            "governance",
            "--from",
            "2000-01-01",
            "--to",
            "2000-01-02",
            "-o",
            &empty,
        ]);
        let listed: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&empty).unwrap()).unwrap();
        assert_eq!(listed["entries"].as_array().unwrap().len(), 0);
        // Rewriting what an entry says breaks its proof.
        let text = std::fs::read_to_string(&report).unwrap();
        let tampered = sqin.file("tampered.json");
        std::fs::write(&tampered, text.replace("privacy-officer", "administrator")).unwrap();
        let err = sqin.fails(&[
            "ledger",
            "verify",
            "--governance",
            &tampered,
            "--vkey",
            &vkey,
        ]);
        assert!(err.contains("not in the checkpoint"), "{err}");
        // And a bad date is named.
        let err = sqin.fails(&[
            "ledger",
            "export",
            "--kind",
            "governance",
            "--from",
            "yesterday",
        ]);
        assert!(err.contains("--from \"yesterday\""), "{err}");
    }
);
