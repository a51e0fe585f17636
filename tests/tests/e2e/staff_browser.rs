//! The staff plane end to end, in a real browser: headless Chromium with a
//! virtual authenticator per person (DevTools protocol
//! `WebAuthn.addVirtualAuthenticator`, CTAP2, internal transport, resident
//! keys, user verification). A privacy officer and an administrator invited
//! by the CLI's code path (`bootstrap_invite`) enrol their staff passkeys;
//! the officer invites a support agent; the administrator, refused while
//! his passkey confirmation is stale, confirms with the console's button and
//! approves the grant; the agent opens a citizen's file for a purpose and a
//! ticket; the citizen sees the look-up in "Who looked at my file". The browser is driven by `tests/browser/staff.mjs` (playwright-core
//! and Debian's /usr/bin/chromium, as in `passkeys_browser`); this side
//! starts the server, moves its clock when the script asks, and checks the
//! record the look-up left in the staff access register and the ledger.
//!
//! Reported as ignored, with the reason, when Chromium or node is missing,
//! unless `SQIN_REQUIRE_BROWSER=1`. Screenshots go to a temporary directory,
//! or to `SQIN_SCREENSHOTS` when set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

use sqin_app::staff::directory::bootstrap_invite;
use sqin_ledger_service::LedgerEvent;
use sqin_tests::{ledger_history, repo_root, TestDb, TestServer};

use crate::passkeys_support::add_citizen;

const REGISTER_ID: &str = "DEMO-0101";
const BIRTHDATE: &str = "1984-03-02";
const REFERENCE: &str = "T-2026-0101";

/// What the script printed and whether it succeeded; `ADVANCE <secs>` lines
/// move the server's clock and are answered on its stdin.
struct Run {
    success: bool,
    status: String,
    stdout: String,
    stderr: String,
}

fn run_script(mut command: Command, clock: std::sync::Arc<sqin_app::clock::ManualClock>) -> Run {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs");
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut out = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap_or_default();
        if let Some(secs) = line.strip_prefix("ADVANCE ") {
            let secs: i64 = secs.trim().parse().expect("ADVANCE <seconds>");
            clock.advance(secs);
            // The script may have failed meanwhile: a closed pipe is its
            // exit status's business.
            let _ = writeln!(stdin, "advanced {secs}").and_then(|()| stdin.flush());
        }
        out.push_str(&line);
        out.push('\n');
    }
    drop(stdin);
    let status = child.wait().expect("node ends");
    Run {
        success: status.success(),
        status: status.to_string(),
        stdout: out,
        stderr: errors.join().unwrap_or_default(),
    }
}

sqin_store::needs_test!(
    needs = sqin_tests::chromium_ready,
    async fn a_support_agent_invited_and_approved_in_the_console_looks_a_citizen_up_and_the_citizen_sees_it(
    ) {
        let chromium = sqin_tests::chromium();
        let server = TestServer::start(TestDb::sqlite().await).await;
        // The operator's bootstrap, as `sqin staff invite` runs it: the
        // first privacy officer, then the first administrator.
        let officer = bootstrap_invite(
            &server.services,
            "Paule Officer",
            "privacy-officer",
            "first privacy officer",
        )
        .await
        .unwrap();
        let admin = bootstrap_invite(
            &server.services,
            "Alex Admin",
            "administrator",
            "first administrator",
        )
        .await
        .unwrap();
        let citizen = add_citizen(&server, REGISTER_ID, BIRTHDATE).await;
        let until = time::OffsetDateTime::from_unix_timestamp(server.now() + 100 * 86_400)
            .unwrap()
            .date()
            .to_string();
        let shots = sqin_tests::screenshots_dir("sqin-staff-shots");
        let mut command = Command::new("node");
        command
            .arg(repo_root().join("tests/browser/staff.mjs"))
            .current_dir(repo_root().join("tests/browser"))
            .env("SQIN_BASE", &server.issuer)
            .env("SQIN_STAFF", &server.staff_url)
            .env("SQIN_PO_CODE", officer.code.expose())
            .env("SQIN_PO_BADGE", &officer.member.badge)
            .env("SQIN_ADMIN_CODE", admin.code.expose())
            .env("SQIN_ADMIN_BADGE", &admin.member.badge)
            .env("SQIN_CODE", &citizen.code)
            .env("SQIN_BIRTHDATE", BIRTHDATE)
            .env("SQIN_REGISTER_ID", REGISTER_ID)
            .env("SQIN_UNTIL", &until)
            .env("SQIN_SHOTS", &shots)
            .env("CHROMIUM", chromium);
        let clock = server.clock.clone();
        let run = tokio::task::spawn_blocking(move || run_script(command, clock))
            .await
            .unwrap();
        assert!(
            run.success && run.stdout.contains("PASS staff"),
            "the browser test failed ({}):\n{}\n{}",
            run.status,
            run.stdout,
            run.stderr
        );

        // The agent the officer invited, approved by the administrator.
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let agent = sqin_store::staff::members(&mut conn)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.display_name == "Sam Support")
            .expect("the invited agent");
        assert_eq!(agent.created_by, officer.member.badge);
        let grants = sqin_store::staff::live_grants(&mut conn, &agent.id, server.now())
            .await
            .unwrap();
        assert_eq!(grants.len(), 1, "{grants:?}");
        assert_eq!(grants[0].role, "support");
        assert_eq!(grants[0].requested_by, officer.member.badge);
        assert_eq!(grants[0].approved_by, admin.member.badge);

        // One look-up in the access register, by the agent's badge, for that
        // citizen (the register knows them by a pseudonym only).
        let of_the_file = sqin_store::staff_access::AccessFilter {
            citizen_ref: Some(sqin_app::staff::citizen_ref(&server.services, REGISTER_ID)),
            ..Default::default()
        };
        let lookups = sqin_store::staff_access::list(&mut conn, &of_the_file, 100)
            .await
            .unwrap();
        assert_eq!(lookups.len(), 1, "{lookups:?}");
        let lookup = &lookups[0];
        assert_eq!(lookup.action, "file.lookup");
        assert_eq!(lookup.staff_id, agent.id);
        assert_eq!(lookup.badge, agent.badge);
        assert_eq!(lookup.role, "support");
        assert_eq!(lookup.purpose, "account-service");
        assert_eq!(lookup.reference, REFERENCE);
        let everything = sqin_store::staff_access::list(&mut conn, &Default::default(), 100)
            .await
            .unwrap();
        assert_eq!(
            everything.len(),
            1,
            "nobody else opened a file: {everything:?}"
        );
        assert!(
            lookup
                .elements
                .contains(&"citizen.birthdate (checked)".to_owned()),
            "{:?}",
            lookup.elements
        );
        drop(conn);

        // And the same look-up in the citizen's ledger history.
        let history = ledger_history(&server, &citizen.id).await;
        let accesses: Vec<_> = history
            .entries
            .iter()
            .filter_map(|e| match &e.details {
                Some(LedgerEvent::StaffAccess {
                    staff_id,
                    role,
                    purpose,
                    reference,
                    ..
                }) => Some((
                    staff_id.clone(),
                    role.clone(),
                    purpose.clone(),
                    reference.clone(),
                )),
                _ => None,
            })
            .collect();
        assert_eq!(
            accesses,
            vec![(
                agent.badge.clone(),
                "support".to_owned(),
                "account-service".to_owned(),
                Some(REFERENCE.to_owned())
            )]
        );
        server.stop().await;
    }
);
