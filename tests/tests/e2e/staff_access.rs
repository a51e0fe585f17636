//! The staff plane, through the console as a member of staff uses it:
//! passkeys, roles from the PIA enforced on every route, look-ups only by
//! register id for a stated purpose and reference, the access on the record
//! (the citizen's history and an access register that outlives the
//! account), four eyes, the privacy officer's review with flags and the
//! look-up rate's alert, session and re-authentication limits.
use crate::staff_support::{location, member, StaffBrowser};

use sqin_ledger_service::LedgerEvent;
use sqin_tests::*;

/// What no refused page may contain.
const CITIZEN_VALUES: [&str; 4] = ["Aline", "Exemple", "1984-03-02", "10 rue de l"];

fn leaks(html: &str) -> Option<&'static str> {
    CITIZEN_VALUES.into_iter().find(|v| html.contains(v))
}

async fn lookup(
    staff: &StaffBrowser,
    register_id: &str,
    purpose: &str,
    reference: &str,
    verify: &[(&str, &str)],
) -> (u16, String) {
    let mut fields = vec![
        ("register_id", register_id),
        ("purpose", purpose),
        ("reference", reference),
    ];
    let names: Vec<String> = verify.iter().map(|(e, _)| format!("verify:{e}")).collect();
    for (name, (_, value)) in names.iter().zip(verify) {
        fields.push((name.as_str(), value));
    }
    let r = staff.form("/files", &fields).await;
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

both_backends!(
    async fn staff_see_what_their_role_allows_and_the_citizen_sees_them(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = server.add_citizen("R-1").await;
        let support = member(&server, "Sam Support", &["support"]).await;
        let officer = member(&server, "Paule Officer", &["privacy-officer"]).await;

        // Support: the names and status; the date of birth only checked,
        // never shown; no address.
        let (status, html) = lookup(
            &support,
            "R-1",
            "account-service",
            "T-2026-0042",
            &[("citizen.birthdate", "1984-03-02")],
        )
        .await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Aline") && html.contains("Exemple"), "{html}");
        assert!(
            !html.contains("1984-03-02"),
            "the date of birth is never shown to support"
        );
        assert!(!html.contains("10 rue de l"), "no address for support");
        assert!(html.contains("concorde"), "{html}");
        let (_, html) = lookup(
            &support,
            "R-1",
            "account-service",
            "T-2026-0043",
            &[("citizen.birthdate", "1990-01-01")],
        )
        .await;
        assert!(html.contains("ne concorde pas"), "{html}");
        // The privacy officer reads the date of birth and the address.
        let (status, html) = lookup(&officer, "R-1", "accountability", "AR-2026-117", &[]).await;
        assert_eq!(status, 200);
        assert!(
            html.contains("1984-03-02") && html.contains("10 rue de l"),
            "{html}"
        );

        // Refused, and nothing shown: no reference, prose for a reference, a
        // purpose of another role, a check the role may not make, a role
        // given as a parameter.
        for (purpose, reference, verify, why) in [
            ("account-service", "", vec![], "no reference"),
            (
                "account-service",
                "for a funding application",
                vec![],
                "prose",
            ),
            ("account-service", ".", vec![], "a dot"),
            (
                "accountability",
                "T-1",
                vec![],
                "the privacy officer's purpose",
            ),
            (
                "account-service",
                "T-1",
                vec![("citizen.address", "x")],
                "an address check",
            ),
        ] {
            let (status, html) = lookup(&support, "R-1", purpose, reference, &verify).await;
            assert!(status == 400 || status == 403, "{why}: {status}");
            assert_eq!(leaks(&html), None, "{why}");
        }
        let r = support
            .form(
                "/files",
                &[
                    ("register_id", "R-1"),
                    ("purpose", "accountability"),
                    ("reference", "T-9"),
                    ("role", "privacy-officer"),
                ],
            )
            .await;
        assert_eq!(r.status(), 400, "a role parameter changes nothing");
        assert_eq!(leaks(&r.text().await.unwrap()), None);

        // The citizen sees each look-up: badge, role, purpose, reference,
        // elements, never values.
        let history = ledger_history(&server, &citizen.id).await;
        let accesses: Vec<(String, String, Vec<String>, Option<String>)> = history
            .entries
            .iter()
            .filter_map(|e| match &e.details {
                Some(LedgerEvent::StaffAccess {
                    staff_id,
                    role,
                    seen,
                    reference,
                    ..
                }) => Some((
                    staff_id.clone(),
                    role.clone(),
                    seen.clone(),
                    reference.clone(),
                )),
                _ => None,
            })
            .collect();
        assert_eq!(accesses.len(), 3, "{accesses:?}");
        assert_eq!(accesses[0].0, support.badge);
        assert_eq!(accesses[0].1, "support");
        assert_eq!(accesses[0].3.as_deref(), Some("T-2026-0042"));
        assert!(accesses[0]
            .2
            .contains(&"citizen.birthdate (checked)".to_owned()));
        assert_eq!(accesses[2].1, "privacy-officer");
        // ... and on the page "Who looked at my file", in words.
        let cookie = server.sign_in(&citizen.id).await;
        let page = server
            .client()
            .get(server.url("/account/history/staff"))
            .header(reqwest::header::COOKIE, &cookie)
            .header(reqwest::header::ACCEPT_LANGUAGE, "en")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for shown in [
            support.badge.as_str(),
            "Support agent",
            "Opened your file",
            "Serve the citizen",
            "T-2026-0042",
            "Date of birth (checked, not shown)",
            "Privacy officer",
        ] {
            assert!(page.contains(shown), "{shown} missing from {page}");
        }
        assert_eq!(
            leaks(&page.replace("Aline", "")),
            None,
            "only the citizen's own name"
        );
        let text = serde_json::to_string(&history).unwrap();
        assert!(
            !text.contains("Aline") && !text.contains("1984-03-02"),
            "{text}"
        );
        server.stop().await;
    }
);

both_backends!(
    async fn every_role_is_refused_the_routes_it_may_not_use(db: TestDb) {
        let server = TestServer::start(db).await;
        server.add_citizen("R-1").await;
        let roles = [
            "support",
            "registrar",
            "privacy-officer",
            "administrator",
            "auditor",
        ];
        // What each route needs: its path, and the roles the PIA allows.
        let gets: [(&str, &[&str]); 8] = [
            ("/files", &["support", "registrar", "privacy-officer"]),
            ("/keys", &["administrator"]),
            ("/ledger", &["auditor"]),
            ("/staff", &["privacy-officer", "administrator"]),
            ("/review", &["privacy-officer"]),
            ("/complaints", &["privacy-officer"]),
            ("/letters", &["registrar"]),
            ("/complaints/open?id=20261123-ABCDEF", &["privacy-officer"]),
        ];
        for role in roles {
            let staff = member(&server, &format!("{role} member"), &[role]).await;
            let (status, html) = staff.page("/").await;
            assert_eq!(status, 200);
            assert!(html.contains(&staff.badge));
            for (path, allowed) in gets {
                let (status, html) = staff.page(path).await;
                if allowed.contains(&role) {
                    assert!(status == 200 || status == 404, "{role} {path}: {status}");
                } else {
                    assert_eq!(status, 403, "{role} {path}");
                    assert_eq!(leaks(&html), None, "{role} {path}");
                }
            }
            // Acting without the right is refused the same way, with
            // nothing about the citizen.
            let (status, html) = lookup(&staff, "R-1", "account-service", "T-77", &[]).await;
            let may_look = ["support", "registrar", "privacy-officer"].contains(&role);
            if !may_look {
                assert_eq!(status, 403, "{role} looked a file up");
                assert_eq!(leaks(&html), None, "{role}");
            }
            for (path, allowed) in [
                ("/keys/rotate", "administrator"),
                ("/ledger/verify", "auditor"),
            ] {
                let r = staff.form(path, &[]).await;
                if role != allowed {
                    assert_eq!(r.status(), 403, "{role} {path}");
                }
            }
            let r = staff.form("/letters/print", &[]).await;
            if role != "registrar" {
                assert!(
                    r.status() == 403 || r.status() == 401,
                    "{role}: {}",
                    r.status()
                );
            }
        }
        // Without a session: the sign-in page, nothing else.
        let stranger = StaffBrowser::open(&server).await;
        for (path, _) in gets {
            let r = stranger.get(path).await;
            assert_eq!(r.status(), 303, "{path}");
            assert_eq!(location(&r).as_deref(), Some("/login"));
        }
        server.stop().await;
    }
);

both_backends!(
    async fn a_lookup_survives_the_account_and_a_loop_over_register_ids_is_stopped(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = server.add_citizen("R-2").await;
        let support = member(&server, "Loop Agent", &["support"]).await;
        let mut officer = member(&server, "Review Officer", &["privacy-officer"]).await;
        let (status, _) = lookup(&support, "R-2", "account-service", "T-500", &[]).await;
        assert_eq!(status, 200);
        // The account is closed: its history is shredded, the access
        // register keeps the look-up, pseudonymously.
        sqin_app::account::close(&server.services, "R-2", server.now())
            .await
            .unwrap();
        let (status, html) = officer.page("/review?register_id=R-2").await;
        assert_eq!(status, 200);
        assert!(html.contains(&support.badge), "{html}");
        assert!(html.contains("T-500"), "{html}");
        assert!(!html.contains("R-2\u{3c}"), "no register id in the table");
        drop(citizen);

        // A loop over register ids: the 31st look-up in an hour is refused
        // and the privacy officer is alerted; a miss counts too.
        for i in 0..29 {
            let (status, _) = lookup(
                &support,
                &format!("R-{}", 100 + i),
                "account-service",
                "T-501",
                &[],
            )
            .await;
            assert!(status == 404 || status == 200, "{i}: {status}");
        }
        let (status, _) = lookup(&support, "R-999", "account-service", "T-501", &[]).await;
        assert_eq!(status, 429);
        let (_, html) = officer.page("/review?flagged=1").await;
        assert!(html.contains("data-flag=\"burst\""), "{html}");
        assert!(
            html.contains(&format!("{} reached", support.badge)),
            "{html}"
        );
        // Acknowledged, it leaves the list.
        officer.reauth().await;
        let id = html
            .split("name=\"id\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_owned();
        let r = officer
            .form("/review/alerts/acknowledge", &[("id", &id)])
            .await;
        assert_eq!(r.status(), 303);
        let (_, html) = officer.page("/review").await;
        assert!(!html.contains(&format!("{} reached", support.badge)));
        // The storage refuses to rewrite the register.
        let refused = sqin_store::testing::execute_checked(
            server.services.store.pool(),
            "DELETE FROM staff_access_log",
        )
        .await;
        assert!(refused.is_err());
        server.stop().await;
    }
);

both_backends!(
    async fn four_eyes_on_recovery_and_closure_and_the_code_goes_by_mail(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = server.add_citizen("R-3").await;
        let mut support = member(&server, "Asking Agent", &["support"]).await;
        let mut registrar = member(&server, "Approving Registrar", &["registrar"]).await;
        let mut other = member(&server, "Other Agent", &["support"]).await;

        // A sensitive request needs a fresh passkey confirmation.
        server.advance(6 * 60);
        let request = [
            ("kind", "recovery"),
            ("register_id", "R-3"),
            ("purpose", "account-service"),
            ("reference", "T-700"),
        ];
        // (the session is still alive: 6 minutes idle)
        let r = support.form("/requests", &request).await;
        assert_eq!(r.status(), 401, "stale re-authentication");
        support.reauth().await;
        let r = support.form("/requests", &request).await;
        assert_eq!(r.status(), 303);
        let (_, html) = support.page("/requests").await;
        assert!(html.contains("T-700"), "{html}");
        assert!(
            !html.contains("Aline"),
            "no citizen data on the requests page"
        );
        let id = request_id(&html);
        // The requester cannot approve it; neither can another agent.
        support.reauth().await;
        let r = support
            .form("/requests/decide", &[("id", &id), ("decision", "approve")])
            .await;
        assert!(r.status() == 400 || r.status() == 403, "{}", r.status());
        other.reauth().await;
        let r = other
            .form("/requests/decide", &[("id", &id), ("decision", "approve")])
            .await;
        assert_eq!(r.status(), 403);
        // The registrar approves: a letter is queued, no code on any screen.
        registrar.reauth().await;
        let r = registrar
            .form("/requests/decide", &[("id", &id), ("decision", "approve")])
            .await;
        assert_eq!(r.status(), 303);
        let body = registrar.get("/requests").await.text().await.unwrap();
        assert!(!body.contains("ABCD-"), "no code shown");
        let (_, letters) = registrar.page("/letters").await;
        assert!(letters.contains(": 1."), "{letters}");
        let r = registrar.form("/letters/print", &[]).await;
        assert_eq!(r.status(), 200);
        let csv = r.text().await.unwrap();
        assert!(csv.starts_with("register_id,given_name"), "{csv}");
        assert!(csv.contains("R-3,Aline,Exemple"), "{csv}");

        // A closure on the citizen's request: requested, then approved by
        // the registrar; the account is gone.
        support.reauth().await;
        let r = support
            .form(
                "/requests",
                &[
                    ("kind", "closure"),
                    ("register_id", "R-3"),
                    ("purpose", "account-service"),
                    ("reference", "LETTER-2026-31"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let (_, html) = registrar.page("/requests").await;
        let id = request_id(&html);
        let r = registrar
            .form("/requests/decide", &[("id", &id), ("decision", "approve")])
            .await;
        assert_eq!(r.status(), 303);
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        assert!(
            sqin_store::citizens::by_id(&mut conn, &server.services.register, &citizen.id)
                .await
                .unwrap()
                .is_none()
        );
        server.stop().await;
    }
);

pub(crate) fn request_id(html: &str) -> String {
    html.split("data-request=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no request in {html}"))
        .to_owned()
}

both_backends!(
    async fn grants_need_a_second_person_and_sessions_end(db: TestDb) {
        let server = TestServer::start(db).await;
        let mut po = member(&server, "First Officer", &["privacy-officer"]).await;
        let mut admin = member(&server, "Admin Person", &["administrator"]).await;
        po.reauth().await;
        let until = time::OffsetDateTime::from_unix_timestamp(server.now() + 100 * 86_400)
            .unwrap()
            .date()
            .to_string();
        let r = po
            .form(
                "/staff/invite",
                &[
                    ("name", "Too Long"),
                    ("role", "support"),
                    ("reason", "a grant for ever"),
                    ("until", "2099-01-01"),
                ],
            )
            .await;
        assert_eq!(r.status(), 400, "every grant ends within a year");
        let r = po
            .form(
                "/staff/invite",
                &[
                    ("name", "New Agent"),
                    ("role", "support"),
                    ("reason", "hired for the phone line"),
                    ("until", &until),
                ],
            )
            .await;
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        let code = html
            .split("id=\"invitation-code\">")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .unwrap()
            .to_owned();
        // The new member enrols, but holds no role until someone else
        // approves: the inviter cannot.
        let mut agent = StaffBrowser::open(&server).await;
        let (status, body) = agent.enrol(&code).await;
        assert_eq!(status, 200, "{code}: {body}");
        let (status, _) = agent.page("/files").await;
        assert_eq!(status, 403);
        let (_, html) = po.page("/requests").await;
        let id = request_id(&html);
        let r = po
            .form("/requests/decide", &[("id", &id), ("decision", "approve")])
            .await;
        assert!(r.status() == 400 || r.status() == 403);
        admin.reauth().await;
        let r = admin
            .form("/requests/decide", &[("id", &id), ("decision", "approve")])
            .await;
        assert_eq!(r.status(), 303);
        let (status, _) = agent.page("/files").await;
        assert_eq!(status, 200, "the grant took effect");
        // The invitation and the grant are public governance entries.
        let export = verify_ledger(&server).await;
        assert!(export.entries > 0);
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let kinds = sqin_store::ledger::entries_of_kind(&mut conn, "governance")
            .await
            .unwrap();
        let text: Vec<String> = kinds
            .iter()
            .map(|e| String::from_utf8_lossy(&e.entry).into_owned())
            .collect();
        assert!(text.iter().any(|t| t.contains("staff.invited")), "{text:?}");
        assert!(text.iter().any(|t| t.contains("role.granted")), "{text:?}");
        drop(conn);
        // An invitation code works once.
        let mut again = StaffBrowser::open(&server).await;
        let (status, _) = again.enrol(&code).await;
        assert_eq!(status, 400);

        // Sessions end after 15 idle minutes.
        server.advance(16 * 60);
        let r = agent.get("/files").await;
        assert_eq!(r.status(), 303, "idle session ended");
        let (status, _) = agent.sign_in().await;
        assert_eq!(status, 200);
        let (status, _) = agent.page("/files").await;
        assert_eq!(status, 200);
        server.stop().await;
    }
);

both_backends!(
    async fn the_administrator_and_the_auditor_work_without_seeing_a_citizen(db: TestDb) {
        let server = TestServer::start(db).await;
        server.add_citizen("R-1").await;
        let support = member(&server, "Agent", &["support"]).await;
        let (status, _) = lookup(&support, "R-1", "account-service", "T-1", &[]).await;
        assert_eq!(status, 200);
        let mut admin = member(&server, "Admin", &["administrator"]).await;
        let auditor = member(&server, "Auditor", &["auditor"]).await;

        // Key rotation: a sensitive action, then on the record by badge.
        let (status, html) = admin.page("/keys").await;
        assert_eq!(status, 200);
        assert!(html.contains("current") && html.contains("next"), "{html}");
        let before = server.services.key_ring().signing_key().kid().to_owned();
        server.advance(6 * 60);
        let r = admin.form("/keys/rotate", &[]).await;
        assert_eq!(r.status(), 401, "stale re-authentication");
        admin.reauth().await;
        let r = admin.form("/keys/rotate", &[]).await;
        assert_eq!(r.status(), 303);
        let after = server.services.key_ring().signing_key().kid().to_owned();
        assert_ne!(before, after, "this node signs with the new key at once");
        let (_, html) = admin.page(&location(&r).unwrap()).await;
        assert!(html.contains(&after), "{html}");

        // The auditor: counts that name no one, and a verification that is
        // itself recorded.
        let (status, html) = auditor.page("/ledger").await;
        assert_eq!(status, 200);
        assert!(
            html.contains("staff_access") || html.contains("governance"),
            "{html}"
        );
        assert!(html.contains("file.lookup"), "{html}");
        assert_eq!(leaks(&html), None);
        assert!(
            !html.contains(&support.badge),
            "no staff named in aggregates"
        );
        let vkey = server.services.ledger.vkey();
        let r = auditor
            .form("/ledger/verify", &[("vkey", &vkey), ("checkpoints", "")])
            .await;
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"verified\""), "{html}");
        // A wrong key is an answer on the page, not a server error.
        let other = "sqin.example+00000000+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let r = auditor
            .form("/ledger/verify", &[("vkey", other), ("checkpoints", "")])
            .await;
        let status = r.status();
        let html = r.text().await.unwrap();
        assert!(
            (status == 200 && html.contains("id=\"verify-failed\"")) || status == 400,
            "{status}: {html}"
        );

        sqin_ledger_service::sequence(
            &mut server.services.store.pool().acquire().await.unwrap(),
            &server.services.ledger,
        )
        .await
        .unwrap();
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let entries = sqin_store::ledger::entries_of_kind(&mut conn, "governance")
            .await
            .unwrap();
        drop(conn);
        let text: Vec<String> = entries
            .iter()
            .map(|e| String::from_utf8_lossy(&e.entry).into_owned())
            .collect();
        let by = |badge: &str, what: &str| {
            text.iter()
                .any(|t| t.contains(&format!("\"{badge}\"")) && t.contains(what))
        };
        assert!(by(&admin.badge, "keys.rotated"), "{text:?}");
        assert!(by(&auditor.badge, "ledger.verified"), "{text:?}");
        server.stop().await;
    }
);
