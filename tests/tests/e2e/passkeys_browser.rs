//! One citizen, end to end, in a real browser: headless Chromium with a
//! virtual authenticator (DevTools protocol `WebAuthn.addVirtualAuthenticator`,
//! CTAP2, internal transport, resident keys, user verification) enrols with a
//! mailed code, registers a passkey, and signs in. The browser is driven by
//! `tests/browser/enrol_and_sign_in.mjs` (playwright-core, `npm ci` in
//! tests/browser, never a downloaded browser: Debian's /usr/bin/chromium).
//!
//! Reported as ignored, with the reason, when Chromium or node is missing
//! (the npm packages are installed with `npm ci` when npm can reach its
//! registry), unless `SQIN_REQUIRE_BROWSER=1` (CI sets it), which makes that a
//! failure. Screenshots go to a temporary directory, or to `SQIN_SCREENSHOTS`
//! when set (`SQIN_SCREENSHOTS=docs/screenshots` refreshes the documented ones).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::passkeys_support;

use std::process::Command;

use passkeys_support::add_citizen;
use sqin_tests::{repo_root, TestDb, TestServer};

sqin_store::needs_test!(
    needs = sqin_tests::chromium_ready,
    async fn a_citizen_enrols_and_signs_in_with_a_passkey_in_chromium() {
        let chromium = sqin_tests::chromium();
        let server = TestServer::start(TestDb::sqlite().await).await;
        let citizen = add_citizen(&server, "DEMO-0042", "1984-03-02").await;
        let shots = sqin_tests::screenshots_dir("sqin-shots");
        let script = repo_root().join("tests/browser/enrol_and_sign_in.mjs");
        let issuer = server.issuer.clone();
        let code = citizen.code.clone();
        let output = tokio::task::spawn_blocking(move || {
            Command::new("node")
                .arg(script)
                .current_dir(repo_root().join("tests/browser"))
                .env("SQIN_BASE", issuer)
                .env("SQIN_CODE", code)
                .env("SQIN_BIRTHDATE", "1984-03-02")
                .env("SQIN_REGISTER_ID", "DEMO-0042")
                .env("SQIN_SHOTS", &shots)
                .env("CHROMIUM", chromium)
                .output()
        })
        .await
        .unwrap()
        .expect("node runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && stdout.contains("PASS enrol_and_sign_in"),
            "the browser test failed ({}):\n{stdout}\n{stderr}",
            output.status
        );
        // What the browser did is in the database too.
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let kinds: Vec<String> =
            sqin_store::security_events::recent(&mut conn, &citizen.id, None, 10)
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.kind)
                .rev()
                .collect();
        assert_eq!(
            kinds,
            vec!["code_refused", "enrolled", "sign_in", "sign_in", "sign_in"]
        );
        drop(conn);
        server.stop().await;
    }
);
