//! A citizen files a complaint from their account page (French or English,
//! CSRF), gets a file number and the answer's due date; the privacy officer
//! opens and answers it, each access recorded in the citizen's ledger; the
//! citizen reads the answer.
use crate::passkeys_support;
use crate::staff_support::member;

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

        // The privacy officer opens it in the staff console and answers.
        let mut officer = member(&server, "Complaint Officer", &["privacy-officer"]).await;
        let (_, list) = officer.page("/complaints").await;
        assert!(list.contains(&number), "{list}");
        assert!(
            !list.contains("mon nom le 3 mars"),
            "the list shows no text"
        );
        let (status, opened) = officer.page(&format!("/complaints/open?id={number}")).await;
        assert_eq!(status, 200);
        assert!(opened.contains("mon nom le 3 mars."), "{opened}");
        let answer =
            "Nous avons vérifié le registre des communications : seul votre nom a été communiqué.";
        officer.reauth().await;
        let r = officer
            .form("/complaints/answer", &[("id", &number), ("text", answer)])
            .await;
        assert_eq!(r.status(), 303);
        let r = officer
            .form("/complaints/answer", &[("id", &number), ("text", "x")])
            .await;
        assert_eq!(r.status(), 409, "already answered");
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let stored = sqin_store::complaints::get(&mut conn, &number)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.answer_due - stored.received_at, 30 * 86_400);
        assert!(stored.closed_at.is_some());
        drop(conn);

        // The citizen reads the answer, and sees both looks at their file.
        let html = browser
            .get("/account/complaints")
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("seul votre nom a été communiqué"), "{html}");
        let history = ledger_history(&server, &citizen.id).await;
        let accesses: Vec<(String, Option<String>, Option<String>)> = history
            .entries
            .iter()
            .filter_map(|e| match &e.details {
                Some(LedgerEvent::StaffAccess {
                    purpose,
                    role,
                    action,
                    reference,
                    staff_id,
                    ..
                }) => {
                    assert_eq!(role, "privacy-officer");
                    assert_eq!(staff_id, &officer.badge);
                    Some((purpose.clone(), action.clone(), reference.clone()))
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            accesses,
            vec![
                (
                    "accountability".to_owned(),
                    Some("complaint.open".to_owned()),
                    Some(number.clone())
                ),
                (
                    "accountability".to_owned(),
                    Some("complaint.answer".to_owned()),
                    Some(number.clone())
                ),
            ]
        );
        server.stop().await;
    }
);
