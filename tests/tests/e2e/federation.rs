//! Federation over HTTP: the Family portal and the revenue office (real
//! relying parties built on `openidconnect`, in two pairwise sectors)
//! against a real sqin. The citizen's browser is driven with reqwest; the
//! passkey ceremony is replaced by the session seam (`TestServer::sign_in`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::federation_support;

use federation_support::{start_ministries, Ministry};
use serde_json::Value;
use sqin_tests::{authorize, both_backends, hidden_input, location, TestServer};

/// Starts a login at a ministry: the URL of sqin's authorization endpoint.
async fn begin(ministry: &Ministry, browser: &reqwest::Client) -> String {
    let r = browser.get(ministry.url("/login")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    location(&r)
}

/// Back at the ministry with the authorization response: its session.
async fn finish(ministry: &Ministry, browser: &reqwest::Client, callback: &str) {
    assert!(
        callback.starts_with(&ministry.url("/callback")),
        "{callback}"
    );
    let r = browser.get(callback).send().await.unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(location(&r), "/");
}

async fn me(ministry: &Ministry, browser: &reqwest::Client) -> (u16, Value) {
    let r = browser.get(ministry.url("/me")).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

both_backends!(
    async fn two_ministries_get_their_own_claims_and_subs_with_single_sign_on(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = server.add_citizen("R-700").await;
        let m = start_ministries(&server).await;
        let cookie = server.sign_in(&citizen.id).await;
        let sqin = server.client();

        // The Family portal, signed out: a page that offers sqin.
        let family = m.family.browser();
        let page = family.get(m.family.url("/")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let set_cookies: Vec<String> = page
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        assert!(set_cookies.is_empty(), "no cookie before a login");
        assert!(page
            .text()
            .await
            .unwrap()
            .contains("Se connecter avec sqin"));

        // Its login: code flow with PKCE S256, state and nonce, and the
        // pending-login cookie is HttpOnly and SameSite=Lax.
        let r = family.get(m.family.url("/login")).send().await.unwrap();
        let login_cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(login_cookie.contains("HttpOnly") && login_cookie.contains("SameSite=Lax"));
        let to_sqin = location(&r);
        assert!(to_sqin.starts_with(&format!("{}/authorize?", server.issuer)));
        for p in ["state", "nonce", "code_challenge"] {
            assert!(sqin_tests::query_param(&to_sqin, p).is_some(), "{p}");
        }
        assert_eq!(
            sqin_tests::query_param(&to_sqin, "code_challenge_method").as_deref(),
            Some("S256")
        );
        assert_eq!(
            sqin_tests::query_param(&to_sqin, "scope").as_deref(),
            Some("openid profile birthdate address")
        );
        // The citizen has a session at sqin: the consent page, no login page.
        let first = sqin
            .get(&to_sqin)
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(first.status(), 200, "the consent page");
        let back = authorize(&server, &to_sqin, &cookie, "allow").await;
        finish(&m.family, &family, &back).await;
        let (status, family_me) = me(&m.family, &family).await;
        assert_eq!(status, 200);
        let fid = &family_me["identity"];
        assert_eq!(fid["name"], "Aline Exemple");
        assert_eq!(fid["birthdate"], "1984-03-02");
        assert_eq!(fid["address"], "10 rue de l'Exemple, Québec");
        assert!(fid["email"].is_null(), "email is not in the Family purpose");
        let family_sub = fid["sub"].as_str().unwrap().to_owned();
        assert!(fid["sid"].is_string(), "the ID token carried sid");

        // The pre-filled application form and the application list.
        let html = family
            .get(m.family.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("value=\"Aline Exemple\" readonly"));
        assert!(html.contains("value=\"1984-03-02\" readonly"));
        assert!(html.contains(&family_sub));
        let form_token = hidden_input(&html, "form_token").unwrap();
        let r = family
            .post(m.family.url("/apply"))
            .form(&[
                ("form_token", form_token.as_str()),
                ("child_name", "Léo Exemple"),
                ("child_birthdate", "2021-05-04"),
                ("care", "cpe"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(location(&r), "/?notice=submitted");
        let (_, again) = me(&m.family, &family).await;
        assert_eq!(again["applications"][0]["child_name"], "Léo Exemple");
        // A forged form (no session token) is refused.
        let r = family
            .post(m.family.url("/apply"))
            .form(&[
                ("form_token", "forged"),
                ("child_name", "X"),
                ("child_birthdate", "2021-05-04"),
                ("care", "cpe"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);

        // The revenue office, another sector: single sign-on (no login
        // page, only its own consent the first time), the name alone, and
        // another sub.
        let revenue = m.revenue.browser();
        let to_sqin = begin(&m.revenue, &revenue).await;
        assert_eq!(
            sqin_tests::query_param(&to_sqin, "scope").as_deref(),
            Some("openid profile")
        );
        let first = sqin
            .get(&to_sqin)
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(first.status(), 200, "consent, never a login page");
        let page = first.text().await.unwrap();
        assert!(
            page.contains("Bureau du revenu"),
            "the consent names the RP"
        );
        let back = authorize(&server, &to_sqin, &cookie, "allow").await;
        finish(&m.revenue, &revenue, &back).await;
        let (status, revenue_me) = me(&m.revenue, &revenue).await;
        assert_eq!(status, 200);
        let rid = &revenue_me["identity"];
        assert_eq!(rid["name"], "Aline Exemple");
        assert!(rid["birthdate"].is_null(), "{rid}");
        assert!(rid["address"].is_null(), "{rid}");
        let names: Vec<&str> = rid["claim_names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for n in &names {
            // Its registered purpose: the names. Not the locale its
            // `profile` scope also carries.
            assert!(
                ["sub", "name", "given_name", "family_name"].contains(n),
                "the revenue office received {n}"
            );
        }
        assert!(names.contains(&"name"), "{names:?}");
        let revenue_sub = rid["sub"].as_str().unwrap().to_owned();
        assert_ne!(revenue_sub, family_sub, "pairwise: one sub per sector");
        assert_ne!(revenue_sub, citizen.id);
        assert_ne!(family_sub, citizen.id);
        let html = revenue
            .get(m.revenue.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains(&revenue_sub) && !html.contains("1984-03-02"));

        // A second visit to the revenue office: straight through, no page.
        let revenue2 = m.revenue.browser();
        let to_sqin = begin(&m.revenue, &revenue2).await;
        let r = sqin
            .get(&to_sqin)
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "neither login nor consent the second time");
        finish(&m.revenue, &revenue2, &location(&r)).await;
        let (_, again) = me(&m.revenue, &revenue2).await;
        assert_eq!(again["identity"]["sub"], revenue_sub.as_str());

        // A callback from another browser (no pending-login cookie), or with
        // a state that is not ours, is refused.
        let stranger = m.family.browser();
        let to_sqin = begin(&m.family, &family).await;
        let back = authorize(&server, &to_sqin, &cookie, "allow").await;
        let r = stranger.get(&back).send().await.unwrap();
        assert_eq!(r.status(), 400, "a callback without its browser cookie");
        let to_sqin = begin(&m.family, &family).await;
        let back = authorize(&server, &to_sqin, &cookie, "allow").await;
        let tampered = back.replace("state=", "state=x");
        let r = family.get(&tampered).send().await.unwrap();
        assert_eq!(r.status(), 400, "a state that is not ours");

        server.stop().await;
    }
);

both_backends!(
    async fn logging_out_of_one_ministry_logs_out_of_both(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = server.add_citizen("R-701").await;
        let m = start_ministries(&server).await;
        let cookie = server.sign_in(&citizen.id).await;
        let sqin = server.client();
        let family = m.family.browser();
        let revenue = m.revenue.browser();
        for (ministry, browser) in [(&m.family, &family), (&m.revenue, &revenue)] {
            let to_sqin = begin(ministry, browser).await;
            let back = authorize(&server, &to_sqin, &cookie, "allow").await;
            finish(ministry, browser, &back).await;
            assert_eq!(me(ministry, browser).await.0, 200);
        }

        // RP-initiated logout at the Family portal: its session ends, and the
        // browser goes to sqin's end-session endpoint with the ID token as
        // hint, the registered post-logout URI and a state.
        let html = family
            .get(m.family.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let form_token = hidden_input(&html, "form_token").unwrap();
        let r = family
            .post(m.family.url("/logout"))
            .form(&[("form_token", form_token.as_str())])
            .send()
            .await
            .unwrap();
        let to_sqin = location(&r);
        assert!(
            to_sqin.starts_with(&format!("{}/logout?", server.issuer)),
            "{to_sqin}"
        );
        assert!(sqin_tests::query_param(&to_sqin, "id_token_hint").is_some());
        assert!(sqin_tests::query_param(&to_sqin, "state").is_some());
        assert_eq!(
            sqin_tests::query_param(&to_sqin, "post_logout_redirect_uri"),
            Some(m.family.url("/logged-out"))
        );
        assert_eq!(me(&m.family, &family).await.0, 401);
        let r = sqin
            .get(&to_sqin)
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert!(location(&r).starts_with(&m.family.url("/logged-out")));
        let r = family.get(location(&r)).send().await.unwrap();
        assert!(r.text().await.unwrap().contains("Vous êtes déconnecté"));

        // sqin's session is over, and the revenue office heard it through
        // back-channel logout (delivery is asynchronous: allow it a moment).
        let mut revenue_status = 200;
        for _ in 0..100 {
            revenue_status = me(&m.revenue, &revenue).await.0;
            if revenue_status == 401 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(
            revenue_status, 401,
            "the revenue office's session ended by back-channel logout"
        );
        assert!(!m.revenue.portal.backchannel_log().is_empty());
        let to_sqin = begin(&m.revenue, &revenue).await;
        let r = sqin
            .get(&to_sqin)
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert!(
            location(&r).contains("/login"),
            "sqin asks for a passkey again: {}",
            location(&r)
        );
        server.stop().await;
    }
);
