//! The confidentiality policy at `/privacy` is filled in from the
//! deployment's settings (`[deployment]`): a non-demo configuration shows
//! its own body, register, privacy officer, suppliers and addresses, in
//! French and in English, escaped, with no placeholder left; the layout
//! shows the site's name and the body. The demo's fictitious values fill it
//! too; a server nobody checked shows each missing setting's key.
use sqin_app::deployment::{Contacts, Deployment, PolicyVersion, PrivacyOfficer, Supplier, Text};
use sqin_tests::{both_backends, http_client, TestServer};

fn each(fr: &str, en: &str) -> Option<Text> {
    Some(Text::Each {
        fr: fr.into(),
        en: en.into(),
    })
}

/// A deployment as a body would configure it (fictitious, but nothing in
/// it says "demo").
fn configured() -> Deployment {
    Deployment {
        site_name: each("Identité Québec", "Québec Identity"),
        public_body: sqin_app::deployment::PublicBody {
            name: each(
                "Ministère de l'Emploi & de la Solidarité",
                "Ministry of Employment & Solidarity",
            ),
        },
        register: sqin_app::deployment::Register {
            name: each("Registre des prestataires", "Register of recipients"),
            holder: each("Direction du registre", "Register Office"),
        },
        privacy_officer: PrivacyOfficer {
            name: Some(Text::Same("Dominique Tremblay".into())),
            title: each(
                "Responsable de l'accès et de la protection",
                "Access and privacy officer",
            ),
            address: Some(Text::Same(
                "425, rue Jacques-Parizeau, Québec (Québec) G1R 4Z1".into(),
            )),
            email: Some("prp@emploi.gouv.example".into()),
            phone: Some("418 555-0199".into()),
        },
        policy: PolicyVersion {
            effective: Some("2027-03-01".into()),
            version: Some("1.2".into()),
        },
        contacts: Contacts {
            support: each(
                "418 555-0198, du lundi au vendredi",
                "418 555-0198, Monday to Friday",
            ),
            complaints_email: Some("plaintes@emploi.gouv.example".into()),
            complaints_address: Some(Text::Same("C.P. 1200, Québec (Québec) G1K 7L6".into())),
            commission: Some(Text::Same("www.cai.gouv.qc.ca, 1 888 528-7741".into())),
        },
        governance_url: Some("https://emploi.gouv.example/gouvernance-rp".into()),
        alternatives: each("dans un bureau de l'emploi", "at an employment office"),
        minors: each(
            "le parent présente l'acte de naissance au bureau",
            "the parent shows the birth certificate at the office",
        ),
        suppliers: vec![Supplier {
            name: Text::Same("Infonuagique Laurentides <SENC>".into()),
            service: Text::Each {
                fr: "hébergement".into(),
                en: "hosting".into(),
            },
            location: Text::Same("Québec".into()),
        }],
    }
}

/// The policy's part of the page.
fn policy_of(page: &str) -> &str {
    let start = page
        .find("<div class=\"policy\">")
        .expect("the policy's block");
    let rest = &page[start..];
    &rest[..rest.find("</div>").expect("its end")]
}

async fn page(server: &TestServer, lang: &str) -> String {
    let r = http_client()
        .get(server.url(&format!("/privacy?lang={lang}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

both_backends!(
    async fn a_configured_policy_shows_the_body_s_values_and_no_placeholder(db: TestDb) {
        let server = TestServer::start_with(
            db,
            |c| {
                c.deployment = configured();
                // What `sqin serve` checks before it starts.
                c.check_deployment_complete(false).unwrap();
            },
            axum::Router::new(),
        )
        .await;
        for (lang, words) in [
            (
                "fr",
                [
                    "Ministère de l&#39;Emploi &amp; de la Solidarité",
                    "1er mars 2027",
                    "Registre des prestataires",
                    "hébergement",
                    "dans un bureau de l&#39;emploi",
                ],
            ),
            (
                "en",
                [
                    "Ministry of Employment &amp; Solidarity",
                    "1 March 2027",
                    "Register of recipients",
                    "hosting",
                    "at an employment office",
                ],
            ),
        ] {
            let html = page(&server, lang).await;
            let policy = policy_of(&html);
            assert!(
                !policy.contains('['),
                "a placeholder is left ({lang}): {policy}"
            );
            for word in words.iter().chain(&[
                "Dominique Tremblay",
                "425, rue Jacques-Parizeau, Québec (Québec) G1R 4Z1",
                "prp@emploi.gouv.example",
                "418 555-0199",
                "plaintes@emploi.gouv.example",
                "www.cai.gouv.qc.ca, 1 888 528-7741",
                "Infonuagique Laurentides &lt;SENC&gt;",
                "<a href=\"https://emploi.gouv.example/gouvernance-rp\">",
            ]) {
                let word = if policy.contains(word) {
                    word.to_string()
                } else {
                    word.replace("&#39;", "'")
                };
                assert!(policy.contains(&word), "{lang}: {word} in {policy}");
            }
            assert!(!policy.contains("<SENC>") && !policy.contains("demo"));
            // The layout: the site's name in the title and the header, the
            // body in the footer.
            let (site, body) = match lang {
                "fr" => ("Identité Québec", "Ministère de l"),
                _ => ("Québec Identity", "Ministry of Employment"),
            };
            assert!(html.contains(&format!(" · {site}</title>")), "{html}");
            assert!(html.contains(&format!("<span class=\"brand\">{site}</span>")));
            let footer = &html[html.find("<footer").unwrap()..];
            assert!(footer.contains(body), "{footer}");
        }
        server.stop().await;
    }
);

both_backends!(
    async fn the_demo_fills_the_policy_and_an_unchecked_server_names_what_is_missing(db: TestDb) {
        let server = TestServer::start_with(
            db,
            |c| c.deployment = Deployment::demo(),
            axum::Router::new(),
        )
        .await;
        for (lang, words) in [
            ("fr", "Ministère de la Démonstration (organisme fictif)"),
            ("en", "Ministry of Demonstration (a fictitious body)"),
        ] {
            let html = page(&server, lang).await;
            let policy = policy_of(&html);
            assert!(!policy.contains('['), "{policy}");
            assert!(policy.contains(words), "{policy}");
        }
        let (db, kept) = server.stop_keeping_data().await;

        // Nothing configured (only a test server starts so): each missing
        // setting shows as its key, which `sqin serve` would refuse.
        let data_dir = kept.path();
        let server =
            TestServer::start_with(db, move |c| c.data_dir = data_dir, axum::Router::new()).await;
        let html = page(&server, "en").await;
        let policy = policy_of(&html);
        for key in [
            "[deployment.public_body.name]",
            "[deployment.privacy_officer.email]",
            "[deployment.suppliers]",
        ] {
            assert!(policy.contains(key), "{key}: {policy}");
        }
        assert!(html.contains("<span class=\"brand\">sqin</span>"), "{html}");
        server.stop().await;
        drop(kept);
    }
);
