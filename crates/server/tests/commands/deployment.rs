//! `sqin serve` refuses to start while the confidentiality policy would
//! show citizens a placeholder, naming each missing `[deployment]` setting,
//! before it touches the database; `sqin config` says the same as a
//! warning. [`write_config`] gives the other tests that serve a complete
//! deployment.
use std::path::Path;
use std::process::Command;

/// A complete `[deployment]` table (a fictitious body).
pub const DEPLOYMENT: &str = r#"
[deployment]
site_name = { fr = "Identité Québec", en = "Québec Identity" }
governance_url = "https://emploi.gouv.example/gouvernance"
alternatives = { fr = "dans un bureau de l'emploi", en = "at an employment office" }
minors = { fr = "le parent présente l'acte de naissance au bureau", en = "the parent shows the birth certificate at the office" }

[deployment.public_body]
name = { fr = "Ministère de l'Emploi", en = "Ministry of Employment" }

[deployment.register]
name = { fr = "Registre des prestataires", en = "Register of recipients" }
holder = { fr = "Direction du registre", en = "Register Office" }

[deployment.privacy_officer]
name = "Dominique Tremblay"
title = { fr = "Responsable de la protection des renseignements personnels", en = "Privacy officer" }
address = "425, rue Jacques-Parizeau, Québec (Québec) G1R 4Z1"
email = "prp@emploi.gouv.example"
phone = "418 555-0199"

[deployment.policy]
effective = "2027-03-01"
version = "1.0"

[deployment.contacts]
support = { fr = "418 555-0198, en semaine", en = "418 555-0198, on weekdays" }
complaints_email = "plaintes@emploi.gouv.example"
complaints_address = "C.P. 1200, Québec (Québec) G1K 7L6"
commission = "www.cai.gouv.qc.ca"

[[deployment.suppliers]]
name = "Hébergeur inc."
service = { fr = "hébergement", en = "hosting" }
location = "Québec"
"#;

/// Writes `dir/sqin.toml` with [`DEPLOYMENT`] (and nothing else: the tests
/// set the rest with `SQIN_*`), the file `sqin` reads from its working
/// directory.
pub fn write_config(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("sqin.toml"), DEPLOYMENT).unwrap();
}

sqin_store::sync_test!(
    fn serve_refuses_a_policy_with_placeholders_and_names_each_missing_setting() {
        let dir = std::env::temp_dir().join(format!("sqin-deploy-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let sqin = |args: &[&str]| {
            Command::new(env!("CARGO_BIN_EXE_sqin"))
                .args(args)
                .current_dir(&dir)
                .env_remove("SQIN_CONFIG")
                .env("SQIN_DATA_DIR", dir.join("var"))
                .env(
                    "SQIN_DATABASE_URL",
                    format!("sqlite://{}/sqin.db?mode=rwc", dir.display()),
                )
                .env("SQIN_LISTEN", "127.0.0.1:0")
                .env("SQIN_STAFF_LISTEN", "127.0.0.1:0")
                .output()
                .unwrap()
        };
        // Nothing configured: every setting the policy uses is named.
        let out = sqin(&["serve"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "serve should refuse: {err}");
        for key in [
            "`deployment`",
            "`deployment.public_body.name`",
            "`deployment.privacy_officer.email`",
            "`deployment.suppliers`",
            "`deployment.site_name`",
            "docs/operations.md",
        ] {
            assert!(err.contains(key), "{key}: {err}");
        }
        assert!(!dir.join("sqin.db").exists(), "refused before the database");

        // One setting removed, one given in English only: those are named,
        // and only those.
        let partial = DEPLOYMENT
            .replace("email = \"prp@emploi.gouv.example\"\n", "")
            .replace(
                "name = { fr = \"Ministère de l'Emploi\", en = \"Ministry of Employment\" }",
                "name = { fr = \"\", en = \"Ministry of Employment\" }",
            );
        std::fs::write(dir.join("sqin.toml"), &partial).unwrap();
        let out = sqin(&["serve"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{err}");
        assert!(
            err.contains(
                "set: `deployment.privacy_officer.email`, `deployment.public_body.name` (fr) (see"
            ),
            "{err}"
        );
        assert!(!dir.join("sqin.db").exists());

        // `sqin config` shows the configuration and warns the same way.
        let out = sqin(&["config"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert!(
            err.contains("warning") && err.contains("`deployment.privacy_officer.email`"),
            "{err}"
        );
        let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            shown["deployment"]["register"]["name"]["en"],
            "Register of recipients"
        );

        // A malformed value is a configuration error, by key.
        std::fs::write(
            dir.join("sqin.toml"),
            DEPLOYMENT.replace("2027-03-01", "1 March 2027"),
        )
        .unwrap();
        let out = sqin(&["config"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains("`deployment.policy.effective`"),
            "{err}"
        );

        // Complete: `sqin config` has nothing to warn about (serving it is
        // what the other tests that start `sqin serve` do).
        write_config(&dir);
        let out = sqin(&["config"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && !err.contains("warning"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
);
