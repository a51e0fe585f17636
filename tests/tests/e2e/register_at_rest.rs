//! A database copy reveals no citizen: after a journey that touches every
//! place personal data goes (import, passkey enrolment, sign-in at a
//! relying party that receives every claim, the account pages, staff
//! look-ups, a four-eyes recovery that queues a letter, the ledger), a scan
//! of every column of every table, on both backends, finds none of the
//! synthetic citizens' names, birthdates, addresses or emails in clear.
use crate::passkeys_support::{authenticator, Browser};
use crate::staff_access::request_id;
use crate::staff_support::member;

use reqwest::cookie::CookieStore;
use sqin_tests::*;

const CB: &str = "http://127.0.0.1:9/cb";

struct Person {
    register_id: &'static str,
    given: &'static str,
    family: &'static str,
    birthdate: &'static str,
    address: &'static str,
    email: &'static str,
}

const PEOPLE: [Person; 2] = [
    Person {
        register_id: "R-SCAN-1",
        given: "Théodore",
        family: "Brassard-Lemieux",
        birthdate: "1949-11-05",
        address: "77 chemin du Lac-Bleu, Saguenay",
        email: "theo.brassard@example.org",
    },
    Person {
        register_id: "R-SCAN-2",
        given: "Ginette",
        family: "Ouellet-Pronovost",
        birthdate: "1972-06-18",
        address: "4 avenue des Érables, Gaspé",
        email: "ginette.op@example.org",
    },
];

both_backends!(
    async fn a_database_copy_reveals_no_citizen(db: TestDb) {
        let server = TestServer::start(db).await;
        let mut codes = Vec::new();
        for p in &PEOPLE {
            let mut conn = server.services.store.pool().acquire().await.unwrap();
            let (_, code) = sqin_register::add_citizen(
                &mut conn,
                &server.services.codes,
                &server.services.register,
                sqin_register::NewCitizen {
                    register_id: p.register_id.into(),
                    given_name: p.given.into(),
                    family_name: p.family.into(),
                    birthdate: p.birthdate.into(),
                    email: Some(p.email.into()),
                    address: Some(p.address.into()),
                    locale: Some("fr-CA".into()),
                },
                server.now(),
            )
            .await
            .unwrap();
            codes.push(code.code.expose().to_owned());
        }

        // Théodore enrols a passkey and signs in at a service that receives
        // every claim there is.
        let browser = Browser::open(&server).await;
        let mut key = authenticator();
        browser
            .enrol(&mut key, &codes[0], PEOPLE[0].birthdate, "Portable")
            .await
            .0
            .ok();
        let cookie = browser
            .jar
            .cookies(&server.base.parse().unwrap())
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap();
        let (account_status, account) = browser.account().await;
        assert_eq!(account_status, 200);
        assert!(account.contains("Théodore"), "{account}");
        let reg = server
            .register_client(rp("Santé", CB, "openid profile email address"))
            .await;
        let tokens = tokens_for(
            &server,
            &cookie,
            &reg.record.client_id,
            reg.client_secret.as_ref().unwrap().expose(),
            CB,
            "openid profile email address",
        )
        .await;
        let (status, info) = userinfo(&server, tokens["access_token"].as_str().unwrap()).await;
        assert_eq!(status, 200);
        assert_eq!(info["family_name"], PEOPLE[0].family, "{info}");
        assert_eq!(info["email"], PEOPLE[0].email, "{info}");
        let history = browser.get("/account/history").await;
        assert_eq!(history.status(), 200);

        // Staff open both files and a recovery letter is queued for Ginette.
        let mut support = member(&server, "Agent Scan", &["support"]).await;
        let mut registrar = member(&server, "Registrar Scan", &["registrar"]).await;
        for (staff, register_id, purpose) in [
            (&support, "R-SCAN-1", "account-service"),
            (&registrar, "R-SCAN-2", "identity-register"),
        ] {
            let r = staff
                .form(
                    "/files",
                    &[
                        ("register_id", register_id),
                        ("purpose", purpose),
                        ("reference", "T-SCAN-1"),
                    ],
                )
                .await;
            assert_eq!(r.status(), 200);
        }
        support.reauth().await;
        let r = support
            .form(
                "/requests",
                &[
                    ("kind", "recovery"),
                    ("register_id", "R-SCAN-2"),
                    ("purpose", "account-service"),
                    ("reference", "T-SCAN-2"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        registrar.reauth().await;
        let (_, html) = registrar.page("/requests").await;
        let r = registrar
            .form(
                "/requests/decide",
                &[("id", &request_id(&html)), ("decision", "approve")],
            )
            .await;
        assert_eq!(r.status(), 303);

        let mut needles = Vec::new();
        for p in &PEOPLE {
            needles.extend([
                p.register_id,
                p.given,
                p.family,
                p.birthdate,
                p.address,
                p.email,
            ]);
        }
        // The street names alone, too (an address split into parts).
        needles.extend(["chemin du Lac-Bleu", "avenue des Érables"]);
        let found = sqin_store::testing::find_in_clear(&server.services.store, &needles).await;
        assert!(found.is_empty(), "personal data in clear: {found:?}");
        server.stop().await;
    }
);
