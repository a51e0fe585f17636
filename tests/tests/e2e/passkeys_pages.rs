//! The passkey pages as people get them: language, accessibility markers,
//! autocomplete tokens, assets, security headers, error pages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::passkeys_support;

use sqin_tests::{both_backends, http_client, TestServer};

both_backends!(
    async fn pages_speak_french_or_english_and_are_marked_up_for_everyone(db: TestDb) {
        let server = TestServer::start(db).await;
        let client = http_client();
        // French by default.
        let r = client.get(server.url("/enrol")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-language"], "fr");
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("default-src 'self'"), "{csp}");
        let cookies: Vec<_> = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        assert!(
            cookies.iter().any(|c| c.starts_with("sqin_browser=")
                && c.contains("HttpOnly")
                && c.contains("SameSite=Lax")),
            "{cookies:?}"
        );
        let html = r.text().await.unwrap();
        assert!(html.contains("<html lang=\"fr\">"));
        assert!(html.contains("autocomplete=\"one-time-code\""));
        assert!(html.contains("autocomplete=\"bday\""));
        assert!(html.contains("class=\"skip\" href=\"#main\""));
        assert!(html.contains("<label for=\"code\">"));
        assert!(html.contains("name=\"csrf\""));
        assert!(!html.contains("<script>"), "no inline script");
        assert!(
            html.contains("enrol?lang=en\" hreflang=\"en\""),
            "a language switch link"
        );

        // Accept-Language, then ui_locales (which wins and is remembered).
        let r = client
            .get(server.url("/login"))
            .header("accept-language", "en-CA,en;q=0.9,fr;q=0.5")
            .send()
            .await
            .unwrap();
        let html = r.text().await.unwrap();
        assert!(html.contains("<html lang=\"en\">"));
        assert!(html.contains("autocomplete=\"username webauthn\""));
        assert!(html.contains("role=\"alert\""));
        let r = client
            .get(server.url("/login?ui_locales=fr-CA%20en&request=abc"))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap();
        assert!(r
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("sqin_lang=fr")));
        let html = r.text().await.unwrap();
        assert!(html.contains("<html lang=\"fr\">"));
        assert!(
            html.contains("data-request=\"abc\""),
            "the request handle is carried along"
        );
        assert!(
            html.contains("request=abc&amp;lang=en") || html.contains("request=abc&lang=en"),
            "{html}"
        );

        // The script and stylesheet: same origin, long cache.
        let js = html
            .split("src=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .replace("&#x2f;", "/")
            .replace("&amp;", "&");
        assert!(js.starts_with("/static/passkeys.js?v="), "{js}");
        let r = client.get(server.url(&js)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=31536000"));
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript"));
        let r = client
            .get(server.url("/static/nope.js"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);

        // The account page without a session goes to the login page.
        let r = client.get(server.url("/account")).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/login");

        // A grant that does not exist: back to the code form, with a message.
        let r = client
            .get(server.url("/enrol/passkey?grant=nope"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let html = r.text().await.unwrap();
        assert!(html.contains("role=\"alert\""));
        server.stop().await;
    }
);

both_backends!(
    async fn a_refused_code_says_the_lock_is_automatic_and_how_to_have_it_reviewed(db: TestDb) {
        let server = TestServer::start(db).await;
        let browser = passkeys_support::Browser::open(&server).await;
        let r = browser
            .form(
                "/enrol",
                &[("code", "AAAA-AAAA-AAAA-AAAA"), ("birthdate", "1966-06-06")],
            )
            .await;
        assert_eq!(r.status(), 400);
        let html = r.text().await.unwrap();
        assert!(html.contains("role=\"alert\""), "{html}");
        // s. 65.2: the decision is automated; the person is told so,
        // and how to have it explained and reviewed.
        assert!(html.contains("bloqué automatiquement"), "{html}");
        assert!(html.contains("la réviser"), "{html}");
        server.stop().await;
    }
);
