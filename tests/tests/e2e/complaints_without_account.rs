//! Someone without an account files a complaint on the public page with a
//! contact (CSRF, bounded text, rate-limited per client address); they get
//! a file number and a status code shown once; the privacy officer finds it
//! in the console with the contact to answer and answers it; the answer is
//! read back with the number and the code, and only with both.
use crate::passkeys_support::Browser;
use crate::staff_support::member;

use sqin_tests::{both_backends, TestServer};

/// The text of the element with `id` in a page.
fn by_id(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} in {html}"))
        + marker.len();
    let end = html[start..].find('<').unwrap() + start;
    html[start..end].to_owned()
}

both_backends!(
    async fn a_complaint_without_an_account_is_filed_answered_and_read_by_reference(db: TestDb) {
        let server = TestServer::start(db).await;
        // A visitor: a browser, no sign-in.
        let visitor = Browser::open(&server).await;
        let r = visitor.get("/complaints").await;
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("Porter plainte sans compte"), "{html}");
        let r = visitor.get("/complaints?lang=en").await;
        assert!(r
            .text()
            .await
            .unwrap()
            .contains("File a complaint without an account"));
        // Back to French (the choice is kept in a cookie).
        assert_eq!(visitor.get("/complaints?lang=fr").await.status(), 200);

        // Bad input: a clear page, nothing stored.
        let long = "x".repeat(5001);
        for (kind, contact, subject, facts, says) in [
            (
                "email",
                "a@b.example",
                "Objet",
                " ",
                "au plus 5000 caractères",
            ),
            (
                "email",
                "a@b.example",
                "Objet",
                long.as_str(),
                "au plus 5000 caractères",
            ),
            (
                "email",
                "a@b.example",
                "",
                "Des faits",
                "au plus 5000 caractères",
            ),
            (
                "email",
                "pas un courriel",
                "Objet",
                "Des faits",
                "un courriel valide",
            ),
            ("postal", "  ", "Objet", "Des faits", "un courriel valide"),
            (
                "pigeon",
                "a@b.example",
                "Objet",
                "Des faits",
                "un courriel valide",
            ),
        ] {
            let r = visitor
                .form(
                    "/complaints",
                    &[
                        ("contact_kind", kind),
                        ("contact", contact),
                        ("subject", subject),
                        ("facts", facts),
                    ],
                )
                .await;
            assert_eq!(r.status(), 400, "{kind} {contact:?} {subject:?}");
            let html = r.text().await.unwrap();
            assert!(html.contains("role=\"alert\""), "{html}");
            assert!(html.contains(says), "{says}: {html}");
        }
        // Without the CSRF token: the error page.
        let r = visitor
            .http
            .post(format!("{}/complaints", server.base))
            .form(&[
                ("contact_kind", "email"),
                ("contact", "a@b.example"),
                ("subject", "s"),
                ("facts", "f"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert!(r.text().await.unwrap().contains("Le formulaire a expiré"));
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        assert!(sqin_store::complaints::list(&mut conn, false)
            .await
            .unwrap()
            .is_empty());
        drop(conn);

        // Filed: the number and the status code, once.
        let r = visitor
            .form(
                "/complaints",
                &[
                    ("contact_kind", "postal"),
                    (
                        "contact",
                        "Dominique Tremblay\n12 rue du Port, Québec G1K 4A1",
                    ),
                    ("subject", "Un service a reçu mon adresse"),
                    (
                        "facts",
                        "Je n'ai jamais eu de compte, mais le Portail Famille connaît mon adresse.",
                    ),
                ],
            )
            .await;
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        let number = by_id(&html, "number");
        let code = by_id(&html, "code");
        assert_eq!(code.len(), 23, "{code}");
        assert!(html.contains(&format!("numéro {number}")), "{html}");
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let stored = sqin_store::complaints::get(&mut conn, &number)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.citizen_id, None);
        assert_eq!(stored.answer_due - stored.received_at, 30 * 86_400);
        assert!(stored
            .contact
            .as_deref()
            .unwrap()
            .contains("12 rue du Port"));
        // The code is kept as a hash only.
        assert_eq!(stored.status_code_hash.as_ref().unwrap().len(), 32);
        assert!(!format!("{stored:?}").contains(&code));
        drop(conn);

        // The status page: a wrong code or an unknown number is the same
        // clear "not found"; the right pair (in any case, without dashes)
        // shows the complaint, not yet answered.
        for (n, c) in [
            (number.as_str(), "AAAAA-AAAAA-AAAAA-AAAAA"),
            ("20260101-XXXXXX", code.as_str()),
            ("", ""),
        ] {
            let r = visitor
                .form("/complaints/status", &[("number", n), ("code", c)])
                .await;
            assert_eq!(r.status(), 404, "{n}");
            let html = r.text().await.unwrap();
            assert!(
                html.contains("ce numéro et ce code. Vérifiez-les"),
                "{html}"
            );
        }
        let typed = code.replace('-', "").to_lowercase();
        let r = visitor
            .form(
                "/complaints/status",
                &[("number", &number.to_lowercase()), ("code", &typed)],
            )
            .await;
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("Un service a reçu mon adresse"), "{html}");
        assert!(html.contains("Pas encore de réponse"), "{html}");

        // The privacy officer: listed, opened with the contact, answered.
        let mut officer = member(&server, "Paule Officer", &["privacy-officer"]).await;
        let (_, list) = officer.page("/complaints").await;
        assert!(list.contains(&number), "{list}");
        assert!(
            !list.contains("12 rue du Port"),
            "the list shows no contact"
        );
        let (status, opened) = officer.page(&format!("/complaints/open?id={number}")).await;
        assert_eq!(status, 200);
        assert!(opened.contains("12 rue du Port"), "{opened}");
        assert!(
            opened.contains("Portail Famille connaît mon adresse"),
            "{opened}"
        );
        officer.reauth().await;
        let answer = "Le Portail Famille tenait votre adresse d’un autre dossier; nous lui avons demandé de la retirer.";
        let r = officer
            .form("/complaints/answer", &[("id", &number), ("text", answer)])
            .await;
        assert_eq!(r.status(), 303);
        // The openings are on the record, under the complaint's number.
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let register = sqin_store::staff_access::list(
            &mut conn,
            &sqin_store::staff_access::AccessFilter::default(),
            100,
        )
        .await
        .unwrap();
        let acts: Vec<&str> = register
            .iter()
            .filter(|a| a.reference == number)
            .map(|a| a.action.as_str())
            .collect();
        assert_eq!(acts, vec!["complaint.open", "complaint.answer"]);
        drop(conn);

        // The answer, by reference and code.
        let r = visitor
            .form(
                "/complaints/status",
                &[("number", &number), ("code", &code)],
            )
            .await;
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().contains(answer));

        // Rate-limited per client address: three filings per window.
        for i in 0..2 {
            let r = visitor
                .form(
                    "/complaints",
                    &[
                        ("contact_kind", "email"),
                        ("contact", "d@exemple.quebec"),
                        ("subject", "Encore"),
                        ("facts", &format!("Plainte {i}")),
                    ],
                )
                .await;
            assert_eq!(r.status(), 200, "{i}");
        }
        let r = visitor
            .form(
                "/complaints",
                &[
                    ("contact_kind", "email"),
                    ("contact", "d@exemple.quebec"),
                    ("subject", "Encore"),
                    ("facts", "Une de trop"),
                ],
            )
            .await;
        assert_eq!(r.status(), 429);
        assert!(r.headers().contains_key("retry-after"));
        server.stop().await;
    }
);
