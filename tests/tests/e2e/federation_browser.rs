//! Federation end to end in headless Chromium with a virtual authenticator
//! (`tests/browser/federation.mjs`): enrol a passkey, sign in to the Family
//! portal and see only its claims, open the revenue office without a new
//! login and see another `sub`, sign out of one and be signed out of both.
//! sqin is served as `http://localhost:PORT` (a WebAuthn RP ID cannot be an
//! IP address); the revenue office as `http://127.0.0.1:PORT`, another sector.
//!
//! Skipped, with a note on stderr, when Chromium, node or the npm packages are
//! missing, unless `SQIN_REQUIRE_BROWSER=1` (CI sets it). Screenshots go to a
//! temporary directory, or to `SQIN_SCREENSHOTS` when set
//! (`SQIN_SCREENSHOTS=docs/screenshots` refreshes the documented ones).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::federation_support;
use crate::passkeys_support;

use std::process::Command;

use federation_support::start_ministries;
use passkeys_support::add_citizen;
use sqin_tests::{repo_root, TestDb, TestServer};

sqin_store::needs_test!(
    needs = sqin_tests::chromium_ready,
    async fn a_citizen_signs_in_to_two_ministries_and_out_of_both_in_chromium() {
        let chromium = sqin_tests::chromium();
        let server = TestServer::start(TestDb::sqlite().await).await;
        let citizen = add_citizen(&server, "DEMO-0043", "1984-03-02").await;
        let m = start_ministries(&server).await;
        let shots = sqin_tests::screenshots_dir("sqin-fed-shots");
        let script = repo_root().join("tests/browser/federation.mjs");
        let (issuer, family, revenue) = (
            server.issuer.clone(),
            m.family.base.clone(),
            m.revenue.base.clone(),
        );
        let code = citizen.code.clone();
        let output = tokio::task::spawn_blocking(move || {
            Command::new("node")
                .arg(script)
                .current_dir(repo_root().join("tests/browser"))
                .env("SQIN_BASE", issuer)
                .env("FAMILY_BASE", family)
                .env("REVENUE_BASE", revenue)
                .env("SQIN_CODE", code)
                .env("SQIN_BIRTHDATE", "1984-03-02")
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
            output.status.success() && stdout.contains("PASS federation"),
            "the federation browser test failed ({}):\n{stdout}\n{stderr}",
            output.status
        );
        // Neither sub is the internal id.
        let subs = stdout
            .lines()
            .find_map(|l| l.split_once("SUBS ").map(|(_, s)| s.to_owned()))
            .unwrap();
        assert!(!subs.contains(&citizen.id));
        assert!(!m.revenue.portal.backchannel_log().is_empty());
        server.stop().await;
    }
);
