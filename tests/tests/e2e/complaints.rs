//! A citizen files a complaint from their account page (French or English,
//! CSRF), gets a file number and the answer's due date; the privacy officer
//! opens and answers it, each access recorded in the citizen's ledger; the
//! citizen reads the answer.
use crate::passkeys_support;

use passkeys_support::enrolled;
use sqin_ledger_service::LedgerEvent;
use sqin_tests::{both_backends, ledger_history, TestServer};

both_backends!(
    async fn a_citizen_files_a_complaint_and_reads_the_answer(db: TestDb) {
        let server = TestServer::start(db).await;
        let (citizen, browser, _) = enrolled(&server, "R-500").await;
        let (_, html) = browser.account().await;
        assert!(html.contains("href=\"/account/complaints\""));
        let r = browser.get("/account/complaints").await;
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("Déposer une plainte"), "{html}");
        assert!(html.contains("déposé aucune plainte"), "{html}");

        // Empty: refused with a message, nothing stored.
        let r = browser
            .form("/account/complaints", &[("subject", " "), ("facts", "x")])
            .await;
        assert_eq!(r.status(), 400);
        assert!(r.text().await.unwrap().contains("role=\"alert\""));
        // Without the CSRF token: refused.
        let r = browser
            .http
            .post(format!("{}/account/complaints", server.base))
            .form(&[("subject", "s"), ("facts", "f")])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error());

        let r = browser
            .form(
                "/account/complaints",
                &[
                    ("subject", "Le Portail Famille a reçu mon adresse"),
                    ("facts", "Je n'ai consenti qu'à mon nom le 3 mars."),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        let number = location
            .strip_prefix("/account/complaints?filed=")
            .unwrap()
            .to_owned();
        let html = browser.get(&location).await.text().await.unwrap();
        assert!(html.contains(&format!("numéro {number}")), "{html}");
        assert!(html.contains("Le Portail Famille a reçu mon adresse"));

        // The privacy officer opens it and answers.
        let opened = sqin_app::complaints::open(&server.services, &number, "po-1", server.now())
            .await
            .unwrap();
        assert_eq!(opened.facts, "Je n'ai consenti qu'à mon nom le 3 mars.");
        assert_eq!(opened.answer_due - opened.received_at, 30 * 86_400);
        let answered = sqin_app::complaints::answer(
            &server.services,
            &number,
            "po-1",
            "Nous avons vérifié le registre des communications : seul votre nom a été communiqué.",
            server.now(),
        )
        .await
        .unwrap();
        assert!(answered.closed_at.is_some());
        let again =
            sqin_app::complaints::answer(&server.services, &number, "po-1", "x", server.now())
                .await
                .unwrap_err();
        assert!(again.to_string().contains("already answered"), "{again}");

        // The citizen reads the answer, and sees both looks at their file.
        let html = browser
            .get("/account/complaints")
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("seul votre nom a été communiqué"), "{html}");
        let history = ledger_history(&server, &citizen.id).await;
        let purposes: Vec<String> = history
            .entries
            .iter()
            .filter_map(|e| match &e.details {
                Some(LedgerEvent::StaffAccess { purpose, role, .. }) => {
                    assert_eq!(role, "privacy-officer");
                    Some(purpose.clone())
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            purposes,
            vec![
                format!("Complaint {number}"),
                format!("Complaint {number}: answer")
            ]
        );
        server.stop().await;
    }
);
