//! `sqin serve` refuses to start with an expired security.txt and names
//! the key; the other commands (and a current one) are not held back.
use std::process::Command;

sqin_store::sync_test!(
    fn serve_refuses_an_expired_security_txt_and_names_the_key() {
        let dir = std::env::temp_dir().join(format!("sqin-sectxt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sqin = |expires: &str, args: &[&str]| {
            Command::new(env!("CARGO_BIN_EXE_sqin"))
                .args(args)
                .current_dir(&dir)
                .env_remove("SQIN_CONFIG")
                .env("SQIN_DATA_DIR", &dir)
                .env(
                    "SQIN_DATABASE_URL",
                    format!("sqlite://{}/sqin.db?mode=rwc", dir.display()),
                )
                .env("SQIN_LISTEN", "127.0.0.1:0")
                .env("SQIN_STAFF_LISTEN", "127.0.0.1:0")
                .env(
                    "SQIN_SECURITY_CONTACT",
                    r#"["mailto:security@gouv.example"]"#,
                )
                .env("SQIN_SECURITY_EXPIRES", expires)
                .output()
                .unwrap()
        };
        let out = sqin("2020-01-01T00:00:00Z", &["serve"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "serve should refuse: {err}");
        assert!(
            err.contains("`security_expires`") && err.contains("expired"),
            "{err}"
        );
        // The configuration itself is valid: only serving it is refused.
        let out = sqin("2020-01-01T00:00:00Z", &["config"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = sqin("not a date", &["config"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains("security_expires"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
);
