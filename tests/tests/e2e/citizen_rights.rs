//! The rights that remain (issue 15), through the real server:
//!
//! - `/account/data` holds the citizen's consents, the services' live
//!   grants (never a token or grant id), their complaints and their history
//!   in short, with a `schema_version`, and validates against the JSON
//!   Schema (draft 2020-12) published in docs/schemas/ and served at
//!   `/account/data/schema/v{N}.json`, byte for byte the file;
//! - the consent page says who has access and why (the service, its legal
//!   basis from its PIA entry, the staff roles that can see the information
//!   and for what), in the page's language, names and purposes included;
//! - the history and complaints pages name claims in words, services in
//!   the page's language, and show times in the citizen's time zone
//!   (America/Toronto) with the zone, across a daylight-saving change.
use crate::passkeys_support::enrolled;

use sqin_app::clients::{self, ClientActor};
use sqin_oidc::client::ClientRegistration;
use sqin_tests::*;

const CB: &str = "http://127.0.0.1:9/cb";
const SCOPE: &str = "openid profile";

/// The revenue office as the demo registers it: within its entry of the
/// PIA's register of relying parties (names in both languages, the entry's
/// purposes and claims). Its client id and secret.
async fn revenue_office(server: &TestServer) -> (String, String) {
    let registration = ClientRegistration {
        name: "Revenue Office (demo)".into(),
        name_fr: Some("Bureau du revenu (démo)".into()),
        redirect_uris: vec![CB.into()],
        scopes: vec![SCOPE.into()],
        claims: Some(vec!["name given_name family_name".into()]),
        ..Default::default()
    };
    let registered = clients::register(
        &server.services,
        &ClientActor::Operator,
        "demo-revenue-office",
        registration,
    )
    .await
    .unwrap();
    (
        registered.record.client_id,
        registered.client_secret.unwrap().expose().to_owned(),
    )
}

/// The consent page for a new request, in the language `ui_locales` asks.
async fn consent_page(server: &TestServer, cookie: &str, client_id: &str, lang: &str) -> String {
    let (_, challenge) = pkce_pair();
    let url = authorize_url(
        server,
        &[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", CB),
            ("scope", SCOPE),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("ui_locales", lang),
        ],
    );
    let r = server
        .client()
        .get(&url)
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap()
}

/// Moves the server's clock to `rfc3339` (a time ahead of it).
fn clock_to(server: &TestServer, rfc3339: &str) {
    let target =
        time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
            .unwrap()
            .unix_timestamp();
    let now = server.now();
    assert!(target > now, "{rfc3339} is behind the server's clock");
    server.advance(target - now);
}

both_backends!(
    async fn the_export_holds_grants_and_complaints_and_follows_its_published_schema(db: TestDb) {
        let server = TestServer::start(db).await;
        let (citizen, browser, _) = enrolled(&server, "R-1500").await;
        let (client_id, secret) = revenue_office(&server).await;
        let cookie = server.sign_in(&citizen.id).await;
        let tokens = tokens_for(&server, &cookie, &client_id, &secret, CB, SCOPE).await;
        let r = browser
            .form(
                "/account/complaints",
                &[
                    ("subject", "Le revenu a reçu mon nom"),
                    ("facts", "Je veux savoir pourquoi."),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let asked = sqin_app::corrections::ask(
            &server.services,
            &citizen.id,
            "citizen.address",
            "Mon adresse a changé",
            server.now(),
        )
        .await
        .unwrap();

        let r = browser.get("/account/data").await;
        assert_eq!(r.status(), 200);
        let text = r.text().await.unwrap();
        let data: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(data["format"], "sqin-citizen-data/2");
        assert_eq!(data["schema_version"], 2);
        assert_eq!(
            data["schema"],
            format!("{}/account/data/schema/v2.json", server.issuer)
        );

        // Validated by a real JSON Schema validator (formats included)
        // against the file published in the repository.
        let schema: serde_json::Value =
            serde_json::from_str(&repo_file("docs/schemas/account-data-v2.json")).unwrap();
        assert!(jsonschema::draft202012::meta::is_valid(&schema));
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&data)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}\n{data:#}");
        // The schema is strict: a member it does not describe fails.
        let mut extra = data.clone();
        extra["grants"][0]["access_token"] = "x".into();
        assert!(!validator.is_valid(&extra));

        // The consent, the live grant (in both languages, claims, times in
        // UTC), the complaint, the history.
        let consent = &data["consents"][0];
        assert_eq!(consent["client_id"], client_id.as_str());
        assert_eq!(consent["service"]["name_fr"], "Bureau du revenu (démo)");
        let grant = &data["grants"][0];
        assert_eq!(data["grants"].as_array().unwrap().len(), 1);
        assert_eq!(grant["client_id"], client_id.as_str());
        assert_eq!(grant["service"]["name"], "Revenue Office (demo)");
        assert_eq!(
            grant["service"]["purpose_fr"],
            "Se connecter pour produire et suivre sa déclaration de revenus"
        );
        assert_eq!(
            grant["claims"],
            serde_json::json!(["name", "given_name", "family_name"])
        );
        assert_eq!(grant["offline_access"], false);
        assert!(grant["issued_at"].as_str().unwrap().ends_with('Z'));
        let complaint = &data["complaints"][0];
        assert_eq!(complaint["subject"], "Le revenu a reçu mon nom");
        assert!(complaint["answer"].is_null());
        let correction = &data["corrections"][0];
        assert_eq!(correction["id"], asked.id.as_str());
        assert_eq!(correction["element"], "citizen.address");
        assert_eq!(correction["details"], "Mon adresse a changé");
        assert!(correction["decision"].is_null() && correction["opened_at"].is_null());
        let kinds: Vec<&str> = data["history"]["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert!(kinds.contains(&"consent_granted"), "{kinds:?}");
        assert!(kinds.contains(&"disclosure"), "{kinds:?}");

        // Never a token, nor the grant's id.
        for token in ["access_token", "id_token"] {
            let value = tokens[token].as_str().unwrap();
            assert!(!text.contains(value), "{token} in the export");
        }
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let live = sqin_store::grants::live_for_citizen(&mut conn, &citizen.id, server.now())
            .await
            .unwrap();
        assert_eq!(live.len(), 1);
        assert!(!text.contains(&live[0].id), "the grant id in the export");
        drop(conn);

        // Served as published, every version; unknown ones are not found.
        for version in ["v1", "v2"] {
            let r = http_client()
                .get(server.url(&format!("/account/data/schema/{version}.json")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            assert_eq!(r.headers()["content-type"], "application/schema+json");
            assert_eq!(
                r.text().await.unwrap(),
                repo_file(&format!("docs/schemas/account-data-{version}.json")),
                "{version} as served differs from docs/schemas/"
            );
        }
        let r = http_client()
            .get(server.url("/account/data/schema/v3.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        server.stop().await;
    }
);

both_backends!(
    async fn pages_say_who_has_access_in_the_citizen_s_language_and_time_zone(db: TestDb) {
        let server = TestServer::start(db).await;
        // Just before daylight saving time begins in Toronto (2027-03-14,
        // 2:00 EST becomes 3:00 EDT, at 07:00 UTC).
        clock_to(&server, "2027-03-14T06:58:00Z");
        let (citizen, browser, _) = enrolled(&server, "R-1501").await;
        let (client_id, secret) = revenue_office(&server).await;
        let cookie = server.sign_in(&citizen.id).await;

        // The consent page in English: the English name and purpose, the
        // legal basis of the PIA entry, the staff roles that can see these
        // claims and why, the record; nothing French.
        let en = consent_page(&server, &cookie, &client_id, "en").await;
        assert!(en.contains("Revenue Office (demo)"), "{en}");
        assert!(en.contains("Sign in to file and follow one"), "{en}");
        assert!(
            en.contains("approval on the consent page (A-2.1 s. 53.1)"),
            "{en}"
        );
        assert!(en.contains("Who will have access, and why"), "{en}");
        assert!(
            en.contains("Support agent: sees your full name, your given name, your family name"),
            "{en}"
        );
        assert!(en.contains("only for: serve the citizen, security"), "{en}");
        assert!(en.contains("Who looked at my file"), "{en}");
        for french in ["Bureau du revenu", "Se connecter", "déclaration", " / "] {
            assert!(!en.contains(french), "{french:?} on the English page");
        }
        // In French, the French ones.
        let fr = consent_page(&server, &cookie, &client_id, "fr").await;
        assert!(fr.contains("Bureau du revenu (démo)"), "{fr}");
        assert!(fr.contains("Se connecter pour produire et suivre sa déclaration de revenus"));
        assert!(fr.contains("accord du citoyen sur la page de consentement (A-2.1, art. 53.1)"));
        assert!(
            fr.contains(
                "Agent de soutien : voit votre nom complet, votre prénom, votre nom de famille"
            ),
            "{fr}"
        );
        assert!(fr.contains("Qui a consulté mon dossier"), "{fr}");
        for english in ["Revenue Office", "Sign in to file", "approval"] {
            assert!(!fr.contains(english), "{english:?} on the French page");
        }

        let tokens = tokens_for(&server, &cookie, &client_id, &secret, CB, SCOPE).await;
        let r = browser
            .form(
                "/account/complaints",
                &[("subject", "Une question"), ("facts", "Pourquoi ?")],
            )
            .await;
        assert_eq!(r.status(), 303);
        // After the change: a disclosure at 3:00 EDT.
        server.advance(120);
        let (status, _) = userinfo(&server, tokens["access_token"].as_str().unwrap()).await;
        assert_eq!(status, 200);

        // The history in English: the English name and purpose, claims in
        // words, Toronto times with the zone on both sides of the change.
        let en = browser
            .get("/account/history?lang=en")
            .await
            .text()
            .await
            .unwrap();
        assert!(en.contains("Revenue Office (demo)"), "{en}");
        assert!(!en.contains("Bureau du revenu"), "{en}");
        assert!(en.contains("Sign in to file and follow one"), "{en}");
        assert!(
            en.contains("Your full name, Your given name, Your family name"),
            "{en}"
        );
        assert!(!en.contains("given_name"), "a raw claim name: {en}");
        assert!(en.contains("Mar 14, 2027, 1:58 a.m. EST"), "{en}");
        assert!(en.contains("Mar 14, 2027, 3:0"), "{en}");
        assert!(en.contains("a.m. EDT"), "{en}");
        // The machine-readable time stays UTC.
        assert!(en.contains("datetime=\"2027-03-14T06:58:"), "{en}");
        assert!(!en.contains(" UTC<"), "{en}");
        // Complaints: received before the change, due after it.
        let en = browser
            .get("/account/complaints")
            .await
            .text()
            .await
            .unwrap();
        assert!(en.contains("Mar 14, 2027, 1:58 a.m. EST"), "{en}");
        assert!(en.contains("Apr 13, 2027, 2:58 a.m. EDT"), "{en}");

        // The same in French.
        let fr = browser
            .get("/account/complaints?lang=fr")
            .await
            .text()
            .await
            .unwrap();
        assert!(fr.contains("14 mars 2027, 1 h 58 HNE"), "{fr}");
        assert!(fr.contains("13 avr. 2027, 2 h 58 HAE"), "{fr}");
        let fr = browser.get("/account/history").await.text().await.unwrap();
        assert!(fr.contains("Bureau du revenu (démo)"), "{fr}");
        assert!(!fr.contains("Revenue Office"), "{fr}");
        assert!(fr.contains("Finalité : Se connecter pour produire"), "{fr}");
        assert!(fr.contains("Votre nom complet, Votre prénom"), "{fr}");
        assert!(fr.contains("14 mars 2027, 1 h 58 HNE"), "{fr}");
        assert!(fr.contains("14 mars 2027, 3 h 0"), "{fr}");
        assert!(fr.contains("HAE"), "{fr}");

        // The export keeps RFC 3339 in UTC.
        let data: serde_json::Value = browser.get("/account/data").await.json().await.unwrap();
        let received = data["complaints"][0]["received_at"].as_str().unwrap();
        assert!(received.starts_with("2027-03-14T06:58:"), "{received}");
        assert!(received.ends_with('Z'), "{received}");
        server.stop().await;
    }
);
