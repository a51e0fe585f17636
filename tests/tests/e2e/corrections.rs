//! A signed-in citizen asks from their account page that an element of
//! their file be corrected (CSRF, bounded text, only what the register holds
//! and the PIA lists); the request gets a reference and a due date (20 days,
//! s. 98) and is routed to the registrar, who finds it in the staff
//! console's queue (no text there), opens the file for the `correction`
//! purpose (recorded in the access register and the citizen's history),
//! checks the stored value against the source register without seeing it,
//! and answers: corrected (the sealed record changes) or refused with
//! reasons. The citizen follows each step on their account page, in "Who
//! looked at my file" and in their ledger.
use crate::passkeys_support::enrolled;
use crate::staff_support::{location, member};

use sqin_ledger_service::LedgerEvent;
use sqin_tests::{both_backends, ledger_history, TestServer};

/// The steps the citizen's ledger records for the request `reference`:
/// (kind, step or action, purpose, outcome).
fn steps(history: &sqin_ledger_service::history::CitizenHistory, reference: &str) -> Vec<String> {
    history
        .entries
        .iter()
        .filter_map(|e| match &e.details {
            Some(LedgerEvent::RightsRequest {
                reference: r,
                step,
                outcome,
                right,
                element,
                routed_to,
                ..
            }) if r == reference => {
                assert_eq!(right, "correction");
                assert_eq!(routed_to.as_deref(), Some("registrar"));
                assert!(element.is_some());
                Some(format!(
                    "request {step}{}",
                    outcome
                        .as_deref()
                        .map(|o| format!(" {o}"))
                        .unwrap_or_default()
                ))
            }
            Some(LedgerEvent::StaffAccess {
                reference: Some(r),
                action,
                purpose,
                role,
                ..
            }) if r == reference => {
                assert_eq!(purpose, "correction");
                assert_eq!(role, "registrar");
                Some(format!("staff {}", action.as_deref().unwrap_or("")))
            }
            _ => None,
        })
        .collect()
}

both_backends!(
    async fn a_correction_request_goes_to_the_registrar_and_back(db: TestDb) {
        let server = TestServer::start(db).await;
        let (citizen, browser, _) = enrolled(&server, "R-700").await;
        let (_, account) = browser.account().await;
        assert!(
            account.contains("href=\"/account/corrections\""),
            "{account}"
        );

        // The page offers the register's fields with their value, not the
        // register id, the internal id or the account state.
        let r = browser.get("/account/corrections").await;
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("Demander une rectification"), "{html}");
        assert!(html.contains("value=\"citizen.family_name\""), "{html}");
        assert!(html.contains("Exemple"), "{html}");
        for absent in [
            "citizen.register_id",
            "citizen.status",
            "value=\"citizen.id\"",
        ] {
            assert!(!html.contains(absent), "{absent} offered: {html}");
        }

        // Bad input: a clear page, in French, nothing stored.
        let long = "x".repeat(2001);
        for (element, details) in [
            ("citizen.family_name", "   "),
            ("citizen.family_name", long.as_str()),
            ("citizen.register_id", "mon numéro est faux"),
            ("", "quelque chose"),
        ] {
            let r = browser
                .form(
                    "/account/corrections",
                    &[("element", element), ("details", details)],
                )
                .await;
            assert_eq!(r.status(), 400, "{element:?} {}", details.len());
            let html = r.text().await.unwrap();
            assert!(html.contains("role=\"alert\""), "{html}");
            assert!(html.contains("au plus 2000 caractères"), "{html}");
        }
        // Without the CSRF token: the error page, nothing stored.
        let r = browser
            .http
            .post(format!("{}/account/corrections", server.base))
            .form(&[("element", "citizen.family_name"), ("details", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert!(r.text().await.unwrap().contains("role=\"alert\""));
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        assert!(sqin_store::corrections::for_citizen(&mut conn, &citizen.id)
            .await
            .unwrap()
            .is_empty());
        drop(conn);

        // The request: a reference, a due date, routed to the registrar.
        let r = browser
            .form(
                "/account/corrections",
                &[
                    ("element", "citizen.family_name"),
                    (
                        "details",
                        "Mon nom de famille s'écrit Exemplaire, pas Exemple.",
                    ),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let to = location(&r).unwrap();
        let reference = to
            .strip_prefix("/account/corrections?asked=")
            .unwrap()
            .to_owned();
        assert!(reference.starts_with("CR-"), "{reference}");
        let html = browser.get(&to).await.text().await.unwrap();
        assert!(html.contains(&format!("référence {reference}")), "{html}");
        assert!(html.contains("rôle Préposé au registre"), "{html}");
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let stored = sqin_store::corrections::get(&mut conn, &reference)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.answer_due - stored.received_at, 20 * 86_400);
        assert_eq!(stored.routed_to, "registrar");
        drop(conn);

        // Another role does not see the queue.
        let support = member(&server, "Sam Support", &["support"]).await;
        let (status, _) = support.page("/corrections").await;
        assert_eq!(status, 403);

        // The registrar's queue: the reference and the element, no text.
        let mut registrar = member(&server, "Rita Registrar", &["registrar"]).await;
        let (status, home) = registrar.page("/").await;
        assert_eq!(status, 200);
        assert!(home.contains("href=\"/corrections\""), "{home}");
        let (status, queue) = registrar.page("/corrections").await;
        assert_eq!(status, 200, "{queue}");
        assert!(queue.contains(&reference), "{queue}");
        assert!(!queue.contains("Exemplaire"), "the queue shows no text");
        let (status, summary) = registrar
            .page(&format!("/corrections/open?id={reference}"))
            .await;
        assert_eq!(status, 200, "{summary}");
        assert!(!summary.contains("Exemplaire"), "{summary}");
        let (status, _) = registrar.page("/corrections/open?id=CR-NOPE-1").await;
        assert_eq!(status, 404);

        // Answering before the file is opened for the request is refused.
        registrar.reauth().await;
        let r = registrar
            .form(
                "/corrections/answer",
                &[
                    ("id", &reference),
                    ("decision", "corrected"),
                    ("value", "Exemplaire"),
                    ("text", "Rectifié."),
                ],
            )
            .await;
        assert_eq!(r.status(), 400);

        // Opened for the correction purpose, with the source register's
        // value checked: it does not match what the file holds.
        let r = registrar
            .form(
                "/corrections/open",
                &[("id", &reference), ("stated", "Exemplaire")],
            )
            .await;
        assert_eq!(r.status(), 200);
        let opened = r.text().await.unwrap();
        assert!(opened.contains("Exemplaire, pas Exemple."), "{opened}");
        assert!(opened.contains("ne concorde pas"), "{opened}");
        assert!(
            !opened.contains(">Exemple<"),
            "the name is checked, not shown: {opened}"
        );

        // Corrected: a value the import would refuse is refused.
        let r = registrar
            .form(
                "/corrections/answer",
                &[
                    ("id", &reference),
                    ("decision", "corrected"),
                    ("value", "  "),
                    ("text", "Rectifié."),
                ],
            )
            .await;
        assert_eq!(r.status(), 400);
        let answer = "Votre nom de famille est rectifié selon le registre de l’état civil.";
        let r = registrar
            .form(
                "/corrections/answer",
                &[
                    ("id", &reference),
                    ("decision", "corrected"),
                    ("value", "Exemplaire"),
                    ("text", answer),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let r = registrar
            .form(
                "/corrections/answer",
                &[("id", &reference), ("decision", "refused"), ("text", "x")],
            )
            .await;
        assert_eq!(r.status(), 409, "already answered");
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let file = sqin_store::citizens::by_id(&mut conn, &server.services.register, &citizen.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(file.family_name, "Exemplaire");
        assert_eq!(file.given_name, "Camille");
        drop(conn);

        // The citizen: status and answer on the account page and the
        // corrections page, each step with its ledger entry.
        let (_, account) = browser.account().await;
        assert!(account.contains(&reference), "{account}");
        assert!(account.contains(answer), "{account}");
        let html = browser
            .get("/account/corrections")
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("rectifié le"), "{html}");
        assert!(html.contains(answer), "{html}");
        assert!(html.contains("Vous avez fait la demande"), "{html}");
        assert!(
            html.contains(&format!(
                "{} (Préposé au registre) a ouvert votre dossier",
                registrar.badge
            )),
            "{html}"
        );
        assert!(html.contains("Décision : rectifié"), "{html}");
        let staff_page = browser
            .get("/account/history/staff")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            staff_page.contains("Rectification de votre dossier"),
            "{staff_page}"
        );
        assert!(
            staff_page.contains("A répondu à votre demande de rectification"),
            "{staff_page}"
        );
        assert!(staff_page.contains(&reference), "{staff_page}");
        let history = ledger_history(&server, &citizen.id).await;
        assert_eq!(
            steps(&history, &reference),
            vec![
                "request asked",
                "staff file.lookup",
                "staff correction.answer",
                "request answered corrected"
            ]
        );

        // The access register has the opening and the answer, under the
        // purpose and the reference, naming no one.
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let register = sqin_store::staff_access::list(
            &mut conn,
            &sqin_store::staff_access::AccessFilter::default(),
            100,
        )
        .await
        .unwrap();
        let acts: Vec<(&str, &str)> = register
            .iter()
            .filter(|a| a.reference == reference)
            .map(|a| (a.action.as_str(), a.purpose.as_str()))
            .collect();
        assert_eq!(
            acts,
            vec![
                ("file.lookup", "correction"),
                ("correction.answer", "correction")
            ]
        );
        drop(conn);

        // A second request, refused with reasons.
        let r = browser
            .form(
                "/account/corrections",
                &[
                    ("element", "citizen.address"),
                    ("details", "Il manque mon adresse : 10 rue des Érables."),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let second = location(&r)
            .unwrap()
            .strip_prefix("/account/corrections?asked=")
            .unwrap()
            .to_owned();
        let r = registrar
            .form("/corrections/open", &[("id", &second), ("stated", "")])
            .await;
        assert_eq!(r.status(), 200);
        let reasons =
            "Le registre source n'a pas d'adresse pour vous : écrivez d'abord à l'état civil.";
        let r = registrar
            .form(
                "/corrections/answer",
                &[("id", &second), ("decision", "refused"), ("text", reasons)],
            )
            .await;
        assert_eq!(r.status(), 303);
        let html = browser
            .get("/account/corrections")
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("refusée le"), "{html}");
        assert!(html.contains("Décision : refusé"), "{html}");
        let history = ledger_history(&server, &citizen.id).await;
        assert_eq!(
            steps(&history, &second).last().map(String::as_str),
            Some("request answered refused")
        );
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let file = sqin_store::citizens::by_id(&mut conn, &server.services.register, &citizen.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(file.address, None, "a refusal changes nothing");
        drop(conn);

        // Two years after the answers, the retention pass deletes them.
        server.advance(731 * 86_400);
        sqin_app::retention::run(&server.services, server.now())
            .await
            .unwrap();
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        assert!(sqin_store::corrections::get(&mut conn, &reference)
            .await
            .unwrap()
            .is_none());
        drop(conn);
        server.stop().await;
    }
);
